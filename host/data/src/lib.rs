//! The Kafka Connect data model: schemas, values and records, as the host sees them.
//!
//! This mirrors `org.apache.kafka.connect.data`: a value is only meaningful together with
//! its (optional) schema, and logical types are named schemas over a primitive type.

pub mod decimal;
pub mod json;
pub mod logical;
pub mod packed;

use std::sync::Arc;

/// Connect's `Schema.Type`.
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

impl SchemaType {
    /// The name Connect's JsonConverter uses for this type.
    pub fn as_str(self) -> &'static str {
        match self {
            SchemaType::Int8 => "int8",
            SchemaType::Int16 => "int16",
            SchemaType::Int32 => "int32",
            SchemaType::Int64 => "int64",
            SchemaType::Float32 => "float",
            SchemaType::Float64 => "double",
            SchemaType::Boolean => "boolean",
            SchemaType::String => "string",
            SchemaType::Bytes => "bytes",
            SchemaType::Array => "array",
            SchemaType::Map => "map",
            SchemaType::Struct => "struct",
        }
    }

    pub fn parse(name: &str) -> Option<SchemaType> {
        Some(match name {
            "int8" => SchemaType::Int8,
            "int16" => SchemaType::Int16,
            "int32" => SchemaType::Int32,
            "int64" => SchemaType::Int64,
            "float" => SchemaType::Float32,
            "double" => SchemaType::Float64,
            "boolean" => SchemaType::Boolean,
            "string" => SchemaType::String,
            "bytes" => SchemaType::Bytes,
            "array" => SchemaType::Array,
            "map" => SchemaType::Map,
            "struct" => SchemaType::Struct,
            _ => return None,
        })
    }
}

/// A Connect schema. Nested schemas are shared through `Arc` because one record schema is
/// typically reused by every record of a batch.
#[derive(Clone, Debug, PartialEq)]
pub struct Schema {
    pub schema_type: SchemaType,
    pub optional: bool,
    pub name: Option<String>,
    pub version: Option<i32>,
    pub doc: Option<String>,
    /// In insertion order, as Connect keeps them.
    pub parameters: Vec<(String, String)>,
    pub default: Option<Value>,
    /// Struct fields, in order.
    pub fields: Vec<Field>,
    /// Map key schema.
    pub key_schema: Option<Arc<Schema>>,
    /// Map value schema, or array element schema.
    pub value_schema: Option<Arc<Schema>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub name: String,
    pub schema: Arc<Schema>,
}

impl Schema {
    /// A required schema of a primitive type, without name or parameters.
    pub fn new(schema_type: SchemaType) -> Schema {
        Schema {
            schema_type,
            optional: false,
            name: None,
            version: None,
            doc: None,
            parameters: Vec::new(),
            default: None,
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

    pub fn parameter(mut self, key: impl Into<String>, value: impl Into<String>) -> Schema {
        self.parameters.push((key.into(), value.into()));
        self
    }

    pub fn structure(fields: Vec<Field>) -> Schema {
        Schema { fields, ..Schema::new(SchemaType::Struct) }
    }

    pub fn array(element: Arc<Schema>) -> Schema {
        Schema { value_schema: Some(element), ..Schema::new(SchemaType::Array) }
    }

    pub fn map(key: Arc<Schema>, value: Arc<Schema>) -> Schema {
        Schema { key_schema: Some(key), value_schema: Some(value), ..Schema::new(SchemaType::Map) }
    }

    /// Epoch milliseconds in an `int64` (Connect's Timestamp).
    pub fn timestamp() -> Schema {
        Schema::logical(SchemaType::Int64, logical::TIMESTAMP)
    }

    /// Days since the epoch in an `int32` (Connect's Date).
    pub fn date() -> Schema {
        Schema::logical(SchemaType::Int32, logical::DATE)
    }

    /// Milliseconds since midnight in an `int32` (Connect's Time).
    pub fn time() -> Schema {
        Schema::logical(SchemaType::Int32, logical::TIME)
    }

    /// The unscaled value as big-endian two's-complement `bytes` (Connect's Decimal).
    pub fn decimal(scale: u32) -> Schema {
        Schema::logical(SchemaType::Bytes, logical::DECIMAL).parameter(logical::DECIMAL_SCALE, scale.to_string())
    }

    /// Logical types carry version 1, as Connect's own schemas do.
    fn logical(schema_type: SchemaType, name: &str) -> Schema {
        Schema { version: Some(1), ..Schema::new(schema_type).named(name) }
    }

    /// The scale of a Decimal schema.
    pub fn decimal_scale(&self) -> Option<u32> {
        if self.name.as_deref() != Some(logical::DECIMAL) {
            return None;
        }
        self.parameter_value(logical::DECIMAL_SCALE)?.parse().ok()
    }

    pub fn parameter_value(&self, key: &str) -> Option<&str> {
        self.parameters.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    pub fn field(&self, name: &str) -> Option<(usize, &Field)> {
        self.fields.iter().enumerate().find(|(_, f)| f.name == name)
    }
}

impl Field {
    pub fn new(name: impl Into<String>, schema: Schema) -> Field {
        Field { name: name.into(), schema: Arc::new(schema) }
    }
}

/// A Connect value. Logical types use their underlying representation, as in Connect's
/// wire form: Timestamp is `Int64` epoch milliseconds, Date `Int32` days, Time `Int32`
/// milliseconds of the day, Decimal `Bytes` holding the big-endian two's-complement
/// unscaled value.
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
    /// Entries in order; keys need not be strings (Connect allows any key schema).
    Map(Vec<(Value, Value)>),
    /// Field values in the order of the struct schema's fields.
    Struct(Vec<Value>),
}

/// A value with its schema; `schema` is `None` for schemaless data.
#[derive(Clone, Debug, PartialEq)]
pub struct Data {
    pub schema: Option<Arc<Schema>>,
    pub value: Value,
}

impl Data {
    pub fn schemaless(value: Value) -> Data {
        Data { schema: None, value }
    }

    pub fn null() -> Data {
        Data::schemaless(Value::Null)
    }
}

/// A record on its way through a transform chain: a source record before its converter, or a
/// sink record after its converter. `key`/`value` `None` is a null without a schema; a null
/// with a schema is `Some(Data { value: Value::Null, .. })`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConnectRecord {
    pub topic: String,
    pub kafka_partition: Option<i32>,
    /// The record's offset in its topic; `None` for a source record, not yet written.
    pub kafka_offset: Option<i64>,
    pub key: Option<Data>,
    pub value: Option<Data>,
    pub timestamp: Option<i64>,
    pub headers: Vec<(String, Data)>,
}
