//! The embedded log against broken and full disks, with real worker processes:
//! - a segment whose last batch is torn (a write cut short) or fails its CRC: the worker
//!   starts, cuts the batch off, says so in its log and its metrics, and serves the records
//!   before it; appends carry on after them;
//! - a data directory that takes no more bytes (here a file-size limit, `RLIMIT_FSIZE`, with
//!   SIGXFSZ ignored, so a write fails with EFBIG as a full disk fails with ENOSPC): the source
//!   task is FAILED with a trace that says why, nothing of the failing batch stays behind, and
//!   once there is room again the source carries on with every row once.

mod common;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, MySqlPool};

use common::{Worker, eventually, free_port, get, plugin_path};

fn worker_args(data: &Path, port: u16, plugins: &Path) -> Vec<OsString> {
    vec![
        "standalone".into(),
        "--rest-host".into(),
        "127.0.0.1".into(),
        "--rest-port".into(),
        port.to_string().into(),
        "--data-dir".into(),
        data.into(),
        "--plugin-path".into(),
        plugins.into(),
    ]
}

/// A worker whose standard error goes to `log`.
fn logged_worker(data: &Path, port: u16, plugins: &Path, log: &Path) -> Worker {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wasmconnect"));
    command.args(worker_args(data, port, plugins)).stdout(Stdio::null()).stderr(std::fs::File::create(log).unwrap());
    Worker::spawn_command(port, command)
}

/// A worker that may not make any file larger than `max_file_bytes`, and that gets EFBIG
/// rather than the SIGXFSZ that would kill it when it tries.
fn limited_worker(data: &Path, port: u16, max_file_bytes: u64) -> Worker {
    let mut command = Command::new("bash");
    // `trap '' XFSZ` sets SIG_IGN, which both execs keep.
    command
        .arg("-c")
        .arg(format!("trap '' XFSZ; exec prlimit --fsize={max_file_bytes} -- \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_wasmconnect"))
        .args(worker_args(data, port, &plugin_path()))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    Worker::spawn_command(port, command)
}

fn segment(data: &Path, topic: &str) -> PathBuf {
    let dir = data.join("topics").join(format!("{topic}-0"));
    let mut segments: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "log")).collect();
    segments.sort();
    segments.pop().expect("a segment file")
}

async fn values(http: &reqwest::Client, worker: &Worker, topic: &str) -> Vec<String> {
    let url = worker.url(&format!("/topics/{topic}/records?max=10000"));
    let records = eventually("the worker to answer", || get(http, &url)).await;
    records.as_array().unwrap().iter().map(|r| r["value"].as_str().unwrap().to_owned()).collect()
}

async fn produce(http: &reqwest::Client, worker: &Worker, value: &str) -> Value {
    let body = json!([{"value": value}]);
    let response = eventually("the worker to take a record", || async { http.post(worker.url("/topics/events/records")).json(&body).send().await.ok() }).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The value of the sample `name{labels} value` in the worker's metrics.
async fn metric(http: &reqwest::Client, worker: &Worker, sample: &str) -> Option<f64> {
    let text = http.get(worker.url("/metrics")).send().await.ok()?.text().await.ok()?;
    text.lines().find_map(|line| line.strip_prefix(sample)?.strip_prefix(' ')?.parse().ok())
}

/// Stops the worker, damages the last batch of `events` with `damage`, and starts it again:
/// it serves the records before that batch, reports the cut, and appends after them.
async fn recovers_from(damage: impl FnOnce(&Path), reason: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (data, plugins) = (dir.path().join("data"), dir.path().join("plugins"));
    std::fs::create_dir_all(&plugins).unwrap();
    let port = free_port();
    let http = reqwest::Client::new();
    let worker = logged_worker(&data, port, &plugins, &dir.path().join("first.log"));
    for value in ["one", "two", "three"] {
        produce(&http, &worker, value).await;
    }
    assert!(worker.terminate().success());
    damage(&segment(&data, "events"));

    let log = dir.path().join("second.log");
    let worker = logged_worker(&data, port, &plugins, &log);
    assert_eq!(values(&http, &worker, "events").await, ["one", "two"], "the records before the damaged batch");
    let labels = r#"{topic="events",partition="0"}"#;
    assert_eq!(metric(&http, &worker, &format!("log_recovery_truncations_total{labels}")).await, Some(1.0));
    assert!(metric(&http, &worker, &format!("log_recovery_truncated_bytes_total{labels}")).await.is_some_and(|b| b > 0.0));
    let written = std::fs::read_to_string(&log).unwrap();
    let line = written.lines().find(|l| l.contains("recovering the log: truncating")).unwrap_or_else(|| panic!("no report in:\n{written}"));
    assert!(line.contains("(offset 2)") && line.contains(reason) && line.contains("events-0"), "{line}");
    assert_eq!(produce(&http, &worker, "four").await[0]["offset"], 2, "appends continue where the intact records end");
    assert_eq!(values(&http, &worker, "events").await, ["one", "two", "four"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_torn_last_batch_is_cut_off_and_reported() {
    let cut_short = |segment: &Path| {
        let len = std::fs::metadata(segment).unwrap().len();
        std::fs::OpenOptions::new().write(true).open(segment).unwrap().set_len(len - 4).unwrap();
    };
    recovers_from(cut_short, "a torn batch").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_last_batch_failing_its_crc_is_cut_off_and_reported() {
    let flip = |segment: &Path| {
        let mut bytes = std::fs::read(segment).unwrap();
        let at = bytes.windows(5).rposition(|w| w == b"three").expect("the last value on disk");
        bytes[at] ^= 0x01;
        std::fs::write(segment, bytes).unwrap();
    };
    recovers_from(flip, "checksum does not match").await;
}

/// A private database with the reference scenario's `users` table.
async fn database(label: &str) -> (MySqlPool, MySqlPool, String) {
    let admin = MySqlPool::connect("mysql://root@127.0.0.1:3306/test").await.expect("MariaDB runs on 127.0.0.1:3306");
    let name = format!("wc_{label}_{}", std::process::id());
    sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}"))).execute(&admin).await.unwrap();
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await.unwrap();
    let db = MySqlPool::connect(&format!("mysql://root@127.0.0.1:3306/{name}")).await.unwrap();
    sqlx::query("CREATE TABLE users (id int auto_increment primary key, user_id varchar(20) not null, pwd varchar(20) not null)").execute(&db).await.unwrap();
    (admin, db, name)
}

async fn insert_users(db: &MySqlPool, rows: usize) {
    let values = vec!["('someone', 'some password')"; rows].join(", ");
    sqlx::query(AssertSqlSafe(format!("INSERT INTO users (user_id, pwd) VALUES {values}"))).execute(db).await.unwrap();
}

/// The ids on the topic, in order.
async fn ids(http: &reqwest::Client, worker: &Worker) -> Vec<i64> {
    let values = values(http, worker, "my_topic_users").await;
    values.iter().map(|v| serde_json::from_str::<Value>(v).unwrap()["payload"]["id"].as_i64().unwrap()).collect()
}

async fn source_task(http: &reqwest::Client, worker: &Worker) -> Option<Value> {
    Some(get(http, &worker.url("/connectors/my-source-connect/status")).await?["tasks"][0].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_fails_the_task_and_leaves_the_log_intact() {
    let (admin, db, name) = database("diskfull").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let http = reqwest::Client::new();

    // First without a limit: the plugins are compiled into the data directory's cache (big
    // files, only read from then on) and the source writes 20 rows.
    let worker = Worker::spawn(port, worker_args(&data, port, &plugin_path()));
    let source = json!({"name": "my-source-connect", "config": {
        "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector",
        "connection.url": format!("jdbc:mysql://127.0.0.1:3306/{name}"), "connection.user": "root",
        "mode": "incrementing", "incrementing.column.name": "id", "table.whitelist": "users", "topic.prefix": "my_topic_",
        "batch.max.rows": "10", "poll.interval.ms": "50"}});
    let created = eventually("the worker to answer", || async { http.post(worker.url("/connectors")).json(&source).send().await.ok() }).await;
    assert_eq!(created.status(), 201);
    insert_users(&db, 20).await;
    eventually("20 rows on the topic", || async { (ids(&http, &worker).await.len() == 20).then_some(()) }).await;
    assert!(worker.terminate().success());

    // Room for about ten more records in the topic's segment, then the disk is "full".
    let segment = segment(&data, "my_topic_users");
    let size = std::fs::metadata(&segment).unwrap().len();
    let worker = limited_worker(&data, port, size + size / 2);
    insert_users(&db, 100).await;
    let trace = eventually("the source task to fail", || async {
        let task = source_task(&http, &worker).await?;
        (task["state"] == "FAILED").then(|| task["trace"].as_str().unwrap().to_owned())
    })
    .await;
    assert!(trace.contains("cannot write to the topic log") && trace.contains("File too large"), "{trace}");
    assert!(trace.starts_with("The worker's data directory is out of space"), "the hint says what to do: {trace}");
    let written = ids(&http, &worker).await;
    assert!((20..120).contains(&written.len()), "some batches fit, the failing one did not: {}", written.len());
    assert_eq!(written, (1..=written.len() as i64).collect::<Vec<_>>(), "nothing of the failing batch is on the topic");
    assert!(std::fs::metadata(&segment).unwrap().len() <= size + size / 2);
    worker.kill();

    // With room again, the log opens with nothing to cut off, and the source resumes after
    // the last batch that was written: every row once, in order.
    let worker = Worker::spawn(port, worker_args(&data, port, &plugin_path()));
    eventually("all 120 rows on the topic", || async { (ids(&http, &worker).await.len() >= 120).then_some(()) }).await;
    assert_eq!(ids(&http, &worker).await, (1..=120).collect::<Vec<_>>());
    let labels = r#"{topic="my_topic_users",partition="0"}"#;
    assert_eq!(metric(&http, &worker, &format!("log_recovery_truncations_total{labels}")).await, None, "the failed append left nothing to cut");
    assert_eq!(source_task(&http, &worker).await.unwrap()["state"], "RUNNING");

    drop(worker);
    db.close().await;
    sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}"))).execute(&admin).await.unwrap();
}
