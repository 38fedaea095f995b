//! HeaderFrom: copies or moves top-level fields of the key or value into headers, with the
//! field's schema. Unlike Kafka, a null key or value passes through (Kafka fails on it).

use wasmconnect_sdk::{ConnectRecord, ConnectorError, Data, Schema, SchemaType, Transform, Value};

use crate::config::Keys;
use crate::fields::{SchemaCache, copy_basics, field_value, map_get, map_remove, schemaless_map, struct_values};
use crate::record::{Operand, Side, data, update};

pub struct HeaderFrom {
    owner: String,
    side: Side,
    /// (field, header) pairs, in configured order.
    pairs: Vec<(String, String)>,
    moving: bool,
    replace_null_with_default: bool,
    schemas: SchemaCache,
}

impl HeaderFrom {
    pub fn new(side: Side, keys: &Keys) -> Result<HeaderFrom, ConnectorError> {
        let fields = keys.non_empty_list("fields", "the names of the fields to copy or move into headers")?;
        let headers = keys.non_empty_list("headers", "the header names, one for each of \"fields\"")?;
        if fields.len() != headers.len() {
            return Err(keys.error(
                "headers",
                format_args!(
                    "has {} names but \"fields\" has {}: give one header name for each field",
                    headers.len(),
                    fields.len()
                ),
            ));
        }
        let moving = keys.choice("operation", &["move", "copy"], None)? == "move";
        Ok(HeaderFrom {
            owner: keys.owner().to_owned(),
            side,
            pairs: fields.into_iter().zip(headers).collect(),
            moving,
            replace_null_with_default: keys.bool_or("replace.null.with.default", true)?,
            schemas: SchemaCache::default(),
        })
    }

    fn moves(&self, field: &str) -> bool {
        self.moving && self.pairs.iter().any(|(f, _)| f == field)
    }
}

impl Transform for HeaderFrom {
    fn apply(&mut self, record: ConnectRecord) -> Result<Option<ConnectRecord>, String> {
        update(self.side, record, |operand, record| match operand {
            null @ Operand::Null(_) => Ok(null.into_data()),
            Operand::Schemaless(value) => {
                let mut entries = schemaless_map(&self.owner, self.side.noun(), value)?;
                for (field, header) in &self.pairs {
                    let value = map_get(&entries, field).cloned().unwrap_or(Value::Null);
                    record.headers.push((header.clone(), Data::schemaless(value)));
                }
                if self.moving {
                    for (field, _) in &self.pairs {
                        map_remove(&mut entries, field);
                    }
                }
                Ok(data(None, Value::Map(entries)))
            }
            Operand::WithSchema(schema, value) => {
                let values = struct_values(&self.owner, &schema, value)?;
                for (field, header) in &self.pairs {
                    let (at, f) = schema.field(field).ok_or_else(|| {
                        format!(
                            "{}: the {} has no field \"{field}\" to put in header \"{header}\"; check \"fields\"",
                            self.owner,
                            self.side.noun()
                        )
                    })?;
                    let value = field_value(f, values[at].clone(), self.replace_null_with_default);
                    record.headers.push((header.clone(), Data { schema: Some(f.schema.clone()), value }));
                }
                if !self.moving {
                    return Ok(data(Some(schema), Value::Struct(values)));
                }
                let kept_schema = self.schemas.get_or_build(&schema, |s| {
                    let fields = s.fields.iter().filter(|f| !self.moves(&f.name)).cloned().collect();
                    Ok(Schema { fields, ..copy_basics(s, SchemaType::Struct) })
                })?;
                let kept = schema
                    .fields
                    .iter()
                    .zip(values)
                    .filter(|(f, _)| !self.moves(&f.name))
                    .map(|(f, v)| field_value(f, v, self.replace_null_with_default))
                    .collect();
                Ok(data(Some(kept_schema), Value::Struct(kept)))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::testing::*;

    fn existing() -> (String, Data) {
        ("existing".to_owned(), Data::schemaless(string("existing-value")))
    }

    fn with_existing_header(mut r: ConnectRecord) -> ConnectRecord {
        r.headers = vec![existing()];
        r
    }

    fn pairs(operation: &'static str) -> [(&'static str, &'static str); 3] {
        [("fields", "field1,field2"), ("headers", "inserted1,inserted2"), ("operation", operation)]
    }

    #[test]
    fn schemaless_copy_and_move() {
        let value = || {
            schemaless(map(&[("field1", string("field1-value")), ("field2", string("field2-value")), ("other", Value::Int8(1))]))
        };
        let inserted = |name: &str, v: &str| (name.to_owned(), Data::schemaless(string(v)));
        let mut t = transform("HeaderFrom$Value", &pairs("copy"));
        let out = apply(&mut t, with_existing_header(value_record(value())));
        assert_eq!(out.value, value());
        assert_eq!(out.headers, vec![existing(), inserted("inserted1", "field1-value"), inserted("inserted2", "field2-value")]);
        let mut t = transform("HeaderFrom$Value", &pairs("move"));
        let out = apply(&mut t, with_existing_header(value_record(value())));
        assert_eq!(out.value, schemaless(map(&[("other", Value::Int8(1))])));
        assert_eq!(out.headers.len(), 3);
    }

    #[test]
    fn struct_copy_and_move_keep_field_schemas() {
        let input = structure(&[
            ("field1", schema(SchemaType::String)),
            ("field2", optional(SchemaType::Int32)),
            ("other", schema(SchemaType::Boolean)),
        ])
        .named("Rec");
        let values = || struct_value(vec![string("field1-value"), Value::Int32(2), Value::Boolean(true)]);
        let mut t = transform("HeaderFrom$Key", &pairs("copy"));
        let out = apply(&mut t, key_record(with_schema(input.clone(), values())));
        assert_eq!(out.key, with_schema(input.clone(), values()));
        let expected_headers = vec![
            ("inserted1".to_owned(), Data { schema: Some(Arc::new(schema(SchemaType::String))), value: string("field1-value") }),
            ("inserted2".to_owned(), Data { schema: Some(Arc::new(optional(SchemaType::Int32))), value: Value::Int32(2) }),
        ];
        assert_eq!(out.headers, expected_headers);
        let mut t = transform("HeaderFrom$Key", &pairs("move"));
        let out = apply(&mut t, key_record(with_schema(input, values())));
        assert_eq!(
            out.key,
            with_schema(
                structure(&[("other", schema(SchemaType::Boolean))]).named("Rec"),
                struct_value(vec![Value::Boolean(true)])
            )
        );
        assert_eq!(out.headers, expected_headers);
    }

    #[test]
    fn one_field_into_two_headers() {
        let mut t = transform(
            "HeaderFrom$Value",
            &[("fields", "field1,field1"), ("headers", "inserted1,inserted2"), ("operation", "move")],
        );
        let out = apply(&mut t, value_record(schemaless(map(&[("field1", string("v"))]))));
        assert_eq!(out.value, schemaless(map(&[])));
        assert_eq!(
            out.headers.iter().map(|(n, d)| (n.as_str(), d.value.clone())).collect::<Vec<_>>(),
            [("inserted1", string("v")), ("inserted2", string("v"))]
        );
    }

    #[test]
    fn errors() {
        assert!(
            transform_error("HeaderFrom$Value", &[("fields", "a,b"), ("headers", "x"), ("operation", "copy")])
                .contains("has 1 names but \"fields\" has 2")
        );
        assert!(transform_error("HeaderFrom$Value", &[("fields", "a"), ("headers", "x")]).contains("\"operation\" is missing"));
        assert!(
            transform_error("HeaderFrom$Value", &[("fields", "a"), ("headers", "x"), ("operation", "swap")])
                .contains("one of move, copy")
        );
        let mut t = transform("HeaderFrom$Value", &[("fields", "missing"), ("headers", "x"), ("operation", "copy")]);
        let input = with_schema(structure(&[("a", schema(SchemaType::Int8))]), struct_value(vec![Value::Int8(1)]));
        assert!(apply_error(&mut t, value_record(input)).contains("no field \"missing\""));
        let out = apply(&mut t, value_record(schemaless(map(&[]))));
        assert_eq!(out.headers, vec![("x".to_owned(), Data::null())]);
        assert_eq!(apply(&mut t, value_record(None)).headers, vec![]);
    }
}
