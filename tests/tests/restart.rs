//! A restart of the worker resumes every connector from its committed offsets: no row lost,
//! none repeated.

use std::time::Duration;

use sqlx::Row;
use wasmconnect::standalone::StandaloneConfig;
use wasmconnect_e2e::*;

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_resumes_source_and_sink_exactly_once() {
    let db = TestDb::create("restart").await;
    db.exec(USERS_DDL).await;
    let data = tempfile::tempdir().unwrap();

    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    assert_eq!(api.post("/connectors", &source_config(&db)).await.0, 201);
    assert_eq!(api.post("/connectors", &sink_config(&db)).await.0, 201);
    for i in 1..=3 {
        db.exec(&format!("INSERT INTO users (user_id, pwd) VALUES ('u{i}', 'p{i}')")).await;
    }
    eventually("3 rows in the sink table", WAIT, || async { (db.count("my_topic_users").await == Some(3)).then_some(()) }).await;
    worker.shutdown().await.unwrap();

    // Rows written while the worker is down are picked up after the restart.
    for i in 4..=5 {
        db.exec(&format!("INSERT INTO users (user_id, pwd) VALUES ('u{i}', 'p{i}')")).await;
    }
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let (status, names) = api.get("/connectors").await;
    assert_eq!((status, names), (200, serde_json::json!(["my-sink-connect", "my-source-connect"])));
    eventually("5 rows in the sink table", WAIT, || async { (db.count("my_topic_users").await == Some(5)).then_some(()) }).await;
    // Give a duplicate the chance to show up before counting.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let ids: Vec<i64> = api.topic_values("my_topic_users").await.iter().map(|v| v["payload"]["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![1, 2, 3, 4, 5], "every row exactly once on the topic, in order");
    let rows: Vec<i32> = sqlx::query("SELECT id FROM my_topic_users ORDER BY id")
        .fetch_all(&db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(rows, vec![1, 2, 3, 4, 5], "every row exactly once in the sink table");

    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connector_whose_plugin_is_gone_stays_visible_as_failed() {
    let db = TestDb::create("noplugin").await;
    db.exec(USERS_DDL).await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    assert_eq!(Api::new(&worker).post("/connectors", &source_config(&db)).await.0, 201);
    worker.shutdown().await.unwrap();

    let empty_plugin_path = tempfile::tempdir().unwrap();
    let config = StandaloneConfig { plugin_path: vec![empty_plugin_path.path().to_owned()], ..worker_config(data.path()) };
    let worker = start_worker_with(config).await;
    let api = Api::new(&worker);
    assert_eq!(api.get("/connectors").await, (200, serde_json::json!(["my-source-connect"])));
    let (_, status) = api.get("/connectors/my-source-connect/status").await;
    assert_eq!(status["connector"]["state"], "FAILED", "{status}");
    assert!(status["connector"]["trace"].as_str().unwrap().contains("JdbcSourceConnector"), "{status}");
    assert_eq!(api.get("/connectors/my-source-connect").await.1["type"], "unknown");
    let (code, body) = api.put("/connectors/my-source-connect/pause", &serde_json::Value::Null).await;
    assert_eq!(code, 400, "{body}");
    assert_eq!(api.post("/connectors", &source_config(&db)).await.0, 409);
    assert_eq!(api.delete("/connectors/my-source-connect").await.0, 204);
    assert_eq!(api.get("/connectors").await, (200, serde_json::json!([])));
    worker.shutdown().await.unwrap();

    // Deleted for good: it does not come back when the plugin does.
    let worker = start_worker(data.path()).await;
    assert_eq!(Api::new(&worker).get("/connectors").await, (200, serde_json::json!([])));
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offset_flush_interval_ms_spaces_sink_commits_and_a_stop_commits_the_rest() {
    let db = TestDb::create("flushinterval").await;
    db.exec(USERS_DDL).await;
    let data = tempfile::tempdir().unwrap();
    let worker_settings = [("offset.flush.interval.ms".to_owned(), "600000".to_owned())].into();
    let worker = start_worker_with(StandaloneConfig { worker_config: worker_settings, ..worker_config(data.path()) }).await;
    let api = Api::new(&worker);
    assert_eq!(api.post("/connectors", &source_config(&db)).await.0, 201);
    assert_eq!(api.post("/connectors", &sink_config(&db)).await.0, 201);
    for i in 1..=3 {
        db.exec(&format!("INSERT INTO users (user_id, pwd) VALUES ('u{i}', 'p{i}')")).await;
    }
    eventually("3 rows in the sink table", WAIT, || async { (db.count("my_topic_users").await == Some(3)).then_some(()) }).await;
    let (_, offsets) = api.get("/connectors/my-sink-connect/offsets").await;
    assert_eq!(offsets["offsets"], serde_json::json!([]), "nothing committed before the interval: {offsets}");
    worker.shutdown().await.unwrap();

    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let (_, offsets) = api.get("/connectors/my-sink-connect/offsets").await;
    assert_eq!(offsets["offsets"][0]["offset"]["kafka_offset"], 3, "the stop committed what was put: {offsets}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(db.count("my_topic_users").await, Some(3), "nothing was written twice");
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}
