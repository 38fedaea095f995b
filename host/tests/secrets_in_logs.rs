//! A password given in a connector config shows up nowhere a person or a log collector
//! could read it: not in the worker's log lines (at debug level, with a database that
//! refuses the password, so errors are logged), not in any REST answer about the connector
//! (a failed task's trace included), not in the status or offset topics, and not in any file
//! of the data directory: the config topic holds it sealed with the worker's config key.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, Executor};

const SECRET: &str = "pw-7f3a9c-do-not-log";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_appears_in_no_log_line_no_answer_and_no_status_or_offset() {
    // A database and a user whose password is the secret, so one connector works with it
    // (and commits offsets), while another gives it to a user that has none and fails.
    let label = format!("wc_secrets_{}", std::process::id());
    let admin = sqlx::MySqlPool::connect("mysql://root@127.0.0.1:3306/test").await.expect("MariaDB runs on 127.0.0.1:3306");
    for sql in [
        format!("DROP DATABASE IF EXISTS `{label}`"),
        format!("CREATE DATABASE `{label}`"),
        format!("CREATE TABLE `{label}`.users (id int auto_increment primary key, name varchar(20) not null)"),
        format!("INSERT INTO `{label}`.users (name) VALUES ('alice'), ('bob')"),
        format!("DROP USER IF EXISTS '{label}'@'%'"),
        format!("CREATE USER '{label}'@'%' IDENTIFIED BY '{SECRET}'"),
        format!("GRANT ALL ON `{label}`.* TO '{label}'@'%'"),
    ] {
        admin.execute(AssertSqlSafe(sql)).await.unwrap();
    }

    let data = tempfile::tempdir().unwrap();
    let plugins = std::env::var_os("WASMCONNECT_TEST_PLUGIN_PATH").expect("run the tests with `cargo xtask test`");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut worker = Command::new(env!("CARGO_BIN_EXE_wasmconnect"))
        .env("RUST_LOG", "debug")
        .args(["standalone", "--rest-host", "127.0.0.1", "--rest-port", &port.to_string(), "--data-dir"])
        .arg(data.path())
        .arg("--plugin-path")
        .arg(&plugins)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Drained as it comes: debug logging would fill the pipe and stall the worker.
    let mut stderr = worker.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut log = String::new();
        stderr.read_to_string(&mut log).unwrap();
        log
    });
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while http.get(&base).send().await.is_err() {
        assert!(Instant::now() < deadline, "the worker did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // MariaDB's root has no password, so this one is refused; the task retries, logging why,
    // and fails after errors.retry.timeout with the error as its trace.
    let leaky = json!({"name": "leaky", "config": {
        "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector",
        "connection.url": format!("jdbc:mysql://127.0.0.1:3306/test?user=root&password={SECRET}"),
        "connection.user": "root", "connection.password": SECRET, "errors.retry.timeout": "3000",
        "mode": "bulk", "table.whitelist": "no_such_table", "topic.prefix": "leak_"}});
    let working = json!({"name": "working", "config": {
        "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector",
        "connection.url": format!("jdbc:mysql://127.0.0.1:3306/{label}"),
        "connection.user": label, "connection.password": SECRET, "poll.interval.ms": "200",
        "mode": "incrementing", "incrementing.column.name": "id", "table.whitelist": "users", "topic.prefix": "secret_"}});
    let mut answers = Vec::new();
    for config in [&leaky, &working] {
        let created = http.post(format!("{base}/connectors")).json(config).send().await.unwrap();
        assert_eq!(created.status(), 201);
        answers.push(created.text().await.unwrap());
    }
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let status: Value = http.get(format!("{base}/connectors/leaky/status")).send().await.unwrap().json().await.unwrap();
        let offsets: Value = http.get(format!("{base}/connectors/working/offsets")).send().await.unwrap().json().await.unwrap();
        let failed = status["tasks"][0]["state"] == "FAILED" || status["connector"]["state"] == "FAILED";
        if failed && offsets["offsets"].as_array().is_some_and(|o| !o.is_empty()) {
            let trace = status["tasks"][0]["trace"].as_str().or(status["connector"]["trace"].as_str()).unwrap_or_default();
            assert!(trace.contains("Access denied"), "the trace says why: {status}");
            break;
        }
        assert!(Instant::now() < deadline, "no failure and no offsets: {status} {offsets}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut paths = vec![
        "/connectors?expand=status&expand=info".to_owned(),
        "/connectors?expand=info".to_owned(),
        "/connectors?expand=status".to_owned(),
        "/topics/connect-configs/records?offset=0&max=1000".to_owned(),
        "/topics/connect-status/records?offset=0&max=1000".to_owned(),
        "/topics/connect-offsets/records?offset=0&max=1000".to_owned(),
        "/topics/secret_users/records?offset=0&max=1000".to_owned(),
    ];
    for name in ["leaky", "working"] {
        for path in ["", "/config", "/status", "/tasks", "/tasks-config", "/tasks/0/status", "/offsets", "/topics"] {
            paths.push(format!("/connectors/{name}{path}"));
        }
    }
    for path in &paths {
        answers.push(format!("{path}: {}", http.get(format!("{base}{path}")).send().await.unwrap().text().await.unwrap()));
    }
    worker.kill().unwrap();
    worker.wait().unwrap();
    let log = reader.join().unwrap();

    assert!(log.contains("leaky") && log.contains("working"), "the log covers the connectors");
    for line in log.lines() {
        assert!(!line.contains(SECRET), "the password is in a log line: {line}");
    }
    for answer in &answers {
        assert!(!answer.contains(SECRET), "the password is in an answer: {answer}");
    }
    let status_records = answers.iter().find(|a| a.starts_with("/topics/connect-status/")).unwrap();
    assert!(status_records.contains("Access denied"), "the failed task's trace is in the status topic: {status_records}");
    let offset_records = answers.iter().find(|a| a.starts_with("/topics/connect-offsets/")).unwrap();
    assert!(offset_records.contains("working"), "the working connector's offsets were read: {offset_records}");
    // On disk: no file holds the password; the config topic holds the configs, their
    // passwords sealed.
    let mut sealed_in_configs = false;
    scan(data.path(), &mut |path, bytes| {
        assert!(!contains(bytes, SECRET.as_bytes()), "the password is in {}", path.display());
        let inside_configs = path.components().any(|c| c.as_os_str().to_string_lossy().starts_with("connect-configs"));
        sealed_in_configs |= inside_configs && contains(bytes, b"\"connection.password\":\"sealed:v1:");
    });
    assert!(sealed_in_configs, "the scan reads the topics' files: the config topic's holds the password sealed");

    for sql in [format!("DROP DATABASE IF EXISTS `{label}`"), format!("DROP USER IF EXISTS '{label}'@'%'")] {
        admin.execute(AssertSqlSafe(sql)).await.unwrap();
    }
}

/// Every file under `dir`, with its bytes.
fn scan(dir: &Path, visit: &mut dyn FnMut(&Path, &[u8])) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            scan(&path, visit);
        } else {
            visit(&path, &std::fs::read(&path).unwrap());
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
