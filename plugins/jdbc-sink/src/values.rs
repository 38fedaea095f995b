//! Connect values as SQL parameters and as DDL default literals, logical types included.

use thiserror::Error;
use wasmconnect_sdk::data::{DATE, DECIMAL, Schema, TIME, TIMESTAMP, Value, decimal};
use wasmconnect_sdk::sql::SqlValue;

use crate::dialect::Sql;

#[derive(Debug, Error, PartialEq)]
pub enum ValueError {
    #[error("it is null, but its schema is not optional")]
    NullInRequired,
    #[error("a {0} value cannot be written to a column")]
    Unsupported(&'static str),
    #[error("the timestamp {0} ms is out of range")]
    TimestampOutOfRange(i64),
    #[error("its Decimal schema has no valid \"scale\" parameter")]
    DecimalWithoutScale,
    #[error("the decimal does not fit in 38 digits")]
    DecimalTooLarge,
}

/// The parameter for `value` of a field with `schema`. Connect's logical types arrive in
/// their wire units and leave in the units of the host's `sql-value`: Timestamp ms -> µs,
/// Time ms -> µs, Date days as they are, Decimal unscaled bytes -> plain decimal text.
pub fn sql_value(schema: &Schema, value: &Value) -> Result<SqlValue, ValueError> {
    Ok(match (schema.name.as_deref(), value) {
        (_, Value::Null) if !schema.optional => return Err(ValueError::NullInRequired),
        (_, Value::Null) => SqlValue::Null,
        (Some(TIMESTAMP), Value::Int64(ms)) => SqlValue::Timestamp(ms.checked_mul(1000).ok_or(ValueError::TimestampOutOfRange(*ms))?),
        (Some(DATE), Value::Int32(days)) => SqlValue::Date(*days),
        (Some(TIME), Value::Int32(ms)) => SqlValue::Time(i64::from(*ms) * 1000),
        (Some(DECIMAL), Value::Bytes(bytes)) => SqlValue::Decimal(decimal_text(schema, bytes)?),
        (_, Value::Boolean(b)) => SqlValue::Boolean(*b),
        (_, Value::Int8(v)) => SqlValue::Int((*v).into()),
        (_, Value::Int16(v)) => SqlValue::Int((*v).into()),
        (_, Value::Int32(v)) => SqlValue::Int((*v).into()),
        (_, Value::Int64(v)) => SqlValue::Int(*v),
        (_, Value::Float32(v)) => SqlValue::Float((*v).into()),
        (_, Value::Float64(v)) => SqlValue::Float(*v),
        (_, Value::String(s)) => SqlValue::Text(s.clone()),
        (_, Value::Bytes(b)) => SqlValue::Bytes(b.clone()),
        (_, Value::Array(_)) => return Err(ValueError::Unsupported("array")),
        (_, Value::Map(_)) => return Err(ValueError::Unsupported("map")),
        (_, Value::Struct(_)) => return Err(ValueError::Unsupported("struct")),
    })
}

fn decimal_text(schema: &Schema, bytes: &[u8]) -> Result<String, ValueError> {
    let scale = schema.decimal_scale().ok_or(ValueError::DecimalWithoutScale)?;
    let unscaled = decimal::from_bytes(bytes).ok_or(ValueError::DecimalTooLarge)?;
    Ok(decimal::to_text(unscaled, scale))
}

/// The SQL literal of a field's default, for `CREATE TABLE` and `ALTER TABLE ... ADD`; `None`
/// when there is no literal to give (a null default, a NaN).
pub fn default_literal(sql: Sql, schema: &Schema, value: &Value) -> Option<String> {
    Some(match (schema.name.as_deref(), value) {
        (_, Value::Null) => return None,
        (Some(TIMESTAMP), Value::Int64(ms)) => sql.string_literal(&timestamp_text(*ms)),
        (Some(DATE), Value::Int32(days)) => sql.string_literal(&date_text(i64::from(*days))),
        (Some(TIME), Value::Int32(ms)) => sql.string_literal(&time_text(i64::from(*ms))),
        (Some(DECIMAL), Value::Bytes(bytes)) => decimal_text(schema, bytes).ok()?,
        (_, Value::Boolean(b)) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        (_, Value::Int8(v)) => v.to_string(),
        (_, Value::Int16(v)) => v.to_string(),
        (_, Value::Int32(v)) => v.to_string(),
        (_, Value::Int64(v)) => v.to_string(),
        (_, Value::Float32(v)) if v.is_finite() => v.to_string(),
        (_, Value::Float64(v)) if v.is_finite() => v.to_string(),
        (_, Value::String(s)) => sql.string_literal(s),
        (_, Value::Bytes(b)) => sql.bytes_literal(b),
        _ => return None,
    })
}

const MS_PER_DAY: i64 = 86_400_000;

fn timestamp_text(ms: i64) -> String {
    format!("{} {}", date_text(ms.div_euclid(MS_PER_DAY)), time_text(ms.rem_euclid(MS_PER_DAY)))
}

fn time_text(ms: i64) -> String {
    let (s, ms) = (ms / 1000, ms % 1000);
    format!("{:02}:{:02}:{:02}.{ms:03}", s / 3600, s / 60 % 60, s % 60)
}

/// `YYYY-MM-DD` of a day count since 1970-01-01.
fn date_text(days: i64) -> String {
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Year (0 being 1 BC), month and day of a day count since 1970-01-01 in the proleptic
/// Gregorian calendar (Howard Hinnant's `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use wasmconnect_sdk::data::SchemaType;
    use wasmconnect_sdk::data::decimal::to_bytes as decimal_bytes;

    use super::*;
    use wasmconnect_sdk::sql::Dialect;

    const MYSQL: Sql = Sql { dialect: Dialect::Mysql, quote_identifiers: true };
    const POSTGRES: Sql = Sql { dialect: Dialect::Postgres, quote_identifiers: true };

    #[test]
    fn logical_types_become_sql_values_in_their_units() {
        assert_eq!(sql_value(&Schema::timestamp(), &Value::Int64(1_700_000_000_123)), Ok(SqlValue::Timestamp(1_700_000_000_123_000)));
        assert_eq!(sql_value(&Schema::date(), &Value::Int32(19_700)), Ok(SqlValue::Date(19_700)));
        assert_eq!(sql_value(&Schema::time(), &Value::Int32(1_500)), Ok(SqlValue::Time(1_500_000)));
        assert_eq!(sql_value(&Schema::decimal(2), &Value::Bytes(decimal_bytes(-1234))), Ok(SqlValue::Decimal("-12.34".into())));
        assert_eq!(sql_value(&Schema::decimal(3), &Value::Bytes(decimal_bytes(5))), Ok(SqlValue::Decimal("0.005".into())));
    }

    #[test]
    fn primitives_become_sql_values() {
        let cases = [
            (SchemaType::Int8, Value::Int8(-8), SqlValue::Int(-8)),
            (SchemaType::Int16, Value::Int16(7), SqlValue::Int(7)),
            (SchemaType::Int32, Value::Int32(1 << 30), SqlValue::Int(1 << 30)),
            (SchemaType::Int64, Value::Int64(i64::MIN), SqlValue::Int(i64::MIN)),
            (SchemaType::Float32, Value::Float32(0.5), SqlValue::Float(0.5)),
            (SchemaType::Float64, Value::Float64(-2.25), SqlValue::Float(-2.25)),
            (SchemaType::Boolean, Value::Boolean(true), SqlValue::Boolean(true)),
            (SchemaType::String, Value::String("x".into()), SqlValue::Text("x".into())),
            (SchemaType::Bytes, Value::Bytes(vec![0, 255]), SqlValue::Bytes(vec![0, 255])),
        ];
        for (schema_type, value, expected) in cases {
            assert_eq!(sql_value(&Schema::new(schema_type), &value), Ok(expected));
        }
    }

    #[test]
    fn nulls_only_in_optional_fields() {
        assert_eq!(sql_value(&Schema::new(SchemaType::String).optional(), &Value::Null), Ok(SqlValue::Null));
        assert_eq!(sql_value(&Schema::timestamp().optional(), &Value::Null), Ok(SqlValue::Null));
        assert_eq!(sql_value(&Schema::new(SchemaType::String), &Value::Null), Err(ValueError::NullInRequired));
    }

    #[test]
    fn unwritable_values_are_errors() {
        assert_eq!(sql_value(&Schema::new(SchemaType::Array), &Value::Array(vec![])), Err(ValueError::Unsupported("array")));
        assert_eq!(sql_value(&Schema::timestamp(), &Value::Int64(i64::MAX)), Err(ValueError::TimestampOutOfRange(i64::MAX)));
        let unscaled = Schema::new(SchemaType::Bytes).named(DECIMAL);
        assert_eq!(sql_value(&unscaled, &Value::Bytes(vec![1])), Err(ValueError::DecimalWithoutScale));
        assert_eq!(sql_value(&Schema::decimal(0), &Value::Bytes(vec![1; 17])), Err(ValueError::DecimalTooLarge));
    }

    #[test]
    fn default_literals_per_dialect() {
        let string = Schema::new(SchemaType::String);
        assert_eq!(default_literal(POSTGRES, &string, &Value::String("it's a\\b".into())).unwrap(), "'it''s a\\b'");
        assert_eq!(default_literal(MYSQL, &string, &Value::String("it's a\\b".into())).unwrap(), "'it''s a\\\\b'");
        assert_eq!(default_literal(MYSQL, &Schema::new(SchemaType::Bytes), &Value::Bytes(vec![0xDE, 0x0A])).unwrap(), "X'DE0A'");
        assert_eq!(default_literal(POSTGRES, &Schema::new(SchemaType::Bytes), &Value::Bytes(vec![0xDE])).unwrap(), "'\\xDE'");
        assert_eq!(default_literal(MYSQL, &Schema::new(SchemaType::Boolean), &Value::Boolean(false)).unwrap(), "FALSE");
        assert_eq!(default_literal(MYSQL, &Schema::new(SchemaType::Int32), &Value::Int32(-3)).unwrap(), "-3");
        assert_eq!(default_literal(MYSQL, &Schema::new(SchemaType::Float64), &Value::Float64(0.25)).unwrap(), "0.25");
        assert_eq!(default_literal(MYSQL, &Schema::new(SchemaType::Float64), &Value::Float64(f64::NAN)), None);
        assert_eq!(default_literal(MYSQL, &string.clone().optional(), &Value::Null), None);
    }

    #[test]
    fn logical_defaults_are_calendar_literals() {
        let ts = Value::Int64(1_700_000_000_123); // 2023-11-14T22:13:20.123Z
        assert_eq!(default_literal(POSTGRES, &Schema::timestamp(), &ts).unwrap(), "'2023-11-14 22:13:20.123'");
        assert_eq!(default_literal(MYSQL, &Schema::timestamp(), &Value::Int64(-1)).unwrap(), "'1969-12-31 23:59:59.999'");
        assert_eq!(default_literal(MYSQL, &Schema::date(), &Value::Int32(0)).unwrap(), "'1970-01-01'");
        assert_eq!(default_literal(MYSQL, &Schema::date(), &Value::Int32(11_016)).unwrap(), "'2000-02-29'");
        assert_eq!(default_literal(MYSQL, &Schema::time(), &Value::Int32(45_296_789)).unwrap(), "'12:34:56.789'");
        assert_eq!(default_literal(MYSQL, &Schema::decimal(2), &Value::Bytes(decimal_bytes(-5))).unwrap(), "-0.05");
    }
}
