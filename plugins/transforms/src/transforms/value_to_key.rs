//! ValueToKey: replaces the key with a struct (or map) of some of the value's fields.

use std::sync::Arc;

use wasmconnect_sdk::{ConnectRecord, ConnectorError, Data, Schema, Transform, Value};

use crate::config::Keys;
use crate::fields::{SchemaCache, field_value, map_get, push_field, schemaless_map, struct_values};
use crate::record::{Operand, Side};

pub struct ValueToKey {
    owner: String,
    fields: Vec<String>,
    replace_null_with_default: bool,
    schemas: SchemaCache,
}

impl ValueToKey {
    pub fn new(keys: &Keys) -> Result<ValueToKey, ConnectorError> {
        Ok(ValueToKey {
            owner: keys.owner().to_owned(),
            fields: keys.non_empty_list("fields", "the names of the value fields that make up the key")?,
            replace_null_with_default: keys.bool_or("replace.null.with.default", true)?,
            schemas: SchemaCache::default(),
        })
    }

    fn key_schema(&self, value_schema: &Schema) -> Result<Schema, String> {
        let mut fields = Vec::new();
        for name in &self.fields {
            let (_, field) = value_schema.field(name).ok_or_else(|| {
                format!("{}: the value has no field \"{name}\" to copy into the key; check \"fields\"", self.owner)
            })?;
            push_field(&self.owner, &mut fields, name, field.schema.clone())?;
        }
        Ok(Schema::structure(fields))
    }
}

impl Transform for ValueToKey {
    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>, String> {
        let value = Side::Value.get(&record).cloned();
        record.key = match Operand::of(value) {
            Operand::Null(_) => {
                return Err(format!(
                    "{}: the value is null, so there are no fields to make the key from; skip tombstones with the \
                     RecordIsTombstone predicate (negate=true)",
                    self.owner
                ));
            }
            Operand::Schemaless(value) => {
                let entries = schemaless_map(&self.owner, "value", value)?;
                let key = self
                    .fields
                    .iter()
                    .map(|name| (Value::String(name.clone()), map_get(&entries, name).cloned().unwrap_or(Value::Null)))
                    .collect();
                Some(Data::schemaless(Value::Map(key)))
            }
            Operand::WithSchema(schema, value) => {
                let key_schema = self.schemas.get_or_build(&schema, |s| self.key_schema(s))?;
                let values = struct_values(&self.owner, &schema, value)?;
                let key = self
                    .fields
                    .iter()
                    .map(|name| {
                        let (at, field) = schema.field(name).expect("the key schema was built from these fields");
                        field_value(field, values[at].clone(), self.replace_null_with_default)
                    })
                    .collect();
                Some(Data { schema: Some(Arc::clone(&key_schema)), value: Value::Struct(key) })
            }
        };
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use wasmconnect_sdk::SchemaType;

    use super::*;
    use crate::testing::*;

    #[test]
    fn schemaless_key_from_value_fields() {
        let mut t = transform("ValueToKey", &[("fields", "a,b")]);
        let value = schemaless(map(&[("a", Value::Int32(1)), ("b", Value::Int32(2)), ("c", Value::Int32(3))]));
        let out = apply(&mut t, value_record(value.clone()));
        assert_eq!(out.key, schemaless(map(&[("a", Value::Int32(1)), ("b", Value::Int32(2))])));
        assert_eq!(out.value, value);
        let mut t = transform("ValueToKey", &[("fields", "a,z")]);
        let out = apply(&mut t, value_record(value));
        assert_eq!(out.key, schemaless(map(&[("a", Value::Int32(1)), ("z", Value::Null)])));
    }

    #[test]
    fn struct_key_from_value_fields() {
        let mut t = transform("ValueToKey", &[("fields", "b,a")]);
        let int32 = || schema(SchemaType::Int32);
        let value_schema = structure(&[("a", int32()), ("b", int32()), ("c", int32())]);
        let value = with_schema(value_schema, struct_value(vec![Value::Int32(1), Value::Int32(2), Value::Int32(3)]));
        let out = apply(&mut t, value_record(value.clone()));
        assert_eq!(schema_of(&out.key), &structure(&[("b", int32()), ("a", int32())]));
        assert_eq!(value_of(&out.key), &struct_value(vec![Value::Int32(2), Value::Int32(1)]));
        assert_eq!(out.value, value);
    }

    #[test]
    fn documentation_example_copies_a_field_into_the_key() {
        let mut t = transform("ValueToKey", &[("fields", "userId,city,state")]);
        let value =
            map(&[("userId", Value::Int64(7)), ("city", string("Oslo")), ("state", string("NO")), ("name", string("Ada"))]);
        let out = apply(&mut t, value_record(schemaless(value)));
        assert_eq!(out.key, schemaless(map(&[("userId", Value::Int64(7)), ("city", string("Oslo")), ("state", string("NO"))])));
    }

    #[test]
    fn errors() {
        assert!(transform_error("ValueToKey", &[]).contains("\"fields\" is missing"));
        let mut t = transform("ValueToKey", &[("fields", "not_exist")]);
        let value = with_schema(structure(&[("a", schema(SchemaType::Int32))]), struct_value(vec![Value::Int32(1)]));
        assert!(apply_error(&mut t, value_record(value)).contains("no field \"not_exist\""));
        assert!(apply_error(&mut t, value_record(None)).contains("RecordIsTombstone"));
        assert!(apply_error(&mut t, value_record(schemaless(Value::Int32(1)))).contains("needs the value to be a map"));
    }
}
