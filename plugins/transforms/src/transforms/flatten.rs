//! Flatten: lifts nested struct (or map) fields to the top level, joining their names with
//! a delimiter. Arrays stay as they are; maps with a schema are refused, as in Kafka.

use std::sync::Arc;

use wasmconnect_sdk::{ConnectRecord, ConnectorError, Field, Schema, SchemaType, Transform, Value};

use crate::config::Keys;
use crate::fields::{
    SchemaCache, copy_basics, describe, describe_schema, field_value, map_put, push_field, schemaless_map, struct_values,
};
use crate::record::{Operand, Side, data, update};

pub struct Flatten {
    owner: String,
    side: Side,
    delimiter: String,
    schemas: SchemaCache,
}

impl Flatten {
    pub fn new(side: Side, keys: &Keys) -> Result<Flatten, ConnectorError> {
        Ok(Flatten {
            owner: keys.owner().to_owned(),
            side,
            delimiter: keys.string_or("delimiter", ".").to_owned(),
            schemas: SchemaCache::default(),
        })
    }

    fn join(&self, prefix: &str, name: &str) -> String {
        if prefix.is_empty() { name.to_owned() } else { format!("{prefix}{}{name}", self.delimiter) }
    }

    fn flatten_map(&self, entries: Vec<(Value, Value)>, prefix: &str, out: &mut Vec<(Value, Value)>) -> Result<(), String> {
        for (key, value) in entries {
            let Value::String(key) = key else {
                return Err(format!("{}: a nested map under \"{prefix}\" has keys that are not strings", self.owner));
            };
            let name = self.join(prefix, &key);
            match value {
                Value::Map(nested) => self.flatten_map(nested, &name, out)?,
                Value::Struct(_) => return Err(format!("{}: field \"{name}\" is a struct without a schema", self.owner)),
                value => map_put(out, &name, value),
            }
        }
        Ok(())
    }

    /// The flattened fields of `schema`: optional when any ancestor is, and with the default
    /// an ancestor's default gives them if they have none of their own.
    fn flatten_schema(
        &self,
        schema: &Schema,
        prefix: &str,
        optional: bool,
        parent_default: Option<&Value>,
        out: &mut Vec<Field>,
    ) -> Result<(), String> {
        for (at, field) in schema.fields.iter().enumerate() {
            let name = self.join(prefix, &field.name);
            let optional = optional || field.schema.optional;
            let inherited = match parent_default {
                Some(Value::Struct(values)) => values.get(at).filter(|v| **v != Value::Null),
                _ => None,
            };
            let default = field.schema.default.as_ref().or(inherited);
            match field.schema.schema_type {
                SchemaType::Struct => self.flatten_schema(&field.schema, &name, optional, default, out)?,
                SchemaType::Map => {
                    return Err(format!(
                        "{}: field \"{name}\" is a map, which cannot be flattened with a schema; drop or convert it first",
                        self.owner
                    ));
                }
                _ => {
                    let flat = Schema { optional, default: default.cloned(), ..(*field.schema).clone() };
                    push_field(&self.owner, out, &name, Arc::new(flat))?;
                }
            }
        }
        Ok(())
    }

    fn flatten_struct(schema: &Schema, values: Vec<Value>, out: &mut Vec<Value>) {
        for (field, value) in schema.fields.iter().zip(values) {
            match (field.schema.schema_type, field_value(field, value, true)) {
                (SchemaType::Struct, Value::Struct(nested)) => Self::flatten_struct(&field.schema, nested, out),
                (SchemaType::Struct, _) => out.extend(std::iter::repeat_n(Value::Null, leaves(&field.schema))),
                (_, value) => out.push(value),
            }
        }
    }
}

/// How many flattened fields a struct schema becomes.
fn leaves(schema: &Schema) -> usize {
    schema.fields.iter().map(|f| if f.schema.schema_type == SchemaType::Struct { leaves(&f.schema) } else { 1 }).sum()
}

impl Transform for Flatten {
    fn apply(&mut self, record: ConnectRecord) -> Result<Option<ConnectRecord>, String> {
        update(self.side, record, |operand, _| match operand {
            null @ Operand::Null(_) => Ok(null.into_data()),
            Operand::Schemaless(value) => {
                let mut flat = Vec::new();
                self.flatten_map(schemaless_map(&self.owner, self.side.noun(), value)?, "", &mut flat)?;
                Ok(data(None, Value::Map(flat)))
            }
            Operand::WithSchema(schema, value) => {
                if schema.schema_type != SchemaType::Struct {
                    return Err(format!(
                        "{}: the {} is {} with schema {}; only structs can be flattened",
                        self.owner,
                        self.side.noun(),
                        describe(&value),
                        describe_schema(&schema)
                    ));
                }
                let values = struct_values(&self.owner, &schema, value)?;
                let flat_schema = self.schemas.get_or_build(&schema, |s| {
                    let mut fields = Vec::new();
                    self.flatten_schema(s, "", s.optional, s.default.as_ref(), &mut fields)?;
                    Ok(Schema { fields, ..copy_basics(s, SchemaType::Struct) })
                })?;
                let mut flat = Vec::with_capacity(flat_schema.fields.len());
                Self::flatten_struct(&schema, values, &mut flat);
                Ok(data(Some(flat_schema), Value::Struct(flat)))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;

    fn supported_types() -> (Schema, Vec<Value>) {
        let schema = structure(&[
            ("int8", schema(SchemaType::Int8)),
            ("int16", schema(SchemaType::Int16)),
            ("int32", schema(SchemaType::Int32)),
            ("int64", schema(SchemaType::Int64)),
            ("float32", schema(SchemaType::Float32)),
            ("float64", schema(SchemaType::Float64)),
            ("boolean", schema(SchemaType::Boolean)),
            ("string", schema(SchemaType::String)),
            ("bytes", schema(SchemaType::Bytes)),
        ]);
        let values = vec![
            Value::Int8(8),
            Value::Int16(16),
            Value::Int32(32),
            Value::Int64(64),
            Value::Float32(32.0),
            Value::Float64(64.0),
            Value::Boolean(true),
            string("stringy"),
            Value::Bytes(b"bytes".to_vec()),
        ];
        (schema, values)
    }

    #[test]
    fn nested_struct_is_flattened() {
        let (inner, values) = supported_types();
        let one = structure(&[("B", inner.clone())]);
        let two = structure(&[("A", one)]);
        let mut t = transform("Flatten$Value", &[]);
        let out =
            apply(&mut t, value_record(with_schema(two, struct_value(vec![struct_value(vec![struct_value(values.clone())])]))));
        let expected: Vec<(String, Schema)> =
            inner.fields.iter().map(|f| (format!("A.B.{}", f.name), (*f.schema).clone())).collect();
        let expected: Vec<(&str, Schema)> = expected.iter().map(|(n, s)| (n.as_str(), s.clone())).collect();
        assert_eq!(schema_of(&out.value), &structure(&expected));
        assert_eq!(value_of(&out.value), &struct_value(values));
    }

    #[test]
    fn nested_map_is_flattened_with_a_delimiter() {
        let mut t = transform("Flatten$Value", &[("delimiter", "#")]);
        let input = map(&[("A", map(&[("B", map(&[("int8", Value::Int8(8)), ("string", string("s"))]))])), ("top", Value::Null)]);
        let out = apply(&mut t, value_record(schemaless(input)));
        assert_eq!(
            out.value,
            schemaless(map(&[("A#B#int8", Value::Int8(8)), ("A#B#string", string("s")), ("top", Value::Null)]))
        );
    }

    #[test]
    fn key_and_arrays() {
        let mut t = transform("Flatten$Key", &[]);
        let input = map(&[("A", map(&[("B", Value::Int32(12))])), ("list", Value::Array(vec![map(&[("x", Value::Int32(1))])]))]);
        let out = apply(&mut t, key_record(schemaless(input)));
        assert_eq!(
            out.key,
            schemaless(map(&[("A.B", Value::Int32(12)), ("list", Value::Array(vec![map(&[("x", Value::Int32(1))])]))]))
        );

        let array = Schema::array(Arc::new(schema(SchemaType::String)));
        let input = structure(&[("nested", structure(&[("arr", array.clone())]))]);
        let out = apply(
            &mut t,
            key_record(with_schema(input, struct_value(vec![struct_value(vec![Value::Array(vec![string("x")])])]))),
        );
        assert_eq!(schema_of(&out.key), &structure(&[("nested.arr", array)]));
    }

    #[test]
    fn documentation_example() {
        let name = map(&[("first", string("David")), ("middle", Value::Null), ("last", string("Wong"))]);
        let input = map(&[("content", map(&[("id", Value::Int64(42)), ("name", name)]))]);
        let mut t = transform("Flatten$Value", &[]);
        let out = apply(&mut t, value_record(schemaless(input)));
        let expected = map(&[
            ("content.id", Value::Int64(42)),
            ("content.name.first", string("David")),
            ("content.name.middle", Value::Null),
            ("content.name.last", string("Wong")),
        ]);
        assert_eq!(out.value, schemaless(expected));
    }

    #[test]
    fn optional_parents_make_optional_fields_and_null_parents_null_fields() {
        let inner = structure(&[("opt_int32", optional(SchemaType::Int32)), ("req", schema(SchemaType::String))]).optional();
        let input = structure(&[("A", inner), ("B", schema(SchemaType::Int8))]);
        let mut t = transform("Flatten$Value", &[]);
        let out = apply(&mut t, value_record(with_schema(input.clone(), struct_value(vec![Value::Null, Value::Int8(1)]))));
        assert_eq!(
            schema_of(&out.value),
            &structure(&[
                ("A.opt_int32", optional(SchemaType::Int32)),
                ("A.req", optional(SchemaType::String)),
                ("B", schema(SchemaType::Int8))
            ])
        );
        assert_eq!(value_of(&out.value), &struct_value(vec![Value::Null, Value::Null, Value::Int8(1)]));
        let out = apply(
            &mut t,
            value_record(with_schema(
                input,
                struct_value(vec![struct_value(vec![Value::Int32(5), string("r")]), Value::Int8(1)]),
            )),
        );
        assert_eq!(value_of(&out.value), &struct_value(vec![Value::Int32(5), string("r"), Value::Int8(1)]));
    }

    #[test]
    fn defaults_of_parents_reach_flattened_fields() {
        let inner = structure(&[
            ("a", optional(SchemaType::Int32)),
            ("b", Schema { default: Some(Value::Int32(2)), ..optional(SchemaType::Int32) }),
        ]);
        let inner = Schema { default: Some(struct_value(vec![Value::Int32(1), Value::Null])), ..inner.optional() };
        let input = structure(&[("n", inner)]);
        let mut t = transform("Flatten$Value", &[]);
        let out = apply(&mut t, value_record(with_schema(input, struct_value(vec![Value::Null]))));
        let flat = schema_of(&out.value);
        assert_eq!(flat.fields[0].schema.default, Some(Value::Int32(1)));
        assert_eq!(flat.fields[1].schema.default, Some(Value::Int32(2)));
        assert_eq!(value_of(&out.value), &struct_value(vec![Value::Int32(1), Value::Int32(2)]));
    }

    #[test]
    fn errors_and_nulls() {
        let mut t = transform("Flatten$Value", &[]);
        assert_eq!(apply(&mut t, value_record(None)).value, None);
        let with_map =
            structure(&[("m", Schema::map(Arc::new(schema(SchemaType::String)), Arc::new(schema(SchemaType::String))))]);
        let err = apply_error(&mut t, value_record(with_schema(with_map, struct_value(vec![Value::Map(vec![])]))));
        assert!(err.contains("field \"m\" is a map"), "{err}");
        let err = apply_error(&mut t, value_record(with_schema(schema(SchemaType::Int32), Value::Int32(1))));
        assert!(err.contains("only structs"), "{err}");
        let clash = structure(&[("a", structure(&[("b", schema(SchemaType::Int8))])), ("a.b", schema(SchemaType::Int8))]);
        let err = apply_error(
            &mut t,
            value_record(with_schema(clash, struct_value(vec![struct_value(vec![Value::Int8(1)]), Value::Int8(2)]))),
        );
        assert!(err.contains("two fields named \"a.b\""), "{err}");
    }
}
