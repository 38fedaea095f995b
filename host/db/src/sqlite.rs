//! SQLite, embedded: a database file on the worker. Columns are read by their declared type
//! where it says more than the stored value does (BOOLEAN, DATE, TIME, DATETIME), otherwise
//! by the storage class of the value itself, since SQLite lets any column hold any value.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use sqlx::query::Query;
use sqlx::sqlite::{SqliteArguments, SqliteColumn, SqliteRow, SqliteStatement};
use sqlx::{AssertSqlSafe, Column, Connection, Executor, Row, SqlSafeStr, Sqlite, SqliteConnection, Statement as _, TypeInfo, ValueRef};

use crate::value::{self, Column as SqlColumn, RowSet, SqlValue, Statement};
use crate::{SqlError, executions};

type SqliteQuery<'q> = Query<'q, Sqlite, SqliteArguments>;

pub async fn query(conn: &mut SqliteConnection, sql: &str, params: Vec<SqlValue>) -> Result<RowSet, SqlError> {
    let statement = prepare(conn, sql).await?;
    let rows = bind_all(&statement, params)?.fetch_all(&mut *conn).await?;
    let columns = columns(statement.columns());
    let rows = rows.iter().map(|row| decode_row(row, columns.len())).collect::<Result<_, _>>()?;
    Ok(RowSet { columns, rows })
}

pub async fn execute(conn: &mut SqliteConnection, statements: Vec<Statement>) -> Result<Vec<u64>, SqlError> {
    let mut tx = conn.begin().await?;
    let mut affected = Vec::with_capacity(statements.len());
    for statement in statements {
        let prepared = prepare(&mut tx, &statement.sql).await?;
        let mut rows = 0;
        for params in executions(statement.params) {
            rows += bind_all(&prepared, params)?.execute(&mut *tx).await?.rows_affected();
        }
        affected.push(rows);
    }
    tx.commit().await?;
    Ok(affected)
}

async fn prepare(conn: &mut SqliteConnection, sql: &str) -> Result<SqliteStatement, SqlError> {
    Ok(conn.prepare(AssertSqlSafe(sql.to_owned()).into_sql_str()).await?)
}

fn bind_all(statement: &SqliteStatement, params: Vec<SqlValue>) -> Result<SqliteQuery<'_>, SqlError> {
    let expected = match sqlx::Statement::parameters(statement) {
        Some(sqlx::Either::Right(count)) => count,
        Some(sqlx::Either::Left(types)) => types.len(),
        None => params.len(),
    };
    if expected != params.len() {
        return Err(SqlError::invalid_param(format!("the statement has {expected} parameters but {} values were given", params.len())));
    }
    let mut query = sqlx::Statement::query(statement);
    for param in params {
        query = match param {
            SqlValue::Null => query.bind(None::<String>),
            SqlValue::Boolean(b) => query.bind(b),
            SqlValue::Int(i) => query.bind(i),
            SqlValue::Uint(u) => query.bind(
                i64::try_from(u).map_err(|_| SqlError::invalid_param(format!("{u} does not fit SQLite's 64-bit signed integers")))?,
            ),
            SqlValue::Float(f) => query.bind(f),
            // Stored as text, which a NUMERIC column converts to a number.
            SqlValue::Decimal(d) => query.bind(d),
            SqlValue::Text(s) => query.bind(s),
            SqlValue::Bytes(b) => query.bind(b),
            SqlValue::Date(d) => query.bind(value::to_date(d)?),
            SqlValue::Time(t) => query.bind(value::to_time(t)?),
            SqlValue::Timestamp(t) => query.bind(value::to_datetime(t)?),
        };
    }
    Ok(query)
}

fn columns(columns: &[SqliteColumn]) -> Vec<SqlColumn> {
    columns.iter().map(|c| SqlColumn { name: c.name().to_owned(), type_name: c.type_info().name().to_owned() }).collect()
}

fn decode_row(row: &SqliteRow, width: usize) -> Result<Vec<SqlValue>, SqlError> {
    (0..width).map(|i| decode(row, i)).collect()
}

fn decode(row: &SqliteRow, i: usize) -> Result<SqlValue, SqlError> {
    let raw = row.try_get_raw(i)?;
    if raw.is_null() {
        return Ok(SqlValue::Null);
    }
    let stored = raw.type_info().name().to_owned();
    Ok(match (row.column(i).type_info().name(), stored.as_str()) {
        ("BOOLEAN", "INTEGER") => SqlValue::Boolean(row.try_get(i)?),
        ("DATE", _) => SqlValue::Date(value::days_from_date(row.try_get::<NaiveDate, _>(i)?)),
        ("TIME", _) => SqlValue::Time(value::micros_from_time(row.try_get::<NaiveTime, _>(i)?)),
        ("DATETIME", _) => SqlValue::Timestamp(value::micros_from_datetime(row.try_get::<NaiveDateTime, _>(i)?)),
        // DECIMAL and NUMERIC columns keep numbers as integers or reals.
        ("NUMERIC", "INTEGER") => SqlValue::Decimal(row.try_get::<i64, _>(i)?.to_string()),
        ("NUMERIC", "REAL") => SqlValue::Decimal(row.try_get::<f64, _>(i)?.to_string()),
        (_, "INTEGER") => SqlValue::Int(row.try_get(i)?),
        (_, "REAL") => SqlValue::Float(row.try_get(i)?),
        (_, "BLOB") => SqlValue::Bytes(row.try_get(i)?),
        _ => SqlValue::Text(row.try_get_unchecked(i)?),
    })
}
