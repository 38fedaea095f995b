//! A record without a schema never crashes the worker and is never dropped silently: the
//! task fails with a message saying what to do, or with `errors.tolerance=all` the record
//! goes to the dead-letter queue and the good records are written.

use std::time::Duration;

use serde_json::json;
use wasmconnect_e2e::*;

const WAIT: Duration = Duration::from_secs(60);

fn envelope(id: i64) -> String {
    json!({
        "schema": {"type": "struct", "optional": false, "name": "events",
                   "fields": [{"type": "int64", "optional": false, "field": "id"}]},
        "payload": {"id": id}
    })
    .to_string()
}

fn sink(db: &TestDb, extra: serde_json::Value) -> serde_json::Value {
    let mut config = sink_config(db);
    config["config"]["topics"] = json!("events");
    for (k, v) in extra.as_object().unwrap() {
        config["config"][k] = v.clone();
    }
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_without_schema_fails_the_task_with_advice() {
    let db = TestDb::create("noschema").await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let records = json!([{"value": envelope(1)}, {"value": "{\"id\": 2}"}, {"value": envelope(3)}]);
    assert_eq!(api.post("/topics/events/records", &records).await.0, 200);

    assert_eq!(api.post("/connectors", &sink(&db, json!({}))).await.0, 201);
    let trace = eventually("the sink task to fail", WAIT, || async {
        let (_, status) = api.get("/connectors/my-sink-connect/status").await;
        (status["tasks"][0]["state"] == "FAILED").then(|| status["tasks"][0]["trace"].as_str().unwrap().to_owned())
    })
    .await;
    assert!(trace.contains("schemas.enable"), "the trace says what to change: {trace}");
    assert!(trace.contains("offset 1"), "the trace says which record: {trace}");
    // Nothing of the failing batch was committed: the bad record is still next in line.
    assert_eq!(db.count("events").await.unwrap_or(0), 0);
    assert_eq!(api.get("/connectors").await.0, 200, "the worker is still up");

    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_errors_tolerance_all_bad_records_go_to_the_dead_letter_queue() {
    let db = TestDb::create("dlq").await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let records = json!([{"value": envelope(1)}, {"value": "{\"id\": 2}"}, {"value": envelope(3)}]);
    assert_eq!(api.post("/topics/events/records", &records).await.0, 200);

    let tolerant = json!({
        "errors.tolerance": "all",
        "errors.deadletterqueue.topic.name": "events-dlq",
        "errors.deadletterqueue.context.headers.enable": "true"
    });
    assert_eq!(api.post("/connectors", &sink(&db, tolerant)).await.0, 201);
    eventually("the good records in the table", WAIT, || async { (db.count("events").await == Some(2)).then_some(()) }).await;
    let (status, dead) = api.get("/topics/events-dlq/records").await;
    assert_eq!(status, 200, "{dead}");
    assert_eq!(dead.as_array().unwrap().len(), 1, "{dead}");
    assert_eq!(dead[0]["value"], "{\"id\": 2}", "the original bytes, untouched");
    // Headers travel as [name, value] pairs: a name may repeat.
    let pairs: Vec<(String, Option<String>)> = serde_json::from_value(dead[0]["headers"].clone()).expect("context headers");
    let headers: std::collections::BTreeMap<String, Option<String>> = pairs.into_iter().collect();
    assert_eq!(headers["__connect.errors.topic"].as_deref(), Some("events"));
    assert_eq!(headers["__connect.errors.offset"].as_deref(), Some("1"));
    assert_eq!(headers["__connect.errors.connector.name"].as_deref(), Some("my-sink-connect"));
    assert!(headers["__connect.errors.exception.message"].as_deref().unwrap().contains("schemas.enable"), "{headers:?}");
    let (_, status) = api.get("/connectors/my-sink-connect/status").await;
    assert_eq!(status["tasks"][0]["state"], "RUNNING", "{status}");

    worker.shutdown().await.unwrap();
    db.drop_database().await;
}
