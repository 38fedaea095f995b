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

use crate::value::{Column as SqlColumn, RowSet, SqlValue, Statement, Step};
use crate::{SqlError, executions};

pub async fn query(conn: &mut PgConnection, sql: &str, params: Vec<SqlValue>) -> Result<RowSet, SqlError> {
    let statement = prepare(conn, sql).await?;
    let rows = params::bind_all(&statement, params)?.fetch_all(&mut *conn).await?;
    let columns = statement.columns();
    let rows = rows.iter().map(|row| decode::row(row, columns)).collect::<Result<_, _>>()?;
    Ok(RowSet { columns: columns.iter().map(column).collect(), rows })
}

pub async fn execute(conn: &mut PgConnection, statements: Vec<Statement>) -> Result<Vec<u64>, SqlError> {
    execute_steps(conn, statements.into_iter().map(Step::Statement).collect()).await
}

pub async fn execute_steps(conn: &mut PgConnection, steps: Vec<Step>) -> Result<Vec<u64>, SqlError> {
    let mut tx = conn.begin().await?;
    let mut affected = Vec::with_capacity(steps.len());
    for step in steps {
        let rows = match step {
            Step::Statement(statement) => run(&mut tx, statement).await?,
            Step::CopyIn { sql, data } => copy_in(&mut tx, &sql, data).await?,
        };
        affected.push(rows);
    }
    tx.commit().await?;
    Ok(affected)
}

async fn run(conn: &mut PgConnection, statement: Statement) -> Result<u64, SqlError> {
    let prepared = prepare(conn, &statement.sql).await?;
    let mut rows = 0;
    for params in executions(statement.params) {
        rows += params::bind_all(&prepared, params)?.execute(&mut *conn).await?.rows_affected();
    }
    Ok(rows)
}

/// The data goes to the server in one CopyData message (sqlx splits only past 1 GiB), then
/// CopyDone. Those are two writes with no answer in between, which is why the connection
/// must have Nagle's algorithm off (sqlx >= 0.9.1 sets TCP_NODELAY): otherwise the small
/// CopyDone waits for the server's delayed ACK of the data, some 40 ms a copy.
async fn copy_in(conn: &mut PgConnection, sql: &str, data: Vec<u8>) -> Result<u64, SqlError> {
    // Anything but a COPY would answer with rows or a completion rather than CopyInResponse,
    // which sqlx reports as a protocol error that breaks the connection.
    let words: Vec<String> = sql.split_whitespace().map(str::to_ascii_uppercase).collect();
    let copy_in = words.first().is_some_and(|w| w == "COPY") && words.windows(2).any(|w| w[0] == "FROM" && w[1] == "STDIN");
    if !copy_in {
        return Err(SqlError::invalid_param(format!("a copy step needs a COPY ... FROM STDIN statement, not {sql:?}")));
    }
    let mut copy = conn.copy_in_raw(sql).await?;
    let sent = copy.send(data).await.map(|_| ());
    if let Err(e) = sent {
        // The connection is broken or the server refused mid-way; tell it we are done.
        let _ = copy.abort("the data could not be sent").await;
        return Err(e.into());
    }
    Ok(copy.finish().await?)
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
