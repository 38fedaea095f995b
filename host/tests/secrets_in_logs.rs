//! A password given in a connector config shows up nowhere a person or a log collector
//! could read it: not in the worker's log lines (at debug level, with a database that
//! refuses the password, so errors are logged), not in any REST answer, not in a status trace.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const SECRET: &str = "pw-7f3a9c-do-not-log";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_appears_in_no_log_line_and_no_answer() {
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

    // MariaDB's root has no password, so this one is refused and the task retries, logging why.
    let config = json!({"name": "leaky", "config": {
        "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector",
        "connection.url": format!("jdbc:mysql://127.0.0.1:3306/test?user=root&password={SECRET}"),
        "connection.user": "root", "connection.password": SECRET,
        "mode": "bulk", "table.whitelist": "no_such_table", "topic.prefix": "leak_"}});
    let mut answers = Vec::new();
    let created = http.post(format!("{base}/connectors")).json(&config).send().await.unwrap();
    answers.push(created.text().await.unwrap());
    // Until the task has failed or retried at least once, so its error is in the log.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status: Value = http.get(format!("{base}/connectors/leaky/status")).send().await.unwrap().json().await.unwrap();
        let task = &status["tasks"][0];
        if task["state"] == "FAILED" || task["trace"].is_string() || status["connector"]["state"] == "FAILED" {
            break;
        }
        assert!(Instant::now() < deadline, "no failure to log: {status}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for path in ["/connectors?expand=status&expand=info", "/connectors/leaky", "/connectors/leaky/config", "/connectors/leaky/tasks",
        "/connectors/leaky/status", "/connectors/leaky/offsets", "/topics/connect-configs/records?offset=0&max=100"]
    {
        answers.push(http.get(format!("{base}{path}")).send().await.unwrap().text().await.unwrap());
    }
    worker.kill().unwrap();
    worker.wait().unwrap();
    let log = reader.join().unwrap();

    assert!(log.contains("leaky"), "the log covers the connector");
    for line in log.lines() {
        assert!(!line.contains(SECRET), "the password is in a log line: {line}");
    }
    for answer in &answers {
        assert!(!answer.contains(SECRET), "the password is in an answer: {answer}");
    }
}
