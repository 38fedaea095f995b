//! SetSchemaMetadata: sets the name and/or version of the key or value schema.

use std::sync::Arc;

use wasmconnect_sdk::{ConnectRecord, ConnectorError, Schema, Transform, Value};

use crate::config::Keys;
use crate::fields::{describe, field_value, struct_values};
use crate::record::{Operand, Side, data, update};

pub struct SetSchemaMetadata {
    owner: String,
    side: Side,
    name: Option<String>,
    version: Option<i32>,
    replace_null_with_default: bool,
}

impl SetSchemaMetadata {
    pub fn new(side: Side, keys: &Keys) -> Result<SetSchemaMetadata, ConnectorError> {
        let transform = SetSchemaMetadata {
            owner: keys.owner().to_owned(),
            side,
            name: keys.optional("schema.name").map(str::to_owned),
            version: keys.optional_int("schema.version")?,
            replace_null_with_default: keys.bool_or("replace.null.with.default", true)?,
        };
        if transform.name.is_none() && transform.version.is_none() {
            return Err(keys.invalid("neither schema.name nor schema.version is set; set one or both"));
        }
        Ok(transform)
    }

    fn updated(&self, schema: &Schema) -> Arc<Schema> {
        Arc::new(Schema {
            name: self.name.clone().or_else(|| schema.name.clone()),
            version: self.version.or(schema.version),
            ..schema.clone()
        })
    }
}

impl Transform for SetSchemaMetadata {
    fn apply(&mut self, record: ConnectRecord) -> Result<Option<ConnectRecord>, String> {
        update(self.side, record, |operand, _| match operand {
            Operand::Null(None) => Ok(None),
            Operand::Schemaless(value) => Err(format!(
                "{}: the {} has no schema to name (it is {} without one); use a converter with schemas",
                self.owner,
                self.side.noun(),
                describe(&value)
            )),
            Operand::Null(Some(schema)) => Ok(data(Some(self.updated(&schema)), Value::Null)),
            Operand::WithSchema(schema, value @ Value::Struct(_)) => {
                let values = struct_values(&self.owner, &schema, value)?;
                let values =
                    schema.fields.iter().zip(values).map(|(f, v)| field_value(f, v, self.replace_null_with_default)).collect();
                Ok(data(Some(self.updated(&schema)), Value::Struct(values)))
            }
            Operand::WithSchema(schema, value) => Ok(data(Some(self.updated(&schema)), value)),
        })
    }
}

#[cfg(test)]
mod tests {
    use wasmconnect_sdk::SchemaType;

    use super::*;
    use crate::testing::*;

    #[test]
    fn name_and_version_are_set() {
        let mut t = transform("SetSchemaMetadata$Value", &[("schema.name", "foo"), ("schema.version", "42")]);
        let input = structure(&[("a", schema(SchemaType::Int32))]).named("old");
        let out = apply(&mut t, value_record(with_schema(input.clone(), struct_value(vec![Value::Int32(1)]))));
        assert_eq!(schema_of(&out.value), &Schema { name: Some("foo".into()), version: Some(42), ..input });
        assert_eq!(value_of(&out.value), &struct_value(vec![Value::Int32(1)]));
    }

    #[test]
    fn only_what_is_configured_changes() {
        let mut t = transform("SetSchemaMetadata$Key", &[("schema.version", "3")]);
        let input = Schema { version: Some(1), ..schema(SchemaType::String).named("keep") };
        let out = apply(&mut t, key_record(with_schema(input.clone(), string("k"))));
        assert_eq!(out.key, with_schema(Schema { version: Some(3), ..input }, string("k")));
    }

    #[test]
    fn documentation_example_names_the_value_schema() {
        let mut t = transform("SetSchemaMetadata$Value", &[("schema.name", "com.example.Order")]);
        let input = optional(SchemaType::Int64);
        let out = apply(&mut t, value_record(with_schema(input, Value::Null)));
        assert_eq!(out.value, with_schema(optional(SchemaType::Int64).named("com.example.Order"), Value::Null));
    }

    #[test]
    fn struct_nulls_take_defaults_unless_disabled() {
        let with_default = Schema { default: Some(Value::Boolean(true)), ..optional(SchemaType::Boolean) };
        let input = || value_record(with_schema(structure(&[("b", with_default.clone())]), struct_value(vec![Value::Null])));
        let mut t = transform("SetSchemaMetadata$Value", &[("schema.name", "x")]);
        assert_eq!(value_of(&apply(&mut t, input()).value), &struct_value(vec![Value::Boolean(true)]));
        let mut t = transform("SetSchemaMetadata$Value", &[("schema.name", "x"), ("replace.null.with.default", "false")]);
        assert_eq!(value_of(&apply(&mut t, input()).value), &struct_value(vec![Value::Null]));
    }

    #[test]
    fn errors() {
        assert!(transform_error("SetSchemaMetadata$Value", &[]).contains("neither schema.name nor schema.version"));
        assert!(transform_error("SetSchemaMetadata$Value", &[("schema.version", "v1")]).contains("\"schema.version\""));
        let mut t = transform("SetSchemaMetadata$Value", &[("schema.name", "x")]);
        assert!(apply_error(&mut t, value_record(schemaless(string("x")))).contains("no schema"));
        assert_eq!(apply(&mut t, value_record(None)).value, None);
    }
}
