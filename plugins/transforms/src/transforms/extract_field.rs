//! ExtractField: replaces the key or value with one of its fields (nested ones with
//! `field.syntax.version=V2`).

use wasmconnect_sdk::{ConnectRecord, ConnectorError, SchemaType, Transform, Value};

use crate::config::Keys;
use crate::field_path::FieldPath;
use crate::fields::{describe, describe_schema, schemaless_map};
use crate::record::{Operand, Side, data, update};

pub struct ExtractField {
    owner: String,
    side: Side,
    field: String,
    path: FieldPath,
    replace_null_with_default: bool,
}

impl ExtractField {
    pub fn new(side: Side, keys: &Keys) -> Result<ExtractField, ConnectorError> {
        let field = keys.required("field", "the name of the field to extract")?;
        Ok(ExtractField {
            owner: keys.owner().to_owned(),
            side,
            field: field.to_owned(),
            path: FieldPath::from_config(keys, "field", field)?,
            replace_null_with_default: keys.bool_or("replace.null.with.default", true)?,
        })
    }
}

impl Transform for ExtractField {
    fn apply(&mut self, record: ConnectRecord) -> Result<Option<ConnectRecord>, String> {
        update(self.side, record, |operand, _| match operand {
            Operand::Null(None) => Ok(None),
            Operand::Schemaless(value) => {
                let entries = schemaless_map(&self.owner, self.side.noun(), value)?;
                Ok(data(None, self.path.value_from_map(&entries)))
            }
            Operand::Null(Some(schema)) | Operand::WithSchema(schema, _) if schema.schema_type != SchemaType::Struct => {
                Err(format!(
                    "{}: cannot extract field \"{}\" from a {} whose schema is {}, not a struct",
                    self.owner,
                    self.field,
                    self.side.noun(),
                    describe_schema(&schema)
                ))
            }
            Operand::Null(Some(schema)) | Operand::WithSchema(schema, Value::Null) => {
                let field = self.path.field_from(&schema).ok_or_else(|| self.unknown())?;
                Ok(data(Some(field.schema.clone()), Value::Null))
            }
            Operand::WithSchema(schema, value) => {
                if !matches!(value, Value::Struct(_)) {
                    return Err(format!(
                        "{}: the {} has a struct schema but is {}",
                        self.owner,
                        self.side.noun(),
                        describe(&value)
                    ));
                }
                let field = self.path.field_from(&schema).ok_or_else(|| self.unknown())?;
                let extracted = self.path.value_from_struct(&schema, &value, self.replace_null_with_default);
                Ok(data(Some(field.schema.clone()), extracted))
            }
        })
    }
}

impl ExtractField {
    fn unknown(&self) -> String {
        format!(
            "{}: the {} schema has no field \"{}\"; check \"field\" (and field.syntax.version for nested fields)",
            self.owner,
            self.side.noun(),
            self.field
        )
    }
}

#[cfg(test)]
mod tests {
    use wasmconnect_sdk::Schema;

    use super::*;
    use crate::testing::*;

    #[test]
    fn schemaless_field_is_extracted() {
        let mut t = transform("ExtractField$Key", &[("field", "magic")]);
        let out = apply(&mut t, key_record(schemaless(map(&[("magic", Value::Int32(42))]))));
        assert_eq!(out.key, schemaless(Value::Int32(42)));
        assert_eq!(apply(&mut t, key_record(None)).key, None);
        assert_eq!(apply(&mut t, key_record(schemaless(map(&[("other", Value::Int32(1))])))).key, None);
    }

    #[test]
    fn struct_field_is_extracted_with_its_schema() {
        let mut t = transform("ExtractField$Key", &[("field", "magic")]);
        let input = with_schema(structure(&[("magic", schema(SchemaType::Int32))]), struct_value(vec![Value::Int32(42)]));
        let out = apply(&mut t, key_record(input));
        assert_eq!(out.key, with_schema(schema(SchemaType::Int32), Value::Int32(42)));
        let tombstone = with_schema(structure(&[("magic", optional(SchemaType::Int32))]), Value::Null);
        assert_eq!(apply(&mut t, key_record(tombstone)).key, with_schema(optional(SchemaType::Int32), Value::Null));
    }

    #[test]
    fn documentation_example_extracts_the_id() {
        let mut t = transform("ExtractField$Key", &[("field", "id")]);
        let key = with_schema(
            structure(&[("id", schema(SchemaType::Int64)), ("region", schema(SchemaType::String))]),
            struct_value(vec![Value::Int64(77), string("eu")]),
        );
        assert_eq!(apply(&mut t, key_record(key)).key, with_schema(schema(SchemaType::Int64), Value::Int64(77)));
    }

    #[test]
    fn nested_fields_with_v2_syntax() {
        let inner = structure(&[("bar", schema(SchemaType::String))]);
        let outer = structure(&[("foo", inner), ("foo.bar", schema(SchemaType::Int32))]);
        let value = struct_value(vec![struct_value(vec![string("nested")]), Value::Int32(7)]);
        let mut t = transform("ExtractField$Value", &[("field", "foo.bar"), ("field.syntax.version", "V2")]);
        assert_eq!(
            apply(&mut t, value_record(with_schema(outer.clone(), value.clone()))).value,
            with_schema(schema(SchemaType::String), string("nested"))
        );
        let mut t = transform("ExtractField$Value", &[("field", "`foo.bar`"), ("field.syntax.version", "V2")]);
        assert_eq!(
            apply(&mut t, value_record(with_schema(outer.clone(), value.clone()))).value,
            with_schema(schema(SchemaType::Int32), Value::Int32(7))
        );
        let mut t = transform("ExtractField$Value", &[("field", "foo.bar")]);
        assert_eq!(
            apply(&mut t, value_record(with_schema(outer, value))).value,
            with_schema(schema(SchemaType::Int32), Value::Int32(7))
        );

        let mut t = transform("ExtractField$Value", &[("field", "foo.bar"), ("field.syntax.version", "v2")]);
        let out = apply(&mut t, value_record(schemaless(map(&[("foo", map(&[("bar", string("x"))]))]))));
        assert_eq!(out.value, schemaless(string("x")));
    }

    #[test]
    fn defaults_stand_in_for_nulls_unless_disabled() {
        let with_default = Schema { default: Some(Value::Int32(9)), ..optional(SchemaType::Int32) };
        let input = || value_record(with_schema(structure(&[("n", with_default.clone())]), struct_value(vec![Value::Null])));
        let mut t = transform("ExtractField$Value", &[("field", "n")]);
        assert_eq!(value_of(&apply(&mut t, input()).value), &Value::Int32(9));
        let mut t = transform("ExtractField$Value", &[("field", "n"), ("replace.null.with.default", "false")]);
        assert_eq!(value_of(&apply(&mut t, input()).value), &Value::Null);
    }

    #[test]
    fn errors() {
        assert!(transform_error("ExtractField$Value", &[]).contains("\"field\" is missing"));
        assert!(transform_error("ExtractField$Value", &[("field", "`a"), ("field.syntax.version", "V2")]).contains("backtick"));
        let mut t = transform("ExtractField$Value", &[("field", "nonexistent")]);
        let input = with_schema(structure(&[("magic", schema(SchemaType::Int32))]), struct_value(vec![Value::Int32(42)]));
        assert!(apply_error(&mut t, value_record(input)).contains("no field \"nonexistent\""));
        assert!(
            apply_error(&mut t, value_record(with_schema(schema(SchemaType::Int32), Value::Int32(1)))).contains("not a struct")
        );
        assert!(apply_error(&mut t, value_record(schemaless(string("x")))).contains("needs the value to be a map"));
    }
}
