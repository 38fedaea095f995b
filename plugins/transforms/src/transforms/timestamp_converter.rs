//! TimestampConverter: converts a timestamp field, or the whole key or value, between text
//! (a SimpleDateFormat pattern, in UTC), Unix time (int64 at `unix.precision`) and
//! Connect's Date, Time and Timestamp.
//!
//! Without a schema, an int64 is Unix time and a string is text, as in Kafka; Date and Time
//! targets become their integer forms (days, milliseconds of the day), and Timestamp epoch
//! milliseconds. A schemaless map that lacks the field keeps lacking it (Kafka adds a null).

use std::sync::Arc;

use wasmconnect_sdk::data::{DATE, TIME, TIMESTAMP};
use wasmconnect_sdk::{ConnectRecord, ConnectorError, Field, Schema, SchemaType, Transform, Value};

use crate::config::Keys;
use crate::fields::{SchemaCache, copy_basics, describe, describe_schema, field_value, schemaless_map, struct_values};
use crate::java::date_format::DateFormat;
use crate::record::{Operand, Side, data, update};

const MILLIS_PER_DAY: i64 = 86_400_000;

/// A representation of a point in time.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Text,
    Unix,
    Date,
    Time,
    Timestamp,
}

impl Kind {
    fn schema(self, optional: bool) -> Schema {
        let schema = match self {
            Kind::Text => Schema::new(SchemaType::String),
            Kind::Unix => Schema::new(SchemaType::Int64),
            Kind::Date => Schema::date(),
            Kind::Time => Schema::time(),
            Kind::Timestamp => Schema::timestamp(),
        };
        if optional { schema.optional() } else { schema }
    }

    fn of_schema(owner: &str, schema: &Schema) -> Result<Kind, String> {
        Ok(match (schema.name.as_deref(), schema.schema_type) {
            (Some(TIMESTAMP), _) => Kind::Timestamp,
            (Some(DATE), _) => Kind::Date,
            (Some(TIME), _) => Kind::Time,
            (_, SchemaType::String) => Kind::Text,
            (_, SchemaType::Int64) => Kind::Unix,
            _ => {
                return Err(format!(
                    "{owner}: a value of schema {} is not a timestamp: use string, int64 (Unix time), Date, Time or Timestamp",
                    describe_schema(schema)
                ));
            }
        })
    }

    fn of_value(owner: &str, value: &Value) -> Result<Kind, String> {
        match value {
            Value::Int64(_) => Ok(Kind::Unix),
            Value::String(_) => Ok(Kind::Text),
            other => Err(format!(
                "{owner}: without a schema, a timestamp must be an int64 (Unix time) or a string, not {}",
                describe(other)
            )),
        }
    }
}

#[derive(Clone, Copy)]
enum Precision {
    Seconds,
    Milliseconds,
    Microseconds,
    Nanoseconds,
}

pub struct TimestampConverter {
    owner: String,
    side: Side,
    field: String,
    target: Kind,
    format: Option<DateFormat>,
    precision: Precision,
    replace_null_with_default: bool,
    schemas: SchemaCache,
}

impl TimestampConverter {
    pub fn new(side: Side, keys: &Keys) -> Result<TimestampConverter, ConnectorError> {
        let target = match keys.choice("target.type", &["string", "unix", "Date", "Time", "Timestamp"], None)? {
            "string" => Kind::Text,
            "unix" => Kind::Unix,
            "Date" => Kind::Date,
            "Time" => Kind::Time,
            _ => Kind::Timestamp,
        };
        let pattern = keys.string_or("format", "");
        let format = if pattern.trim().is_empty() {
            None
        } else {
            Some(DateFormat::new(pattern).map_err(|problem| keys.error("format", problem))?)
        };
        if target == Kind::Text && format.is_none() {
            return Err(keys.error(
                "format",
                "is missing: target.type=string needs a SimpleDateFormat pattern, e.g. yyyy-MM-dd'T'HH:mm:ss.SSSZ",
            ));
        }
        let precision = match keys.choice(
            "unix.precision",
            &["seconds", "milliseconds", "microseconds", "nanoseconds"],
            Some("milliseconds"),
        )? {
            "seconds" => Precision::Seconds,
            "microseconds" => Precision::Microseconds,
            "nanoseconds" => Precision::Nanoseconds,
            _ => Precision::Milliseconds,
        };
        Ok(TimestampConverter {
            owner: keys.owner().to_owned(),
            side,
            field: keys.string_or("field", "").to_owned(),
            target,
            format,
            precision,
            replace_null_with_default: keys.bool_or("replace.null.with.default", true)?,
            schemas: SchemaCache::default(),
        })
    }

    /// `value`, a timestamp of kind `from`, as the target kind.
    fn convert(&self, value: Value, from: Kind) -> Result<Value, String> {
        if value == Value::Null {
            return Ok(Value::Null);
        }
        let millis = self.to_millis(value, from)?;
        Ok(match self.target {
            Kind::Text => Value::String(self.format.as_ref().expect("checked when configured").format(millis)),
            Kind::Unix => Value::Int64(match self.precision {
                Precision::Seconds => millis / 1000,
                Precision::Milliseconds => millis,
                Precision::Microseconds => millis.saturating_mul(1000),
                Precision::Nanoseconds => millis.saturating_mul(1_000_000),
            }),
            Kind::Date => Value::Int32(
                i32::try_from(millis.div_euclid(MILLIS_PER_DAY))
                    .map_err(|_| format!("{}: {millis} ms is too far from 1970 for a Date", self.owner))?,
            ),
            Kind::Time => Value::Int32(millis.rem_euclid(MILLIS_PER_DAY) as i32),
            Kind::Timestamp => Value::Int64(millis),
        })
    }

    fn to_millis(&self, value: Value, from: Kind) -> Result<i64, String> {
        match (from, value) {
            (Kind::Text, Value::String(text)) => match &self.format {
                Some(format) => format.parse(&text).map_err(|problem| {
                    format!("{}: could not read timestamp {text:?} with pattern {:?}: {problem}", self.owner, format.pattern())
                }),
                None => Err(format!("{}: set \"format\" to read string timestamps such as {text:?}", self.owner)),
            },
            (Kind::Unix, Value::Int64(time)) => Ok(match self.precision {
                Precision::Seconds => time.saturating_mul(1000),
                Precision::Milliseconds => time,
                Precision::Microseconds => time / 1000,
                Precision::Nanoseconds => time / 1_000_000,
            }),
            (Kind::Date, Value::Int32(days)) => Ok(i64::from(days) * MILLIS_PER_DAY),
            (Kind::Time, Value::Int32(millis)) => Ok(i64::from(millis)),
            (Kind::Timestamp, Value::Int64(millis)) => Ok(millis),
            (from, other) => Err(format!("{}: a {from:?} timestamp cannot be {}", self.owner, describe(&other))),
        }
    }

    fn updated_schema(&self, schema: &Schema) -> Result<Schema, String> {
        let fields = schema
            .fields
            .iter()
            .map(|f| {
                if f.name == self.field {
                    Field { name: f.name.clone(), schema: Arc::new(self.target.schema(f.schema.optional)) }
                } else {
                    f.clone()
                }
            })
            .collect();
        let mut updated = Schema { fields, optional: schema.optional, ..copy_basics(schema, SchemaType::Struct) };
        updated.default = schema.default.clone().map(|d| self.convert_struct(schema, d)).transpose()?;
        Ok(updated)
    }

    fn convert_struct(&self, schema: &Schema, value: Value) -> Result<Value, String> {
        let values = struct_values(&self.owner, schema, value)?;
        let converted = schema
            .fields
            .iter()
            .zip(values)
            .map(|(field, value)| {
                let value = field_value(field, value, self.replace_null_with_default);
                if field.name == self.field {
                    self.convert(value, Kind::of_schema(&self.owner, &field.schema)?)
                } else {
                    Ok(value)
                }
            })
            .collect::<Result<_, String>>()?;
        Ok(Value::Struct(converted))
    }
}

impl Transform for TimestampConverter {
    fn apply(&mut self, record: ConnectRecord) -> Result<Option<ConnectRecord>, String> {
        update(self.side, record, |operand, _| match operand {
            Operand::Null(None) => Ok(None),
            Operand::Schemaless(value) if self.field.is_empty() => {
                let from = Kind::of_value(&self.owner, &value)?;
                Ok(data(None, self.convert(value, from)?))
            }
            Operand::Schemaless(value) => {
                let mut entries = schemaless_map(&self.owner, self.side.noun(), value)?;
                for (key, value) in &mut entries {
                    if matches!(key, Value::String(name) if *name == self.field) && *value != Value::Null {
                        let from = Kind::of_value(&self.owner, value)?;
                        *value = self.convert(std::mem::replace(value, Value::Null), from)?;
                    }
                }
                Ok(data(None, Value::Map(entries)))
            }
            Operand::Null(Some(schema)) if self.field.is_empty() => {
                Ok(data(Some(Arc::new(self.target.schema(schema.optional))), Value::Null))
            }
            Operand::WithSchema(schema, value) if self.field.is_empty() => {
                let converted = self.convert(value, Kind::of_schema(&self.owner, &schema)?)?;
                Ok(data(Some(Arc::new(self.target.schema(schema.optional))), converted))
            }
            Operand::Null(Some(schema)) => {
                let updated = self.schemas.get_or_build(&schema, |s| self.updated_schema(s))?;
                Ok(data(Some(updated), Value::Null))
            }
            Operand::WithSchema(schema, value) => {
                let updated = self.schemas.get_or_build(&schema, |s| self.updated_schema(s))?;
                Ok(data(Some(updated), self.convert_struct(&schema, value)?))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;

    /// 2017-01-01T00:00:00Z as days, and 2017-01-01T01:01:01.001Z as milliseconds.
    const DATE_DAYS: i32 = 17_167;
    const DATE_PLUS_TIME: i64 = 1_483_232_461_001;
    const TIME: i32 = 3_661_001;
    const STRING_FORMAT: &str = "yyyy MM dd HH mm ss SSS z";
    const DATE_PLUS_TIME_STRING: &str = "2017 01 01 01 01 01 001 UTC";

    fn convert(pairs: &[(&str, &str)], input: Option<wasmconnect_sdk::Data>) -> Option<wasmconnect_sdk::Data> {
        let mut t = transform("TimestampConverter$Value", pairs);
        apply(&mut t, value_record(input)).value
    }

    #[test]
    fn schemaless_conversions() {
        let string_out = [("target.type", "string"), ("format", STRING_FORMAT)];
        assert_eq!(convert(&string_out, schemaless(Value::Int64(DATE_PLUS_TIME))), schemaless(string(DATE_PLUS_TIME_STRING)));
        let to_unix = [("target.type", "unix"), ("format", STRING_FORMAT)];
        assert_eq!(convert(&to_unix, schemaless(string(DATE_PLUS_TIME_STRING))), schemaless(Value::Int64(DATE_PLUS_TIME)));
        assert_eq!(
            convert(&[("target.type", "Date")], schemaless(Value::Int64(DATE_PLUS_TIME))),
            schemaless(Value::Int32(DATE_DAYS))
        );
        assert_eq!(convert(&[("target.type", "Time")], schemaless(Value::Int64(DATE_PLUS_TIME))), schemaless(Value::Int32(TIME)));
        assert_eq!(
            convert(&[("target.type", "Timestamp")], schemaless(Value::Int64(DATE_PLUS_TIME))),
            schemaless(Value::Int64(DATE_PLUS_TIME))
        );
        assert_eq!(convert(&[("target.type", "Timestamp")], None), None);
    }

    #[test]
    fn conversions_with_schema() {
        let ts = || with_schema(Schema::timestamp(), Value::Int64(DATE_PLUS_TIME));
        assert_eq!(convert(&[("target.type", "Date")], ts()), with_schema(Schema::date(), Value::Int32(DATE_DAYS)));
        assert_eq!(convert(&[("target.type", "Time")], ts()), with_schema(Schema::time(), Value::Int32(TIME)));
        assert_eq!(
            convert(&[("target.type", "unix")], ts()),
            with_schema(schema(SchemaType::Int64), Value::Int64(DATE_PLUS_TIME))
        );
        assert_eq!(
            convert(&[("target.type", "string"), ("format", STRING_FORMAT)], ts()),
            with_schema(schema(SchemaType::String), string(DATE_PLUS_TIME_STRING))
        );
        let date = with_schema(Schema::date(), Value::Int32(DATE_DAYS));
        assert_eq!(
            convert(&[("target.type", "Timestamp")], date),
            with_schema(Schema::timestamp(), Value::Int64(1_483_228_800_000))
        );
        let time = with_schema(Schema::time(), Value::Int32(TIME));
        assert_eq!(
            convert(&[("target.type", "unix")], time),
            with_schema(schema(SchemaType::Int64), Value::Int64(i64::from(TIME)))
        );
        let text = with_schema(schema(SchemaType::String), string(DATE_PLUS_TIME_STRING));
        assert_eq!(convert(&[("target.type", "Timestamp"), ("format", STRING_FORMAT)], text), ts());
        let null = with_schema(Schema::timestamp().optional(), Value::Null);
        assert_eq!(convert(&[("target.type", "Date")], null), with_schema(Schema::date().optional(), Value::Null));
    }

    #[test]
    fn unix_precisions() {
        let unix = |precision: &str, value: i64| {
            let pairs = [("target.type", "Timestamp"), ("unix.precision", precision)];
            convert(&pairs, with_schema(schema(SchemaType::Int64), Value::Int64(value)))
        };
        let ts = with_schema(Schema::timestamp(), Value::Int64(DATE_PLUS_TIME));
        assert_eq!(unix("seconds", 1_483_232_461), with_schema(Schema::timestamp(), Value::Int64(1_483_232_461_000)));
        assert_eq!(unix("milliseconds", DATE_PLUS_TIME), ts);
        assert_eq!(unix("microseconds", DATE_PLUS_TIME * 1000 + 999), ts);
        assert_eq!(unix("nanoseconds", DATE_PLUS_TIME * 1_000_000 + 999_999), ts);
        let to_unix = |precision: &str| {
            let pairs = [("target.type", "unix"), ("unix.precision", precision)];
            convert(&pairs, with_schema(Schema::timestamp(), Value::Int64(DATE_PLUS_TIME)))
        };
        assert_eq!(to_unix("seconds"), with_schema(schema(SchemaType::Int64), Value::Int64(1_483_232_461)));
        assert_eq!(to_unix("microseconds"), with_schema(schema(SchemaType::Int64), Value::Int64(DATE_PLUS_TIME * 1000)));
        assert_eq!(to_unix("nanoseconds"), with_schema(schema(SchemaType::Int64), Value::Int64(DATE_PLUS_TIME * 1_000_000)));
    }

    #[test]
    fn a_struct_field_is_converted() {
        let input = structure(&[("ts", Schema::timestamp()), ("other", schema(SchemaType::String))]).named("Rec");
        let pairs = [("field", "ts"), ("target.type", "string"), ("format", "yyyy-MM-dd")];
        let out = convert(&pairs, with_schema(input, struct_value(vec![Value::Int64(DATE_PLUS_TIME), string("x")])));
        assert_eq!(
            schema_of(&out),
            &structure(&[("ts", schema(SchemaType::String)), ("other", schema(SchemaType::String))]).named("Rec")
        );
        assert_eq!(value_of(&out), &struct_value(vec![string("2017-01-01"), string("x")]));
    }

    #[test]
    fn documentation_example_formats_a_schemaless_field() {
        let pairs = [("field", "event_date_long"), ("target.type", "string"), ("format", "yyyy-MM-dd")];
        let input = map(&[("event_date_long", Value::Int64(DATE_PLUS_TIME)), ("id", Value::Int64(1))]);
        let out = convert(&pairs, schemaless(input));
        assert_eq!(out, schemaless(map(&[("event_date_long", string("2017-01-01")), ("id", Value::Int64(1))])));
        let out = convert(&pairs, schemaless(map(&[("id", Value::Int64(1))])));
        assert_eq!(out, schemaless(map(&[("id", Value::Int64(1))])));
    }

    #[test]
    fn struct_defaults_and_nulls() {
        let field = Schema { default: Some(Value::Int64(DATE_PLUS_TIME)), ..Schema::timestamp().optional() };
        let input = structure(&[("ts", field)]);
        let out =
            convert(&[("field", "ts"), ("target.type", "Date")], with_schema(input.clone(), struct_value(vec![Value::Null])));
        assert_eq!(schema_of(&out).fields[0].schema.as_ref(), &Schema::date().optional());
        assert_eq!(value_of(&out), &struct_value(vec![Value::Int32(DATE_DAYS)]));
        let pairs = [("field", "ts"), ("target.type", "Date"), ("replace.null.with.default", "false")];
        assert_eq!(
            value_of(&convert(&pairs, with_schema(input, struct_value(vec![Value::Null])))),
            &struct_value(vec![Value::Null])
        );
    }

    #[test]
    fn config_errors() {
        assert!(transform_error("TimestampConverter$Value", &[]).contains("\"target.type\" is missing"));
        assert!(
            transform_error("TimestampConverter$Value", &[("target.type", "invalid")])
                .contains("one of string, unix, Date, Time, Timestamp")
        );
        assert!(transform_error("TimestampConverter$Value", &[("target.type", "string")]).contains("\"format\" is missing"));
        assert!(
            transform_error("TimestampConverter$Value", &[("target.type", "string"), ("format", "bad-format")])
                .contains("\"format\" uses 'b'")
        );
        let err = transform_error("TimestampConverter$Value", &[("target.type", "unix"), ("unix.precision", "hours")]);
        assert!(err.contains("\"unix.precision\" is \"hours\""), "{err}");
    }

    #[test]
    fn data_errors() {
        let mut t = transform("TimestampConverter$Value", &[("target.type", "Date")]);
        assert!(apply_error(&mut t, value_record(schemaless(Value::Int32(1)))).contains("must be an int64"));
        assert!(
            apply_error(&mut t, value_record(with_schema(schema(SchemaType::Boolean), Value::Boolean(true))))
                .contains("is not a timestamp")
        );
        assert!(apply_error(&mut t, value_record(schemaless(string("2017")))).contains("set \"format\""));
        let mut t = transform("TimestampConverter$Value", &[("target.type", "Date"), ("format", "yyyy-MM-dd")]);
        let err = apply_error(&mut t, value_record(schemaless(string("01/02/2017"))));
        assert!(err.contains("could not read timestamp \"01/02/2017\" with pattern \"yyyy-MM-dd\""), "{err}");
    }
}
