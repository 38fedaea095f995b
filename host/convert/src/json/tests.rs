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
