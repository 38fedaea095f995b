//! The Kafka Connect data model as a plugin sees it: the host's own model
//! (`wasmconnect-data`: schemas, values, logical types, Decimal helpers), and records.

pub use wasmconnect_data::logical::{DATE, DECIMAL, TIME, TIMESTAMP};
/// A record as transforms and predicates see it: what a source record becomes before its
/// converter, or a sink record after its converter.
pub use wasmconnect_data::ConnectRecord;
pub use wasmconnect_data::{Data, Field, Schema, SchemaType, Value, decimal, json};

/// A record a source produces.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceRecord {
    /// Where the record comes from, e.g. `{"protocol":"1","table":"mydb.users"}`.
    pub source_partition: serde_json::Value,
    /// How far reading has got, e.g. `{"incrementing":42}`; the host commits it with the record.
    pub source_offset: serde_json::Value,
    pub topic: String,
    pub kafka_partition: Option<i32>,
    pub key: Option<Data>,
    pub value: Option<Data>,
    pub timestamp: Option<i64>,
}

/// A record a sink receives.
#[derive(Clone, Debug, PartialEq)]
pub struct SinkRecord {
    pub topic: String,
    pub kafka_partition: i32,
    pub kafka_offset: i64,
    pub key: Option<Data>,
    pub value: Option<Data>,
    pub timestamp: Option<i64>,
    pub headers: Vec<(String, Data)>,
}
