//! Result values, read by the column's type (a domain by its base type).

use sqlx::postgres::{PgColumn, PgRow, PgTypeInfo, PgTypeKind, PgValueRef};
use sqlx::{Column, Decode, Postgres, Row, TypeInfo, ValueRef};

use crate::SqlError;
use crate::value::{self, SqlValue};

pub fn row(row: &PgRow, columns: &[PgColumn]) -> Result<Vec<SqlValue>, SqlError> {
    columns
        .iter()
        .enumerate()
        .map(|(i, column)| {
            let raw = row.try_get_raw(i)?;
            value(raw, column.type_info()).map_err(|e| {
                SqlError::Database { code: None, message: format!("cannot read column `{}` ({}): {e}", column.name(), column.type_info().name()) }
            })
        })
        .collect()
}

type DecodeResult = Result<SqlValue, sqlx::error::BoxDynError>;

fn value(raw: PgValueRef<'_>, ty: &PgTypeInfo) -> DecodeResult {
    if raw.is_null() {
        return Ok(SqlValue::Null);
    }
    if let PgTypeKind::Domain(base) = ty.kind() {
        return value(raw, base);
    }
    Ok(match ty.name() {
        "BOOL" => SqlValue::Boolean(decode(raw)?),
        "INT2" => SqlValue::Int(decode::<i16>(raw)?.into()),
        "INT4" => SqlValue::Int(decode::<i32>(raw)?.into()),
        "INT8" => SqlValue::Int(decode(raw)?),
        "OID" => SqlValue::Uint(decode::<sqlx::postgres::types::Oid>(raw)?.0.into()),
        "FLOAT4" => SqlValue::Float(decode::<f32>(raw)?.into()),
        "FLOAT8" => SqlValue::Float(decode(raw)?),
        "NUMERIC" => numeric(raw)?,
        "DATE" => SqlValue::Date(value::days_from_date(decode(raw)?)),
        "TIME" => SqlValue::Time(value::micros_from_time(decode(raw)?)),
        "TIMESTAMP" => SqlValue::Timestamp(value::micros_from_datetime(decode(raw)?)),
        "TIMESTAMPTZ" => SqlValue::Timestamp(decode::<chrono::DateTime<chrono::Utc>>(raw)?.timestamp_micros()),
        "BYTEA" => SqlValue::Bytes(decode(raw)?),
        "UUID" => SqlValue::Text(uuid(raw.as_bytes()?)?),
        // JSONB's binary form is a version byte, then the text.
        "JSONB" => SqlValue::Text(std::str::from_utf8(raw.as_bytes()?.get(1..).unwrap_or_default())?.to_owned()),
        _ if super::is_text_like(ty) => SqlValue::Text(raw.as_str()?.to_owned()),
        // Anything else (intervals, arrays, ranges, geometry) in PostgreSQL's binary form;
        // a query that wants text says so with a cast, e.g. `CAST(c AS TEXT)`.
        _ => SqlValue::Bytes(raw.as_bytes()?.to_vec()),
    })
}

fn decode<'r, T: Decode<'r, Postgres>>(raw: PgValueRef<'r>) -> Result<T, sqlx::error::BoxDynError> {
    T::decode(raw)
}

/// NUMERIC as written with the column's scale (`NUMERIC(10,2)` gives "-12.50", where
/// sqlx's `BigDecimal` would give "-12.5000"); NaN and the infinities as floats.
fn numeric(raw: PgValueRef<'_>) -> DecodeResult {
    // Header: digit count, weight, sign, display scale; each a big-endian 16-bit number.
    let header = raw.as_bytes()?.get(..8).ok_or("NUMERIC value shorter than its header")?;
    let field = |at: usize| u16::from_be_bytes([header[at], header[at + 1]]);
    match field(4) {
        0xC000 => return Ok(SqlValue::Float(f64::NAN)),
        0xD000 => return Ok(SqlValue::Float(f64::INFINITY)),
        0xF000 => return Ok(SqlValue::Float(f64::NEG_INFINITY)),
        _ => {}
    }
    let number: bigdecimal::BigDecimal = decode(raw)?;
    Ok(SqlValue::Decimal(number.with_scale(field(6).into()).to_plain_string()))
}

/// The canonical hyphenated form, e.g. "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11".
fn uuid(bytes: &[u8]) -> Result<String, sqlx::error::BoxDynError> {
    if bytes.len() != 16 {
        return Err("UUID value is not 16 bytes".into());
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..]))
}
