//! MySQL and MariaDB: binding `SqlValue`s as their natural types (the server converts them
//! to the column's type) and reading columns by their type name.

use sqlx::mysql::{MySqlArguments, MySqlColumn, MySqlRow, MySqlStatement};
use sqlx::query::Query;
use sqlx::{AssertSqlSafe, Column, Connection, Executor, MySql, MySqlConnection, Row, SqlSafeStr, Statement as _, TypeInfo, ValueRef};

use crate::value::{self, Column as SqlColumn, RowSet, SqlValue, Statement};
use crate::{SqlError, executions};

type MySqlQuery<'q> = Query<'q, MySql, MySqlArguments>;

pub async fn query(conn: &mut MySqlConnection, sql: &str, params: Vec<SqlValue>) -> Result<RowSet, SqlError> {
    let statement = prepare(conn, sql).await?;
    let rows = bind_all(&statement, params)?.fetch_all(&mut *conn).await?;
    // Result metadata is authoritative (`SELECT ?` is typed by its argument); a statement
    // that returned no rows still names its columns.
    let columns = match rows.first() {
        Some(row) => columns(row.columns()),
        None => columns(statement.columns()),
    };
    let rows = rows.iter().map(|row| decode_row(row, columns.len())).collect::<Result<_, _>>()?;
    Ok(RowSet { columns, rows })
}

pub async fn execute(conn: &mut MySqlConnection, statements: Vec<Statement>) -> Result<Vec<u64>, SqlError> {
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

/// Prepared once per connection: sqlx keeps the statement in the connection's cache.
async fn prepare(conn: &mut MySqlConnection, sql: &str) -> Result<MySqlStatement, SqlError> {
    Ok(conn.prepare(AssertSqlSafe(sql.to_owned()).into_sql_str()).await?)
}

fn bind_all(statement: &MySqlStatement, params: Vec<SqlValue>) -> Result<MySqlQuery<'_>, SqlError> {
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
            SqlValue::Uint(u) => query.bind(u),
            SqlValue::Float(f) => query.bind(f),
            SqlValue::Decimal(d) => query.bind(value::to_decimal(&d)?),
            SqlValue::Text(s) => query.bind(s),
            SqlValue::Bytes(b) => query.bind(b),
            SqlValue::Date(d) => query.bind(value::to_date(d)?),
            SqlValue::Time(t) => query.bind(value::to_time(t)?),
            SqlValue::Timestamp(t) => query.bind(value::to_datetime(t)?),
        };
    }
    Ok(query)
}

fn columns(columns: &[MySqlColumn]) -> Vec<SqlColumn> {
    columns.iter().map(|c| SqlColumn { name: c.name().to_owned(), type_name: c.type_info().name().to_owned() }).collect()
}

fn decode_row(row: &MySqlRow, width: usize) -> Result<Vec<SqlValue>, SqlError> {
    (0..width).map(|i| decode(row, i)).collect()
}

fn decode(row: &MySqlRow, i: usize) -> Result<SqlValue, SqlError> {
    if row.try_get_raw(i)?.is_null() {
        return Ok(SqlValue::Null);
    }
    let type_name = row.column(i).type_info().name();
    Ok(match type_name {
        // sqlx reports TINYINT(1) as BOOLEAN, which is how MySQL declares BOOLEAN columns.
        "BOOLEAN" => SqlValue::Boolean(row.try_get(i)?),
        t if t.ends_with("UNSIGNED") || t == "YEAR" || t == "BIT" => SqlValue::Uint(row.try_get(i)?),
        "TINYINT" | "SMALLINT" | "INT" | "MEDIUMINT" | "BIGINT" => SqlValue::Int(row.try_get(i)?),
        "FLOAT" => SqlValue::Float(f64::from(row.try_get::<f32, _>(i)?)),
        "DOUBLE" => SqlValue::Float(row.try_get(i)?),
        "DECIMAL" => SqlValue::Decimal(row.try_get::<bigdecimal::BigDecimal, _>(i)?.to_plain_string()),
        "DATE" => SqlValue::Date(value::days_from_date(row.try_get(i)?)),
        "TIME" => SqlValue::Time(value::micros_from_time(row.try_get(i)?)),
        "DATETIME" => SqlValue::Timestamp(value::micros_from_datetime(row.try_get(i)?)),
        // The session time zone is UTC (see `ConnectionConfig::mysql_options`), so TIMESTAMP
        // columns arrive in UTC.
        "TIMESTAMP" => SqlValue::Timestamp(row.try_get::<chrono::DateTime<chrono::Utc>, _>(i)?.timestamp_micros()),
        "GEOMETRY" => SqlValue::Bytes(row.try_get_unchecked(i)?),
        // CHAR, VARCHAR, the TEXTs and BLOBs, BINARY, ENUM, SET and JSON: sqlx names a column
        // with a binary collation (MariaDB's JSON, `VARCHAR(n) BINARY`) as if it were binary
        // data, so the character set decides, as it does for sqlx's own `String`.
        _ if <String as sqlx::Type<MySql>>::compatible(row.column(i).type_info()) => SqlValue::Text(row.try_get_unchecked(i)?),
        _ => SqlValue::Bytes(row.try_get_unchecked(i)?),
    })
}
