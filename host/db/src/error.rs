//! Errors as the `sql` import reports them: the plugin decides from the variant whether to
//! retry (connection), fail the record or the task (database), or stop (denied).

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SqlError {
    /// The database could not be reached or the connection broke: worth retrying.
    #[error("database connection failed: {0}")]
    Connection(String),
    /// The database rejected the statement (or the host could not convert a value for it).
    #[error("the database rejected the statement{}: {message}", code.as_ref().map(|c| format!(" (SQLSTATE {c})")).unwrap_or_default())]
    Database { code: Option<String>, message: String },
    /// Not allowed, or not configured (a malformed `connection.url`, say).
    #[error("{0}")]
    Denied(String),
}

impl SqlError {
    /// A parameter the host cannot hand to the database as given. It has no SQLSTATE because
    /// the database never saw it.
    pub(crate) fn invalid_param(message: String) -> SqlError {
        SqlError::Database { code: None, message }
    }

    /// An error while a connection was being taken from the pool (and perhaps opened), told
    /// with the database it was for, since sqlx's own text names neither host nor port.
    pub(crate) fn acquiring(endpoint: &Endpoint, error: sqlx::Error) -> SqlError {
        match error {
            sqlx::Error::PoolTimedOut => SqlError::Connection(format!(
                "no connection to the {} within {} s: the database is down or unreachable, or all {} pooled connections stayed busy",
                endpoint.name,
                endpoint.acquire_timeout.as_secs_f32(),
                endpoint.max_connections,
            )),
            sqlx::Error::Database(db) => SqlError::Database {
                code: db.code().map(|c| c.into_owned()),
                message: format!("connecting to the {}: {}", endpoint.name, db.message()),
            },
            sqlx::Error::Configuration(e) => SqlError::Denied(format!("cannot connect to the {}: {e}", endpoint.name)),
            other => SqlError::Connection(format!("cannot connect to the {}: {other}", endpoint.name)),
        }
    }
}

/// What error messages say about a pool's database, never including the password.
#[derive(Debug)]
pub(crate) struct Endpoint {
    /// For example "MySQL database at db.example:3306".
    pub name: String,
    pub acquire_timeout: std::time::Duration,
    pub max_connections: u32,
}

impl From<sqlx::Error> for SqlError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::Database(db) => {
                SqlError::Database { code: db.code().map(|c| c.into_owned()), message: db.message().to_owned() }
            }
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => SqlError::Connection(e.to_string()),
            sqlx::Error::Configuration(_) => SqlError::Denied(e.to_string()),
            other => SqlError::Database { code: None, message: other.to_string() },
        }
    }
}
