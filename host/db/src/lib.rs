//! Database access for plugins. Plugins never open sockets: the host opens connection pools
//! from a connector's `connection.url` (JDBC form), `connection.user` and
//! `connection.password`, and runs the plugin's SQL on them through the WIT `sql` import.

mod mysql;
mod postgres;
mod url;
mod value;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

pub use url::{ConnectionConfig, Dialect};
pub use value::{Column, RowSet, SqlValue, Statement};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SqlError {
    /// The database could not be reached or the connection broke: worth retrying.
    #[error("database connection failed: {0}")]
    Connection(String),
    /// The database rejected the statement.
    #[error("the database rejected the statement{}: {message}", code.as_ref().map(|c| format!(" (SQLSTATE {c})")).unwrap_or_default())]
    Database { code: Option<String>, message: String },
    /// Not allowed, or not configured.
    #[error("{0}")]
    Denied(String),
}

impl From<sqlx::Error> for SqlError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::Database(db) => SqlError::Database { code: db.code().map(|c| c.into_owned()), message: db.message().to_owned() },
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => SqlError::Connection(e.to_string()),
            other => SqlError::Database { code: None, message: other.to_string() },
        }
    }
}

/// How long acquiring a connection may take before the call fails as a connection error:
/// short, so a wrong host or a database that is down shows up at once, not after 30 s.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_CONNECTIONS: u32 = 10;

/// A connection pool to one database.
#[derive(Clone)]
pub enum Database {
    MySql(sqlx::MySqlPool),
    Postgres(sqlx::PgPool),
}

impl Database {
    /// Makes a pool; connections are opened on first use.
    pub fn connect_lazy(config: &ConnectionConfig) -> Database {
        match config.dialect() {
            Dialect::MySql => Database::MySql(
                sqlx::mysql::MySqlPoolOptions::new()
                    .max_connections(MAX_CONNECTIONS)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_lazy_with(config.mysql_options()),
            ),
            Dialect::Postgres => Database::Postgres(
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(MAX_CONNECTIONS)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_lazy_with(config.postgres_options()),
            ),
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Database::MySql(_) => Dialect::MySql,
            Database::Postgres(_) => Dialect::Postgres,
        }
    }

    pub async fn query(&self, sql: &str, params: Vec<SqlValue>) -> Result<RowSet, SqlError> {
        match self {
            Database::MySql(pool) => mysql::query(pool, sql, params).await,
            Database::Postgres(pool) => postgres::query(pool, sql, params).await,
        }
    }

    /// Runs every statement, once per parameter list (once if it has none), in one
    /// transaction; any error rolls everything back. Returns rows affected per statement.
    pub async fn execute(&self, statements: Vec<Statement>) -> Result<Vec<u64>, SqlError> {
        match self {
            Database::MySql(pool) => mysql::execute(pool, statements).await,
            Database::Postgres(pool) => postgres::execute(pool, statements).await,
        }
    }
}

/// Pools shared by every task with the same connection settings.
#[derive(Default)]
pub struct Pools {
    pools: Mutex<HashMap<ConnectionConfig, Database>>,
}

impl Pools {
    pub fn new() -> Pools {
        Pools::default()
    }

    pub async fn get(&self, config: &ConnectionConfig) -> Result<Database, SqlError> {
        let mut pools = self.pools.lock().unwrap();
        Ok(pools.entry(config.clone()).or_insert_with(|| Database::connect_lazy(config)).clone())
    }
}

/// Parameter lists to run a statement with: an empty list means once, without parameters.
fn executions(params: Vec<Vec<SqlValue>>) -> Vec<Vec<SqlValue>> {
    if params.is_empty() { vec![Vec::new()] } else { params }
}

#[cfg(test)]
mod tests;
