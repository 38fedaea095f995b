//! SQL values as they cross the `sql` import: the WIT types, mirrored in plain Rust.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

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

/// A value that cannot be bound as given (an out-of-range date, a malformed decimal).
pub fn bad_param(what: &str, value: impl std::fmt::Debug) -> crate::SqlError {
    crate::SqlError::Database { code: None, message: format!("invalid {what} parameter: {value:?}") }
}
