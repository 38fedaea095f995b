//! MySQL and MariaDB: binding `SqlValue`s and reading columns by their type name.

use sqlx::mysql::{MySqlArguments, MySqlRow};
use sqlx::query::Query;
use sqlx::{AssertSqlSafe, Column, MySql, MySqlPool, Row, TypeInfo, ValueRef};

use crate::value::{self, Column as SqlColumn, RowSet, SqlValue, Statement, bad_param};
use crate::{SqlError, executions};

type MySqlQuery<'q> = Query<'q, MySql, MySqlArguments>;

pub async fn query(pool: &MySqlPool, sql: &str, params: Vec<SqlValue>) -> Result<RowSet, SqlError> {
    let rows = bind_all(sqlx::query(AssertSqlSafe(sql.to_owned())), params)?.fetch_all(pool).await?;
    rows_to_set(&rows)
}

pub async fn execute(pool: &MySqlPool, statements: Vec<Statement>) -> Result<Vec<u64>, SqlError> {
    let mut tx = pool.begin().await?;
    let mut affected = Vec::with_capacity(statements.len());
    for statement in statements {
        let mut rows = 0;
        for params in executions(statement.params) {
            let query = bind_all(sqlx::query(AssertSqlSafe(statement.sql.clone())), params)?;
            rows += query.execute(&mut *tx).await?.rows_affected();
        }
        affected.push(rows);
    }
    tx.commit().await?;
    Ok(affected)
}

fn bind_all(mut query: MySqlQuery<'_>, params: Vec<SqlValue>) -> Result<MySqlQuery<'_>, SqlError> {
    for param in params {
        query = match param {
            SqlValue::Null => query.bind(None::<String>),
            SqlValue::Boolean(b) => query.bind(b),
            SqlValue::Int(i) => query.bind(i),
            SqlValue::Uint(u) => query.bind(u),
            SqlValue::Float(f) => query.bind(f),
            SqlValue::Decimal(d) => query.bind(d.parse::<bigdecimal::BigDecimal>().map_err(|_| bad_param("decimal", &d))?),
            SqlValue::Text(s) => query.bind(s),
            SqlValue::Bytes(b) => query.bind(b),
            SqlValue::Date(d) => query.bind(value::date_from_days(d).ok_or_else(|| bad_param("date", d))?),
            SqlValue::Time(t) => query.bind(value::time_from_micros(t).ok_or_else(|| bad_param("time", t))?),
            SqlValue::Timestamp(t) => query.bind(value::datetime_from_micros(t).ok_or_else(|| bad_param("timestamp", t))?),
        };
    }
    Ok(query)
}

fn rows_to_set(rows: &[MySqlRow]) -> Result<RowSet, SqlError> {
    let Some(first) = rows.first() else { return Ok(RowSet::default()) };
    let columns = first
        .columns()
        .iter()
        .map(|c| SqlColumn { name: c.name().to_owned(), type_name: c.type_info().name().to_owned() })
        .collect::<Vec<_>>();
    let rows = rows
        .iter()
        .map(|row| (0..columns.len()).map(|i| decode(row, i)).collect::<Result<Vec<_>, _>>())
        .collect::<Result<_, _>>()?;
    Ok(RowSet { columns, rows })
}

fn decode(row: &MySqlRow, i: usize) -> Result<SqlValue, SqlError> {
    if row.try_get_raw(i)?.is_null() {
        return Ok(SqlValue::Null);
    }
    let type_name = row.column(i).type_info().name();
    Ok(match type_name {
        "BOOLEAN" => SqlValue::Boolean(row.try_get(i)?),
        t if t.ends_with("UNSIGNED") || t == "YEAR" || t == "BIT" => SqlValue::Uint(row.try_get(i)?),
        "TINYINT" | "SMALLINT" | "INT" | "MEDIUMINT" | "BIGINT" => SqlValue::Int(row.try_get(i)?),
        "FLOAT" => SqlValue::Float(f64::from(row.try_get::<f32, _>(i)?)),
        "DOUBLE" => SqlValue::Float(row.try_get(i)?),
        "DECIMAL" => SqlValue::Decimal(row.try_get::<bigdecimal::BigDecimal, _>(i)?.to_plain_string()),
        "DATE" => SqlValue::Date(value::days_from_date(row.try_get(i)?)),
        "TIME" => SqlValue::Time(value::micros_from_time(row.try_get(i)?)),
        "DATETIME" | "TIMESTAMP" => SqlValue::Timestamp(value::micros_from_datetime(row.try_get(i)?)),
        "BINARY" | "VARBINARY" | "TINYBLOB" | "BLOB" | "MEDIUMBLOB" | "LONGBLOB" | "GEOMETRY" => SqlValue::Bytes(row.try_get(i)?),
        _ => match row.try_get::<String, _>(i) {
            Ok(text) => SqlValue::Text(text),
            // Text with a binary collation, and types this match does not know, as raw bytes.
            Err(_) => SqlValue::Bytes(row.try_get(i)?),
        },
    })
}
