//! Expected bytes are written from Kafka Connect's documented JsonConverter format.

use std::sync::Arc;

use wasmconnect_data::logical::{DATE, DECIMAL, TIME, TIMESTAMP};
use wasmconnect_data::{Data, Field, Schema, SchemaType, Value};

use super::*;

fn logical(base: SchemaType, name: &str) -> Schema {
    Schema { version: Some(1), ..Schema::new(base).named(name) }
}

fn users_schema() -> Arc<Schema> {
    Arc::new(
        Schema::structure(vec![
            Field::new("id", Schema::new(SchemaType::Int32)),
            Field::new("user_id", Schema::new(SchemaType::String)),
            Field::new("pwd", Schema::new(SchemaType::String)),
            Field::new("created_at", logical(SchemaType::Int64, TIMESTAMP).optional()),
        ])
        .named("users"),
    )
}

const USERS_RECORD: &str = r#"{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"string","optional":false,"field":"user_id"},{"type":"string","optional":false,"field":"pwd"},{"type":"int64","optional":true,"name":"org.apache.kafka.connect.data.Timestamp","version":1,"field":"created_at"}],"optional":false,"name":"users"},"payload":{"id":1,"user_id":"alice","pwd":"secret","created_at":1700000000000}}"#;

fn users_value() -> Value {
    Value::Struct(vec![
        Value::Int32(1),
        Value::String("alice".into()),
        Value::String("secret".into()),
        Value::Int64(1_700_000_000_000),
    ])
}

fn write(converter: &JsonConverter, data: &Data) -> String {
    String::from_utf8(converter.from_connect_data("t", data).unwrap().unwrap()).unwrap()
}

#[test]
fn the_reference_users_record_is_byte_identical_to_kafka_connect() {
    let converter = JsonConverter::new(true);
    let data = Data { schema: Some(users_schema()), value: users_value() };
    assert_eq!(write(&converter, &data), USERS_RECORD);
    let read = converter.to_connect_data("t", Some(USERS_RECORD.as_bytes())).unwrap();
    assert_eq!(read, data);
}

#[test]
fn logical_types_decimal_date_time() {
    let schema = Arc::new(Schema::structure(vec![
        Field::new("amount", logical(SchemaType::Bytes, DECIMAL).parameter("scale", "2")),
        Field::new("day", logical(SchemaType::Int32, DATE)),
        Field::new("at", logical(SchemaType::Int32, TIME)),
    ]));
    let data = Data {
        schema: Some(schema),
        value: Value::Struct(vec![Value::Bytes(vec![0x04, 0xD2]), Value::Int32(19_700), Value::Int32(3_600_000)]),
    };
    let expected = r#"{"schema":{"type":"struct","fields":[{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"},"field":"amount"},{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Date","version":1,"field":"day"},{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Time","version":1,"field":"at"}],"optional":false},"payload":{"amount":"BNI=","day":19700,"at":3600000}}"#;
    let converter = JsonConverter::new(true);
    assert_eq!(write(&converter, &data), expected);
    assert_eq!(converter.to_connect_data("t", Some(expected.as_bytes())).unwrap(), data);
    // A decimal may also arrive as a JSON number.
    let numeric = expected.replace(r#""amount":"BNI=""#, r#""amount":12.34"#);
    assert_eq!(converter.to_connect_data("t", Some(numeric.as_bytes())).unwrap(), data);
}

#[test]
fn arrays_maps_nested_structs_and_floats() {
    let string = Arc::new(Schema::new(SchemaType::String));
    let schema = Arc::new(Schema::structure(vec![
        Field::new("tags", Schema::array(string.clone())),
        Field::new("counts", Schema::map(string.clone(), Arc::new(Schema::new(SchemaType::Int64)))),
        Field::new("by_id", Schema::map(Arc::new(Schema::new(SchemaType::Int32)), string.clone())),
        Field::new("home", Schema::structure(vec![Field::new("city", Schema::new(SchemaType::String))]).optional()),
        Field::new("ratio", Schema::new(SchemaType::Float32)),
        Field::new("score", Schema::new(SchemaType::Float64)),
    ]));
    let value = Value::Struct(vec![
        Value::Array(vec![Value::String("a".into()), Value::String("b".into())]),
        Value::Map(vec![(Value::String("x".into()), Value::Int64(1))]),
        Value::Map(vec![(Value::Int32(7), Value::String("seven".into()))]),
        Value::Null,
        Value::Float32(1.1),
        Value::Float64(2.5),
    ]);
    let data = Data { schema: Some(schema), value };
    let converter = JsonConverter::new(true);
    let written = write(&converter, &data);
    assert!(
        written.ends_with(r#""payload":{"tags":["a","b"],"counts":{"x":1},"by_id":[[7,"seven"]],"home":null,"ratio":1.1,"score":2.5}}"#),
        "{written}"
    );
    assert!(written.contains(r#"{"type":"array","items":{"type":"string","optional":false},"optional":false,"field":"tags"}"#), "{written}");
    assert!(written.contains(r#"{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"int64","optional":false},"optional":false,"field":"counts"}"#), "{written}");
    assert_eq!(converter.to_connect_data("t", Some(written.as_bytes())).unwrap(), data);
}

#[test]
fn null_records_and_defaults() {
    let converter = JsonConverter::new(true);
    assert_eq!(converter.from_connect_data("t", &Data::null()).unwrap(), None);
    assert_eq!(converter.to_connect_data("t", None).unwrap(), Data::null());
    let with_default = r#"{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"default":5,"field":"n"}],"optional":false},"payload":{}}"#;
    let data = converter.to_connect_data("t", Some(with_default.as_bytes())).unwrap();
    assert_eq!(data.value, Value::Struct(vec![Value::Int32(5)]));
    assert!(write(&converter, &data).contains(r#""default":5"#));
    let null_payload = r#"{"schema":{"type":"string","optional":true},"payload":null}"#;
    assert_eq!(converter.to_connect_data("t", Some(null_payload.as_bytes())).unwrap().value, Value::Null);
}

#[test]
fn schemaless_mode_reads_and_writes_plain_json() {
    let converter = JsonConverter::configure(&[("schemas.enable".into(), "false".into())], false).unwrap();
    let data = converter.to_connect_data("t", Some(br#"{"id":2,"ok":true,"tags":["x"],"w":1.5}"#)).unwrap();
    assert_eq!(data.schema, None);
    assert_eq!(
        data.value,
        Value::Map(vec![
            (Value::String("id".into()), Value::Int64(2)),
            (Value::String("ok".into()), Value::Boolean(true)),
            (Value::String("tags".into()), Value::Array(vec![Value::String("x".into())])),
            (Value::String("w".into()), Value::Float64(1.5)),
        ])
    );
    assert_eq!(write(&converter, &data), r#"{"id":2,"ok":true,"tags":["x"],"w":1.5}"#);
    // With schemas enabled, schemaless data is written with a null schema.
    assert_eq!(write(&JsonConverter::new(true), &Data::schemaless(Value::Int64(3))), r#"{"schema":null,"payload":3}"#);
}

#[test]
fn a_record_without_envelope_gets_advice() {
    let converter = JsonConverter::new(true);
    let err = converter.to_connect_data("events", Some(br#"{"id":2}"#)).unwrap_err().to_string();
    assert!(err.contains("schemas.enable=false"), "{err}");
    assert!(err.contains(r#"{"schema":"#), "{err}");
    assert!(err.contains("events"), "{err}");
    let err = converter.to_connect_data("t", Some(b"not json")).unwrap_err().to_string();
    assert!(err.contains("not valid JSON"), "{err}");
}

#[test]
fn payloads_that_do_not_match_the_schema_name_the_field() {
    let converter = JsonConverter::new(true);
    let wrong = USERS_RECORD.replace(r#""id":1"#, r#""id":"one""#);
    let err = converter.to_connect_data("t", Some(wrong.as_bytes())).unwrap_err().to_string();
    assert!(err.contains("field id") && err.contains("int32"), "{err}");
    let missing = USERS_RECORD.replace(r#""pwd":"secret","#, "");
    let err = converter.to_connect_data("t", Some(missing.as_bytes())).unwrap_err().to_string();
    assert!(err.contains("field pwd"), "{err}");
    let overflow = USERS_RECORD.replace(r#""id":1"#, r#""id":4294967296"#);
    assert!(converter.to_connect_data("t", Some(overflow.as_bytes())).is_err());
    let bad_type = USERS_RECORD.replace(r#""type":"int32""#, r#""type":"integer""#);
    let err = converter.to_connect_data("t", Some(bad_type.as_bytes())).unwrap_err().to_string();
    assert!(err.contains("integer"), "{err}");
    // Writing checks the value against the schema as well.
    let data = Data { schema: Some(users_schema()), value: Value::Struct(vec![Value::String("x".into())]) };
    assert!(converter.from_connect_data("t", &data).is_err());
}

#[test]
fn parsed_schemas_are_shared_between_records() {
    let converter = JsonConverter::new(true);
    let a = converter.to_connect_data("t", Some(USERS_RECORD.as_bytes())).unwrap();
    let b = converter.to_connect_data("t", Some(USERS_RECORD.as_bytes())).unwrap();
    assert!(Arc::ptr_eq(a.schema.as_ref().unwrap(), b.schema.as_ref().unwrap()));
}

#[test]
fn envelopes_read_the_same_whatever_their_field_order_spacing_or_a_null_schema() {
    let converter = JsonConverter::new(true);
    let plain = converter.to_connect_data("t", Some(USERS_RECORD.as_bytes())).unwrap();
    let json: serde_json::Value = serde_json::from_str(USERS_RECORD).unwrap();
    let reordered = format!("{{ \"payload\" : {} ,\n \"schema\": {:#} }}", json["payload"], json["schema"]);
    assert_eq!(converter.to_connect_data("t", Some(reordered.as_bytes())).unwrap(), plain);
    let schemaless = converter.to_connect_data("t", Some(br#"{"schema":null,"payload":{"a":1}}"#)).unwrap();
    assert_eq!(schemaless.schema, None);
    assert_eq!(schemaless.value, Value::Map(vec![(Value::String("a".into()), Value::Int64(1))]));
    // A third field, or a missing one, is not an envelope, as before.
    let extra = format!("{{\"schema\":{},\"payload\":{},\"extra\":1}}", json["schema"], json["payload"]);
    let err = converter.to_connect_data("t", Some(extra.as_bytes())).unwrap_err().to_string();
    assert!(err.contains("not a JsonConverter envelope"), "{err}");
}

fn numeric() -> JsonConverter {
    JsonConverter::configure(&[("decimal.format".into(), "numeric".into())], false).unwrap()
}

#[test]
fn numeric_decimals_are_json_numbers_as_kafka_prints_them() {
    let amount = Arc::new(Schema::decimal(2));
    let schema = Arc::new(Schema::structure(vec![
        Field::new("amount", Schema::decimal(2)),
        Field::new("tiny", Schema::decimal(10).optional()),
        Field::new("history", Schema::array(amount.clone())),
        Field::new("by_year", Schema::map(Arc::new(Schema::new(SchemaType::Int32)), amount.clone())),
        Field::new("by_name", Schema::map(Arc::new(Schema::new(SchemaType::String)), amount)),
        Field::new("blob", Schema::new(SchemaType::Bytes)),
    ]));
    let value = Value::Struct(vec![
        Value::Bytes(vec![0x04, 0xD2]),
        Value::Bytes(wasmconnect_data::decimal::to_bytes(1234)),
        Value::Array(vec![Value::Bytes(wasmconnect_data::decimal::to_bytes(100)), Value::Bytes(wasmconnect_data::decimal::to_bytes(-5))]),
        Value::Map(vec![(Value::Int32(2024), Value::Bytes(wasmconnect_data::decimal::to_bytes(0)))]),
        Value::Map(vec![(Value::String("x".into()), Value::Bytes(wasmconnect_data::decimal::to_bytes(1)))]),
        Value::Bytes(vec![0x04, 0xD2]),
    ]);
    let data = Data { schema: Some(schema), value };
    let converter = numeric();
    let written = write(&converter, &data);
    assert!(
        written.ends_with(r#""payload":{"amount":12.34,"tiny":1.234E-7,"history":[1.00,-0.05],"by_year":[[2024,0.00]],"by_name":{"x":0.01},"blob":"BNI="}}"#),
        "{written}"
    );
    assert!(
        written.contains(r#"{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"},"field":"amount"}"#),
        "{written}"
    );
    // Either format reads back to the same value, whatever this converter writes.
    assert_eq!(converter.to_connect_data("t", Some(written.as_bytes())).unwrap(), data);
    assert_eq!(JsonConverter::new(true).to_connect_data("t", Some(written.as_bytes())).unwrap(), data);
    let base64 = write(&JsonConverter::new(true), &data);
    assert!(base64.contains(r#""amount":"BNI=""#), "{base64}");
    assert_eq!(converter.to_connect_data("t", Some(base64.as_bytes())).unwrap(), data);
}

#[test]
fn numeric_decimals_apply_to_schema_defaults_and_schemaless_output() {
    let schema = Arc::new(Schema {
        default: Some(Value::Bytes(wasmconnect_data::decimal::to_bytes(150))),
        ..Schema::decimal(2)
    });
    let data = Data { schema: Some(schema), value: Value::Bytes(wasmconnect_data::decimal::to_bytes(-1234)) };
    assert_eq!(
        write(&numeric(), &data),
        r#"{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"},"default":1.50},"payload":-12.34}"#
    );
    let plain = JsonConverter::configure(&[("schemas.enable".into(), "false".into()), ("decimal.format".into(), "NUMERIC".into())], false).unwrap();
    assert_eq!(write(&plain, &data), "-12.34");
}

#[test]
fn settings_are_validated() {
    let bad = |key: &str, value: &str| JsonConverter::configure(&[(key.into(), value.into())], false).err().unwrap().to_string();
    assert!(bad("decimal.format", "HEX").contains("BASE64 or NUMERIC"));
    assert!(bad("schemas.enable", "yes").contains("true or false"));
    assert!(bad("schemas.cache.size", "many").contains("schemas.cache.size"));
    let plain = JsonConverter::configure(&[("schemas.enable".into(), "FALSE".into())], false).unwrap();
    assert_eq!(write(&plain, &Data::schemaless(Value::Int64(1))), "1");
}

#[test]
fn schemas_keep_doc_parameters_defaults_and_versions() {
    let schema = Schema {
        doc: Some("a user".into()),
        version: Some(3),
        ..Schema::structure(vec![
            Field::new("age", Schema { default: Some(Value::Int16(18)), ..Schema::new(SchemaType::Int16) }),
            Field::new("day", Schema::date().optional()),
            Field::new("at", Schema::time()),
            Field::new("ratio", Schema::new(SchemaType::Float32).parameter("unit", "percent")),
            Field::new("flags", Schema::array(Arc::new(Schema::new(SchemaType::Boolean).optional())).optional()),
        ])
        .named("com.example.User")
    };
    let json = schema_to_json(&schema);
    assert_eq!(
        json.to_string(),
        r#"{"type":"struct","fields":[{"type":"int16","optional":false,"default":18,"field":"age"},{"type":"int32","optional":true,"name":"org.apache.kafka.connect.data.Date","version":1,"field":"day"},{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Time","version":1,"field":"at"},{"type":"float","optional":false,"parameters":{"unit":"percent"},"field":"ratio"},{"type":"array","items":{"type":"boolean","optional":true},"optional":true,"field":"flags"}],"optional":false,"name":"com.example.User","version":3,"doc":"a user"}"#
    );
    assert_eq!(schema_from_json(&json).unwrap(), schema);
}

#[test]
fn dates_and_times_are_read_by_their_schema() {
    let record = r#"{"schema":{"type":"struct","fields":[{"type":"int32","optional":true,"name":"org.apache.kafka.connect.data.Date","version":1,"field":"day"},{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Time","version":1,"field":"at"}],"optional":false},"payload":{"at":45296789}}"#;
    let data = JsonConverter::new(true).to_connect_data("t", Some(record.as_bytes())).unwrap();
    assert_eq!(data.value, Value::Struct(vec![Value::Null, Value::Int32(45_296_789)]));
    let fields = &data.schema.as_ref().unwrap().fields;
    assert_eq!(*fields[0].schema, Schema::date().optional());
    assert_eq!(*fields[1].schema, Schema::time());
    let wrong = record.replace("45296789", r#""12:34:56""#);
    let err = JsonConverter::new(true).to_connect_data("t", Some(wrong.as_bytes())).unwrap_err().to_string();
    assert!(err.contains("field at"), "{err}");
}

#[test]
fn structs_nest_in_arrays_and_structs() {
    let line = Schema::structure(vec![Field::new("sku", Schema::new(SchemaType::String)), Field::new("qty", Schema::new(SchemaType::Int8))]);
    let schema = Arc::new(Schema::structure(vec![
        Field::new("lines", Schema::array(Arc::new(line.clone()))),
        Field::new("first", line.optional()),
    ]));
    let sku = |s: &str, q: i8| Value::Struct(vec![Value::String(s.into()), Value::Int8(q)]);
    let data = Data { schema: Some(schema), value: Value::Struct(vec![Value::Array(vec![sku("a", 1), sku("b", 2)]), sku("a", 1)]) };
    let converter = JsonConverter::new(true);
    let written = write(&converter, &data);
    assert!(written.ends_with(r#""payload":{"lines":[{"sku":"a","qty":1},{"sku":"b","qty":2}],"first":{"sku":"a","qty":1}}}"#), "{written}");
    assert_eq!(converter.to_connect_data("t", Some(written.as_bytes())).unwrap(), data);
}

#[test]
fn keys_get_advice_about_the_key_converter() {
    let converter = JsonConverter::configure(&[], true).unwrap();
    for not_an_envelope in [&br#"[1,2]"#[..], br#"{"schema":null,"payload":1,"extra":2}"#, b"42"] {
        let err = converter.to_connect_data("t", Some(not_an_envelope)).unwrap_err().to_string();
        assert!(err.contains("key.converter.schemas.enable=false"), "{err}");
        assert!(err.contains(r#"{"schema":{...},"payload":{...}}"#), "{err}");
    }
}

#[test]
fn schemaless_edge_cases() {
    let plain = JsonConverter::configure(&[("schemas.enable".into(), "false".into())], false).unwrap();
    assert_eq!(plain.to_connect_data("t", Some(b"null")).unwrap(), Data::null());
    assert_eq!(plain.to_connect_data("t", Some(b"-3.5")).unwrap().value, Value::Float64(-3.5));
    assert_eq!(plain.to_connect_data("t", None).unwrap(), Data::null());
    // Data with a schema is written as its plain payload.
    let data = Data { schema: Some(users_schema()), value: users_value() };
    assert_eq!(write(&plain, &data), r#"{"id":1,"user_id":"alice","pwd":"secret","created_at":1700000000000}"#);
    // A map with non-string keys has no JSON object form, even without a schema.
    let pairs = Data::schemaless(Value::Map(vec![(Value::Int64(1), Value::String("one".into()))]));
    assert_eq!(write(&plain, &pairs), r#"[[1,"one"]]"#);
}
