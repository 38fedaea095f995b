//! SQL through the host's connection pool, with the per-dialect helpers every JDBC-style
//! plugin needs: identifier quoting and placeholders.

pub use crate::wit::sql::{Column, CopyIn, DatabaseError, Dialect, RowSet, SqlError, SqlValue, Statement, Step, execute, execute_steps, get_dialect, query};

use crate::ConnectorError;

/// Quotes an identifier: backticks for MySQL, double quotes for PostgreSQL, with embedded
/// quote characters doubled.
pub fn quote(dialect: Dialect, identifier: &str) -> String {
    let q = match dialect {
        Dialect::Mysql => '`',
        Dialect::Postgres | Dialect::Sqlite => '"',
    };
    let escaped = identifier.replace(q, &format!("{q}{q}"));
    format!("{q}{escaped}{q}")
}

/// The `n`-th (1-based) parameter placeholder: `?` for MySQL, `$n` for PostgreSQL.
pub fn placeholder(dialect: Dialect, n: usize) -> String {
    match dialect {
        Dialect::Mysql | Dialect::Sqlite => "?".to_owned(),
        Dialect::Postgres => format!("${n}"),
    }
}

/// Connection problems are worth a retry; anything else fails the task with the message.
impl From<SqlError> for ConnectorError {
    fn from(e: SqlError) -> Self {
        match e {
            SqlError::Connection(m) => ConnectorError::Retriable(format!("database connection failed: {m}")),
            SqlError::Database(d) => ConnectorError::Fatal(match d.code {
                Some(code) => format!("the database rejected a statement (SQLSTATE {code}): {}", d.message),
                None => format!("the database rejected a statement: {}", d.message),
            }),
            SqlError::Denied(m) => ConnectorError::Config(m),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_placeholders_per_dialect() {
        assert_eq!(quote(Dialect::Mysql, "my`table"), "`my``table`");
        assert_eq!(quote(Dialect::Postgres, "a\"b"), "\"a\"\"b\"");
        assert_eq!(placeholder(Dialect::Mysql, 3), "?");
        assert_eq!(placeholder(Dialect::Postgres, 3), "$3");
    }
}
