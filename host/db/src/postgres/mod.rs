//! PostgreSQL. Unlike MySQL, PostgreSQL fixes a prepared statement's parameter types when it
//! is prepared, and sqlx reuses a prepared statement for every later execution of the same
//! SQL on that connection. Binding values as their natural types would therefore send, say,
//! an `int` in the binary form of whatever type the first execution happened to bind (a
//! `float`, or the column's type after a NULL), which fails or silently stores garbage. So
//! statements are prepared with the types the server infers from the SQL, and each value is
//! converted to its parameter's type (see `params`).

mod decode;
mod params;

use sqlx::postgres::{PgColumn, PgStatement, PgTypeInfo, PgTypeKind};
use sqlx::{AssertSqlSafe, Column, Connection, Executor, PgConnection, SqlSafeStr, Statement as _, TypeInfo};

use crate::value::{Column as SqlColumn, RowSet, SqlValue, Statement};
use crate::{SqlError, executions};

pub async fn query(conn: &mut PgConnection, sql: &str, params: Vec<SqlValue>) -> Result<RowSet, SqlError> {
    let statement = prepare(conn, sql).await?;
    let rows = params::bind_all(&statement, params)?.fetch_all(&mut *conn).await?;
    let columns = statement.columns();
    let rows = rows.iter().map(|row| decode::row(row, columns)).collect::<Result<_, _>>()?;
    Ok(RowSet { columns: columns.iter().map(column).collect(), rows })
}

pub async fn execute(conn: &mut PgConnection, statements: Vec<Statement>) -> Result<Vec<u64>, SqlError> {
    let mut tx = conn.begin().await?;
    let mut affected = Vec::with_capacity(statements.len());
    for statement in statements {
        let prepared = prepare(&mut tx, &statement.sql).await?;
        let mut rows = 0;
        for params in executions(statement.params) {
            rows += params::bind_all(&prepared, params)?.execute(&mut *tx).await?.rows_affected();
        }
        affected.push(rows);
    }
    tx.commit().await?;
    Ok(affected)
}

/// Prepared once per connection, with no parameter types given, so the server infers them;
/// executions on the same connection then find the statement in sqlx's cache.
async fn prepare(conn: &mut PgConnection, sql: &str) -> Result<PgStatement, SqlError> {
    Ok(conn.prepare(AssertSqlSafe(sql.to_owned()).into_sql_str()).await?)
}

fn column(column: &PgColumn) -> SqlColumn {
    SqlColumn { name: column.name().to_owned(), type_name: column.type_info().name().to_owned() }
}

/// Types whose binary form is their text, so that a `text` value can be bound to them and
/// read from them as is.
fn is_text_like(ty: &PgTypeInfo) -> bool {
    matches!(ty.name(), "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" | "JSON" | "XML" | "UNKNOWN" | "citext")
        || matches!(ty.kind(), PgTypeKind::Enum(_))
}
