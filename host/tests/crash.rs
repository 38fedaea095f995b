//! The crash test: the reference scenario (a MariaDB `users` table, the JDBC source onto the
//! embedded log, JDBC sinks back into MariaDB) while the worker process is killed with SIGKILL
//! at random points, again and again (20 times; `WASMCONNECT_CRASH_KILLS` for long runs, and
//! `WASMCONNECT_CRASH_SEED` to replay a run). At the end:
//! - the topic holds every row exactly once (a source's records and offsets are one atomic
//!   append), and the log is readable after every kill;
//! - the sink with `exactly.once.enabled` holds every row exactly once (its offsets are
//!   committed with its rows, in the database);
//! - the sink without it holds every row at least once.
//!
//! And a graceful stop (SIGTERM) commits what the tasks finished, so a restart repeats nothing
//! even without exactly once.

mod common;

use std::ffi::OsString;
use std::path::Path;
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, MySqlPool, Row};

use common::{Worker, eventually, free_port, get, plugin_path};

/// `wasmconnect standalone` on the embedded log in `data`, its sinks committing their
/// group's positions every `flush_ms`.
fn standalone(data: &Path, port: u16, flush_ms: u32) -> Worker {
    let properties = data.with_extension("properties");
    std::fs::write(&properties, format!("offset.flush.interval.ms={flush_ms}\n")).unwrap();
    let args: [OsString; 10] = [
        "standalone".into(),
        properties.into(),
        "--rest-host".into(),
        "127.0.0.1".into(),
        "--rest-port".into(),
        port.to_string().into(),
        "--data-dir".into(),
        data.into(),
        "--plugin-path".into(),
        plugin_path().into(),
    ];
    Worker::spawn(port, args)
}

/// A small deterministic generator (64-bit LCG), so a failing run can be replayed by its seed.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}




/// Waits until the (restarted) worker answers and its `connectors` run, a task each.
async fn running(http: &reqwest::Client, worker: &Worker, connectors: usize) {
    eventually("the worker to run its connectors", || async {
        let all = get(http, &worker.url("/connectors?expand=status")).await?;
        let all = all.as_object()?;
        let up = all.len() == connectors
            && all.values().all(|c| c["status"]["tasks"].as_array().is_some_and(|t| t.len() == 1 && t[0]["state"] == "RUNNING"));
        up.then_some(())
    })
    .await;
}

/// A private database with the reference scenario's `users` table.
async fn database(label: &str) -> (MySqlPool, MySqlPool, String) {
    let admin = MySqlPool::connect("mysql://root@127.0.0.1:3306/test").await.expect("MariaDB runs on 127.0.0.1:3306");
    let name = format!("wc_{label}_{}", std::process::id());
    sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}"))).execute(&admin).await.unwrap();
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await.unwrap();
    let db = MySqlPool::connect(&format!("mysql://root@127.0.0.1:3306/{name}")).await.unwrap();
    let ddl = "CREATE TABLE users (id int auto_increment primary key, user_id varchar(20) not null, pwd varchar(20) not null, created_at datetime default now())";
    sqlx::query(ddl).execute(&db).await.unwrap();
    (admin, db, name)
}

async fn insert_users(db: &MySqlPool, rows: usize) {
    let values = vec!["('u', 'pw')"; rows].join(", ");
    sqlx::query(AssertSqlSafe(format!("INSERT INTO users (user_id, pwd) VALUES {values}"))).execute(db).await.unwrap();
}

fn source(url: &str) -> Value {
    json!({"name": "my-source-connect", "config": {
        "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector", "connection.url": url, "connection.user": "root",
        "mode": "incrementing", "incrementing.column.name": "id", "table.whitelist": "users", "topic.prefix": "my_topic_",
        "batch.max.rows": "20", "poll.interval.ms": "50", "incrementing.gap.grace.ms": "0"}})
}

fn sink(url: &str, connector: &str, table: &str, exactly_once: bool) -> Value {
    json!({"name": connector, "config": {
        "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector", "connection.url": url, "connection.user": "root",
        "topics": "my_topic_users", "table.name.format": table, "auto.create": "true", "insert.mode": "insert",
        "exactly.once.enabled": exactly_once.to_string()}})
}

/// Creates a connector once the worker answers.
async fn create(http: &reqwest::Client, worker: &Worker, connector: &Value) {
    let response = eventually("the worker to answer", || async { http.post(worker.url("/connectors")).json(connector).send().await.ok() }).await;
    let status = response.status().as_u16();
    assert_eq!(status, 201, "creating {connector}: {}", response.text().await.unwrap_or_default());
}

/// Rows, and distinct ids, in `table`.
async fn counts(db: &MySqlPool, table: &str) -> Option<(i64, i64)> {
    let row = sqlx::query(AssertSqlSafe(format!("SELECT COUNT(*), COUNT(DISTINCT id) FROM {table}"))).fetch_one(db).await.ok()?;
    Some((row.get(0), row.get(1)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_row_arrives_once_through_sigkills() {
    let kills: u32 = std::env::var("WASMCONNECT_CRASH_KILLS").ok().and_then(|k| k.parse().ok()).unwrap_or(20);
    let seed = std::env::var("WASMCONNECT_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_nanos() as u64
    });
    eprintln!("crash test: {kills} kills, WASMCONNECT_CRASH_SEED={seed}");
    let mut dice = Dice(seed);

    let (admin, db, name) = database("crash").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let http = reqwest::Client::new();
    // Sinks commit their group's position every second, so a kill usually falls between a
    // sink's database commit and the commit of its position: the case exactly once is about.
    let mut worker = standalone(&data, port, 1000);
    let url = format!("jdbc:mysql://127.0.0.1:3306/{name}");
    for connector in [source(&url), sink(&url, "sink-exactly-once", "users_exactly_once", true), sink(&url, "sink-at-least-once", "users_at_least_once", false)] {
        create(&http, &worker, &connector).await;
    }
    running(&http, &worker, 3).await;

    let mut inserted = 0;
    for kill in 0..kills {
        // Rows keep coming while the worker runs, and it dies at a random moment.
        let rows = 20 + dice.below(60);
        insert_users(&db, rows as usize).await;
        inserted += rows as i64;
        tokio::time::sleep(Duration::from_millis(100 + dice.below(1200))).await;
        worker.kill();
        worker = standalone(&data, port, 1000);
        running(&http, &worker, 3).await;
        eprintln!("kill {} of {kills} done, {inserted} rows so far", kill + 1);
    }

    for table in ["users_exactly_once", "users_at_least_once"] {
        eventually(&format!("every row in {table}"), || async { (counts(&db, table).await?.1 == inserted).then_some(()) }).await;
    }
    let (rows, distinct) = counts(&db, "users_exactly_once").await.unwrap();
    assert_eq!((rows, distinct), (inserted, inserted), "the exactly-once sink holds each row once");
    let (rows, distinct) = counts(&db, "users_at_least_once").await.unwrap();
    assert_eq!(distinct, inserted, "the at-least-once sink holds each row at least once");
    // Without its offsets in the database, a sink writes again what it wrote after the group's
    // last commit: proof that the kills fell where exactly once matters.
    assert!(rows > inserted, "no kill fell between a sink's database commit and its group's commit");
    eprintln!("the at-least-once sink wrote {} copies too many", rows - inserted);

    // The log: readable, every row once, in order.
    let mut ids = Vec::new();
    while ids.len() < inserted as usize + 1 {
        let page = get(&http, &worker.url(&format!("/topics/my_topic_users/records?offset={}&max=1000", ids.len()))).await.unwrap();
        let page = page.as_array().unwrap();
        if page.is_empty() {
            break;
        }
        for record in page {
            let value: Value = serde_json::from_str(record["value"].as_str().unwrap()).unwrap();
            ids.push(value["payload"]["id"].as_i64().unwrap());
        }
    }
    assert_eq!(ids, (1..=inserted).collect::<Vec<_>>(), "the topic holds every row once, in order");

    drop(worker);
    db.close().await;
    sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}"))).execute(&admin).await.unwrap();
}

/// With commits of the group's position only once a minute, everything a sink wrote is
/// uncommitted when SIGTERM arrives: the graceful stop commits it, and the worker exits
/// cleanly. The restarted worker repeats nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_commits_what_was_written_so_a_restart_repeats_nothing() {
    let (admin, db, name) = database("sigterm").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let http = reqwest::Client::new();
    let worker = standalone(&data, port, 60_000);
    let url = format!("jdbc:mysql://127.0.0.1:3306/{name}");
    create(&http, &worker, &source(&url)).await;
    create(&http, &worker, &sink(&url, "sink", "users_copy", false)).await;
    running(&http, &worker, 2).await;
    insert_users(&db, 50).await;
    eventually("50 rows in the sink", || async { (counts(&db, "users_copy").await? == (50, 50)).then_some(()) }).await;

    let exit = worker.terminate();
    assert!(exit.success(), "a graceful stop exits cleanly: {exit}");
    let worker = standalone(&data, port, 60_000);
    running(&http, &worker, 2).await;
    insert_users(&db, 30).await;
    eventually("80 rows in the sink", || async { (counts(&db, "users_copy").await?.1 == 80).then_some(()) }).await;
    // Time enough for a repeat to show, had the position not been committed at the stop.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(counts(&db, "users_copy").await.unwrap(), (80, 80), "nothing written twice");

    drop(worker);
    db.close().await;
    sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}"))).execute(&admin).await.unwrap();
}
