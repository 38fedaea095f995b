//! ByteArrayConverter: record bytes passed through untouched, as optional bytes.

use std::sync::Arc;

use wasmconnect_data::{Data, Schema, SchemaType, Value};

use crate::{ConvertError, Converter, data_error};

pub struct ByteArrayConverter;

impl Converter for ByteArrayConverter {
    fn from_connect_data(&self, topic: &str, data: &Data) -> Result<Option<Vec<u8>>, ConvertError> {
        if let Some(schema) = data.schema.as_deref().filter(|s| s.schema_type != SchemaType::Bytes) {
            return Err(data_error(format!(
                "ByteArrayConverter only writes bytes, but a record for topic {topic} has a {} schema",
                schema.schema_type.as_str()
            )));
        }
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
    fn bytes_pass_through_with_an_optional_bytes_schema() {
        let c = ByteArrayConverter;
        let data = c.to_connect_data("t", Some(&[0, 1, 255])).unwrap();
        assert_eq!(data.value, Value::Bytes(vec![0, 1, 255]));
        assert_eq!(*data.schema.clone().unwrap(), Schema::new(SchemaType::Bytes).optional());
        assert_eq!(c.from_connect_data("t", &data).unwrap(), Some(vec![0, 1, 255]));
        assert_eq!(c.from_connect_data("t", &Data::null()).unwrap(), None);
        assert_eq!(c.to_connect_data("t", None).unwrap().value, Value::Null);
    }

    #[test]
    fn other_data_is_refused() {
        let c = ByteArrayConverter;
        let err = c.from_connect_data("t", &Data::schemaless(Value::String("x".into()))).unwrap_err();
        assert!(err.to_string().contains("a string"), "{err}");
        let typed = Data { schema: Some(Arc::new(Schema::new(SchemaType::String))), value: Value::Null };
        let err = c.from_connect_data("t", &typed).unwrap_err();
        assert!(err.to_string().contains("string schema"), "{err}");
    }
}
