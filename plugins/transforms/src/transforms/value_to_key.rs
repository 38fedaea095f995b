//! ValueToKey: replaces the key with a struct (or map) of some of the value's fields.

use std::sync::Arc;

use wasmconnect_sdk::{ConnectRecord, ConnectorError, Data, Schema, Transform, Value};

use crate::config::Keys;
use crate::fields::{SchemaCache, field_value, map_get, push_field, schemaless_entries, struct_fields};

pub struct ValueToKey {
    owner: String,
    fields: Vec<String>,
    replace_null_with_default: bool,
    keys: SchemaCache<Arc<KeyPlan>>,
}

/// The key schema for one value schema, and where each of its fields is in the value.
struct KeyPlan {
    schema: Arc<Schema>,
    positions: Vec<usize>,
}

impl ValueToKey {
    pub fn new(keys: &Keys) -> Result<ValueToKey, ConnectorError> {
        Ok(ValueToKey {
            owner: keys.owner().to_owned(),
            fields: keys.non_empty_list("fields", "the names of the value fields that make up the key")?,
            replace_null_with_default: keys.bool_or("replace.null.with.default", true)?,
            keys: SchemaCache::default(),
        })
    }

    fn key_plan(&self, value_schema: &Schema) -> Result<Arc<KeyPlan>, String> {
        let mut fields = Vec::new();
        let mut positions = Vec::new();
        for name in &self.fields {
            let (at, field) = value_schema.field(name).ok_or_else(|| {
                format!("{}: the value has no field \"{name}\" to copy into the key; check \"fields\"", self.owner)
            })?;
            push_field(&self.owner, &mut fields, name, field.schema.clone())?;
            positions.push(at);
        }
        Ok(Arc::new(KeyPlan { schema: Arc::new(Schema::structure(fields)), positions }))
    }
}

impl Transform for ValueToKey {
    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>, String> {
        // Only the key's fields are copied; the value stays where it is.
        record.key = match &record.value {
            None | Some(Data { value: Value::Null, .. }) => {
                return Err(format!(
                    "{}: the value is null, so there are no fields to make the key from; skip tombstones with the \
                     RecordIsTombstone predicate (negate=true)",
                    self.owner
                ));
            }
            Some(Data { schema: None, value }) => {
                let entries = schemaless_entries(&self.owner, "value", value)?;
                let key = self
                    .fields
                    .iter()
                    .map(|name| (Value::String(name.clone()), map_get(entries, name).cloned().unwrap_or(Value::Null)))
                    .collect();
                Some(Data::schemaless(Value::Map(key)))
            }
            Some(Data { schema: Some(schema), value }) => {
                let plan = self.keys.get_or_derive(schema, |s| self.key_plan(s))?;
                let values = struct_fields(&self.owner, schema, value)?;
                let key = plan
                    .positions
                    .iter()
                    .map(|&at| field_value(&schema.fields[at], values[at].clone(), self.replace_null_with_default))
                    .collect();
                Some(Data { schema: Some(plan.schema.clone()), value: Value::Struct(key) })
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
