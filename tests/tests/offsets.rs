//! The offsets API: read a connector's committed offsets; change or reset them while it is
//! stopped, and see it resume from there.

use std::time::Duration;

use serde_json::json;
use wasmconnect_e2e::*;

const WAIT: Duration = Duration::from_secs(60);

async fn topic_len(api: &Api) -> usize {
    api.topic_values("my_topic_users").await.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_and_sink_offsets_can_be_read_changed_and_reset() {
    let db = TestDb::create("offsets").await;
    db.exec(USERS_DDL).await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    assert_eq!(api.post("/connectors", &source_config(&db)).await.0, 201);
    assert_eq!(api.post("/connectors", &sink_config(&db)).await.0, 201);
    db.exec("INSERT INTO users (user_id, pwd) VALUES ('a', '1'), ('b', '2'), ('c', '3')").await;
    eventually("3 rows in the sink table", WAIT, || async { (db.count("my_topic_users").await == Some(3)).then_some(()) }).await;

    // The topics each connector has used (KIP-558), and their reset.
    assert_eq!(api.get("/connectors/my-source-connect/topics").await.1, json!({"my-source-connect": {"topics": ["my_topic_users"]}}));
    assert_eq!(api.get("/connectors/my-sink-connect/topics").await.1, json!({"my-sink-connect": {"topics": ["my_topic_users"]}}));
    assert_eq!(api.put("/connectors/my-sink-connect/topics/reset", &json!(null)).await.0, 202);
    assert_eq!(api.get("/connectors/my-sink-connect/topics").await.1, json!({"my-sink-connect": {"topics": []}}));
    assert_eq!(api.get("/connectors/nope/topics").await.0, 404);

    let partition = json!({"protocol": "1", "table": format!("{}.users", db.name)});
    let (status, offsets) = api.get("/connectors/my-source-connect/offsets").await;
    assert_eq!(status, 200);
    assert_eq!(offsets, json!({"offsets": [{"partition": partition, "offset": {"incrementing": 3}}]}));
    let (_, offsets) = api.get("/connectors/my-sink-connect/offsets").await;
    assert_eq!(
        offsets,
        json!({"offsets": [{"partition": {"kafka_topic": "my_topic_users", "kafka_partition": 0}, "offset": {"kafka_offset": 3}}]})
    );

    // Only a stopped connector's offsets may change.
    let (status, body) = api.delete("/connectors/my-source-connect/offsets").await;
    assert_eq!(status, 400, "{body}");
    assert!(body["message"].as_str().unwrap().contains("STOPPED"));

    // Rewind the source to after row 1: rows 2 and 3 are read again.
    assert_eq!(api.put("/connectors/my-source-connect/stop", &json!(null)).await.0, 204);
    let patch = json!({"offsets": [{"partition": partition, "offset": {"incrementing": 1}}]});
    let (status, body) = api.send_json(reqwest::Method::PATCH, "/connectors/my-source-connect/offsets", &patch).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(api.put("/connectors/my-source-connect/resume", &json!(null)).await.0, 202);
    eventually("rows 2 and 3 again", WAIT, || async { (topic_len(&api).await == 5).then_some(()) }).await;
    eventually("the sink to write them too", WAIT, || async { (db.count("my_topic_users").await == Some(5)).then_some(()) }).await;

    // Reset the sink: it starts the topic over, so the table gets every record again.
    assert_eq!(api.put("/connectors/my-sink-connect/stop", &json!(null)).await.0, 204);
    let (status, _) = api.delete("/connectors/my-sink-connect/offsets").await;
    assert_eq!(status, 200);
    assert_eq!(api.get("/connectors/my-sink-connect/offsets").await.1, json!({"offsets": []}));
    let (status, _) = api
        .send_json(reqwest::Method::PATCH, "/connectors/my-sink-connect/offsets", &json!({"offsets": [{"partition": {"kafka_topic": "my_topic_users"}, "offset": {"kafka_offset": 1}}]}))
        .await;
    assert_eq!(status, 400, "a sink partition needs kafka_partition");
    assert_eq!(api.put("/connectors/my-sink-connect/resume", &json!(null)).await.0, 202);
    eventually("all 5 records written again", WAIT, || async { (db.count("my_topic_users").await == Some(5 + 5)).then_some(()) }).await;

    worker.shutdown().await.unwrap();
    db.drop_database().await;
}
