//! What the sink knows of the database's tables: their columns, read from
//! information_schema on first use and cached, so a batch costs no metadata query once its
//! tables are known. The cache is dropped for a table whenever a write to it fails, because
//! someone may have changed the table underneath.

use std::collections::HashMap;

use wasmconnect_sdk::ConnectorError;
use wasmconnect_sdk::sql::{self, Dialect, SqlError, SqlValue, Statement};

use crate::evolution::TablePlan;
use crate::rows::RowShape;

pub struct Catalog {
    dialect: Dialect,
    /// Columns of the tables known to exist. Missing tables are not cached: another task or
    /// a user may create them at any time.
    columns: HashMap<String, Vec<String>>,
}

impl Catalog {
    pub fn new(dialect: Dialect) -> Self {
        Catalog { dialect, columns: HashMap::new() }
    }

    /// The columns of `table`, or `None` when it does not exist.
    pub fn columns(&mut self, table: &str) -> Result<Option<&[String]>, ConnectorError> {
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
    /// commits each statement) and records the new columns.
    pub fn apply(&mut self, table: &str, plan: &TablePlan, shape: &RowShape) -> Result<(), ConnectorError> {
        let (statements, added): (&[String], Vec<String>) = match plan {
            TablePlan::UpToDate => return Ok(()),
            TablePlan::Create(statement) => (std::slice::from_ref(statement), shape.fields.iter().map(|f| f.name.clone()).collect()),
            TablePlan::AddColumns { columns, statements } => (statements, columns.clone()),
        };
        let statements: Vec<Statement> = statements.iter().map(|sql| Statement { sql: sql.clone(), params: Vec::new() }).collect();
        sql::execute(&statements).map_err(|e| sql_error(&format!("changing table {table:?}"), e))?;
        self.columns.entry(table.to_owned()).or_default().extend(added);
        Ok(())
    }

    fn read_columns(&self, table: &str) -> Result<Vec<String>, ConnectorError> {
        let query = match self.dialect {
            Dialect::Mysql => "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
            Dialect::Postgres => {
                "SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1"
            }
            Dialect::Sqlite => "SELECT name FROM pragma_table_info(?)",
        };
        let rows = sql::query(query, &[SqlValue::Text(table.to_owned())])
            .map_err(|e| sql_error(&format!("reading the columns of table {table:?}"), e))?;
        Ok(rows.rows.into_iter().filter_map(|row| row.into_iter().next().and_then(column_name)).collect())
    }
}

/// Some MySQL versions report information_schema names as binary strings.
fn column_name(value: SqlValue) -> Option<String> {
    match value {
        SqlValue::Text(name) => Some(name),
        SqlValue::Bytes(bytes) => String::from_utf8(bytes).ok(),
        _ => None,
    }
}

/// A failed SQL call as the host should treat it: a lost connection is worth a retry, a
/// rejected statement fails the task with what was being done and the database's words.
pub fn sql_error(doing: &str, e: SqlError) -> ConnectorError {
    match e {
        SqlError::Connection(m) => ConnectorError::Retriable(format!("{doing}: database connection failed: {m}")),
        SqlError::Database(d) => ConnectorError::Fatal(match d.code {
            Some(code) => format!("{doing}: the database refused (SQLSTATE {code}): {}", d.message),
            None => format!("{doing}: the database refused: {}", d.message),
        }),
        SqlError::Denied(m) => ConnectorError::Config(format!("{doing}: the host refused: {m}")),
    }
}

#[cfg(test)]
mod tests {
    use wasmconnect_sdk::sql::DatabaseError;

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
    fn column_names_may_come_as_bytes() {
        assert_eq!(column_name(SqlValue::Bytes(b"id".to_vec())).as_deref(), Some("id"));
        assert_eq!(column_name(SqlValue::Text("id".into())).as_deref(), Some("id"));
        assert_eq!(column_name(SqlValue::Null), None);
    }
}
