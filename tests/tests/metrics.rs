//! `GET /metrics`: Kafka Connect's task metrics under Prometheus names, per connector and
//! task, and the sandbox's own (plugin call time, memory, traps).

use std::time::Duration;

use serde_json::json;
use wasmconnect_e2e::*;

const WAIT: Duration = Duration::from_secs(60);

async fn scrape(worker: &wasmconnect::standalone::Standalone) -> (String, String) {
    let response = reqwest::get(format!("http://{}/metrics", worker.rest_addr())).await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    (content_type, response.text().await.unwrap())
}

/// The value of the sample `name{labels}`, labels in the order the exposition writes them.
fn sample(text: &str, name: &str, labels: &str) -> Option<f64> {
    let prefix = format!("{name}{{{labels}}} ");
    text.lines().find_map(|line| line.strip_prefix(&prefix)).map(|v| v.parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_and_sink_tasks_report_their_records_calls_and_memory() {
    let db = TestDb::create("metrics").await;
    db.exec(USERS_DDL).await;
    db.exec("INSERT INTO users (user_id, pwd) VALUES ('a', '1'), ('b', '2'), ('c', '3')").await;
    let target = TestDb::create("metricstarget").await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);

    let mut source = source_config(&db);
    // A Filter whose negated predicate ("has header never-set") matches every record drops
    // all three, so "polled" and "written" differ.
    for (k, v) in [
        ("transforms", "dropB"),
        ("transforms.dropB.type", "org.apache.kafka.connect.transforms.Filter"),
        ("transforms.dropB.predicate", "none"),
        ("transforms.dropB.negate", "true"),
        ("predicates", "none"),
        ("predicates.none.type", "org.apache.kafka.connect.transforms.predicates.HasHeaderKey"),
        ("predicates.none.name", "never-set"),
    ] {
        source["config"][k] = json!(v);
    }
    assert_eq!(api.post("/connectors", &source).await.0, 201);
    let src = r#"connector="my-source-connect",task="0""#;
    let text = eventually("the source's metrics", WAIT, || async {
        let (_, text) = scrape(&worker).await;
        // Polling and appending run on two threads: wait for the append (and its commit) too.
        let appended = sample(&text, "offset_commit_success_total", src).is_some_and(|n| n >= 1.0);
        (sample(&text, "source_record_poll_total", src) == Some(3.0) && appended).then_some(text)
    })
    .await;
    assert_eq!(sample(&text, "transform_records_dropped_total", src), Some(3.0), "{text}");
    assert_eq!(sample(&text, "source_record_write_total", src), Some(0.0), "offsets commit for dropped records too: {text}");
    assert!(sample(&text, "wasm_memory_bytes", src).unwrap() > 0.0, "{text}");
    let polls = sample(&text, "wasm_call_duration_seconds_count", r#"connector="my-source-connect",task="0",call="poll""#);
    assert!(polls.unwrap() >= 1.0, "{text}");
    assert!(sample(&text, "wasm_call_duration_seconds_count", r#"connector="my-source-connect",task="0",call="apply""#).unwrap() >= 1.0);
    assert_eq!(api.delete("/connectors/my-source-connect").await.0, 204);

    // The sink reads what a plain source writes.
    let mut plain = source_config(&db);
    plain["name"] = json!("plain");
    assert_eq!(api.post("/connectors", &plain).await.0, 201);
    assert_eq!(api.post("/connectors", &sink_config(&target)).await.0, 201);
    eventually("three rows in the target", WAIT, || async { (target.count("my_topic_users").await == Some(3)).then_some(()) }).await;
    let sink = r#"connector="my-sink-connect",task="0""#;
    let (content_type, text) = eventually("the sink's metrics", WAIT, || async {
        let (content_type, text) = scrape(&worker).await;
        let committed = sample(&text, "offset_commit_success_total", sink).is_some_and(|n| n >= 1.0);
        (sample(&text, "sink_record_send_total", sink) == Some(3.0) && committed).then_some((content_type, text))
    })
    .await;
    assert!(content_type.starts_with("application/openmetrics-text"), "{content_type}");
    // The same counts show in the task status, with the sink's consumer lag.
    let (_, status) = api.get("/connectors/my-sink-connect/status").await;
    assert_eq!(status["tasks"][0]["progress"], json!({"records_read": 3, "records_written": 3, "lag": 0}), "{status}");
    let (_, status) = api.get("/connectors/plain/status").await;
    assert_eq!(status["tasks"][0]["progress"]["records_read"], 3, "{status}");
    assert_eq!(status["tasks"][0]["progress"]["lag"], 0, "a source's lag is what it has still to read: nothing: {status}");
    assert_eq!(sample(&text, "source_record_remaining", r#"connector="plain",task="0""#), Some(0.0), "{text}");
    assert_eq!(sample(&text, "sink_record_read_total", sink), Some(3.0), "{text}");
    assert!(sample(&text, "put_batch_time_seconds_count", sink).unwrap() >= 1.0, "{text}");
    assert_eq!(sample(&text, "task_error_record_errors_total", sink), None, "no errors, no series: {text}");

    let panics = json!({"name": "panics", "config": {"connector.class": "ChaosSource", "chaos.behaviour": "panic", "topic": "out"}});
    assert_eq!(api.post("/connectors", &panics).await.0, 201);
    eventually("the trap to be counted", WAIT, || async {
        let (_, text) = scrape(&worker).await;
        (sample(&text, "wasm_traps_total", r#"connector="panics",task="0""#) == Some(1.0)).then_some(())
    })
    .await;

    worker.shutdown().await.unwrap();
    target.drop_database().await;
    db.drop_database().await;
}
