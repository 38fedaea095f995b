//! Kafka Connect's converters: they turn Connect data (schema + value) into the bytes of a
//! record and back, byte for byte as Apache Kafka Connect does, so topics written by either
//! can be read by the other.

mod bytes;
mod json;
mod string;

use wasmconnect_data::Data;

pub use bytes::ByteArrayConverter;
pub use json::{JsonConverter, schema_from_json, schema_to_json, value_from_json, value_to_json};
pub use string::StringConverter;

pub const JSON_CONVERTER: &str = "org.apache.kafka.connect.json.JsonConverter";
pub const STRING_CONVERTER: &str = "org.apache.kafka.connect.storage.StringConverter";
pub const BYTE_ARRAY_CONVERTER: &str = "org.apache.kafka.connect.converters.ByteArrayConverter";

#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// The data does not fit the format or the schema.
    #[error("{0}")]
    Data(String),
    #[error("unknown converter class {0:?}; the supported converters are {JSON_CONVERTER}, {STRING_CONVERTER} and {BYTE_ARRAY_CONVERTER}")]
    UnknownClass(String),
    #[error("invalid converter setting {key}={value:?}: {expected}")]
    Config { key: String, value: String, expected: &'static str },
}

impl From<wasmconnect_data::json::JsonError> for ConvertError {
    fn from(e: wasmconnect_data::json::JsonError) -> Self {
        ConvertError::Data(e.to_string())
    }
}

pub(crate) fn data_error(message: impl Into<String>) -> ConvertError {
    ConvertError::Data(message.into())
}

// The method names are Kafka Connect's (`fromConnectData`/`toConnectData`), which its users know.
#[allow(clippy::wrong_self_convention)]
pub trait Converter: Send + Sync {
    /// Connect data to record bytes; `None` is a null key or value.
    fn from_connect_data(&self, topic: &str, data: &Data) -> Result<Option<Vec<u8>>, ConvertError>;
    /// Record bytes to Connect data.
    fn to_connect_data(&self, topic: &str, bytes: Option<&[u8]>) -> Result<Data, ConvertError>;
}

/// Builds a converter from its class name (full or simple) and its own properties, with the
/// `key.converter.`/`value.converter.` prefix already removed.
pub fn converter_for(class: &str, props: &[(String, String)], is_key: bool) -> Result<Box<dyn Converter>, ConvertError> {
    Ok(match class.trim() {
        JSON_CONVERTER | "JsonConverter" => Box::new(JsonConverter::configure(props, is_key)?),
        STRING_CONVERTER | "StringConverter" => Box::new(StringConverter::configure(props)?),
        BYTE_ARRAY_CONVERTER | "ByteArrayConverter" => Box::new(ByteArrayConverter),
        _ => return Err(ConvertError::UnknownClass(class.to_owned())),
    })
}

fn property<'a>(props: &'a [(String, String)], key: &str) -> Option<&'a str> {
    props.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_resolve_by_full_and_simple_name() {
        for class in [JSON_CONVERTER, STRING_CONVERTER, BYTE_ARRAY_CONVERTER, "JsonConverter", "StringConverter", "ByteArrayConverter"] {
            assert!(converter_for(class, &[], false).is_ok(), "{class}");
        }
        for unknown in ["com.example.AvroConverter", "com.example.JsonConverter"] {
            let err = converter_for(unknown, &[], false).err().unwrap().to_string();
            for supported in [unknown, JSON_CONVERTER, STRING_CONVERTER, BYTE_ARRAY_CONVERTER] {
                assert!(err.contains(supported), "{err}");
            }
        }
    }
}
