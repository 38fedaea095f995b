//! StringConverter: values as UTF-8 text, read back as optional strings.

use std::sync::Arc;

use wasmconnect_data::{Data, Schema, SchemaType, Value};

use crate::{ConvertError, Converter, data_error, property};

pub struct StringConverter;

impl StringConverter {
    pub fn configure(props: &[(String, String)]) -> Result<StringConverter, ConvertError> {
        for key in ["encoding", "converter.encoding"] {
            if let Some(encoding) = property(props, key)
                && !encoding.eq_ignore_ascii_case("UTF-8")
                && !encoding.eq_ignore_ascii_case("UTF8")
            {
                return Err(ConvertError::Config { key: key.into(), value: encoding.into(), expected: "only UTF-8 is supported" });
            }
        }
        Ok(StringConverter)
    }
}

impl Converter for StringConverter {
    fn from_connect_data(&self, _topic: &str, data: &Data) -> Result<Option<Vec<u8>>, ConvertError> {
        Ok(match &data.value {
            Value::Null => None,
            Value::String(s) => Some(s.clone().into_bytes()),
            // Anything else is written in its JSON text form, the closest to a plain rendering.
            other => Some(crate::value_to_json(data.schema.as_deref(), other)?.to_string().into_bytes()),
        })
    }

    fn to_connect_data(&self, _topic: &str, bytes: Option<&[u8]>) -> Result<Data, ConvertError> {
        let schema = Some(Arc::new(Schema::new(SchemaType::String).optional()));
        let value = match bytes {
            None => Value::Null,
            Some(b) => Value::String(
                String::from_utf8(b.to_vec()).map_err(|_| data_error("StringConverter: the record is not valid UTF-8 text"))?,
            ),
        };
        Ok(Data { schema, value })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip_and_other_values_become_text() {
        let c = StringConverter::configure(&[]).unwrap();
        let data = c.to_connect_data("t", Some(b"hello")).unwrap();
        assert_eq!(data.value, Value::String("hello".into()));
        assert!(data.schema.unwrap().optional);
        assert_eq!(c.from_connect_data("t", &Data::schemaless(Value::String("hi".into()))).unwrap(), Some(b"hi".to_vec()));
        assert_eq!(c.from_connect_data("t", &Data::schemaless(Value::Int64(7))).unwrap(), Some(b"7".to_vec()));
        assert_eq!(c.from_connect_data("t", &Data::null()).unwrap(), None);
        assert_eq!(c.to_connect_data("t", None).unwrap().value, Value::Null);
        assert!(c.to_connect_data("t", Some(&[0xff, 0xfe])).is_err());
        assert!(StringConverter::configure(&[("encoding".into(), "latin1".into())]).is_err());
    }
}
