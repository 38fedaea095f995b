//! MaskField: replaces fields with their type's empty value (0, false, "", epoch, empty
//! array or map) or with a configured replacement for numeric and string fields.
//!
//! Unlike Kafka, a null key or value passes through (Kafka fails on tombstones), fields a
//! schemaless map lacks stay absent (Kafka adds them as null), and a Decimal is masked at its
//! schema's scale (Kafka's scale-0 zero fails in the converter).

use std::collections::BTreeSet;
use std::sync::Arc;

use wasmconnect_sdk::data::{DATE, TIME, TIMESTAMP};
use wasmconnect_sdk::{ConnectRecord, ConnectorError, Schema, SchemaType, Transform, Value, decimal};

use crate::config::Keys;
use crate::fields::{SchemaCache, describe, describe_schema, schemaless_map, struct_values};
use crate::record::{Operand, Side, data, update};

pub struct MaskField {
    owner: String,
    side: Side,
    fields: BTreeSet<String>,
    replacement: Option<String>,
    replace_null_with_default: bool,
    /// For each struct schema, what each field is when it is one to mask.
    plans: SchemaCache<Arc<[Option<Kind>]>>,
}

/// What a masked value is, from its schema or, without one, from the value itself.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Int8,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Boolean,
    String,
    Decimal(u32),
    /// Date, Time and Timestamp: the epoch, in their integer representation.
    Temporal(SchemaType),
    Array,
    Map,
    Unmaskable,
}

impl Kind {
    fn of_schema(schema: &Schema) -> Kind {
        if let Some(scale) = schema.decimal_scale() {
            return Kind::Decimal(scale);
        }
        if matches!(schema.name.as_deref(), Some(DATE | TIME | TIMESTAMP)) {
            return Kind::Temporal(schema.schema_type);
        }
        match schema.schema_type {
            SchemaType::Int8 => Kind::Int8,
            SchemaType::Int16 => Kind::Int16,
            SchemaType::Int32 => Kind::Int32,
            SchemaType::Int64 => Kind::Int64,
            SchemaType::Float32 => Kind::Float32,
            SchemaType::Float64 => Kind::Float64,
            SchemaType::Boolean => Kind::Boolean,
            SchemaType::String => Kind::String,
            SchemaType::Array => Kind::Array,
            SchemaType::Map => Kind::Map,
            SchemaType::Bytes | SchemaType::Struct => Kind::Unmaskable,
        }
    }

    fn of_value(value: &Value) -> Kind {
        match value {
            Value::Int8(_) => Kind::Int8,
            Value::Int16(_) => Kind::Int16,
            Value::Int32(_) => Kind::Int32,
            Value::Int64(_) => Kind::Int64,
            Value::Float32(_) => Kind::Float32,
            Value::Float64(_) => Kind::Float64,
            Value::Boolean(_) => Kind::Boolean,
            Value::String(_) => Kind::String,
            Value::Array(_) => Kind::Array,
            Value::Map(_) => Kind::Map,
            Value::Null | Value::Bytes(_) | Value::Struct(_) => Kind::Unmaskable,
        }
    }

    fn empty(self) -> Option<Value> {
        Some(match self {
            Kind::Int8 => Value::Int8(0),
            Kind::Int16 => Value::Int16(0),
            Kind::Int32 | Kind::Temporal(SchemaType::Int32) => Value::Int32(0),
            Kind::Int64 | Kind::Temporal(_) => Value::Int64(0),
            Kind::Float32 => Value::Float32(0.0),
            Kind::Float64 => Value::Float64(0.0),
            Kind::Boolean => Value::Boolean(false),
            Kind::String => Value::String(String::new()),
            Kind::Decimal(_) => Value::Bytes(decimal::to_bytes(0)),
            Kind::Array => Value::Array(Vec::new()),
            Kind::Map => Value::Map(Vec::new()),
            Kind::Unmaskable => return None,
        })
    }

    /// The replacement text as this kind; `None` if it is not a number of the kind.
    fn parse(self, text: &str) -> Option<Value> {
        let t = text.trim();
        Some(match self {
            Kind::Int8 => Value::Int8(t.parse().ok()?),
            Kind::Int16 => Value::Int16(t.parse().ok()?),
            Kind::Int32 => Value::Int32(t.parse().ok()?),
            Kind::Int64 => Value::Int64(t.parse().ok()?),
            Kind::Float32 => Value::Float32(t.parse().ok()?),
            Kind::Float64 => Value::Float64(t.parse().ok()?),
            Kind::Decimal(scale) => Value::Bytes(decimal::to_bytes(decimal::unscaled_from_text(t, scale)?)),
            Kind::String => Value::String(text.to_owned()),
            _ => return None,
        })
    }

    fn takes_replacement(self) -> bool {
        !matches!(self, Kind::Boolean | Kind::Temporal(_) | Kind::Array | Kind::Map | Kind::Unmaskable)
    }
}

impl MaskField {
    pub fn new(side: Side, keys: &Keys) -> Result<MaskField, ConnectorError> {
        let fields = keys.non_empty_list("fields", "the names of the fields to mask")?;
        let replacement = keys.optional("replacement");
        if replacement == Some("") {
            return Err(keys.error("replacement", "is empty: remove it to mask with empty values, or set a number or text"));
        }
        Ok(MaskField {
            owner: keys.owner().to_owned(),
            side,
            fields: fields.into_iter().collect(),
            replacement: replacement.map(str::to_owned),
            replace_null_with_default: keys.bool_or("replace.null.with.default", true)?,
            plans: SchemaCache::default(),
        })
    }

    /// The masked form of field `name`'s value; `what` describes the field for a message.
    fn masked(&self, name: &str, kind: Kind, what: impl Fn() -> String, value: Value) -> Result<Value, String> {
        if value == Value::Null {
            return Ok(Value::Null);
        }
        match &self.replacement {
            None => kind.empty().ok_or_else(|| format!("{}: cannot mask field \"{name}\", which is {}", self.owner, what())),
            Some(replacement) if kind.takes_replacement() => kind.parse(replacement).ok_or_else(|| {
                format!("{}: the replacement {replacement:?} does not fit field \"{name}\", which is {}", self.owner, what())
            }),
            Some(_) => Err(format!(
                "{}: field \"{name}\" is {}, but only numeric and string fields take a replacement; remove \"replacement\" \
                 to mask it with an empty value",
                self.owner,
                what()
            )),
        }
    }

    fn plan(&self, schema: &Schema) -> Arc<[Option<Kind>]> {
        schema.fields.iter().map(|f| self.fields.contains(&f.name).then(|| Kind::of_schema(&f.schema))).collect()
    }
}

impl Transform for MaskField {
    fn apply(&mut self, record: ConnectRecord) -> Result<Option<ConnectRecord>, String> {
        update(self.side, record, |operand, _| match operand {
            null @ Operand::Null(_) => Ok(null.into_data()),
            Operand::Schemaless(value) => {
                let mut entries = schemaless_map(&self.owner, self.side.noun(), value)?;
                for (key, value) in &mut entries {
                    if let Value::String(name) = key
                        && self.fields.contains(name)
                    {
                        let (kind, what) = (Kind::of_value(value), describe(value));
                        *value = self.masked(name, kind, || what.to_owned(), std::mem::replace(value, Value::Null))?;
                    }
                }
                Ok(data(None, Value::Map(entries)))
            }
            Operand::WithSchema(schema, value) => {
                let plan = self.plans.get_or_derive(&schema, |s| Ok(self.plan(s)))?;
                // The values are masked where they are, in the struct the record brought.
                let mut values = struct_values(&self.owner, &schema, value)?;
                for ((field, value), kind) in schema.fields.iter().zip(&mut values).zip(plan.iter()) {
                    if self.replace_null_with_default
                        && matches!(value, Value::Null)
                        && let Some(default) = &field.schema.default
                    {
                        *value = default.clone();
                    }
                    if let Some(kind) = *kind {
                        let what = || format!("of type {}", describe_schema(&field.schema));
                        *value = self.masked(&field.name, kind, what, std::mem::replace(value, Value::Null))?;
                    }
                }
                Ok(data(Some(schema), Value::Struct(values)))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use wasmconnect_sdk::Data;

    use super::*;
    use crate::testing::*;

    const ALL: &str = "magic,bool,byte,short,int,long,float,double,string,date,time,timestamp,decimal,array,map";

    fn sample_schema() -> Schema {
        structure(&[
            ("magic", schema(SchemaType::Int32)),
            ("bool", schema(SchemaType::Boolean)),
            ("byte", schema(SchemaType::Int8)),
            ("short", schema(SchemaType::Int16)),
            ("int", schema(SchemaType::Int32)),
            ("long", schema(SchemaType::Int64)),
            ("float", schema(SchemaType::Float32)),
            ("double", schema(SchemaType::Float64)),
            ("string", schema(SchemaType::String)),
            ("date", Schema::date()),
            ("time", Schema::time()),
            ("timestamp", Schema::timestamp()),
            ("decimal", Schema::decimal(2)),
            ("array", Schema::array(std::sync::Arc::new(schema(SchemaType::Int32)))),
            (
                "map",
                Schema::map(std::sync::Arc::new(schema(SchemaType::String)), std::sync::Arc::new(schema(SchemaType::String))),
            ),
            ("withDefault", Schema { default: Some(string("default")), ..optional(SchemaType::String) }),
        ])
    }

    fn sample_values() -> Vec<Value> {
        vec![
            Value::Int32(42),
            Value::Boolean(true),
            Value::Int8(42),
            Value::Int16(42),
            Value::Int32(42),
            Value::Int64(42),
            Value::Float32(42.0),
            Value::Float64(42.0),
            string("blabla"),
            Value::Int32(17_000),
            Value::Int32(3_600_000),
            Value::Int64(1_486_094_706_007),
            Value::Bytes(decimal::to_bytes(4200)),
            Value::Array(vec![Value::Int32(42)]),
            map(&[("what", string("what"))]),
            Value::Null,
        ]
    }

    #[test]
    fn struct_fields_become_empty_values() {
        let mut t = transform("MaskField$Value", &[("fields", ALL)]);
        let out = apply(&mut t, value_record(with_schema(sample_schema(), struct_value(sample_values()))));
        assert_eq!(schema_of(&out.value), &sample_schema());
        let expected = vec![
            Value::Int32(0),
            Value::Boolean(false),
            Value::Int8(0),
            Value::Int16(0),
            Value::Int32(0),
            Value::Int64(0),
            Value::Float32(0.0),
            Value::Float64(0.0),
            string(""),
            Value::Int32(0),
            Value::Int32(0),
            Value::Int64(0),
            Value::Bytes(vec![0]),
            Value::Array(vec![]),
            Value::Map(vec![]),
            string("default"),
        ];
        assert_eq!(value_of(&out.value), &struct_value(expected));
    }

    #[test]
    fn schemaless_fields_become_empty_values() {
        let mut t = transform("MaskField$Value", &[("fields", "magic,bool,long,double,string,list,map,absent")]);
        let input = map(&[
            ("magic", Value::Int64(42)),
            ("bool", Value::Boolean(true)),
            ("long", Value::Int64(42)),
            ("double", Value::Float64(42.0)),
            ("string", string("blabla")),
            ("list", Value::Array(vec![Value::Int64(42)])),
            ("map", map(&[("what", string("what"))])),
            ("kept", string("kept")),
            ("nothing", Value::Null),
        ]);
        let out = apply(&mut t, value_record(schemaless(input)));
        let expected = map(&[
            ("magic", Value::Int64(0)),
            ("bool", Value::Boolean(false)),
            ("long", Value::Int64(0)),
            ("double", Value::Float64(0.0)),
            ("string", string("")),
            ("list", Value::Array(vec![])),
            ("map", Value::Map(vec![])),
            ("kept", string("kept")),
            ("nothing", Value::Null),
        ]);
        assert_eq!(out.value, schemaless(expected));
    }

    #[test]
    fn replacement_is_converted_to_the_field_type() {
        let mut t = transform("MaskField$Value", &[("fields", "byte,int,long,double,string,decimal"), ("replacement", "123")]);
        let input = structure(&[
            ("byte", schema(SchemaType::Int8)),
            ("int", schema(SchemaType::Int32)),
            ("long", schema(SchemaType::Int64)),
            ("double", schema(SchemaType::Float64)),
            ("string", schema(SchemaType::String)),
            ("decimal", Schema::decimal(2)),
        ]);
        let values =
            vec![Value::Int8(1), Value::Int32(1), Value::Int64(1), Value::Float64(1.0), string("x"), Value::Bytes(vec![1])];
        let out = apply(&mut t, value_record(with_schema(input, struct_value(values))));
        let expected = vec![
            Value::Int8(123),
            Value::Int32(123),
            Value::Int64(123),
            Value::Float64(123.0),
            string("123"),
            Value::Bytes(decimal::to_bytes(12_300)),
        ];
        assert_eq!(value_of(&out.value), &struct_value(expected));
    }

    #[test]
    fn documentation_example_masks_a_key_field_with_text() {
        let mut t = transform("MaskField$Key", &[("fields", "ssn"), ("replacement", "<redacted>")]);
        let out = apply(&mut t, key_record(schemaless(map(&[("ssn", string("123-45-6789")), ("id", Value::Int64(7))]))));
        assert_eq!(out.key, schemaless(map(&[("ssn", string("<redacted>")), ("id", Value::Int64(7))])));
    }

    #[test]
    fn replacement_errors_name_the_field() {
        let mut t = transform("MaskField$Value", &[("fields", "n"), ("replacement", "abc")]);
        let err = apply_error(&mut t, value_record(schemaless(map(&[("n", Value::Int32(1))]))));
        assert!(err.contains("\"abc\" does not fit field \"n\", which is an int32"), "{err}");
        let mut t = transform("MaskField$Value", &[("fields", "d,b"), ("replacement", "123")]);
        let input = with_schema(
            structure(&[("d", Schema::date()), ("b", schema(SchemaType::Boolean))]),
            struct_value(vec![Value::Int32(1), Value::Boolean(true)]),
        );
        let err = apply_error(&mut t, value_record(input));
        assert!(
            err.contains("field \"d\" is of type int32 (org.apache.kafka.connect.data.Date)")
                && err.contains("only numeric and string"),
            "{err}"
        );
        let mut t = transform("MaskField$Value", &[("fields", "b")]);
        let err = apply_error(&mut t, value_record(schemaless(map(&[("b", Value::Bytes(vec![1]))]))));
        assert!(err.contains("cannot mask field \"b\", which is bytes"), "{err}");
        let nested = Data { schema: None, value: Value::Null };
        assert_eq!(apply(&mut t, value_record(Some(nested))).value, None);
    }

    #[test]
    fn config_errors() {
        assert!(transform_error("MaskField$Value", &[]).contains("\"fields\" is missing"));
        assert!(transform_error("MaskField$Value", &[("fields", "")]).contains("\"fields\" is empty"));
        assert!(transform_error("MaskField$Value", &[("fields", "a"), ("replacement", "")]).contains("\"replacement\" is empty"));
    }

    #[test]
    fn null_values_pass_through() {
        let mut t = transform("MaskField$Value", &[("fields", "a")]);
        assert_eq!(apply(&mut t, value_record(None)).value, None);
        let tombstone = with_schema(structure(&[("a", optional(SchemaType::Int32))]), Value::Null);
        assert_eq!(apply(&mut t, value_record(tombstone.clone())).value, tombstone);
    }
}
