//! PostgreSQL: binding `SqlValue`s and reading columns by their type name.

use sqlx::encode::IsNull;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgArgumentBuffer, PgArguments, PgRow, PgTypeInfo};
use sqlx::query::Query;
use sqlx::{AssertSqlSafe, Column, PgPool, Postgres, Row, TypeInfo, ValueRef};

use crate::value::{self, Column as SqlColumn, RowSet, SqlValue, Statement, bad_param};
use crate::{SqlError, executions};

type PgQuery<'q> = Query<'q, Postgres, PgArguments>;

pub async fn query(pool: &PgPool, sql: &str, params: Vec<SqlValue>) -> Result<RowSet, SqlError> {
    let rows = bind_all(sqlx::query(AssertSqlSafe(sql.to_owned())), params)?.fetch_all(pool).await?;
    rows_to_set(&rows)
}

pub async fn execute(pool: &PgPool, statements: Vec<Statement>) -> Result<Vec<u64>, SqlError> {
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

fn bind_all(mut query: PgQuery<'_>, params: Vec<SqlValue>) -> Result<PgQuery<'_>, SqlError> {
    for param in params {
        query = match param {
            SqlValue::Null => query.bind(UntypedNull),
            SqlValue::Boolean(b) => query.bind(b),
            SqlValue::Int(i) => query.bind(i),
            // PostgreSQL has no unsigned integers; NUMERIC holds any u64.
            SqlValue::Uint(u) => query.bind(bigdecimal::BigDecimal::from(u)),
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

/// A NULL parameter whose type PostgreSQL infers from the statement (type OID 0), since a
/// typed NULL (say text) is refused where the column is an integer.
struct UntypedNull;

impl sqlx::Type<Postgres> for UntypedNull {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(Oid(0))
    }
}

impl sqlx::Encode<'_, Postgres> for UntypedNull {
    fn encode_by_ref(&self, _buf: &mut PgArgumentBuffer) -> Result<IsNull, sqlx::error::BoxDynError> {
        Ok(IsNull::Yes)
    }
}

fn rows_to_set(rows: &[PgRow]) -> Result<RowSet, SqlError> {
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

fn decode(row: &PgRow, i: usize) -> Result<SqlValue, SqlError> {
    if row.try_get_raw(i)?.is_null() {
        return Ok(SqlValue::Null);
    }
    let type_name = row.column(i).type_info().name();
    Ok(match type_name {
        "BOOL" => SqlValue::Boolean(row.try_get(i)?),
        "INT2" => SqlValue::Int(row.try_get::<i16, _>(i)?.into()),
        "INT4" => SqlValue::Int(row.try_get::<i32, _>(i)?.into()),
        "INT8" => SqlValue::Int(row.try_get(i)?),
        "OID" => SqlValue::Uint(row.try_get::<sqlx::postgres::types::Oid, _>(i)?.0.into()),
        "FLOAT4" => SqlValue::Float(f64::from(row.try_get::<f32, _>(i)?)),
        "FLOAT8" => SqlValue::Float(row.try_get(i)?),
        "NUMERIC" => SqlValue::Decimal(row.try_get::<bigdecimal::BigDecimal, _>(i)?.to_plain_string()),
        "DATE" => SqlValue::Date(value::days_from_date(row.try_get(i)?)),
        "TIME" => SqlValue::Time(value::micros_from_time(row.try_get(i)?)),
        "TIMESTAMP" => SqlValue::Timestamp(value::micros_from_datetime(row.try_get(i)?)),
        "TIMESTAMPTZ" => SqlValue::Timestamp(row.try_get::<chrono::DateTime<chrono::Utc>, _>(i)?.timestamp_micros()),
        "BYTEA" => SqlValue::Bytes(row.try_get(i)?),
        _ => match row.try_get::<String, _>(i) {
            Ok(text) => SqlValue::Text(text),
            Err(_) => SqlValue::Bytes(row.try_get_unchecked::<Vec<u8>, _>(i)?),
        },
    })
}
