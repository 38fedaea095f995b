//! What the sink knows of the database's tables: their columns, read from
//! information_schema on first use and cached, so a batch costs no metadata query once its
//! tables are known. The cache is dropped for a table whenever a write to it fails, because
//! someone may have changed the table underneath.

use std::collections::HashMap;

use wasmconnect_sdk::ConnectorError;
use wasmconnect_sdk::sql::{self, DatabaseError, SqlError, SqlValue, Statement};

use crate::dialect::{Sql, is_transient};
use crate::evolution::TablePlan;

/// A column as information_schema describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub name: String,
    /// Lower case, e.g. `varchar`, `datetime`, `timestamp without time zone`.
    pub data_type: String,
}

pub struct Catalog {
    sql: Sql,
    /// Columns of the tables known to exist. Missing tables are not cached: another task or
    /// a user may create them at any time.
    columns: HashMap<String, Vec<Column>>,
}

impl Catalog {
    pub fn new(sql: Sql) -> Self {
        Catalog { sql, columns: HashMap::new() }
    }

    /// The columns of `table`, or `None` when it does not exist.
    pub fn columns(&mut self, table: &str) -> Result<Option<&[Column]>, ConnectorError> {
        if !self.columns.contains_key(table) {
            let read = self.read_columns(table)?;
            if read.is_empty() {
                return Ok(None);
            }
            self.columns.insert(table.to_owned(), read);
        }
        Ok(self.columns.get(table).map(Vec::as_slice))
    }

    pub fn forget(&mut self, table: &str) {
        self.columns.remove(table);
    }

    /// Runs the DDL of `plan` (one transaction where the database allows DDL in one; MySQL
    /// commits each statement). The table's columns are read again on next use, types and all.
    pub fn apply(&mut self, table: &str, plan: &TablePlan) -> Result<(), ConnectorError> {
        let statements: &[String] = match plan {
            TablePlan::UpToDate => return Ok(()),
            TablePlan::Create(statement) => std::slice::from_ref(statement),
            TablePlan::AddColumns { statements, .. } => statements,
        };
        let statements: Vec<Statement> = statements.iter().map(|sql| Statement { sql: sql.clone(), params: Vec::new() }).collect();
        self.forget(table);
        sql::execute(&statements).map(|_| ()).map_err(|e| sql_error(&format!("changing table {table:?}"), e))
    }

    fn read_columns(&self, table: &str) -> Result<Vec<Column>, ConnectorError> {
        let rows = sql::query(self.sql.columns_query(), &[SqlValue::Text(self.sql.stored_name(table))])
            .map_err(|e| sql_error(&format!("reading the columns of table {table:?}"), e))?;
        Ok(rows
            .rows
            .into_iter()
            .filter_map(|row| {
                let mut row = row.into_iter();
                Some(Column { name: text(row.next()?)?, data_type: text(row.next()?)? })
            })
            .collect())
    }
}

/// Some MySQL versions report information_schema names as binary strings.
fn text(value: SqlValue) -> Option<String> {
    match value {
        SqlValue::Text(name) => Some(name),
        SqlValue::Bytes(bytes) => String::from_utf8(bytes).ok(),
        _ => None,
    }
}

/// A failed SQL call as the host should treat it: a lost connection or a deadlock is worth a
/// retry, a rejected statement fails the task with what was being done and the database's
/// words.
pub fn sql_error(doing: &str, e: SqlError) -> ConnectorError {
    match e {
        SqlError::Connection(m) => ConnectorError::Retriable(format!("{doing}: database connection failed: {m}")),
        SqlError::Database(d) if is_transient(&d) => {
            ConnectorError::Retriable(format!("{doing}: {}", refusal(&d)))
        }
        SqlError::Database(d) => ConnectorError::Fatal(format!("{doing}: {}", refusal(&d))),
        SqlError::Denied(m) => ConnectorError::Config(format!("{doing}: the host refused: {m}")),
    }
}

/// The database's refusal in its own words, with the SQLSTATE when it gave one.
pub fn refusal(e: &DatabaseError) -> String {
    match &e.code {
        Some(code) => format!("the database refused (SQLSTATE {code}): {}", e.message),
        None => format!("the database refused: {}", e.message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_errors_keep_the_context_and_the_database_message() {
        let lost = sql_error("writing table \"t\"", SqlError::Connection("broken pipe".into()));
        assert_eq!(lost, ConnectorError::Retriable("writing table \"t\": database connection failed: broken pipe".into()));
        let rejected = SqlError::Database(DatabaseError { code: Some("23000".into()), message: "Duplicate entry '1'".into() });
        assert_eq!(
            sql_error("writing table \"t\"", rejected),
            ConnectorError::Fatal("writing table \"t\": the database refused (SQLSTATE 23000): Duplicate entry '1'".into())
        );
        assert!(matches!(sql_error("x", SqlError::Denied("no url".into())), ConnectorError::Config(m) if m.contains("no url")));
    }

    #[test]
    fn deadlocks_are_retried() {
        let deadlock = SqlError::Database(DatabaseError { code: Some("40001".into()), message: "Deadlock found".into() });
        assert!(matches!(sql_error("x", deadlock), ConnectorError::Retriable(m) if m.contains("SQLSTATE 40001")));
    }

    #[test]
    fn catalog_texts_may_come_as_bytes() {
        assert_eq!(text(SqlValue::Bytes(b"id".to_vec())).as_deref(), Some("id"));
        assert_eq!(text(SqlValue::Text("id".into())).as_deref(), Some("id"));
        assert_eq!(text(SqlValue::Null), None);
    }
}
