//! Property tests of the converters: whatever bytes a topic holds, reading them never panics
//! (a bad record is an error the worker can report); and any Connect schema and value written
//! by JsonConverter reads back as the same schema and value. 256 cases each, or PROPTEST_CASES.

use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::Value as Json;
use wasmconnect_convert::{ByteArrayConverter, Converter, JsonConverter, StringConverter};
use wasmconnect_data::{Data, Field, Schema, SchemaType, Value, decimal};

fn config() -> Config {
    // Config::default() reads PROPTEST_CASES; no regression files are written into the tree.
    Config { failure_persistence: None, ..Config::default() }
}

/// Any JSON document, nested a few levels.
fn json() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::from),
        any::<i64>().prop_map(Json::from),
        any::<f64>().prop_filter("JSON numbers are finite", |f| f.is_finite()).prop_map(Json::from),
        ".{0,12}".prop_map(Json::from),
        // Words the converters look for, so objects shaped like envelopes and schemas come up.
        prop::sample::select(vec!["schema", "payload", "type", "struct", "fields", "field", "int32", "bytes", "map", "array",
            "optional", "org.apache.kafka.connect.data.Decimal", "scale"]).prop_map(Json::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let key = prop_oneof![".{0,6}".boxed(), prop::sample::select(vec!["schema", "payload", "type", "fields", "field", "optional",
            "name", "parameters", "keys", "values", "items"]).prop_map(str::to_owned).boxed()];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Json::Array),
            prop::collection::vec((key, inner), 0..6).prop_map(|entries| Json::Object(entries.into_iter().collect())),
        ]
    })
}

fn converters() -> Vec<(&'static str, Box<dyn Converter>)> {
    vec![
        ("json with schemas", Box::new(JsonConverter::new(true))),
        ("json without schemas", Box::new(JsonConverter::new(false))),
        ("string", Box::new(StringConverter)),
        ("bytes", Box::new(ByteArrayConverter)),
    ]
}

#[test]
fn arbitrary_bytes_never_panic_a_converter() {
    let converters = converters();
    proptest!(config(), |(bytes in prop::collection::vec(any::<u8>(), 0..256))| {
        for (_, converter) in &converters {
            let _ = converter.to_connect_data("t", Some(&bytes));
        }
    });
}

#[test]
fn arbitrary_json_never_panics_a_converter() {
    let converters = converters();
    proptest!(config(), |(document in json(), payload in json())| {
        let envelope = serde_json::json!({"schema": document, "payload": payload}).to_string();
        for text in [document.to_string(), envelope] {
            for (_, converter) in &converters {
                let _ = converter.to_connect_data("t", Some(text.as_bytes()));
            }
        }
    });
}

/// A schema of any type Connect has, logical types and nesting included (no defaults: a
/// default is a value of its own, outside what this property is about).
fn schema() -> impl Strategy<Value = Schema> {
    let primitive = prop_oneof![
        prop::sample::select(vec![SchemaType::Int8, SchemaType::Int16, SchemaType::Int32, SchemaType::Int64, SchemaType::Float32,
            SchemaType::Float64, SchemaType::Boolean, SchemaType::String, SchemaType::Bytes]).prop_map(Schema::new),
        Just(Schema::timestamp()),
        Just(Schema::date()),
        Just(Schema::time()),
        (0u32..10).prop_map(Schema::decimal),
    ];
    let leaf = (primitive, any::<bool>(), prop::option::of("[a-z][a-z0-9_.]{0,10}"), prop::option::of(".{0,10}")).prop_map(
        |(schema, optional, name, doc)| {
            let schema = if schema.name.is_none() { Schema { name, ..schema } } else { schema };
            Schema { optional, doc, ..schema }
        },
    );
    leaf.prop_recursive(3, 24, 4, |inner| {
        let field_names = prop::collection::hash_set("[a-z][a-z0-9_]{0,8}", 1..5);
        prop_oneof![
            (any::<bool>(), inner.clone()).prop_map(|(optional, element)| Schema { optional, ..Schema::array(Arc::new(element)) }),
            // Map keys are never null (JSON object keys cannot be).
            (inner.clone(), inner.clone()).prop_map(|(key, value)| Schema::map(Arc::new(Schema { optional: false, ..key }), Arc::new(value))),
            (field_names, prop::collection::vec(inner, 5), prop::option::of("[a-z][a-z0-9_.]{0,10}")).prop_map(|(names, schemas, name)| {
                let fields = names.into_iter().zip(schemas).map(|(n, s)| Field::new(n, s)).collect();
                Schema { name, ..Schema::structure(fields) }
            }),
        ]
    })
}

/// A value that fits `schema`.
fn value(schema: &Schema) -> BoxedStrategy<Value> {
    let present = match schema.schema_type {
        _ if schema.decimal_scale().is_some() => any::<i64>().prop_map(|n| Value::Bytes(decimal::to_bytes(n.into()))).boxed(),
        SchemaType::Int8 => any::<i8>().prop_map(Value::Int8).boxed(),
        SchemaType::Int16 => any::<i16>().prop_map(Value::Int16).boxed(),
        SchemaType::Int32 => any::<i32>().prop_map(Value::Int32).boxed(),
        SchemaType::Int64 => any::<i64>().prop_map(Value::Int64).boxed(),
        SchemaType::Float32 => any::<f32>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::Float32).boxed(),
        SchemaType::Float64 => any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::Float64).boxed(),
        SchemaType::Boolean => any::<bool>().prop_map(Value::Boolean).boxed(),
        SchemaType::String => ".{0,16}".prop_map(Value::String).boxed(),
        SchemaType::Bytes => prop::collection::vec(any::<u8>(), 0..16).prop_map(Value::Bytes).boxed(),
        SchemaType::Array => {
            let element = schema.value_schema.as_deref().expect("an array has an element schema");
            prop::collection::vec(value(element), 0..4).prop_map(Value::Array).boxed()
        }
        SchemaType::Map => {
            let (key, element) = (schema.key_schema.as_deref().unwrap(), schema.value_schema.as_deref().unwrap());
            prop::collection::vec((value(key), value(element)), 0..4).prop_map(Value::Map).boxed()
        }
        SchemaType::Struct => schema.fields.iter().map(|f| value(&f.schema)).collect::<Vec<_>>().prop_map(Value::Struct).boxed(),
    };
    if schema.optional { prop_oneof![1 => Just(Value::Null), 4 => present].boxed() } else { present }
}

#[test]
fn json_converter_round_trips_any_schema_and_value() {
    let data = schema().prop_flat_map(|schema| {
        let schema = Arc::new(schema);
        value(&schema).prop_map(move |value| Data { schema: Some(schema.clone()), value })
    });
    let converter = JsonConverter::new(true);
    proptest!(config(), |(data in data)| {
        let bytes = converter.from_connect_data("t", &data).expect("a value that fits its schema is written");
        // A null value without a schema is a null record; with one it is an envelope.
        let read = converter.to_connect_data("t", bytes.as_deref()).expect("what the converter wrote, it reads");
        prop_assert_eq!(&read, &data, "through {}", String::from_utf8_lossy(bytes.as_deref().unwrap_or_default()));
    });
}
