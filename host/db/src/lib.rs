//! Database access for plugins. Plugins never open sockets: the host opens connection pools
//! from a connector's `connection.url` (JDBC form), `connection.user` and
//! `connection.password`, and runs the plugin's SQL on them through the WIT `sql` import.

mod error;
mod mysql;
mod postgres;
mod sqlite;
mod url;
mod value;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::pool::PoolConnection;
use tokio::sync::OnceCell;

use error::Endpoint;
pub use error::SqlError;
pub use url::{ConnectionConfig, Dialect};
pub use value::{Column, RowSet, SqlValue, Statement, Step};

/// How a pool is sized and how long a caller waits for one of its connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolSettings {
    pub max_connections: u32,
    /// Also bounds opening a connection: a few seconds, not sqlx's 30, so that a wrong host
    /// or a database that is down shows up at once.
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings { max_connections: 10, acquire_timeout: Duration::from_secs(5) }
    }
}

/// A connection pool to one database; cloning it is cheap and shares the pool.
#[derive(Clone)]
pub struct Database {
    pool: Pool,
    endpoint: Arc<Endpoint>,
}

#[derive(Clone)]
enum Pool {
    MySql(sqlx::MySqlPool),
    Postgres(sqlx::PgPool),
    Sqlite(sqlx::SqlitePool),
}

impl Database {
    /// Makes a pool and opens its first connection, so that a wrong host, port, database or
    /// password is reported now rather than on the first statement.
    pub async fn connect(config: &ConnectionConfig, settings: PoolSettings) -> Result<Database, SqlError> {
        let database = Database::connect_lazy(config, settings);
        match &database.pool {
            Pool::MySql(pool) => drop(database.acquire(pool).await?),
            Pool::Postgres(pool) => drop(database.acquire(pool).await?),
            Pool::Sqlite(pool) => drop(database.acquire(pool).await?),
        }
        Ok(database)
    }

    fn connect_lazy(config: &ConnectionConfig, settings: PoolSettings) -> Database {
        let pool = match config.dialect() {
            Dialect::MySql => Pool::MySql(
                sqlx::mysql::MySqlPoolOptions::new()
                    .max_connections(settings.max_connections)
                    .acquire_timeout(settings.acquire_timeout)
                    .connect_lazy_with(config.mysql_options()),
            ),
            Dialect::Postgres => Pool::Postgres(
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(settings.max_connections)
                    .acquire_timeout(settings.acquire_timeout)
                    .connect_lazy_with(config.postgres_options()),
            ),
            Dialect::Sqlite => Pool::Sqlite(
                sqlx::sqlite::SqlitePoolOptions::new()
                    .max_connections(settings.max_connections)
                    .acquire_timeout(settings.acquire_timeout)
                    .connect_lazy_with(config.sqlite_options()),
            ),
        };
        let endpoint = Endpoint {
            name: config.describe(),
            acquire_timeout: settings.acquire_timeout,
            max_connections: settings.max_connections,
        };
        Database { pool, endpoint: Arc::new(endpoint) }
    }

    pub fn dialect(&self) -> Dialect {
        match self.pool {
            Pool::MySql(_) => Dialect::MySql,
            Pool::Postgres(_) => Dialect::Postgres,
            Pool::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// Runs one statement and returns all its rows; the columns are known even when there
    /// are no rows.
    pub async fn query(&self, sql: &str, params: Vec<SqlValue>) -> Result<RowSet, SqlError> {
        match &self.pool {
            Pool::MySql(pool) => mysql::query(&mut *self.acquire(pool).await?, sql, params).await,
            Pool::Postgres(pool) => postgres::query(&mut *self.acquire(pool).await?, sql, params).await,
            Pool::Sqlite(pool) => sqlite::query(&mut *self.acquire(pool).await?, sql, params).await,
        }
    }

    /// Runs every statement, once per parameter list (once if it has none), in one
    /// transaction; any error rolls everything back. Returns rows affected per statement.
    pub async fn execute(&self, statements: Vec<Statement>) -> Result<Vec<u64>, SqlError> {
        match &self.pool {
            Pool::MySql(pool) => mysql::execute(&mut *self.acquire(pool).await?, statements).await,
            Pool::Postgres(pool) => postgres::execute(&mut *self.acquire(pool).await?, statements).await,
            Pool::Sqlite(pool) => sqlite::execute(&mut *self.acquire(pool).await?, statements).await,
        }
    }

    /// Runs the steps in order in one transaction, as `execute` does; a copy loads its data
    /// with `COPY ... FROM STDIN`, which only PostgreSQL has, so on another database a list
    /// with a copy is refused before anything runs. Returns rows affected (or loaded) per step.
    pub async fn execute_steps(&self, steps: Vec<Step>) -> Result<Vec<u64>, SqlError> {
        if let Pool::Postgres(pool) = &self.pool {
            return postgres::execute_steps(&mut *self.acquire(pool).await?, steps).await;
        }
        let statements = steps
            .into_iter()
            .map(|step| match step {
                Step::Statement(statement) => Ok(statement),
                Step::CopyIn { .. } => Err(SqlError::Denied(format!(
                    "COPY FROM STDIN is PostgreSQL's, and the {} has no such bulk load: send statements instead",
                    self.endpoint.name
                ))),
            })
            .collect::<Result<_, _>>()?;
        self.execute(statements).await
    }

    async fn acquire<DB: sqlx::Database>(&self, pool: &sqlx::Pool<DB>) -> Result<PoolConnection<DB>, SqlError> {
        pool.acquire().await.map_err(|e| SqlError::acquiring(&self.endpoint, e))
    }
}

/// Pools shared by every task with the same connection settings, so that a connector with
/// many tasks (or many connectors on one database) does not open a pool each.
#[derive(Default)]
pub struct Pools {
    pools: Mutex<HashMap<ConnectionConfig, Arc<OnceCell<Database>>>>,
}

impl Pools {
    pub fn new() -> Pools {
        Pools::default()
    }

    /// The pool for these settings, connected on first use. A failed connect is not
    /// remembered: the next call tries again.
    pub async fn get(&self, config: &ConnectionConfig) -> Result<Database, SqlError> {
        let cell = self.pools.lock().unwrap().entry(config.clone()).or_default().clone();
        cell.get_or_try_init(|| Database::connect(config, PoolSettings::default())).await.cloned()
    }
}

/// Parameter lists to run a statement with: an empty list means once, without parameters.
fn executions(params: Vec<Vec<SqlValue>>) -> Vec<Vec<SqlValue>> {
    if params.is_empty() { vec![Vec::new()] } else { params }
}

#[cfg(test)]
mod tests;
