//! SQL values as they cross the `sql` import: the WIT types, mirrored in plain Rust.

use bigdecimal::BigDecimal;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

use crate::SqlError;

#[derive(Clone, Debug, PartialEq)]
pub enum SqlValue {
    Null,
    Boolean(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    /// Plain decimal notation, e.g. "-12.50" (PostgreSQL may add trailing zeros).
    Decimal(String),
    Text(String),
    Bytes(Vec<u8>),
    /// Days since 1970-01-01.
    Date(i32),
    /// Microseconds since midnight.
    Time(i64),
    /// Microseconds since 1970-01-01T00:00:00Z.
    Timestamp(i64),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub name: String,
    pub type_name: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct RowSet {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<SqlValue>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    pub sql: String,
    pub params: Vec<Vec<SqlValue>>,
}

/// One step of a transaction: a statement, or PostgreSQL's `COPY ... FROM STDIN` with the
/// data it reads, passed on as it is.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    Statement(Statement),
    CopyIn { sql: String, data: Vec<u8> },
}

const EPOCH: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();

pub fn date_from_days(days: i32) -> Option<NaiveDate> {
    EPOCH.checked_add_signed(chrono::Duration::days(days.into()))
}

pub fn days_from_date(date: NaiveDate) -> i32 {
    (date - EPOCH).num_days() as i32
}

pub fn time_from_micros(micros: i64) -> Option<NaiveTime> {
    let seconds = u32::try_from(micros.div_euclid(1_000_000)).ok()?;
    let nanos = (micros.rem_euclid(1_000_000) * 1000) as u32;
    NaiveTime::from_num_seconds_from_midnight_opt(seconds, nanos)
}

pub fn micros_from_time(time: NaiveTime) -> i64 {
    i64::from(time.num_seconds_from_midnight()) * 1_000_000 + i64::from(time.nanosecond() / 1000)
}

/// A naive date-time taken as UTC.
pub fn datetime_from_micros(micros: i64) -> Option<NaiveDateTime> {
    DateTime::from_timestamp_micros(micros).map(|dt| dt.naive_utc())
}

pub fn micros_from_datetime(datetime: NaiveDateTime) -> i64 {
    datetime.and_utc().timestamp_micros()
}

impl SqlValue {
    /// The WIT case name, for error messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            SqlValue::Null => "null",
            SqlValue::Boolean(_) => "boolean",
            SqlValue::Int(_) => "int",
            SqlValue::Uint(_) => "uint",
            SqlValue::Float(_) => "float",
            SqlValue::Decimal(_) => "decimal",
            SqlValue::Text(_) => "text",
            SqlValue::Bytes(_) => "bytes",
            SqlValue::Date(_) => "date",
            SqlValue::Time(_) => "time",
            SqlValue::Timestamp(_) => "timestamp",
        }
    }
}

pub fn to_decimal(text: &str) -> Result<BigDecimal, SqlError> {
    text.trim()
        .parse()
        .map_err(|_| SqlError::invalid_param(format!("the decimal parameter {text:?} is not a number in plain decimal notation")))
}

pub fn to_date(days: i32) -> Result<NaiveDate, SqlError> {
    date_from_days(days).ok_or_else(|| out_of_range("date", days))
}

pub fn to_time(micros: i64) -> Result<NaiveTime, SqlError> {
    time_from_micros(micros).ok_or_else(|| out_of_range("time", micros))
}

pub fn to_datetime(micros: i64) -> Result<NaiveDateTime, SqlError> {
    datetime_from_micros(micros).ok_or_else(|| out_of_range("timestamp", micros))
}

fn out_of_range(kind: &str, value: impl std::fmt::Display) -> SqlError {
    SqlError::invalid_param(format!("the {kind} parameter {value} is out of range"))
}
