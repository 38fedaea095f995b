//! Parameters, each converted to the type the server inferred for it: an `int` becomes an
//! INT2, INT4, INT8, FLOAT8 or NUMERIC as the statement requires, a `text` may fill a JSONB
//! or UUID parameter, and so on. A value that does not fit is refused with a message that
//! names the parameter and its type, rather than sent in a form the server misreads.

use bigdecimal::{BigDecimal, ToPrimitive};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgArgumentBuffer, PgArguments, PgStatement, PgTypeInfo, PgTypeKind};
use sqlx::query::Query;
use sqlx::{Either, Encode, Postgres, TypeInfo};

use super::is_text_like;
use crate::SqlError;
use crate::value::{self, SqlValue};

type PgQuery<'q> = Query<'q, Postgres, PgArguments>;

pub fn bind_all(statement: &PgStatement, params: Vec<SqlValue>) -> Result<PgQuery<'_>, SqlError> {
    let declared = match sqlx::Statement::parameters(statement) {
        Some(Either::Left(types)) => types,
        _ => &[],
    };
    if declared.len() != params.len() {
        return Err(SqlError::invalid_param(format!(
            "the statement has {} parameters but {} values were given",
            declared.len(),
            params.len()
        )));
    }
    let mut query = sqlx::Statement::query(statement);
    for (position, (value, ty)) in (1..).zip(params.into_iter().zip(declared)) {
        let kind = value.kind();
        let converted = convert(value, base_type(ty))?.ok_or_else(|| {
            SqlError::invalid_param(format!(
                "cannot bind a {kind} value to parameter ${position}, of type {}; cast the parameter in the SQL \
                 to a type the value fits, e.g. CAST(${position} AS TEXT)",
                ty.name()
            ))
        })?;
        query = query.bind(Param { value: converted, declared: ty.clone() });
    }
    Ok(query)
}

/// A domain's values are written as its base type.
fn base_type(ty: &PgTypeInfo) -> &PgTypeInfo {
    match ty.kind() {
        PgTypeKind::Domain(base) => base_type(base),
        _ => ty,
    }
}

/// The value as the Rust type whose binary form the parameter's type reads; `None` when the
/// value has no such form.
fn convert(value: SqlValue, ty: &PgTypeInfo) -> Result<Option<Converted>, SqlError> {
    if value == SqlValue::Null {
        return Ok(Some(Converted::Null));
    }
    let name = ty.name();
    Ok(match name {
        "BOOL" => if let SqlValue::Boolean(b) = value { Some(Converted::Bool(b)) } else { None },
        "INT2" => integer(&value, name)?.map(Converted::I16),
        "INT4" => integer(&value, name)?.map(Converted::I32),
        "INT8" => integer(&value, name)?.map(Converted::I64),
        "OID" => integer(&value, name)?.map(|oid| Converted::Oid(Oid(oid))),
        // Narrowing to FLOAT4 rounds, as assigning a double to a REAL column would.
        "FLOAT4" => float(&value)?.map(|f| Converted::F32(f as f32)),
        "FLOAT8" => float(&value)?.map(Converted::F64),
        "NUMERIC" => numeric(&value)?.map(Converted::Numeric),
        "BYTEA" => if let SqlValue::Bytes(b) = value { Some(Converted::Bytes(b)) } else { None },
        "DATE" => if let SqlValue::Date(d) = value { Some(Converted::Date(value::to_date(d)?)) } else { None },
        "TIME" => if let SqlValue::Time(t) = value { Some(Converted::Time(value::to_time(t)?)) } else { None },
        "TIMESTAMP" => timestamp(&value)?.map(Converted::Timestamp),
        "TIMESTAMPTZ" => timestamp(&value)?.map(|t| Converted::TimestampTz(t.and_utc())),
        "UUID" => if let SqlValue::Text(s) = &value { Some(Converted::Uuid(uuid(s)?)) } else { None },
        "JSONB" => text(value).map(Converted::Jsonb),
        _ if is_text_like(ty) => text(value).map(Converted::Text),
        _ => None,
    })
}

fn integer<T: TryFrom<i128>>(value: &SqlValue, type_name: &str) -> Result<Option<T>, SqlError> {
    let wide = match value {
        SqlValue::Int(i) => i128::from(*i),
        SqlValue::Uint(u) => i128::from(*u),
        SqlValue::Decimal(d) => {
            let number = value::to_decimal(d)?;
            match number.is_integer().then(|| number.to_i128()).flatten() {
                Some(wide) => wide,
                None => return Err(SqlError::invalid_param(format!("the decimal {d} is not an integer, as {type_name} needs"))),
            }
        }
        _ => return Ok(None),
    };
    T::try_from(wide)
        .map(Some)
        .map_err(|_| SqlError::invalid_param(format!("{wide} is out of range for a parameter of type {type_name}")))
}

fn float(value: &SqlValue) -> Result<Option<f64>, SqlError> {
    Ok(match value {
        SqlValue::Float(f) => Some(*f),
        SqlValue::Int(i) => Some(*i as f64),
        SqlValue::Uint(u) => Some(*u as f64),
        SqlValue::Decimal(d) => value::to_decimal(d)?.to_f64(),
        _ => None,
    })
}

fn numeric(value: &SqlValue) -> Result<Option<BigDecimal>, SqlError> {
    Ok(match value {
        SqlValue::Decimal(d) => Some(value::to_decimal(d)?),
        SqlValue::Int(i) => Some(BigDecimal::from(*i)),
        SqlValue::Uint(u) => Some(BigDecimal::from(*u)),
        // Through the shortest decimal that reads back as the same double, so 0.1 stays 0.1.
        SqlValue::Float(f) if f.is_finite() => Some(value::to_decimal(&f.to_string())?),
        SqlValue::Float(f) => return Err(SqlError::invalid_param(format!("{f} cannot be bound as a NUMERIC parameter"))),
        _ => None,
    })
}

fn timestamp(value: &SqlValue) -> Result<Option<NaiveDateTime>, SqlError> {
    Ok(match value {
        SqlValue::Timestamp(t) => Some(value::to_datetime(*t)?),
        SqlValue::Date(d) => Some(value::to_date(*d)?.and_time(NaiveTime::MIN)),
        _ => None,
    })
}

/// Text, or a number or boolean in its usual text form.
fn text(value: SqlValue) -> Option<String> {
    match value {
        SqlValue::Text(s) | SqlValue::Decimal(s) => Some(s),
        SqlValue::Boolean(b) => Some(b.to_string()),
        SqlValue::Int(i) => Some(i.to_string()),
        SqlValue::Uint(u) => Some(u.to_string()),
        SqlValue::Float(f) => Some(f.to_string()),
        _ => None,
    }
}

/// 32 hex digits, hyphens anywhere (the canonical form has four) and braces around allowed,
/// as PostgreSQL's own `uuid` input accepts.
fn uuid(text: &str) -> Result<[u8; 16], SqlError> {
    let invalid = || SqlError::invalid_param(format!("{text:?} is not a UUID"));
    let digits: Vec<u8> = text
        .trim_start_matches('{')
        .trim_end_matches('}')
        .chars()
        .filter(|c| *c != '-')
        .map(|c| c.to_digit(16).map(|d| d as u8))
        .collect::<Option<_>>()
        .ok_or_else(invalid)?;
    let bytes: Vec<u8> = digits.chunks(2).map(|pair| pair.iter().fold(0, |acc, d| acc << 4 | d)).collect();
    if digits.len() != 32 {
        return Err(invalid());
    }
    bytes.try_into().map_err(|_| invalid())
}

enum Converted {
    Null,
    Bool(bool),
    I16(i16),
    I32(i32),
    I64(i64),
    Oid(Oid),
    F32(f32),
    F64(f64),
    Numeric(BigDecimal),
    Text(String),
    /// JSON text, written in JSONB's binary form.
    Jsonb(String),
    Bytes(Vec<u8>),
    Uuid([u8; 16]),
    Date(NaiveDate),
    Time(NaiveTime),
    Timestamp(NaiveDateTime),
    TimestampTz(DateTime<Utc>),
}

/// A converted value, bound as the parameter's declared type.
struct Param {
    value: Converted,
    declared: PgTypeInfo,
}

impl sqlx::Type<Postgres> for Param {
    /// Unused: `produces` gives each value's type.
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(Oid(0))
    }
}

impl Encode<'_, Postgres> for Param {
    fn produces(&self) -> Option<PgTypeInfo> {
        Some(self.declared.clone())
    }

    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        fn write<'q, T: Encode<'q, Postgres>>(value: &T, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
            value.encode_by_ref(buf)
        }
        match &self.value {
            Converted::Null => Ok(IsNull::Yes),
            Converted::Bool(v) => write(v, buf),
            Converted::I16(v) => write(v, buf),
            Converted::I32(v) => write(v, buf),
            Converted::I64(v) => write(v, buf),
            Converted::Oid(v) => write(v, buf),
            Converted::F32(v) => write(v, buf),
            Converted::F64(v) => write(v, buf),
            Converted::Numeric(v) => write(v, buf),
            Converted::Text(v) => write(v, buf),
            Converted::Jsonb(v) => {
                buf.push(1);
                buf.extend_from_slice(v.as_bytes());
                Ok(IsNull::No)
            }
            Converted::Bytes(v) => write(v, buf),
            Converted::Uuid(v) => {
                buf.extend_from_slice(v);
                Ok(IsNull::No)
            }
            Converted::Date(v) => write(v, buf),
            Converted::Time(v) => write(v, buf),
            Converted::Timestamp(v) => write(v, buf),
            Converted::TimestampTz(v) => write(v, buf),
        }
    }
}
