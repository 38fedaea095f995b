//! `connection.url` in the JDBC forms Kafka Connect users already have, turned into sqlx
//! connection options (built field by field, so any character in a password works).

use sqlx::mysql::MySqlConnectOptions;
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;

use crate::SqlError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dialect {
    MySql,
    Postgres,
    Sqlite,
}

const FORMS: &str = "jdbc:mysql://HOST[:PORT]/DATABASE, jdbc:mariadb://HOST[:PORT]/DATABASE or jdbc:postgresql://HOST[:PORT]/DATABASE, optionally followed by ?user=USER&password=PASSWORD, or jdbc:sqlite:PATH to an existing SQLite database file on the worker";

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ConnectionConfig {
    dialect: Dialect,
    host: String,
    port: u16,
    database: Option<String>,
    user: Option<String>,
    pub(crate) password: Option<String>,
}

impl std::fmt::Debug for ConnectionConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionConfig")
            .field("dialect", &self.dialect)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("database", &self.database)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "[hidden]"))
            .finish()
    }
}

impl ConnectionConfig {
    /// `user` and `password` (from `connection.user`/`connection.password`) win over the
    /// same settings in the URL.
    pub fn from_connector_config(url: &str, user: Option<&str>, password: Option<&str>) -> Result<ConnectionConfig, SqlError> {
        let invalid = |why: &str| SqlError::Denied(format!("connection.url {:?} {why}; expected {FORMS}", redact(url)));
        let rest = url.trim().strip_prefix("jdbc:").ok_or_else(|| invalid("does not start with jdbc:"))?;
        if let Some(path) = rest.strip_prefix("sqlite:") {
            return sqlite(path).ok_or_else(|| invalid("names no database file"));
        }
        let (dialect, default_port) = match rest.split_once("://").map(|(scheme, _)| scheme) {
            Some("mysql" | "mariadb") => (Dialect::MySql, 3306),
            Some("postgresql") => (Dialect::Postgres, 5432),
            Some(other) => return Err(invalid(&format!("uses the unsupported database {other:?}"))),
            None => return Err(invalid("has no ://")),
        };
        let parsed = ::url::Url::parse(rest).map_err(|e| invalid(&format!("cannot be parsed ({e})")))?;
        let host = parsed.host_str().filter(|h| !h.is_empty()).ok_or_else(|| invalid("names no host"))?;
        if host.contains(',') {
            return Err(invalid("names several hosts, which is not supported"));
        }
        let query = |key: &str| parsed.query_pairs().find(|(k, _)| k == key).map(|(_, v)| v.into_owned());
        let decode = |s: &str| ::url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
        let url_user = Some(parsed.username()).filter(|u| !u.is_empty()).and_then(decode).or_else(|| query("user"));
        let url_password = parsed.password().and_then(decode).or_else(|| query("password"));
        let database = parsed.path().trim_start_matches('/');
        Ok(ConnectionConfig {
            dialect,
            host: host.trim_start_matches('[').trim_end_matches(']').to_owned(),
            port: parsed.port().unwrap_or(default_port),
            database: (!database.is_empty()).then(|| database.to_owned()),
            user: user.map(str::to_owned).or(url_user),
            // An empty password means none, as it does for JDBC drivers.
            password: password.map(str::to_owned).or(url_password).filter(|p| !p.is_empty()),
        })
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn database(&self) -> Option<&str> {
        self.database.as_deref()
    }

    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The database for people: "MySQL database `sales` at db.example:3306 as user `app`".
    pub(crate) fn describe(&self) -> String {
        let kind = match self.dialect {
            Dialect::MySql => "MySQL",
            Dialect::Postgres => "PostgreSQL",
            Dialect::Sqlite => return format!("SQLite database {}", self.database.as_deref().unwrap_or_default()),
        };
        let database = self.database.as_ref().map(|d| format!(" `{d}`")).unwrap_or_default();
        let user = self.user.as_ref().map(|u| format!(" as user `{u}`")).unwrap_or_default();
        format!("{kind} database{database} at {}:{}{user}", self.host, self.port)
    }

    pub(crate) fn mysql_options(&self) -> MySqlConnectOptions {
        let mut options = MySqlConnectOptions::new()
            .host(&self.host)
            .port(self.port)
            // DATETIME values are read and written as UTC, and TIMESTAMP columns with them.
            .timezone(Some("+00:00".to_owned()));
        if let Some(user) = &self.user {
            options = options.username(user);
        }
        if let Some(password) = &self.password {
            options = options.password(password);
        }
        if let Some(database) = &self.database {
            options = options.database(database);
        }
        options
    }

    /// An existing file only: a connector must not create files on the worker by naming them.
    pub(crate) fn sqlite_options(&self) -> SqliteConnectOptions {
        SqliteConnectOptions::new().filename(self.database.as_deref().unwrap_or_default()).create_if_missing(false)
    }

    pub(crate) fn postgres_options(&self) -> PgConnectOptions {
        let mut options = PgConnectOptions::new_without_pgpass()
            .host(&self.host)
            .port(self.port)
            // Timestamps without a time zone are UTC, whatever the server's default zone.
            .options([("TimeZone", "UTC")]);
        if let Some(user) = &self.user {
            options = options.username(user);
        }
        if let Some(password) = &self.password {
            options = options.password(password);
        }
        if let Some(database) = &self.database {
            options = options.database(database);
        }
        options
    }
}

/// `jdbc:sqlite:PATH` (also `jdbc:sqlite://PATH`): the database file; no host, no user.
fn sqlite(path: &str) -> Option<ConnectionConfig> {
    let path = path.strip_prefix("//").unwrap_or(path);
    (!path.is_empty()).then(|| ConnectionConfig {
        dialect: Dialect::Sqlite,
        host: String::new(),
        port: 0,
        database: Some(path.to_owned()),
        user: None,
        password: None,
    })
}

/// The URL without a password, for error messages.
fn redact(url: &str) -> String {
    let (prefix, rest) = match url.trim().strip_prefix("jdbc:") {
        Some(rest) => ("jdbc:", rest),
        None => ("", url.trim()),
    };
    match ::url::Url::parse(rest) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("[hidden]"));
            }
            let pairs: Vec<(String, String)> = parsed
                .query_pairs()
                .map(|(k, v)| (k.to_string(), if k == "password" { "[hidden]".to_owned() } else { v.to_string() }))
                .collect();
            if !pairs.is_empty() {
                parsed.query_pairs_mut().clear().extend_pairs(pairs);
            }
            format!("{prefix}{parsed}")
        }
        Err(_) => url.split('?').next().unwrap_or_default().to_owned(),
    }
}
