//! Bad requests get Kafka Connect's status codes and error body, and change nothing.

use serde_json::{Value, json};
use wasmconnect_e2e::*;

fn assert_error(response: (u16, Value), status: u16, message_part: &str) {
    let (code, body) = response;
    assert_eq!(code, status, "{body}");
    assert_eq!(body["error_code"], json!(status), "{body}");
    let message = body["message"].as_str().expect("a message");
    assert!(message.contains(message_part), "{message:?} should mention {message_part:?}");
    assert_eq!(body.as_object().unwrap().len(), 2, "only error_code and message: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_clear_errors_and_change_nothing() {
    let db = TestDb::create("badinput").await;
    db.exec(USERS_DDL).await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);

    assert_error(api.post_raw("/connectors", "{\"name\": \"x\", \"config\": {").await, 400, "not valid JSON");
    assert_error(api.post_raw("/connectors", "{\"name\": \"x\", \"config\": {").await, 400, "column");
    let huge = format!("{{\"name\":\"x\",\"config\":{{\"k\":\"{}\"}}}}", "x".repeat(3 << 20));
    assert_error(api.post_raw("/connectors", &huge).await, 413, "limit");

    let mut unknown = source_config(&db);
    unknown["config"]["connector.class"] = json!("com.example.NoSuchConnector");
    assert_error(api.post("/connectors", &unknown).await, 400, "io.confluent.connect.jdbc.JdbcSourceConnector");

    let mut missing = source_config(&db);
    missing["config"].as_object_mut().unwrap().remove("connection.url");
    assert_error(api.post("/connectors", &missing).await, 400, "connection.url");

    let mut no_class = source_config(&db);
    no_class["config"].as_object_mut().unwrap().remove("connector.class");
    assert_error(api.post("/connectors", &no_class).await, 400, "connector.class");

    let mut bad_type = source_config(&db);
    bad_type["config"]["batch.max.rows"] = json!("lots");
    assert_error(api.post("/connectors", &bad_type).await, 400, "batch.max.rows");

    assert_eq!(api.get("/connectors").await, (200, json!([])), "nothing was created by bad requests");

    assert_eq!(api.post("/connectors", &source_config(&db)).await.0, 201);
    assert_error(api.post("/connectors", &source_config(&db)).await, 409, "already exists");

    assert_error(api.get("/connectors/nope").await, 404, "nope");
    assert_error(api.get("/connectors/nope/status").await, 404, "nope");
    assert_error(api.get("/connectors/nope/config").await, 404, "nope");
    assert_error(api.delete("/connectors/nope").await, 404, "nope");

    let mut other_name = source_config(&db)["config"].clone();
    other_name["name"] = json!("somebody-else");
    assert_error(api.put("/connectors/my-source-connect/config", &other_name).await, 400, "somebody-else");

    worker.shutdown().await.unwrap();
    db.drop_database().await;
}
