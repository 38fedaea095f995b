//! Secrets: config provider references are resolved only inside the worker, and password
//! values never come back through the REST API.

use std::time::Duration;

use serde_json::{Value, json};
use wasmconnect_e2e::*;

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_references_resolve_in_the_worker_only() {
    let db = TestDb::create("providers").await;
    db.exec(USERS_DDL).await;
    let dir = tempfile::tempdir().unwrap();
    let secrets = dir.path().join("db.properties");
    std::fs::write(&secrets, "user=root\n").unwrap();
    let variable = format!("WASMCONNECT_E2E_DB_{}", std::process::id());
    // SAFETY: the variable name is unique to this test process.
    unsafe { std::env::set_var(&variable, db.jdbc_url()) };
    let worker = start_worker(&dir.path().join("data")).await;
    let api = Api::new(&worker);

    let mut config = source_config(&db);
    config["config"]["connection.url"] = json!(format!("${{env:{variable}}}"));
    config["config"]["connection.user"] = json!(format!("${{file:{}:user}}", secrets.display()));
    assert_eq!(api.post("/connectors", &config).await.0, 201);
    db.exec("INSERT INTO users (user_id, pwd) VALUES ('a', '1')").await;
    eventually("the row on the topic", WAIT, || async { (api.topic_values("my_topic_users").await.len() == 1).then_some(()) }).await;

    // The references, not their values, are what is stored and shown.
    let (_, shown) = api.get("/connectors/my-source-connect/config").await;
    assert_eq!(shown["connection.url"], json!(format!("${{env:{variable}}}")));
    let stored = stored_configs(&worker);
    // (The database's name may: task configs name the tables they read, qualified with it.)
    assert!(!stored.contains(&db.jdbc_url()), "the database URL stays out of connect-configs: {stored}");

    let mut missing = source_config(&db);
    missing["name"] = json!("broken");
    missing["config"]["connection.url"] = json!("${env:WASMCONNECT_E2E_NO_SUCH_VARIABLE}");
    assert_eq!(api.post("/connectors", &missing).await.0, 201);
    let (_, status) = api.get("/connectors/broken/status").await;
    assert_eq!(status["connector"]["state"], "FAILED");
    assert!(status["connector"]["trace"].as_str().unwrap().contains("WASMCONNECT_E2E_NO_SUCH_VARIABLE"), "{status}");

    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_are_hidden_in_every_answer_and_survive_a_round_trip() {
    let db = TestDb::create("hidden").await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let secret = "s3cret-value-123";
    let mut config = sink_config(&db);
    config["config"]["connection.password"] = json!(secret);

    let (status, created) = api.post("/connectors", &config).await;
    assert_eq!(status, 201);
    let answers = vec![
        created,
        api.get("/connectors/my-sink-connect").await.1,
        api.get("/connectors/my-sink-connect/config").await.1,
        api.get("/connectors/my-sink-connect/tasks").await.1,
        api.get("/connectors/my-sink-connect/tasks-config").await.1,
        api.get("/connectors/my-sink-connect/status").await.1,
        api.get("/connectors?expand=info&expand=status").await.1,
    ];
    for answer in &answers {
        assert!(!answer.to_string().contains(secret), "leaked: {answer}");
    }
    assert_eq!(answers[2]["connection.password"], "[hidden]");

    // GET, change something else, PUT back: the password is kept, not replaced by the mask.
    let mut edited = answers[2].clone();
    edited["batch.size"] = json!("100");
    assert_eq!(api.put("/connectors/my-sink-connect/config", &edited).await.0, 200);
    let stored = stored_configs(&worker);
    let last = stored.lines().rev().find(|r| r.starts_with("connector-my-sink-connect\t")).unwrap();
    assert!(!last.contains(secret) && last.contains("\"connection.password\":\"sealed:v1:"), "stored sealed: {last}");
    assert!(last.contains("\"batch.size\":\"100\""));
    // Opened with the worker's key, the stored config has the real password, not the mask.
    let sealer = wasmconnect::herder::sealing::Sealer::from_file(&data.path().join("config.key"), false).unwrap();
    let record: Value = serde_json::from_str(last.split_once('\t').unwrap().1).unwrap();
    let properties = serde_json::from_value(record["properties"].clone()).unwrap();
    assert_eq!(sealer.open(properties).unwrap()["connection.password"], secret, "the stored config keeps the real password");
    // The REST API does not show the stored configs either.
    let (code, body) = api.get("/topics/connect-configs/records").await;
    assert_eq!(code, 403, "{body}");
    assert!(!body.to_string().contains(secret));

    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

/// The config topic's records as `key<TAB>value` lines, read from the log itself.
fn stored_configs(worker: &wasmconnect::standalone::Standalone) -> String {
    let tp = wasmconnect_log::TopicPartition { topic: "connect-configs".into(), partition: 0 };
    let text = |b: Option<Vec<u8>>| String::from_utf8(b.unwrap_or_default()).unwrap();
    worker.log().read(&tp, 0, 10_000).unwrap().into_iter().map(|r| format!("{}\t{}\n", text(r.key), text(r.value))).collect()
}
