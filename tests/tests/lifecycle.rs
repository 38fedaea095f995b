//! Pause, resume, stop and restart, the expanded connector list, and the plugin endpoints.

use std::time::Duration;

use serde_json::json;
use wasmconnect_e2e::*;

const WAIT: Duration = Duration::from_secs(60);

async fn state(api: &Api) -> (String, Vec<String>) {
    let (_, status) = api.get("/connectors/my-source-connect/status").await;
    let tasks = status["tasks"].as_array().unwrap().iter().map(|t| t["state"].as_str().unwrap().to_owned()).collect();
    (status["connector"]["state"].as_str().unwrap().to_owned(), tasks)
}

async fn wait_for_records(api: &Api, count: usize) {
    eventually(&format!("{count} records"), WAIT, || async { (api.topic_values("my_topic_users").await.len() == count).then_some(()) }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_resume_stop_and_restart() {
    let db = TestDb::create("lifecycle").await;
    db.exec(USERS_DDL).await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    assert_eq!(api.post("/connectors", &source_config(&db)).await.0, 201);
    db.exec("INSERT INTO users (user_id, pwd) VALUES ('a', '1')").await;
    wait_for_records(&api, 1).await;

    assert_eq!(api.put("/connectors/my-source-connect/pause", &json!(null)).await.0, 202);
    assert_eq!(state(&api).await, ("PAUSED".to_owned(), vec!["PAUSED".to_owned()]));
    db.exec("INSERT INTO users (user_id, pwd) VALUES ('b', '2')").await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(api.topic_values("my_topic_users").await.len(), 1, "a paused connector reads nothing");

    assert_eq!(api.put("/connectors/my-source-connect/resume", &json!(null)).await.0, 202);
    wait_for_records(&api, 2).await;
    assert_eq!(state(&api).await, ("RUNNING".to_owned(), vec!["RUNNING".to_owned()]));

    assert_eq!(api.put("/connectors/my-source-connect/stop", &json!(null)).await.0, 204);
    assert_eq!(state(&api).await, ("STOPPED".to_owned(), vec![]));
    assert_eq!(api.get("/connectors/my-source-connect/tasks").await, (200, json!([])));
    db.exec("INSERT INTO users (user_id, pwd) VALUES ('c', '3')").await;
    assert_eq!(api.put("/connectors/my-source-connect/resume", &json!(null)).await.0, 202);
    wait_for_records(&api, 3).await;

    assert_eq!(api.post("/connectors/my-source-connect/restart", &json!(null)).await.0, 204);
    let (status, body) = api.post("/connectors/my-source-connect/restart?includeTasks=true&onlyFailed=false", &json!(null)).await;
    assert_eq!(status, 202);
    assert_eq!(body["name"], "my-source-connect");
    assert_eq!(api.post("/connectors/my-source-connect/tasks/0/restart", &json!(null)).await.0, 204);
    assert_eq!(api.post("/connectors/my-source-connect/tasks/5/restart", &json!(null)).await.0, 404);
    db.exec("INSERT INTO users (user_id, pwd) VALUES ('d', '4')").await;
    wait_for_records(&api, 4).await;
    let ids: Vec<i64> = api.topic_values("my_topic_users").await.iter().map(|v| v["payload"]["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![1, 2, 3, 4], "restarts neither lose nor repeat rows");


    // PATCH merges into the config; null removes a key.
    let patch = json!({"poll.interval.ms": "300", "table.whitelist": null});
    let (status, info) = api.send_json(reqwest::Method::PATCH, "/connectors/my-source-connect/config", &patch).await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["config"]["poll.interval.ms"], "300");
    assert!(info["config"].get("table.whitelist").is_none(), "{info}");
    assert_eq!(info["config"]["topic.prefix"], "my_topic_", "other keys stay");
    let (status, _) = api.send_json(reqwest::Method::PATCH, "/connectors/my-source-connect/config", &json!({"name": "other"})).await;
    assert_eq!(status, 400);
    db.exec("INSERT INTO users (user_id, pwd) VALUES ('e', '5')").await;
    wait_for_records(&api, 5).await;

    let (status, expanded) = api.get("/connectors?expand=status&expand=info").await;
    assert_eq!(status, 200);
    assert_eq!(expanded["my-source-connect"]["status"]["connector"]["state"], "RUNNING");
    assert_eq!(expanded["my-source-connect"]["info"]["type"], "source");
    let (status, task) = api.get("/connectors/my-source-connect/tasks/0/status").await;
    assert_eq!((status, task["id"].clone(), task["state"].clone()), (200, json!(0), json!("RUNNING")));

    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugins_are_listed_described_and_validate_configs() {
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);

    let (status, plugins) = api.get("/connector-plugins").await;
    assert_eq!(status, 200);
    for class in ["io.confluent.connect.jdbc.JdbcSourceConnector", "io.confluent.connect.jdbc.JdbcSinkConnector"] {
        assert!(plugins.as_array().unwrap().iter().any(|p| p["class"] == class), "{class} in {plugins}");
    }
    let (_, all) = api.get("/connector-plugins?connectorsOnly=false").await;
    assert!(all.as_array().unwrap().iter().any(|p| p["type"] == "converter" && p["class"] == "org.apache.kafka.connect.json.JsonConverter"), "{all}");
    assert!(!plugins.as_array().unwrap().iter().any(|p| p["type"] == "converter"), "connectors only by default");
    let (status, keys) = api.get("/connector-plugins/JdbcSourceConnector/config").await;
    assert_eq!(status, 200);
    let url = keys.as_array().unwrap().iter().find(|k| k["name"] == "connection.url").expect("connection.url");
    assert_eq!((url["required"].clone(), url["importance"].clone()), (json!(true), json!("HIGH")));

    let config = json!({"connector.class": "JdbcSourceConnector", "connection.url": "jdbc:mysql://localhost/db", "batch.max.rows": "x"});
    let (status, result) = api.put("/connector-plugins/JdbcSourceConnector/config/validate", &config).await;
    assert_eq!(status, 200);
    // mode and topic.prefix are missing; batch.max.rows is no int.
    assert_eq!(result["error_count"], 3, "{result}");
    let errors = |key: &str| {
        result["configs"].as_array().unwrap().iter().find(|c| c["value"]["name"] == key).unwrap()["value"]["errors"].as_array().unwrap().len()
    };
    assert_eq!((errors("mode"), errors("batch.max.rows"), errors("connection.url")), (1, 1, 0));
    assert_eq!(api.get("/connector-plugins/NoSuchThing/config").await.0, 404);

    worker.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_levels_change_at_run_time() {
    let data = tempfile::tempdir().unwrap();
    let (_layer, levels) = wasmconnect::loggers::LogLevels::new("info");
    let config = wasmconnect::standalone::StandaloneConfig { loggers: Some(std::sync::Arc::new(levels)), ..worker_config(data.path()) };
    let worker = start_worker_with(config).await;
    let api = Api::new(&worker);
    assert_eq!(api.get("/admin/loggers").await, (200, json!({"root": {"level": "INFO"}})));
    let (status, changed) = api.put("/admin/loggers/wasmconnect::worker", &json!({"level": "debug"})).await;
    assert_eq!((status, changed), (200, json!(["wasmconnect::worker"])));
    assert_eq!(api.get("/admin/loggers/wasmconnect::worker").await.1, json!({"level": "DEBUG"}));
    assert_eq!(api.get("/admin/loggers/wasmconnect::herder").await.1, json!({"level": "INFO"}), "the root level");
    let (status, body) = api.put("/admin/loggers/x", &json!({"level": "LOUD"})).await;
    assert_eq!(status, 400, "{body}");
    worker.shutdown().await.unwrap();

    // A worker embedded without log control says so.
    let worker = start_worker(data.path()).await;
    assert_eq!(Api::new(&worker).get("/admin/loggers").await.0, 404);
    worker.shutdown().await.unwrap();
}
