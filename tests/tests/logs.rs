//! Log lines carry their context: what a task logs, and what its plugin logs through the
//! `log` import, names the connector and the task, in the human format and in JSON
//! (`--log-format json`), as the binary writes them.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use wasmconnect_e2e::*;

/// Log output kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tasks_log_lines_name_its_connector_and_task() {
    let (human, json) = (Captured::default(), Captured::default());
    let (h, j) = (human.clone(), json.clone());
    // Installed before the worker starts, so the harness keeps it (it sets one only if none is).
    tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new("info"))
        .with(wasmconnect::loggers::output(false, move || h.clone(), false))
        .with(wasmconnect::loggers::output(true, move || j.clone(), false))
        .init();

    let db = TestDb::create("logs").await;
    db.exec(USERS_DDL).await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    assert_eq!(api.post("/connectors", &source_config(&db)).await.0, 201);

    // The JDBC source logs where it starts reading, through the host's `log` import.
    let line = eventually("the plugin's log line", Duration::from_secs(60), || async {
        human.text().lines().find(|l| l.contains("reading table users")).map(str::to_owned)
    })
    .await;
    assert!(line.contains("INFO") && line.contains("task{connector=my-source-connect task=0}"), "{line}");

    let object: Value = json
        .text()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|o| o["fields"]["message"].as_str().is_some_and(|m| m.contains("reading table users")))
        .expect("the same line as JSON");
    assert_eq!(object["level"], "INFO", "{object}");
    assert_eq!((&object["span"]["name"], &object["span"]["connector"], &object["span"]["task"]), (&"task".into(), &"my-source-connect".into(), &0.into()), "{object}");
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}
