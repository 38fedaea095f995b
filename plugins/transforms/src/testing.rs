//! Builders for the unit tests: records, configs, schemas and values.

use std::sync::Arc;

use wasmconnect_sdk::{Config, ConnectRecord, ConnectorError, Data, Field, Predicate, Schema, SchemaType, Transform, Value};

pub const PREFIX: &str = "org.apache.kafka.connect.transforms.";

pub fn config(pairs: &[(&str, &str)]) -> Config {
    Config::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
}

/// A transform of class `org.apache.kafka.connect.transforms.{class}`.
pub fn transform(class: &str, pairs: &[(&str, &str)]) -> Box<dyn Transform> {
    crate::transform(&format!("{PREFIX}{class}"), &config(pairs)).unwrap_or_else(|e| panic!("{class}: {e:?}"))
}

/// The configuration error of a transform of class `…transforms.{class}`.
pub fn transform_error(class: &str, pairs: &[(&str, &str)]) -> String {
    match crate::transform(&format!("{PREFIX}{class}"), &config(pairs)) {
        Err(ConnectorError::Config(message)) => message,
        Err(other) => panic!("{class}: not a config error: {other:?}"),
        Ok(_) => panic!("{class} accepted {pairs:?}"),
    }
}

/// A predicate of class `…transforms.predicates.{class}`.
pub fn predicate(class: &str, pairs: &[(&str, &str)]) -> Box<dyn Predicate> {
    crate::predicate(&format!("{PREFIX}predicates.{class}"), &config(pairs)).unwrap_or_else(|e| panic!("{class}: {e:?}"))
}

pub fn predicate_error(class: &str, pairs: &[(&str, &str)]) -> String {
    match crate::predicate(&format!("{PREFIX}predicates.{class}"), &config(pairs)) {
        Err(ConnectorError::Config(message)) => message,
        Err(other) => panic!("{class}: not a config error: {other:?}"),
        Ok(_) => panic!("{class} accepted {pairs:?}"),
    }
}

/// The transformed record, which must not have been dropped.
pub fn apply(transform: &mut Box<dyn Transform>, record: ConnectRecord) -> ConnectRecord {
    transform.apply(record).unwrap_or_else(|e| panic!("{e}")).expect("the record was dropped")
}

pub fn apply_error(transform: &mut Box<dyn Transform>, record: ConnectRecord) -> String {
    match transform.apply(record) {
        Err(message) => message,
        Ok(r) => panic!("expected an error, got {r:?}"),
    }
}

/// A record of topic "test", partition 0, timestamp 1_000_000 and no headers.
pub fn record(key: Option<Data>, value: Option<Data>) -> ConnectRecord {
    ConnectRecord { topic: "test".into(), kafka_partition: Some(0), kafka_offset: Some(42), key, value, timestamp: Some(1_000_000), headers: Vec::new() }
}

pub fn value_record(value: Option<Data>) -> ConnectRecord {
    record(None, value)
}

pub fn key_record(key: Option<Data>) -> ConnectRecord {
    record(key, None)
}

pub fn with_schema(schema: Schema, value: Value) -> Option<Data> {
    Some(Data { schema: Some(Arc::new(schema)), value })
}

pub fn schemaless(value: Value) -> Option<Data> {
    Some(Data::schemaless(value))
}

pub fn schema(schema_type: SchemaType) -> Schema {
    Schema::new(schema_type)
}

pub fn optional(schema_type: SchemaType) -> Schema {
    Schema::new(schema_type).optional()
}

pub fn structure(fields: &[(&str, Schema)]) -> Schema {
    Schema::structure(fields.iter().map(|(name, schema)| Field::new(*name, schema.clone())).collect())
}

pub fn struct_value(values: Vec<Value>) -> Value {
    Value::Struct(values)
}

/// A schemaless map with string keys, in this order.
pub fn map(entries: &[(&str, Value)]) -> Value {
    Value::Map(entries.iter().map(|(k, v)| (Value::String(k.to_string()), v.clone())).collect())
}

pub fn string(s: &str) -> Value {
    Value::String(s.into())
}

/// The schema of a key or value.
pub fn schema_of(data: &Option<Data>) -> &Schema {
    data.as_ref().and_then(|d| d.schema.as_deref()).expect("a schema")
}

pub fn value_of(data: &Option<Data>) -> &Value {
    &data.as_ref().expect("a key or value").value
}
