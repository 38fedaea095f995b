//! StringConverter: values as UTF-8 text, read back as optional strings.

use std::sync::Arc;

use serde_json::Value as Json;
use wasmconnect_data::{Data, Schema, SchemaType, Value, decimal};

use crate::json::java_decimal_text;
use crate::{ConvertError, Converter, data_error, property};

pub struct StringConverter;

impl StringConverter {
    /// Only UTF-8 is supported: text in another charset would need a transcoder the host does
    /// not carry, and silently writing UTF-8 instead would corrupt the records.
    pub fn configure(props: &[(String, String)]) -> Result<StringConverter, ConvertError> {
        for key in ["encoding", "converter.encoding"] {
            if let Some(encoding) = property(props, key)
                && !matches!(encoding.trim().to_ascii_uppercase().as_str(), "UTF-8" | "UTF8")
            {
                return Err(ConvertError::Config { key: key.into(), value: encoding.into(), expected: "UTF-8, the only encoding supported" });
            }
        }
        Ok(StringConverter)
    }
}

impl Converter for StringConverter {
    fn from_connect_data(&self, topic: &str, data: &Data) -> Result<Option<Vec<u8>>, ConvertError> {
        let text = text_form(data.schema.as_deref(), &data.value)
            .map_err(|e| data_error(format!("StringConverter cannot write a record for topic {topic}: {e}")))?;
        Ok(text.map(String::into_bytes))
    }

    fn to_connect_data(&self, topic: &str, bytes: Option<&[u8]>) -> Result<Data, ConvertError> {
        let value = match bytes {
            None => Value::Null,
            Some(b) => Value::String(String::from_utf8(b.to_vec()).map_err(|e| {
                data_error(format!("StringConverter: a record on topic {topic} is not valid UTF-8 text ({e})"))
            })?),
        };
        Ok(Data { schema: Some(Arc::new(Schema::new(SchemaType::String).optional())), value })
    }
}

/// The natural text of a value: strings as they are, numbers and booleans as written in
/// JSON, Decimals as their decimal number, bytes as base64, and structs, maps and arrays as
/// their JSON text.
fn text_form(schema: Option<&Schema>, value: &Value) -> Result<Option<String>, ConvertError> {
    Ok(Some(match value {
        Value::Null => return Ok(None),
        Value::String(s) => s.clone(),
        Value::Bytes(bytes) if let Some(scale) = schema.and_then(Schema::decimal_scale) => {
            let unscaled = decimal::from_bytes(bytes).ok_or_else(|| data_error("a Decimal larger than 38 digits"))?;
            java_decimal_text(unscaled, scale)
        }
        other => match crate::value_to_json(schema, other)? {
            Json::String(s) => s,
            json => json.to_string(),
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmconnect_data::{Field, decimal};

    fn write(data: Data) -> Option<String> {
        StringConverter.from_connect_data("t", &data).unwrap().map(|b| String::from_utf8(b).unwrap())
    }

    #[test]
    fn strings_are_written_as_utf8_and_read_as_optional_strings() {
        let c = StringConverter::configure(&[("converter.encoding".into(), "utf-8".into())]).unwrap();
        let data = c.to_connect_data("t", Some("héllo".as_bytes())).unwrap();
        assert_eq!(data.value, Value::String("héllo".into()));
        assert_eq!(*data.schema.unwrap(), Schema::new(SchemaType::String).optional());
        assert_eq!(write(Data::schemaless(Value::String("hé".into()))).unwrap().as_bytes(), "hé".as_bytes());
        let null = c.to_connect_data("t", None).unwrap();
        assert_eq!(null.value, Value::Null);
        assert!(null.schema.is_some());
        assert_eq!(write(Data::null()), None);
    }

    #[test]
    fn other_values_are_written_in_their_natural_text_form() {
        assert_eq!(write(Data::schemaless(Value::Int64(7))).unwrap(), "7");
        assert_eq!(write(Data::schemaless(Value::Boolean(true))).unwrap(), "true");
        assert_eq!(write(Data::schemaless(Value::Float32(1.1))).unwrap(), "1.1");
        assert_eq!(write(Data::schemaless(Value::Bytes(vec![0x04, 0xD2]))).unwrap(), "BNI=");
        let amount = Data { schema: Some(Arc::new(Schema::decimal(2))), value: Value::Bytes(decimal::to_bytes(-1234)) };
        assert_eq!(write(amount).unwrap(), "-12.34");
        let schema = Arc::new(Schema::structure(vec![Field::new("id", Schema::new(SchemaType::Int32))]));
        assert_eq!(write(Data { schema: Some(schema), value: Value::Struct(vec![Value::Int32(1)]) }).unwrap(), r#"{"id":1}"#);
    }

    #[test]
    fn invalid_text_and_other_encodings_are_refused() {
        let err = StringConverter.to_connect_data("events", Some(&[0xff, 0xfe])).unwrap_err().to_string();
        assert!(err.contains("UTF-8") && err.contains("events"), "{err}");
        let err = StringConverter::configure(&[("encoding".into(), "ISO-8859-1".into())]).err().unwrap().to_string();
        assert!(err.contains("ISO-8859-1") && err.contains("UTF-8"), "{err}");
    }
}
