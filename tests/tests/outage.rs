//! A task whose database is down when it starts waits for it, retrying with backoff, instead
//! of failing: the connector comes up on its own once the database does.

use std::time::Duration;

use serde_json::json;
use wasmconnect_e2e::*;

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sink_whose_database_is_down_at_start_waits_for_it() {
    let db = TestDb::create("startoutage").await;
    let proxy = TcpProxy::start("127.0.0.1:3306").await;
    proxy.cut();
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let envelope = json!({
        "schema": {"type": "struct", "optional": false, "fields": [{"type": "int64", "optional": false, "field": "id"}]},
        "payload": {"id": 1}
    });
    assert_eq!(api.post("/topics/events/records", &json!([{"value": envelope.to_string()}])).await.0, 200);

    let mut sink = sink_config(&db);
    sink["config"]["topics"] = json!("events");
    sink["config"]["connection.url"] = json!(format!("jdbc:mysql://127.0.0.1:{}/{}", proxy.port, db.name));
    assert_eq!(api.post("/connectors", &sink).await.0, 201);
    // Several start attempts fail meanwhile; the task is not given up.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (_, status) = api.get("/connectors/my-sink-connect/status").await;
    assert_eq!(status["tasks"][0]["state"], "RUNNING", "{status}");
    let trace = status["tasks"][0]["trace"].as_str().unwrap_or_default();
    assert!(trace.starts_with("retrying start (attempt "), "the status says what is going on: {status}");
    assert_eq!(db.count("events").await, None);

    proxy.restore();
    eventually("the record once the database is back", WAIT, || async { (db.count("events").await == Some(1)).then_some(()) }).await;
    let (_, status) = api.get("/connectors/my-sink-connect/status").await;
    assert_eq!(status["tasks"][0].get("trace"), None, "the retry note is gone: {status}");

    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

/// With `errors.retry.timeout` the task gives up once the failures have lasted that long,
/// FAILED with the last error; a bad value is refused when the connector is created.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_retry_timeout_bounds_the_retries() {
    let db = TestDb::create("retrytimeout").await;
    let proxy = TcpProxy::start("127.0.0.1:3306").await;
    proxy.cut();
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let mut sink = sink_config(&db);
    sink["config"]["topics"] = json!("events");
    sink["config"]["connection.url"] = json!(format!("jdbc:mysql://127.0.0.1:{}/{}", proxy.port, db.name));
    sink["config"]["errors.retry.timeout"] = json!("soon");
    let (status, body) = api.post("/connectors", &sink).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["message"].as_str().unwrap().contains("errors.retry.timeout"), "{body}");

    sink["config"]["errors.retry.timeout"] = json!("1000");
    assert_eq!(api.post("/connectors", &sink).await.0, 201);
    let trace = eventually("the task to give up", WAIT, || async {
        let (_, status) = api.get("/connectors/my-sink-connect/status").await;
        (status["tasks"][0]["state"] == "FAILED").then(|| status["tasks"][0]["trace"].as_str().unwrap().to_owned())
    })
    .await;
    assert!(trace.contains("errors.retry.timeout") && trace.contains("the last error"), "{trace}");
    assert!(trace.starts_with("The database cannot be reached: check connection.url"), "the first line says what to do: {trace}");
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}
