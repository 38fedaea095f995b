//! ByteArrayConverter: record bytes passed through untouched, as optional bytes.

use std::sync::Arc;

use wasmconnect_data::{Data, Schema, SchemaType, Value};

use crate::{ConvertError, Converter, data_error};

pub struct ByteArrayConverter;

impl Converter for ByteArrayConverter {
    fn from_connect_data(&self, topic: &str, data: &Data) -> Result<Option<Vec<u8>>, ConvertError> {
        match &data.value {
            Value::Null => Ok(None),
            Value::Bytes(b) => Ok(Some(b.clone())),
            other => Err(data_error(format!(
                "ByteArrayConverter only writes bytes, but a record for topic {topic} holds {}",
                kind(other)
            ))),
        }
    }

    fn to_connect_data(&self, _topic: &str, bytes: Option<&[u8]>) -> Result<Data, ConvertError> {
        Ok(Data {
            schema: Some(Arc::new(Schema::new(SchemaType::Bytes).optional())),
            value: bytes.map_or(Value::Null, |b| Value::Bytes(b.to_vec())),
        })
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Struct(_) => "a struct",
        Value::String(_) => "a string",
        Value::Map(_) => "a map",
        Value::Array(_) => "an array",
        _ => "a number or boolean",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_pass_through_and_other_data_is_refused() {
        let c = ByteArrayConverter;
        let data = c.to_connect_data("t", Some(&[0, 1, 255])).unwrap();
        assert_eq!(data.value, Value::Bytes(vec![0, 1, 255]));
        assert_eq!(c.from_connect_data("t", &data).unwrap(), Some(vec![0, 1, 255]));
        assert_eq!(c.from_connect_data("t", &Data::null()).unwrap(), None);
        let err = c.from_connect_data("t", &Data::schemaless(Value::String("x".into()))).unwrap_err();
        assert!(err.to_string().contains("a string"), "{err}");
    }
}
