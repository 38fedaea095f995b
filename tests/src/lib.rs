//! The harness the end-to-end tests share: a worker started in-process on a free port,
//! a REST client, and a private MariaDB database per test.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use sqlx::mysql::MySqlPoolOptions;
use sqlx::{AssertSqlSafe, MySqlPool, Row};
use wasmconnect::runtime::{TaskLimits, WorkerLimits};
use wasmconnect::standalone::{Backend, InternalTopics, KafkaBackend, Standalone, StandaloneConfig};

/// The plugins `cargo xtask test` built for this run.
pub fn plugin_path() -> PathBuf {
    let path = std::env::var_os("WASMCONNECT_TEST_PLUGIN_PATH")
        .expect("WASMCONNECT_TEST_PLUGIN_PATH is not set: run the tests with `cargo xtask test`, which builds the plugins first");
    PathBuf::from(path)
}

/// Starts a standalone worker on a free loopback port with its data in `data_dir`. Its log
/// lines go to the test's output (shown when a test fails; RUST_LOG filters them).
pub async fn start_worker(data_dir: &Path) -> Standalone {
    start_worker_with_limits(data_dir, TaskLimits::default()).await
}

pub async fn start_worker_with_limits(data_dir: &Path, limits: TaskLimits) -> Standalone {
    start_worker_with(StandaloneConfig { limits: WorkerLimits::with_defaults(limits), ..worker_config(data_dir) }).await
}

/// The config `start_worker` uses: loopback, a free port, the test plugins.
pub fn worker_config(data_dir: &Path) -> StandaloneConfig {
    StandaloneConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        tls: None,
        data_dir: data_dir.to_owned(),
        plugin_path: vec![plugin_path()],
        // Shared by every test, so each plugin is compiled once per run, not once per test.
        compiled_cache: plugin_path().join("compiled"),
        worker_config: Default::default(),
        limits: WorkerLimits::with_defaults(TaskLimits::default()),
        loggers: None,
        backend: Default::default(),
        tenants: None,
    }
}

/// A worker whose topics, configs, offsets and statuses are on the Kafka cluster at
/// `bootstrap_servers`, with `topics` as its internal topics; `request_timeout` bounds each
/// metadata, admin and read request.
pub async fn start_kafka_worker(data_dir: &Path, bootstrap_servers: String, topics: InternalTopics, request_timeout: Duration) -> Standalone {
    start_kafka_worker_with(data_dir, bootstrap_servers, topics, request_timeout, Default::default()).await
}

/// As `start_kafka_worker`, with worker config properties (`offset.flush.timeout.ms`, ...).
pub async fn start_kafka_worker_with(
    data_dir: &Path,
    bootstrap_servers: String,
    topics: InternalTopics,
    request_timeout: Duration,
    properties: std::collections::BTreeMap<String, String>,
) -> Standalone {
    let mut options = wasmconnect_log::KafkaOptions::new(bootstrap_servers);
    options.request_timeout = request_timeout;
    let backend = Backend::Kafka(KafkaBackend { options, topics, group_id: "connect-cluster".into() });
    start_worker_with(StandaloneConfig { backend, worker_config: properties, ..worker_config(data_dir) }).await
}

pub async fn start_worker_with(config: StandaloneConfig) -> Standalone {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_test_writer()
        .try_init();
    Standalone::start(config).await.expect("worker starts")
}

pub struct Api {
    base: String,
    http: reqwest::Client,
    /// Sent as `Authorization: Bearer ...` to a worker with `rest.auth=tenants`.
    token: Option<String>,
}

impl Api {
    pub fn new(worker: &Standalone) -> Api {
        Api { base: format!("http://{}", worker.rest_addr()), http: reqwest::Client::new(), token: None }
    }

    pub fn with_token(worker: &Standalone, token: &str) -> Api {
        Api { token: Some(token.to_owned()), ..Api::new(worker) }
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.http.get(self.url(path))).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(self.http.post(self.url(path)).json(body)).await
    }

    pub async fn post_raw(&self, path: &str, body: &str) -> (u16, Value) {
        let request = self.http.post(self.url(path)).header("content-type", "application/json").body(body.to_owned());
        self.send(request).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(self.http.put(self.url(path)).json(body)).await
    }

    pub async fn send_json(&self, method: reqwest::Method, path: &str, body: &Value) -> (u16, Value) {
        self.send(self.http.request(method, self.url(path)).json(body)).await
    }

    /// Any bytes as a JSON body; the answer's status and bytes as they came.
    pub async fn send_bytes(&self, method: reqwest::Method, path: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
        let request = self.http.request(method, self.url(path)).header("content-type", "application/json").body(body);
        let request = match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let response = request.send().await.expect("the worker answers");
        (response.status().as_u16(), response.bytes().await.unwrap().to_vec())
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(self.http.delete(self.url(path))).await
    }

    /// Every record value of partition 0 of `topic`, parsed as JSON.
    pub async fn topic_values(&self, topic: &str) -> Vec<Value> {
        let (status, records) = self.get(&format!("/topics/{topic}/records?max=10000")).await;
        if status == 404 {
            return Vec::new();
        }
        assert_eq!(status, 200, "{records}");
        records
            .as_array()
            .unwrap()
            .iter()
            .map(|r| serde_json::from_str(r["value"].as_str().expect("a value")).expect("JSON value"))
            .collect()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let request = match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let response = request.send().await.expect("the worker answers");
        let status = response.status().as_u16();
        let body = response.bytes().await.unwrap();
        let json = if body.is_empty() { Value::Null } else { serde_json::from_slice(&body).expect("a JSON body") };
        (status, json)
    }
}

/// Polls `check` until it returns `Some`, or panics with `what` after `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A MariaDB database of the test's own, dropped when the test ends.
pub struct TestDb {
    pub name: String,
    pub pool: MySqlPool,
    admin: MySqlPool,
}

impl TestDb {
    pub async fn create(label: &str) -> TestDb {
        let admin = MySqlPoolOptions::new()
            .max_connections(2)
            .connect("mysql://root@127.0.0.1:3306/test")
            .await
            .expect("MariaDB runs on 127.0.0.1:3306");
        let name = format!("wc_{label}_{}_{}", std::process::id(), unique());
        sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS `{name}`"))).execute(&admin).await.unwrap();
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE `{name}`"))).execute(&admin).await.unwrap();
        let pool = MySqlPoolOptions::new()
            .max_connections(2)
            .connect(&format!("mysql://root@127.0.0.1:3306/{name}"))
            .await
            .unwrap();
        TestDb { name, pool, admin }
    }

    /// The JDBC URL a connector config uses for this database.
    pub fn jdbc_url(&self) -> String {
        format!("jdbc:mysql://localhost:3306/{}", self.name)
    }

    pub async fn exec(&self, sql: &str) {
        sqlx::query(AssertSqlSafe(sql.to_owned())).execute(&self.pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    pub async fn count(&self, table: &str) -> Option<i64> {
        sqlx::query(AssertSqlSafe(format!("SELECT COUNT(*) FROM `{table}`"))).fetch_one(&self.pool).await.ok().map(|r| r.get(0))
    }

    pub async fn drop_database(self) {
        self.pool.close().await;
        sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS `{}`", self.name))).execute(&self.admin).await.unwrap();
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The `users` table of the reference scenario, exactly as DESIGN.md gives it.
pub const USERS_DDL: &str = "CREATE TABLE users (id int auto_increment primary key, user_id varchar(20) not null, \
    pwd varchar(20) not null, created_at datetime default now())";

pub fn source_config(db: &TestDb) -> Value {
    serde_json::json!({
        "name": "my-source-connect",
        "config": {
            "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector",
            "connection.url": db.jdbc_url(),
            "connection.user": "root",
            "connection.password": "",
            "mode": "incrementing",
            "incrementing.column.name": "id",
            "table.whitelist": "users",
            "topic.prefix": "my_topic_",
            "tasks.max": "1",
            "poll.interval.ms": "200"
        }
    })
}

pub fn sink_config(db: &TestDb) -> Value {
    serde_json::json!({
        "name": "my-sink-connect",
        "config": {
            "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
            "connection.url": db.jdbc_url(),
            "connection.user": "root",
            "connection.password": "",
            "topics": "my_topic_users",
            "auto.create": "true",
            "auto.evolve": "true",
            "delete.enabled": "false",
            "insert.mode": "insert",
            "tasks.max": "1"
        }
    })
}

/// A PostgreSQL database of the test's own, dropped by `drop_database`.
pub struct PgDb {
    pub name: String,
    pub pool: sqlx::PgPool,
    admin: sqlx::PgPool,
}

impl PgDb {
    pub async fn create(label: &str) -> PgDb {
        let admin = sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect("postgres://postgres@127.0.0.1:5432/postgres")
            .await
            .expect("PostgreSQL runs on 127.0.0.1:5432");
        let name = format!("wc_{label}_{}_{}", std::process::id(), unique());
        sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{name}\""))).execute(&admin).await.unwrap();
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE \"{name}\""))).execute(&admin).await.unwrap();
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect(&format!("postgres://postgres@127.0.0.1:5432/{name}"))
            .await
            .unwrap();
        PgDb { name, pool, admin }
    }

    pub async fn drop_database(self) {
        self.pool.close().await;
        sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name))).execute(&self.admin).await.unwrap();
    }
}

/// A test database on MariaDB or PostgreSQL, for tests that run the same steps on both.
pub enum AnyDb {
    MariaDb(TestDb),
    Postgres(PgDb),
}

impl AnyDb {
    pub async fn create(postgres: bool, label: &str) -> AnyDb {
        if postgres { AnyDb::Postgres(PgDb::create(label).await) } else { AnyDb::MariaDb(TestDb::create(label).await) }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, AnyDb::Postgres(_))
    }

    /// The JDBC URL a connector config uses for this database.
    pub fn jdbc_url(&self) -> String {
        match self {
            AnyDb::MariaDb(db) => db.jdbc_url(),
            AnyDb::Postgres(db) => format!("jdbc:postgresql://localhost:5432/{}", db.name),
        }
    }

    /// The user the connector connects as.
    pub fn user(&self) -> &'static str {
        if self.is_postgres() { "postgres" } else { "root" }
    }

    /// The name of the database, as the source's partitions qualify tables with it
    /// (PostgreSQL adds the schema: `db.public`).
    pub fn qualifier(&self) -> String {
        match self {
            AnyDb::MariaDb(db) => db.name.clone(),
            AnyDb::Postgres(db) => format!("{}.public", db.name),
        }
    }

    pub async fn exec(&self, sql: &str) {
        let result = match self {
            AnyDb::MariaDb(db) => sqlx::query(AssertSqlSafe(sql.to_owned())).execute(&db.pool).await.map(|_| ()),
            AnyDb::Postgres(db) => sqlx::query(AssertSqlSafe(sql.to_owned())).execute(&db.pool).await.map(|_| ()),
        };
        result.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// A table or column name quoted for this database.
    pub fn quote(&self, name: &str) -> String {
        if self.is_postgres() { format!("\"{name}\"") } else { format!("`{name}`") }
    }

    /// The rows of `table` (`None` when it does not exist), each column as its text form (or
    /// `None` for NULL), ordered by the columns in turn.
    pub async fn texts(&self, table: &str, columns: &[&str]) -> Option<Vec<Vec<Option<String>>>> {
        let casts: Vec<String> = columns
            .iter()
            .map(|c| if self.is_postgres() { format!("{}::text", self.quote(c)) } else { format!("CAST({} AS CHAR)", self.quote(c)) })
            .collect();
        let order: Vec<String> = (1..=columns.len()).map(|i| i.to_string()).collect();
        let sql = format!("SELECT {} FROM {} ORDER BY {}", casts.join(", "), self.quote(table), order.join(", "));
        match self {
            AnyDb::MariaDb(db) => {
                let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(&db.pool).await.ok()?;
                Some(rows.iter().map(|r| (0..columns.len()).map(|i| r.get::<Option<String>, _>(i)).collect()).collect())
            }
            AnyDb::Postgres(db) => {
                let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(&db.pool).await.ok()?;
                Some(rows.iter().map(|r| (0..columns.len()).map(|i| r.get::<Option<String>, _>(i)).collect()).collect())
            }
        }
    }

    /// How many rows `table` has, or `None` when it does not exist.
    pub async fn count(&self, table: &str) -> Option<i64> {
        let sql = format!("SELECT COUNT(*) FROM {}", self.quote(table));
        match self {
            AnyDb::MariaDb(db) => sqlx::query_scalar(AssertSqlSafe(sql)).fetch_one(&db.pool).await.ok(),
            AnyDb::Postgres(db) => sqlx::query_scalar(AssertSqlSafe(sql)).fetch_one(&db.pool).await.ok(),
        }
    }

    /// A connection of its own, e.g. to hold a transaction open while others commit.
    pub async fn session(&self) -> Session {
        match self {
            AnyDb::MariaDb(db) => Session::MariaDb(db.pool.acquire().await.unwrap().detach()),
            AnyDb::Postgres(db) => Session::Postgres(db.pool.acquire().await.unwrap().detach()),
        }
    }

    pub async fn drop_database(self) {
        match self {
            AnyDb::MariaDb(db) => db.drop_database().await,
            AnyDb::Postgres(db) => db.drop_database().await,
        }
    }
}

/// One database connection outside any pool.
pub enum Session {
    MariaDb(sqlx::MySqlConnection),
    Postgres(sqlx::PgConnection),
}

impl Session {
    pub async fn exec(&mut self, sql: &str) {
        let result = match self {
            // Unprepared, as BEGIN and COMMIT must be.
            Session::MariaDb(c) => sqlx::raw_sql(AssertSqlSafe(sql.to_owned())).execute(&mut *c).await.map(|_| ()),
            Session::Postgres(c) => sqlx::raw_sql(AssertSqlSafe(sql.to_owned())).execute(&mut *c).await.map(|_| ()),
        };
        result.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

/// A JDBC source connector config for `db` with the given extra settings.
pub fn jdbc_source(name: &str, db: &AnyDb, settings: Value) -> Value {
    let mut config = serde_json::json!({
        "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector",
        "connection.url": db.jdbc_url(),
        "connection.user": db.user(),
        "connection.password": "",
        "tasks.max": "1",
        "poll.interval.ms": "100"
    });
    for (key, value) in settings.as_object().expect("settings are an object") {
        config[key] = value.clone();
    }
    serde_json::json!({ "name": name, "config": config })
}

/// A JDBC sink connector config for `db` with the given extra settings.
pub fn jdbc_sink(name: &str, db: &AnyDb, settings: Value) -> Value {
    let mut config = jdbc_source(name, db, settings);
    config["config"]["connector.class"] = serde_json::json!("io.confluent.connect.jdbc.JdbcSinkConnector");
    config["config"].as_object_mut().unwrap().remove("poll.interval.ms");
    config
}

/// A JsonConverter envelope: a struct of the given `(name, type, optional)` fields and its
/// payload, as text.
pub fn envelope(name: &str, fields: &[(&str, &str, bool)], payload: Value) -> String {
    let fields: Vec<Value> =
        fields.iter().map(|(field, kind, optional)| serde_json::json!({"field": field, "type": kind, "optional": optional})).collect();
    serde_json::json!({"schema": {"type": "struct", "name": name, "optional": false, "fields": fields}, "payload": payload}).to_string()
}

/// The state and trace of task 0 of `connector`.
pub async fn task_state(api: &Api, connector: &str) -> (String, String) {
    let (_, status) = api.get(&format!("/connectors/{connector}/status")).await;
    let task = &status["tasks"][0];
    (task["state"].as_str().unwrap_or("").to_owned(), task["trace"].as_str().unwrap_or("").to_owned())
}

/// A TCP proxy on a free loopback port in front of `target`, which a test can cut (every
/// connection closed, new ones refused) and restore, to play a database outage without
/// touching the shared database server.
pub struct TcpProxy {
    pub port: u16,
    open: std::sync::Arc<std::sync::atomic::AtomicBool>,
    connections: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl TcpProxy {
    pub async fn start(target: &str) -> TcpProxy {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let connections = std::sync::Arc::new(std::sync::Mutex::new(Vec::<tokio::task::AbortHandle>::new()));
        let target = target.to_owned();
        let accept = {
            let (open, connections) = (open.clone(), connections.clone());
            tokio::spawn(async move {
                while let Ok((mut client, _)) = listener.accept().await {
                    if !open.load(Ordering::SeqCst) {
                        // Dropping the socket refuses the connection.
                        continue;
                    }
                    let target = target.clone();
                    let task = tokio::spawn(async move {
                        if let Ok(mut server) = tokio::net::TcpStream::connect(&target).await {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    });
                    connections.lock().unwrap().push(task.abort_handle());
                }
            })
        };
        TcpProxy { port, open, connections, accept }
    }

    /// Closes every connection and refuses new ones until `restore`.
    pub fn cut(&self) {
        self.open.store(false, std::sync::atomic::Ordering::SeqCst);
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }

    pub fn restore(&self) {
        self.open.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}

impl Api {
    /// How many records partition 0 of `topic` holds (0 before the topic exists).
    pub async fn topic_size(&self, topic: &str) -> i64 {
        let (status, description) = self.get(&format!("/topics/{topic}")).await;
        if status == 404 {
            return 0;
        }
        description["end_offsets"][0].as_i64().unwrap_or(0)
    }

    /// The record values of partition 0 of `topic` from `offset`, at most `max`.
    pub async fn topic_values_from(&self, topic: &str, offset: i64, max: usize) -> Vec<Value> {
        let (status, records) = self.get(&format!("/topics/{topic}/records?offset={offset}&max={max}")).await;
        assert_eq!(status, 200, "{records}");
        records.as_array().unwrap().iter().map(|r| serde_json::from_str(r["value"].as_str().expect("a value")).expect("JSON value")).collect()
    }
}
