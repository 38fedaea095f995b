//! Cast: converts top-level fields, or the whole key or value, to another primitive type.
//!
//! Numbers narrow as Java's do (integers wrap, floats saturate, decimals truncate), strings
//! parse as Java's `parseInt`/`parseDouble`/`parseBoolean`, and values become text as Java
//! prints them (bytes as base64). Where Kafka differs, this does better on purpose: Date,
//! Time and Timestamp become text by their schema (Kafka guesses from the value, so a
//! midnight timestamp loses its time), casting a whole logical value drops the logical
//! name (Kafka keeps it on the new type), struct defaults are cast field by field (Kafka
//! fails), and fields a schemaless map lacks stay absent (Kafka adds them as null).

use std::sync::Arc;

use base64::Engine;
use wasmconnect_sdk::data::{DATE, DECIMAL, TIME, TIMESTAMP};
use wasmconnect_sdk::{ConnectRecord, ConnectorError, Field, Schema, SchemaType, Transform, Value, decimal};

use crate::config::Keys;
use crate::fields::{SchemaCache, copy_basics, describe, describe_schema, field_value, schemaless_map, struct_values, type_name};
use crate::java::date_format::DateFormat;
use crate::java::{big_decimal_to_string, double_to_string, float_to_string};
use crate::record::{Operand, Side, data, update};

const TARGETS: [SchemaType; 8] = [
    SchemaType::Int8,
    SchemaType::Int16,
    SchemaType::Int32,
    SchemaType::Int64,
    SchemaType::Float32,
    SchemaType::Float64,
    SchemaType::Boolean,
    SchemaType::String,
];
const SUPPORTED: &str = "int8, int16, int32, int64, float32, float64, boolean, string";

enum Spec {
    Whole(SchemaType),
    Fields(Vec<(String, SchemaType)>),
}

pub struct Cast {
    owner: String,
    side: Side,
    spec: Spec,
    replace_null_with_default: bool,
    schemas: SchemaCache,
}

impl Cast {
    pub fn new(side: Side, keys: &Keys) -> Result<Cast, ConnectorError> {
        let expected = "field:type pairs like id:int64,score:float64, or one type for the whole key or value";
        let items = keys.non_empty_list("spec", expected)?;
        let target = |name: &str| {
            let upper = name.trim().to_ascii_uppercase();
            TARGETS.iter().copied().find(|t| type_name(*t).eq_ignore_ascii_case(&upper)).ok_or_else(|| {
                let problem = match upper.as_str() {
                    "BYTES" | "ARRAY" | "MAP" | "STRUCT" => format!("casts to {}, which Cast does not support", name.trim()),
                    _ => format!("has the unknown type {:?}", name.trim()),
                };
                keys.error("spec", format_args!("{problem}: the types are {SUPPORTED}"))
            })
        };
        let mut fields = Vec::new();
        for item in &items {
            match item.split(':').collect::<Vec<_>>()[..] {
                [whole] if items.len() == 1 => return Self::build(side, keys, Spec::Whole(target(whole)?)),
                [_] => {
                    return Err(keys.error(
                        "spec",
                        "names a type for the whole value among field casts: use either one type, or field:type pairs",
                    ));
                }
                [field, to] => fields.push((field.trim().to_owned(), target(to)?)),
                _ => return Err(keys.error("spec", format_args!("has {item:?}: write each cast as field:type"))),
            }
        }
        Self::build(side, keys, Spec::Fields(fields))
    }

    fn build(side: Side, keys: &Keys, spec: Spec) -> Result<Cast, ConnectorError> {
        Ok(Cast {
            owner: keys.owner().to_owned(),
            side,
            spec,
            replace_null_with_default: keys.bool_or("replace.null.with.default", true)?,
            schemas: SchemaCache::default(),
        })
    }

    fn target_of(&self, field: &str) -> Option<SchemaType> {
        match &self.spec {
            Spec::Fields(fields) => fields.iter().find(|(name, _)| name == field).map(|(_, t)| *t),
            Spec::Whole(_) => None,
        }
    }

    fn updated_schema(&self, schema: &Schema) -> Result<Schema, String> {
        let mut updated = match self.spec {
            Spec::Whole(target) => {
                check_input(&self.owner, "the whole value", schema)?;
                if is_logical(schema) {
                    Schema { doc: schema.doc.clone(), ..Schema::new(target) }
                } else {
                    copy_basics(schema, target)
                }
            }
            Spec::Fields(_) => {
                let mut fields = Vec::with_capacity(schema.fields.len());
                for field in &schema.fields {
                    let Some(target) = self.target_of(&field.name) else {
                        fields.push(field.clone());
                        continue;
                    };
                    check_input(&self.owner, &format!("field \"{}\"", field.name), &field.schema)?;
                    let default =
                        field.schema.default.clone().map(|d| cast(&self.owner, Some(&field.schema), d, target)).transpose()?;
                    let cast_schema = Schema { optional: field.schema.optional, default, ..Schema::new(target) };
                    fields.push(Field { name: field.name.clone(), schema: Arc::new(cast_schema) });
                }
                Schema { fields, ..copy_basics(schema, SchemaType::Struct) }
            }
        };
        updated.optional = schema.optional;
        updated.default = schema.default.clone().map(|d| self.cast_data(schema, d)).transpose()?;
        Ok(updated)
    }

    /// A whole value, or a struct's fields, cast as the spec says.
    fn cast_data(&self, schema: &Schema, value: Value) -> Result<Value, String> {
        match self.spec {
            Spec::Whole(target) => cast(&self.owner, Some(schema), value, target),
            Spec::Fields(_) => {
                let values = struct_values(&self.owner, schema, value)?;
                let cast_values = schema
                    .fields
                    .iter()
                    .zip(values)
                    .map(|(field, value)| {
                        let value = field_value(field, value, self.replace_null_with_default);
                        match self.target_of(&field.name) {
                            Some(target) => cast(&self.owner, Some(&field.schema), value, target)
                                .map_err(|e| format!("{e} (field \"{}\")", field.name)),
                            None => Ok(value),
                        }
                    })
                    .collect::<Result<Vec<_>, String>>()?;
                Ok(Value::Struct(cast_values))
            }
        }
    }
}

fn is_logical(schema: &Schema) -> bool {
    matches!(schema.name.as_deref(), Some(DATE | TIME | TIMESTAMP | DECIMAL))
}

fn check_input(owner: &str, what: &str, schema: &Schema) -> Result<(), String> {
    match schema.schema_type {
        SchemaType::Array | SchemaType::Map | SchemaType::Struct => Err(format!(
            "{owner}: {what} is of type {}, which cannot be cast; Cast takes {SUPPORTED} and bytes",
            describe_schema(schema)
        )),
        _ => Ok(()),
    }
}

/// What a value is numerically, before it becomes the target type.
enum Source {
    Integer(i64),
    Float32(f32),
    Float64(f64),
    Decimal(i128, u32),
    Boolean(bool),
    Text(String),
    Bytes(Vec<u8>),
}

/// Casts one non-struct value; `schema` says how to read it (its logical type), and without
/// one the value's own type decides.
fn cast(owner: &str, schema: Option<&Schema>, value: Value, target: SchemaType) -> Result<Value, String> {
    let logical = schema.and_then(|s| s.name.as_deref());
    if target == SchemaType::String
        && let Some(pattern) = match logical {
            Some(DATE) => Some("yyyy-MM-dd"),
            Some(TIME) => Some("HH:mm:ss.SSS'Z'"),
            Some(TIMESTAMP) => Some("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"),
            _ => None,
        }
    {
        let millis = match value {
            Value::Int32(days) if logical == Some(DATE) => i64::from(days) * 86_400_000,
            Value::Int32(millis) => i64::from(millis),
            Value::Int64(millis) => millis,
            Value::Null => return Ok(Value::Null),
            other => return Err(format!("{owner}: a {} holds {}", logical.unwrap_or_default(), describe(&other))),
        };
        let format = DateFormat::new(pattern).expect("the ISO 8601 patterns are valid");
        return Ok(Value::String(format.format(millis)));
    }
    let source = match value {
        Value::Null => return Ok(Value::Null),
        Value::Int8(v) => Source::Integer(v.into()),
        Value::Int16(v) => Source::Integer(v.into()),
        Value::Int32(v) => Source::Integer(v.into()),
        Value::Int64(v) => Source::Integer(v),
        Value::Float32(v) => Source::Float32(v),
        Value::Float64(v) => Source::Float64(v),
        Value::Boolean(v) => Source::Boolean(v),
        Value::String(v) => Source::Text(v),
        Value::Bytes(bytes) => match schema.and_then(Schema::decimal_scale) {
            Some(scale) => {
                let unscaled =
                    decimal::from_bytes(&bytes).ok_or_else(|| format!("{owner}: a Decimal value is too large to cast"))?;
                Source::Decimal(unscaled, scale)
            }
            None => Source::Bytes(bytes),
        },
        other => {
            return Err(format!("{owner}: cannot cast {}; Cast takes {SUPPORTED} and bytes", describe(&other)));
        }
    };
    source.into(owner, target)
}

impl Source {
    fn into(self, owner: &str, target: SchemaType) -> Result<Value, String> {
        let out_of_range = |text: &str| format!("{owner}: {text:?} is not a valid {}", type_name(target));
        Ok(match target {
            SchemaType::String => Value::String(match self {
                Source::Integer(v) => v.to_string(),
                Source::Float32(v) => float_to_string(v),
                Source::Float64(v) => double_to_string(v),
                Source::Decimal(unscaled, scale) => big_decimal_to_string(unscaled, scale),
                Source::Boolean(v) => v.to_string(),
                Source::Text(v) => v,
                Source::Bytes(v) => base64::engine::general_purpose::STANDARD.encode(v),
            }),
            SchemaType::Boolean => Value::Boolean(match self {
                Source::Text(v) => v.eq_ignore_ascii_case("true"),
                other => other.integer(owner, target)? != 0,
            }),
            SchemaType::Float32 => Value::Float32(match self {
                Source::Text(v) => v.trim().parse().map_err(|_| out_of_range(&v))?,
                Source::Float64(v) => v as f32,
                other => other.float(owner, target)? as f32,
            }),
            SchemaType::Float64 => Value::Float64(match self {
                Source::Text(v) => v.trim().parse().map_err(|_| out_of_range(&v))?,
                other => other.float(owner, target)?,
            }),
            SchemaType::Int8 => Value::Int8(match self {
                Source::Text(v) => v.parse().map_err(|_| out_of_range(&v))?,
                other => other.integer(owner, target)? as i8,
            }),
            SchemaType::Int16 => Value::Int16(match self {
                Source::Text(v) => v.parse().map_err(|_| out_of_range(&v))?,
                other => other.integer(owner, target)? as i16,
            }),
            SchemaType::Int32 => Value::Int32(match self {
                Source::Text(v) => v.parse().map_err(|_| out_of_range(&v))?,
                other => other.integer(owner, target)? as i32,
            }),
            SchemaType::Int64 => Value::Int64(match self {
                Source::Text(v) => v.parse().map_err(|_| out_of_range(&v))?,
                other => other.integer(owner, target)?,
            }),
            other => unreachable!("{other:?} is not a cast target"),
        })
    }

    /// The value as Java's `Number.longValue()`, with narrower targets wrapping from it
    /// (floats first saturate to an `int` for int8..int32, as Java's narrowing does).
    fn integer(self, owner: &str, target: SchemaType) -> Result<i64, String> {
        let narrow = !matches!(target, SchemaType::Int64 | SchemaType::Boolean);
        Ok(match self {
            Source::Integer(v) => v,
            Source::Float32(v) if narrow => i64::from(v as i32),
            Source::Float32(v) => v as i64,
            Source::Float64(v) if narrow => i64::from(v as i32),
            Source::Float64(v) => v as i64,
            Source::Decimal(unscaled, scale) => {
                let integer = 10i128.checked_pow(scale).map_or(0, |divisor| unscaled / divisor);
                integer as i64
            }
            Source::Boolean(v) => i64::from(v),
            Source::Text(_) => unreachable!("text is parsed, not converted"),
            Source::Bytes(_) => return Err(bytes_error(owner, target)),
        })
    }

    fn float(self, owner: &str, target: SchemaType) -> Result<f64, String> {
        Ok(match self {
            Source::Integer(v) => v as f64,
            Source::Float32(v) => f64::from(v),
            Source::Float64(v) => v,
            Source::Decimal(unscaled, scale) => decimal::to_text(unscaled, scale).parse().unwrap_or(f64::NAN),
            Source::Boolean(v) => f64::from(u8::from(v)),
            Source::Text(_) => unreachable!("text is parsed, not converted"),
            Source::Bytes(_) => return Err(bytes_error(owner, target)),
        })
    }
}

fn bytes_error(owner: &str, target: SchemaType) -> String {
    format!("{owner}: bytes can only be cast to string (as base64), not to {}", type_name(target))
}

impl Transform for Cast {
    fn apply(&mut self, record: ConnectRecord) -> Result<Option<ConnectRecord>, String> {
        update(self.side, record, |operand, _| match operand {
            null @ Operand::Null(_) => Ok(null.into_data()),
            Operand::Schemaless(value) => match &self.spec {
                Spec::Whole(target) => Ok(data(None, cast(&self.owner, None, value, *target)?)),
                Spec::Fields(fields) => {
                    let mut entries = schemaless_map(&self.owner, self.side.noun(), value)?;
                    for (key, value) in &mut entries {
                        let Value::String(name) = key else { continue };
                        if let Some((_, target)) = fields.iter().find(|(field, _)| field == name) {
                            let original = std::mem::replace(value, Value::Null);
                            *value = cast(&self.owner, None, original, *target).map_err(|e| format!("{e} (field \"{name}\")"))?;
                        }
                    }
                    Ok(data(None, Value::Map(entries)))
                }
            },
            Operand::WithSchema(schema, value) => {
                let updated = self.schemas.get_or_build(&schema, |s| self.updated_schema(s))?;
                let value = self.cast_data(&schema, value)?;
                Ok(data(Some(updated), value))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;

    fn cast_whole(to: &str, schema: Option<Schema>, value: Value) -> Option<wasmconnect_sdk::Data> {
        let mut t = transform("Cast$Value", &[("spec", to)]);
        let input = match schema {
            Some(s) => with_schema(s, value),
            None => schemaless(value),
        };
        apply(&mut t, value_record(input)).value
    }

    #[test]
    fn whole_values_with_schema() {
        let int32 = || Some(schema(SchemaType::Int32));
        assert_eq!(cast_whole("int8", int32(), Value::Int32(42)), with_schema(schema(SchemaType::Int8), Value::Int8(42)));
        assert_eq!(cast_whole("int16", int32(), Value::Int32(42)), with_schema(schema(SchemaType::Int16), Value::Int16(42)));
        assert_eq!(cast_whole("int64", int32(), Value::Int32(42)), with_schema(schema(SchemaType::Int64), Value::Int64(42)));
        assert_eq!(
            cast_whole("float32", int32(), Value::Int32(42)),
            with_schema(schema(SchemaType::Float32), Value::Float32(42.0))
        );
        assert_eq!(
            cast_whole("FLOAT64", int32(), Value::Int32(42)),
            with_schema(schema(SchemaType::Float64), Value::Float64(42.0))
        );
        assert_eq!(
            cast_whole("boolean", int32(), Value::Int32(42)),
            with_schema(schema(SchemaType::Boolean), Value::Boolean(true))
        );
        assert_eq!(
            cast_whole("boolean", int32(), Value::Int32(0)),
            with_schema(schema(SchemaType::Boolean), Value::Boolean(false))
        );
        assert_eq!(cast_whole("string", int32(), Value::Int32(42)), with_schema(schema(SchemaType::String), string("42")));
        let mut t = transform("Cast$Key", &[("spec", "int8")]);
        let out = apply(&mut t, key_record(with_schema(schema(SchemaType::Int32), Value::Int32(42))));
        assert_eq!(out.key, with_schema(schema(SchemaType::Int8), Value::Int8(42)));
    }

    #[test]
    fn whole_values_without_schema() {
        assert_eq!(cast_whole("int8", None, Value::Int32(42)), schemaless(Value::Int8(42)));
        assert_eq!(cast_whole("int32", None, string("42")), schemaless(Value::Int32(42)));
        assert_eq!(cast_whole("float32", None, Value::Int64(42)), schemaless(Value::Float32(42.0)));
        assert_eq!(cast_whole("boolean", None, string("TRUE")), schemaless(Value::Boolean(true)));
        assert_eq!(cast_whole("boolean", None, string("yes")), schemaless(Value::Boolean(false)));
        assert_eq!(cast_whole("string", None, Value::Float64(42.0)), schemaless(string("42.0")));
        assert_eq!(cast_whole("string", None, Value::Bytes(b"hi".to_vec())), schemaless(string("aGk=")));
    }

    #[test]
    fn numbers_narrow_as_in_java() {
        assert_eq!(cast_whole("int8", None, Value::Int32(300)), schemaless(Value::Int8(44)));
        assert_eq!(cast_whole("int8", None, Value::Float64(1e10)), schemaless(Value::Int8(-1)));
        assert_eq!(cast_whole("int32", None, Value::Float64(-2.9)), schemaless(Value::Int32(-2)));
        assert_eq!(cast_whole("int64", None, Value::Float64(f64::NAN)), schemaless(Value::Int64(0)));
        assert_eq!(cast_whole("boolean", None, Value::Float64(0.5)), schemaless(Value::Boolean(false)));
        assert_eq!(cast_whole("string", None, Value::Float32(1.1)), schemaless(string("1.1")));
    }

    #[test]
    fn whole_value_default_and_optionality_are_cast() {
        let input = Schema { default: Some(Value::Int32(42)), ..optional(SchemaType::Int32) };
        let out = cast_whole("int8", Some(input.clone()), Value::Int32(7));
        assert_eq!(out, with_schema(Schema { default: Some(Value::Int8(42)), ..optional(SchemaType::Int8) }, Value::Int8(7)));
        // A null passes through untouched, schema and all, as in Kafka.
        assert_eq!(cast_whole("int8", Some(input.clone()), Value::Null), with_schema(input, Value::Null));
        let named = Schema { doc: Some("d".into()), version: Some(2), ..schema(SchemaType::Int64).named("com.example.Id") };
        let out = cast_whole("int32", Some(named), Value::Int64(7));
        assert_eq!(
            out,
            with_schema(
                Schema { doc: Some("d".into()), version: Some(2), ..schema(SchemaType::Int32).named("com.example.Id") },
                Value::Int32(7)
            )
        );
    }

    #[test]
    fn logical_types_to_primitives_and_strings() {
        let decimal = Value::Bytes(decimal::to_bytes(-1234));
        assert_eq!(
            cast_whole("float64", Some(Schema::decimal(2)), decimal.clone()),
            with_schema(schema(SchemaType::Float64), Value::Float64(-12.34))
        );
        assert_eq!(
            cast_whole("int32", Some(Schema::decimal(2)), decimal.clone()),
            with_schema(schema(SchemaType::Int32), Value::Int32(-12))
        );
        assert_eq!(
            cast_whole("string", Some(Schema::decimal(2)), decimal),
            with_schema(schema(SchemaType::String), string("-12.34"))
        );
        assert_eq!(
            cast_whole("string", Some(Schema::decimal(0)), Value::Bytes(decimal::to_bytes(42))),
            with_schema(schema(SchemaType::String), string("42"))
        );
        assert_eq!(
            cast_whole("int64", Some(Schema::timestamp()), Value::Int64(1_486_094_706_007)),
            with_schema(schema(SchemaType::Int64), Value::Int64(1_486_094_706_007))
        );
        assert_eq!(
            cast_whole("string", Some(Schema::timestamp()), Value::Int64(1_486_094_706_007)),
            with_schema(schema(SchemaType::String), string("2017-02-03T04:05:06.007Z"))
        );
        assert_eq!(
            cast_whole("string", Some(Schema::timestamp()), Value::Int64(1_486_080_000_000)),
            with_schema(schema(SchemaType::String), string("2017-02-03T00:00:00.000Z"))
        );
        assert_eq!(
            cast_whole("string", Some(Schema::date()), Value::Int32(17_200)),
            with_schema(schema(SchemaType::String), string("2017-02-03"))
        );
        assert_eq!(
            cast_whole("string", Some(Schema::time()), Value::Int32(14_706_007)),
            with_schema(schema(SchemaType::String), string("04:05:06.007Z"))
        );
        assert_eq!(
            cast_whole("int32", Some(Schema::date()), Value::Int32(17_200)),
            with_schema(schema(SchemaType::Int32), Value::Int32(17_200))
        );
    }

    #[test]
    fn struct_fields_with_schema() {
        let spec = "int8:int16,int16:int32,int32:int64,int64:boolean,float32:float64,float64:boolean,boolean:int8,string:int32,bigdecimal:string,timestamp:string,optional:int32";
        let input = structure(&[
            ("int8", schema(SchemaType::Int8)),
            ("int16", schema(SchemaType::Int16)),
            ("int32", schema(SchemaType::Int32)),
            ("int64", schema(SchemaType::Int64)),
            ("float32", schema(SchemaType::Float32)),
            ("float64", schema(SchemaType::Float64)),
            ("boolean", schema(SchemaType::Boolean)),
            ("string", schema(SchemaType::String)),
            ("bigdecimal", Schema::decimal(0)),
            ("timestamp", Schema::timestamp()),
            ("optional", optional(SchemaType::Float32)),
            ("other", schema(SchemaType::String)),
        ])
        .named("Rec");
        let values = vec![
            Value::Int8(8),
            Value::Int16(16),
            Value::Int32(32),
            Value::Int64(64),
            Value::Float32(32.0),
            Value::Float64(64.0),
            Value::Boolean(true),
            string("42"),
            Value::Bytes(decimal::to_bytes(42)),
            Value::Int64(0),
            Value::Null,
            string("kept"),
        ];
        let mut t = transform("Cast$Value", &[("spec", spec)]);
        let out = apply(&mut t, value_record(with_schema(input, struct_value(values))));
        let expected_schema = structure(&[
            ("int8", schema(SchemaType::Int16)),
            ("int16", schema(SchemaType::Int32)),
            ("int32", schema(SchemaType::Int64)),
            ("int64", schema(SchemaType::Boolean)),
            ("float32", schema(SchemaType::Float64)),
            ("float64", schema(SchemaType::Boolean)),
            ("boolean", schema(SchemaType::Int8)),
            ("string", schema(SchemaType::Int32)),
            ("bigdecimal", schema(SchemaType::String)),
            ("timestamp", schema(SchemaType::String)),
            ("optional", optional(SchemaType::Int32)),
            ("other", schema(SchemaType::String)),
        ])
        .named("Rec");
        assert_eq!(schema_of(&out.value), &expected_schema);
        let expected = vec![
            Value::Int16(8),
            Value::Int32(16),
            Value::Int64(32),
            Value::Boolean(true),
            Value::Float64(32.0),
            Value::Boolean(true),
            Value::Int8(1),
            Value::Int32(42),
            string("42"),
            string("1970-01-01T00:00:00.000Z"),
            Value::Null,
            string("kept"),
        ];
        assert_eq!(value_of(&out.value), &struct_value(expected));
    }

    #[test]
    fn schemaless_fields() {
        let mut t = transform("Cast$Value", &[("spec", "int8:int16,string:int32,boolean:string,absent:int8")]);
        let input = map(&[
            ("int8", Value::Int8(8)),
            ("string", string("42")),
            ("boolean", Value::Boolean(false)),
            ("other", Value::Int64(1)),
        ]);
        let out = apply(&mut t, value_record(schemaless(input)));
        let expected = map(&[
            ("int8", Value::Int16(8)),
            ("string", Value::Int32(42)),
            ("boolean", string("false")),
            ("other", Value::Int64(1)),
        ]);
        assert_eq!(out.value, schemaless(expected));
    }

    #[test]
    fn documentation_example_casts_id_and_score() {
        let mut t = transform("Cast$Value", &[("spec", "ID:string,score:float64")]);
        let input = structure(&[("ID", schema(SchemaType::Int32)), ("score", schema(SchemaType::Float32))]);
        let out = apply(&mut t, value_record(with_schema(input, struct_value(vec![Value::Int32(7), Value::Float32(1.5)]))));
        assert_eq!(value_of(&out.value), &struct_value(vec![string("7"), Value::Float64(1.5)]));
    }

    #[test]
    fn field_defaults_are_cast_and_nulls_take_them() {
        let input = structure(&[("n", Schema { default: Some(Value::Int32(5)), ..optional(SchemaType::Int32) })]);
        let mut t = transform("Cast$Value", &[("spec", "n:string")]);
        let out = apply(&mut t, value_record(with_schema(input.clone(), struct_value(vec![Value::Null]))));
        assert_eq!(schema_of(&out.value).fields[0].schema.default, Some(string("5")));
        assert_eq!(value_of(&out.value), &struct_value(vec![string("5")]));
        let mut t = transform("Cast$Value", &[("spec", "n:string"), ("replace.null.with.default", "false")]);
        assert_eq!(
            value_of(&apply(&mut t, value_record(with_schema(input, struct_value(vec![Value::Null])))).value),
            &struct_value(vec![Value::Null])
        );
    }

    #[test]
    fn config_errors() {
        assert!(transform_error("Cast$Value", &[]).contains("\"spec\" is missing"));
        assert!(transform_error("Cast$Value", &[("spec", "foo:faketype")]).contains("unknown type \"faketype\""));
        assert!(transform_error("Cast$Value", &[("spec", "foo:array")]).contains("casts to array, which Cast does not support"));
        assert!(transform_error("Cast$Value", &[("spec", "bytes")]).contains("does not support"));
        assert!(transform_error("Cast$Value", &[("spec", "int8,foo:int16")]).contains("either one type"));
        assert!(transform_error("Cast$Value", &[("spec", "a:b:c")]).contains("field:type"));
    }

    #[test]
    fn data_errors() {
        let mut t = transform("Cast$Value", &[("spec", "s:int32")]);
        let err = apply_error(&mut t, value_record(schemaless(map(&[("s", string("12x"))]))));
        assert!(err.contains("\"12x\" is not a valid int32") && err.contains("field \"s\""), "{err}");
        let input = structure(&[("s", structure(&[("x", schema(SchemaType::Int8))]))]);
        let err = apply_error(&mut t, value_record(with_schema(input, struct_value(vec![struct_value(vec![Value::Int8(1)])]))));
        assert!(err.contains("field \"s\" is of type struct, which cannot be cast"), "{err}");
        let mut t = transform("Cast$Value", &[("spec", "int32")]);
        assert!(apply_error(&mut t, value_record(schemaless(map(&[])))).contains("cannot cast a map"));
        assert!(
            apply_error(&mut t, value_record(with_schema(schema(SchemaType::Bytes), Value::Bytes(vec![1]))))
                .contains("bytes can only be cast to string")
        );
        assert!(apply_error(&mut t, value_record(schemaless(string("9999999999")))).contains("not a valid int32"));
        assert_eq!(apply(&mut t, value_record(None)).value, None);
    }
}
