//! The harness the end-to-end tests share: a worker started in-process on a free port,
//! a REST client, and a private MariaDB database per test.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use sqlx::mysql::MySqlPoolOptions;
use sqlx::{AssertSqlSafe, MySqlPool, Row};
use wasmconnect::runtime::TaskLimits;
use wasmconnect::standalone::{Standalone, StandaloneConfig};

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
    start_worker_with(StandaloneConfig { limits, ..worker_config(data_dir) }).await
}

/// The config `start_worker` uses: loopback, a free port, the test plugins.
pub fn worker_config(data_dir: &Path) -> StandaloneConfig {
    StandaloneConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data_dir.to_owned(),
        plugin_path: vec![plugin_path()],
        // Shared by every test, so each plugin is compiled once per run, not once per test.
        compiled_cache: plugin_path().join("compiled"),
        worker_config: Default::default(),
        limits: TaskLimits::default(),
        loggers: None,
    }
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
}

impl Api {
    pub fn new(worker: &Standalone) -> Api {
        Api { base: format!("http://{}", worker.rest_addr()), http: reqwest::Client::new() }
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
