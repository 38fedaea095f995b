//! InsertField: adds the record's topic, partition, offset, timestamp or a static string as
//! fields. Only sink records have an offset; a source record is not written yet.

use std::sync::Arc;

use wasmconnect_sdk::{ConnectRecord, ConnectorError, Schema, SchemaType, Transform, Value};

use crate::config::Keys;
use crate::fields::{SchemaCache, copy_basics, field_value, map_put, push_field, schemaless_map, struct_values};
use crate::record::{Operand, Side, data, update};

/// Where an inserted field's value comes from.
#[derive(Clone, Copy)]
enum Source {
    Topic,
    Partition,
    Offset,
    Timestamp,
    Static,
}

/// A field to insert: "name", "name?" (optional, the default) or "name!" (required).
struct Insertion {
    name: String,
    optional: bool,
    source: Source,
}

impl Insertion {
    fn parse(spec: Option<&str>, source: Source) -> Option<Insertion> {
        let spec = spec.filter(|s| !s.is_empty())?;
        let (name, optional) = match (spec.strip_suffix('?'), spec.strip_suffix('!')) {
            (Some(name), _) => (name, true),
            (_, Some(name)) => (name, false),
            _ => (spec, true),
        };
        Some(Insertion { name: name.to_owned(), optional, source })
    }

    fn schema(&self) -> Arc<Schema> {
        let schema = match self.source {
            Source::Topic | Source::Static => Schema::new(SchemaType::String),
            Source::Partition => Schema::new(SchemaType::Int32),
            Source::Offset => Schema::new(SchemaType::Int64),
            Source::Timestamp => Schema::timestamp(),
        };
        Arc::new(if self.optional { schema.optional() } else { schema })
    }
}

pub struct InsertField {
    owner: String,
    side: Side,
    insertions: Vec<Insertion>,
    static_value: String,
    replace_null_with_default: bool,
    schemas: SchemaCache,
}

impl InsertField {
    pub fn new(side: Side, keys: &Keys) -> Result<InsertField, ConnectorError> {
        let insertions: Vec<Insertion> = [
            ("topic.field", Source::Topic),
            ("partition.field", Source::Partition),
            ("offset.field", Source::Offset),
            ("timestamp.field", Source::Timestamp),
            ("static.field", Source::Static),
        ]
        .into_iter()
        .filter_map(|(key, source)| Insertion::parse(keys.optional(key), source))
        .collect();
        let static_value = keys.optional("static.value");
        if let Some(field) = insertions.iter().find(|i| matches!(i.source, Source::Static))
            && static_value.is_none()
        {
            return Err(
                keys.error("static.value", format_args!("is missing: set the value of the static field \"{}\"", field.name))
            );
        }
        if insertions.is_empty() {
            return Err(keys.invalid("no field to insert: set topic.field, partition.field, offset.field, timestamp.field or static.field"));
        }
        Ok(InsertField {
            owner: keys.owner().to_owned(),
            side,
            insertions,
            static_value: static_value.unwrap_or_default().to_owned(),
            replace_null_with_default: keys.bool_or("replace.null.with.default", true)?,
            schemas: SchemaCache::default(),
        })
    }

    /// The value to insert; `None` when the record lacks it.
    fn value(&self, insertion: &Insertion, record: &ConnectRecord) -> Option<Value> {
        match insertion.source {
            Source::Topic => Some(Value::String(record.topic.clone())),
            Source::Partition => record.kafka_partition.map(Value::Int32),
            Source::Offset => record.kafka_offset.map(Value::Int64),
            Source::Timestamp => record.timestamp.map(Value::Int64),
            Source::Static => Some(Value::String(self.static_value.clone())),
        }
    }

    fn updated_schema(&self, schema: &Schema) -> Result<Schema, String> {
        let mut fields = schema.fields.clone();
        for insertion in &self.insertions {
            push_field(&self.owner, &mut fields, &insertion.name, insertion.schema())?;
        }
        Ok(Schema { fields, ..copy_basics(schema, SchemaType::Struct) })
    }
}

impl Transform for InsertField {
    fn apply(&mut self, record: ConnectRecord) -> Result<Option<ConnectRecord>, String> {
        update(self.side, record, |operand, record| match operand {
            null @ Operand::Null(_) => Ok(null.into_data()),
            Operand::Schemaless(value) => {
                let mut entries = schemaless_map(&self.owner, self.side.noun(), value)?;
                for insertion in &self.insertions {
                    if let Some(value) = self.value(insertion, record) {
                        map_put(&mut entries, &insertion.name, value);
                    }
                }
                Ok(data(None, Value::Map(entries)))
            }
            Operand::WithSchema(schema, value) => {
                let values = struct_values(&self.owner, &schema, value)?;
                let updated = self.schemas.get_or_build(&schema, |s| self.updated_schema(s))?;
                let mut out: Vec<Value> =
                    schema.fields.iter().zip(values).map(|(f, v)| field_value(f, v, self.replace_null_with_default)).collect();
                for insertion in &self.insertions {
                    let value = self.value(insertion, record);
                    if value.is_none() && !insertion.optional {
                        let missing = match insertion.source {
                            Source::Partition => "partition",
                            Source::Offset => "offset (a source record has none)",
                            _ => "timestamp",
                        };
                        return Err(format!(
                            "{}: field \"{}\" is required (!), but the record has no {missing}; make it optional (\"{}?\")",
                            self.owner, insertion.name, insertion.name
                        ));
                    }
                    out.push(value.unwrap_or(Value::Null));
                }
                Ok(data(Some(updated), Value::Struct(out)))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use wasmconnect_sdk::{Field, SchemaType};

    use super::*;
    use crate::testing::*;

    const CONFIG: &[(&str, &str)] = &[
        ("topic.field", "topic_field!"),
        ("partition.field", "partition_field"),
        ("timestamp.field", "timestamp_field?"),
        ("static.field", "instance_id"),
        ("static.value", "my-instance-id"),
    ];

    #[test]
    fn schemaless_value_gets_metadata_fields() {
        let mut t = transform("InsertField$Value", CONFIG);
        let out = apply(&mut t, value_record(schemaless(map(&[("magic", Value::Int64(42))]))));
        assert_eq!(
            out.value,
            schemaless(map(&[
                ("magic", Value::Int64(42)),
                ("topic_field", string("test")),
                ("partition_field", Value::Int32(0)),
                ("timestamp_field", Value::Int64(1_000_000)),
                ("instance_id", string("my-instance-id")),
            ]))
        );
    }

    #[test]
    fn struct_value_gets_fields_with_their_optionality() {
        let mut t = transform("InsertField$Value", CONFIG);
        let input = structure(&[("magic", optional(SchemaType::Int64))]).named("magic.Record");
        let out = apply(&mut t, value_record(with_schema(input, struct_value(vec![Value::Int64(42)]))));
        let expected = Schema {
            name: Some("magic.Record".into()),
            ..Schema::structure(vec![
                Field::new("magic", optional(SchemaType::Int64)),
                Field::new("topic_field", schema(SchemaType::String)),
                Field::new("partition_field", optional(SchemaType::Int32)),
                Field::new("timestamp_field", Schema::timestamp().optional()),
                Field::new("instance_id", optional(SchemaType::String)),
            ])
        };
        assert_eq!(schema_of(&out.value), &expected);
        assert_eq!(
            value_of(&out.value),
            &struct_value(vec![
                Value::Int64(42),
                string("test"),
                Value::Int32(0),
                Value::Int64(1_000_000),
                string("my-instance-id")
            ])
        );
    }

    #[test]
    fn documentation_example_adds_a_static_field_to_the_key() {
        let mut t = transform("InsertField$Key", &[("static.field", "data_source"), ("static.value", "test-file-source")]);
        let out = apply(&mut t, key_record(schemaless(map(&[("id", Value::Int64(1))]))));
        assert_eq!(out.key, schemaless(map(&[("id", Value::Int64(1)), ("data_source", string("test-file-source"))])));
    }

    #[test]
    fn nulls_pass_through() {
        let mut t = transform("InsertField$Value", CONFIG);
        assert_eq!(apply(&mut t, value_record(None)).value, None);
        let tombstone = with_schema(structure(&[("magic", optional(SchemaType::Int64))]), Value::Null);
        assert_eq!(apply(&mut t, value_record(tombstone.clone())).value, tombstone);
    }

    #[test]
    fn absent_metadata_is_null_or_an_error_when_required() {
        let mut t = transform("InsertField$Value", &[("partition.field", "p"), ("timestamp.field", "ts")]);
        let mut r = value_record(schemaless(map(&[])));
        r.kafka_partition = None;
        r.timestamp = None;
        assert_eq!(apply(&mut t, r.clone()).value, schemaless(map(&[])));
        r.value = with_schema(structure(&[]), struct_value(vec![]));
        assert_eq!(value_of(&apply(&mut t, r.clone()).value), &struct_value(vec![Value::Null, Value::Null]));
        let mut t = transform("InsertField$Value", &[("partition.field", "p!")]);
        let err = apply_error(&mut t, r);
        assert!(err.contains("\"p\" is required") && err.contains("no partition"), "{err}");
    }

    #[test]
    fn a_sink_record_offset_becomes_an_int64_field() {
        let mut t = transform("InsertField$Value", &[("offset.field", "kafka_offset")]);
        let out = apply(&mut t, value_record(with_schema(structure(&[]), struct_value(vec![]))));
        let schema = out.value.as_ref().unwrap().schema.as_ref().unwrap();
        assert_eq!(schema.fields[0].name, "kafka_offset");
        assert_eq!(schema.fields[0].schema.schema_type, SchemaType::Int64);
        assert_eq!(value_of(&out.value), &struct_value(vec![Value::Int64(42)]));
    }

    #[test]
    fn defaults_replace_nulls_unless_disabled() {
        let with_default = Schema { default: Some(Value::Int32(5)), ..optional(SchemaType::Int32) };
        let input = || value_record(with_schema(structure(&[("n", with_default.clone())]), struct_value(vec![Value::Null])));
        let mut t = transform("InsertField$Value", &[("static.field", "s"), ("static.value", "v")]);
        assert_eq!(value_of(&apply(&mut t, input()).value), &struct_value(vec![Value::Int32(5), string("v")]));
        let mut t = transform(
            "InsertField$Value",
            &[("static.field", "s"), ("static.value", "v"), ("replace.null.with.default", "false")],
        );
        assert_eq!(value_of(&apply(&mut t, input()).value), &struct_value(vec![Value::Null, string("v")]));
    }

    #[test]
    fn errors() {
        assert!(transform_error("InsertField$Value", &[]).contains("no field to insert"));
        assert!(transform_error("InsertField$Value", &[("static.field", "s")]).contains("\"static.value\" is missing"));
        let mut t = transform("InsertField$Value", &[("offset.field", "o!")]);
        let source_record = ConnectRecord { kafka_offset: None, ..value_record(schemaless(Value::Map(vec![]))) };
        assert_eq!(apply(&mut t, source_record).value, schemaless(Value::Map(vec![])), "schemaless: left out");
        let with_schema_record = value_record(with_schema(structure(&[]), struct_value(vec![])));
        assert!(apply_error(&mut t, ConnectRecord { kafka_offset: None, ..with_schema_record }).contains("a source record has none"));
        let mut t = transform("InsertField$Value", &[("topic.field", "magic")]);
        let clash =
            value_record(with_schema(structure(&[("magic", schema(SchemaType::Int64))]), struct_value(vec![Value::Int64(1)])));
        assert!(apply_error(&mut t, clash).contains("two fields named \"magic\""));
        assert!(apply_error(&mut t, value_record(schemaless(Value::Int64(1)))).contains("needs the value to be a map"));
        let not_struct = value_record(with_schema(schema(SchemaType::Int64), Value::Int64(1)));
        assert!(apply_error(&mut t, not_struct).contains("needs a struct"));
    }
}
