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

/// A POST declaring a 3 MiB body, over the 2 MiB limit. Only the headers are sent: a server
/// that refuses early closes the connection, and a client still sending would see a reset
/// instead of the answer.
async fn oversized_post(worker: &wasmconnect::standalone::Standalone) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(worker.rest_addr()).await.unwrap();
    let head = format!("POST /connectors HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", 3 << 20);
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    let status = answer.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = answer.split("\r\n\r\n").nth(1).unwrap();
    (status, serde_json::from_str(body).unwrap())
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
    assert_error(oversized_post(&worker).await, 413, "limit");

    let mut unknown = source_config(&db);
    unknown["config"]["connector.class"] = json!("com.example.NoSuchConnector");
    assert_error(api.post("/connectors", &unknown).await, 400, "io.confluent.connect.jdbc.JdbcSourceConnector");
    // It starts with what to do.
    assert_error(api.post("/connectors", &unknown).await, 400, "\"com.example.NoSuchConnector\": correct the class, or put the plugin's");

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_creates_of_one_name_give_one_201_and_one_409() {
    let db = TestDb::create("concurrent").await;
    db.exec(USERS_DDL).await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let config = source_config(&db);
    let (a, b) = tokio::join!(api.post("/connectors", &config), api.post("/connectors", &config));
    let mut codes = vec![a.0, b.0];
    codes.sort();
    assert_eq!(codes, vec![201, 409], "{a:?} {b:?}");
    assert_eq!(api.get("/connectors").await.1, json!(["my-source-connect"]));
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}
