//! HoistField: wraps the key or value in a struct (or map) of one field.

use wasmconnect_sdk::{ConnectRecord, ConnectorError, Field, Schema, Transform, Value};

use crate::config::Keys;
use crate::fields::SchemaCache;
use crate::record::{Operand, Side, data, update};

pub struct HoistField {
    side: Side,
    field: String,
    schemas: SchemaCache,
}

impl HoistField {
    pub fn new(side: Side, keys: &Keys) -> Result<HoistField, ConnectorError> {
        let field = keys.required("field", "the name of the field to wrap the data in")?.to_owned();
        Ok(HoistField { side, field, schemas: SchemaCache::default() })
    }
}

impl Transform for HoistField {
    fn apply(&mut self, record: ConnectRecord) -> Result<Option<ConnectRecord>, String> {
        update(self.side, record, |operand, _| {
            let (schema, value) = match operand {
                Operand::Null(schema) => (schema, Value::Null),
                Operand::Schemaless(value) => (None, value),
                Operand::WithSchema(schema, value) => (Some(schema), value),
            };
            Ok(match schema {
                None => data(None, Value::Map(vec![(Value::String(self.field.clone()), value)])),
                Some(schema) => {
                    let wrapper = self.schemas.get_or_build(&schema, |_| {
                        Ok(Schema::structure(vec![Field { name: self.field.clone(), schema: schema.clone() }]))
                    })?;
                    data(Some(wrapper), Value::Struct(vec![value]))
                }
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use wasmconnect_sdk::SchemaType;

    use super::*;
    use crate::testing::*;

    #[test]
    fn schemaless_data_goes_into_a_map() {
        let mut t = transform("HoistField$Key", &[("field", "magic")]);
        let out = apply(&mut t, key_record(schemaless(Value::Int32(42))));
        assert_eq!(out.key, schemaless(map(&[("magic", Value::Int32(42))])));
        assert_eq!(apply(&mut t, key_record(None)).key, schemaless(map(&[("magic", Value::Null)])));
    }

    #[test]
    fn data_with_schema_goes_into_a_struct() {
        let mut t = transform("HoistField$Key", &[("field", "magic")]);
        let out = apply(&mut t, key_record(with_schema(schema(SchemaType::Int32), Value::Int32(42))));
        assert_eq!(schema_of(&out.key), &structure(&[("magic", schema(SchemaType::Int32))]));
        assert_eq!(value_of(&out.key), &struct_value(vec![Value::Int32(42)]));
        let out = apply(&mut t, key_record(with_schema(optional(SchemaType::Int32), Value::Null)));
        assert_eq!(value_of(&out.key), &struct_value(vec![Value::Null]));
    }

    #[test]
    fn documentation_example_wraps_a_line_of_text() {
        let mut t = transform("HoistField$Value", &[("field", "line")]);
        let out = apply(&mut t, value_record(with_schema(schema(SchemaType::String), string("hello"))));
        assert_eq!(schema_of(&out.value), &structure(&[("line", schema(SchemaType::String))]));
        assert_eq!(value_of(&out.value), &struct_value(vec![string("hello")]));
    }

    #[test]
    fn field_is_required() {
        assert!(transform_error("HoistField$Value", &[]).contains("\"field\" is missing"));
    }
}
