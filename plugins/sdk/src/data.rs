//! The Kafka Connect data model as a plugin sees it: schemas, values and records.
//! Logical types are named schemas, as in Connect (see [`Schema::timestamp`] and friends).

use std::sync::Arc;

pub const TIMESTAMP: &str = "org.apache.kafka.connect.data.Timestamp";
pub const DATE: &str = "org.apache.kafka.connect.data.Date";
pub const TIME: &str = "org.apache.kafka.connect.data.Time";
pub const DECIMAL: &str = "org.apache.kafka.connect.data.Decimal";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SchemaType {
    Int8,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Boolean,
    String,
    Bytes,
    Array,
    Map,
    Struct,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Schema {
    pub schema_type: SchemaType,
    pub optional: bool,
    pub name: Option<String>,
    pub version: Option<i32>,
    pub doc: Option<String>,
    pub parameters: Vec<(String, String)>,
    /// The default value as JSON text, as the JsonConverter writes it.
    pub default_json: Option<String>,
    pub fields: Vec<Field>,
    pub key_schema: Option<Arc<Schema>>,
    pub value_schema: Option<Arc<Schema>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub name: String,
    pub schema: Arc<Schema>,
}

impl Schema {
    pub fn new(schema_type: SchemaType) -> Schema {
        Schema {
            schema_type,
            optional: false,
            name: None,
            version: None,
            doc: None,
            parameters: Vec::new(),
            default_json: None,
            fields: Vec::new(),
            key_schema: None,
            value_schema: None,
        }
    }

    pub fn optional(mut self) -> Schema {
        self.optional = true;
        self
    }

    pub fn named(mut self, name: impl Into<String>) -> Schema {
        self.name = Some(name.into());
        self
    }

    pub fn structure(name: impl Into<String>, fields: Vec<Field>) -> Schema {
        Schema { fields, ..Schema::new(SchemaType::Struct).named(name) }
    }

    pub fn array(element: Schema) -> Schema {
        Schema { value_schema: Some(Arc::new(element)), ..Schema::new(SchemaType::Array) }
    }

    pub fn map(key: Schema, value: Schema) -> Schema {
        Schema { key_schema: Some(Arc::new(key)), value_schema: Some(Arc::new(value)), ..Schema::new(SchemaType::Map) }
    }

    /// Epoch milliseconds in an `int64`.
    pub fn timestamp() -> Schema {
        Schema::logical(SchemaType::Int64, TIMESTAMP)
    }

    /// Days since the epoch in an `int32`.
    pub fn date() -> Schema {
        Schema::logical(SchemaType::Int32, DATE)
    }

    /// Milliseconds since midnight in an `int32`.
    pub fn time() -> Schema {
        Schema::logical(SchemaType::Int32, TIME)
    }

    /// The unscaled value as big-endian two's-complement `bytes`.
    pub fn decimal(scale: u32) -> Schema {
        let mut schema = Schema::logical(SchemaType::Bytes, DECIMAL);
        schema.parameters.push(("scale".into(), scale.to_string()));
        schema
    }

    fn logical(schema_type: SchemaType, name: &str) -> Schema {
        Schema { version: Some(1), ..Schema::new(schema_type).named(name) }
    }

    pub fn parameter(&self, key: &str) -> Option<&str> {
        self.parameters.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// The Decimal scale, for a Decimal schema.
    pub fn decimal_scale(&self) -> Option<u32> {
        (self.name.as_deref() == Some(DECIMAL)).then(|| self.parameter("scale")?.parse().ok())?
    }
}

impl Field {
    pub fn new(name: impl Into<String>, schema: Schema) -> Field {
        Field { name: name.into(), schema: Arc::new(schema) }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Boolean(bool),
    Int8(i8),
    Int16(i16),
    Int32(i32),
    Int64(i64),
    Float32(f32),
    Float64(f64),
    String(String),
    Bytes(Vec<u8>),
    Array(Vec<Value>),
    Map(Vec<(Value, Value)>),
    /// Field values in the order of the struct schema's fields.
    Struct(Vec<Value>),
}

/// A value with its schema (`None` for schemaless data).
#[derive(Clone, Debug, PartialEq)]
pub struct Data {
    pub schema: Option<Arc<Schema>>,
    pub value: Value,
}

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

/// Encodes an unscaled decimal as Connect's big-endian two's-complement bytes (minimal length).
pub fn decimal_bytes(unscaled: i128) -> Vec<u8> {
    let bytes = unscaled.to_be_bytes();
    let sign = if unscaled < 0 { 0xff } else { 0x00 };
    // Drop leading sign bytes while the next byte still carries the sign bit.
    let mut start = 0;
    while start < bytes.len() - 1 && bytes[start] == sign && (bytes[start + 1] & 0x80 == sign & 0x80) {
        start += 1;
    }
    bytes[start..].to_vec()
}

/// The unscaled value of Connect decimal bytes, if it fits in an i128.
pub fn decimal_unscaled(bytes: &[u8]) -> Option<i128> {
    if bytes.is_empty() || bytes.len() > 16 {
        return None;
    }
    let fill = if bytes[0] & 0x80 != 0 { 0xff } else { 0x00 };
    let mut full = [fill; 16];
    full[16 - bytes.len()..].copy_from_slice(bytes);
    Some(i128::from_be_bytes(full))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_bytes_are_minimal_twos_complement() {
        assert_eq!(decimal_bytes(1234), vec![0x04, 0xD2]);
        assert_eq!(decimal_bytes(0), vec![0x00]);
        assert_eq!(decimal_bytes(127), vec![0x7f]);
        assert_eq!(decimal_bytes(128), vec![0x00, 0x80]);
        assert_eq!(decimal_bytes(-1), vec![0xff]);
        assert_eq!(decimal_bytes(-129), vec![0xff, 0x7f]);
        for v in [0, 1, -1, 1234, -1234, i64::MAX as i128, i128::MIN] {
            assert_eq!(decimal_unscaled(&decimal_bytes(v)), Some(v));
        }
    }
}
