//! The plugin path is live: a plugin dropped in is offered without a restart (and a stored
//! connector that waited for it starts), a broken one is skipped, and a removed one is no
//! longer offered while its running connector keeps running.

use std::path::Path;
use std::time::Duration;

use wasmconnect::standalone::StandaloneConfig;
use wasmconnect_e2e::*;

const WAIT: Duration = Duration::from_secs(60);

fn copy_plugin(name: &str, to: &Path) {
    // The manifest last: a component without one is skipped until it arrives.
    for extension in ["wasm", "toml"] {
        std::fs::copy(plugin_path().join(format!("{name}.{extension}")), to.join(format!("{name}.{extension}"))).unwrap();
    }
}

async fn classes(api: &Api) -> Vec<String> {
    let (_, plugins) = api.get("/connector-plugins").await;
    plugins.as_array().unwrap().iter().map(|p| p["class"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugins_come_and_go_without_a_restart() {
    let db = TestDb::create("pluginpath").await;
    db.exec(USERS_DDL).await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    assert_eq!(Api::new(&worker).post("/connectors", &source_config(&db)).await.0, 201);
    worker.shutdown().await.unwrap();

    // The worker comes back with only ChaosSource installed: the JDBC source waits, FAILED.
    let plugins = tempfile::tempdir().unwrap();
    copy_plugin("chaos-source", plugins.path());
    let config = StandaloneConfig { plugin_path: vec![plugins.path().to_owned()], ..worker_config(data.path()) };
    let worker = start_worker_with(config).await;
    let api = Api::new(&worker);
    assert!(classes(&api).await.iter().all(|c| !c.contains("Jdbc")));
    assert_eq!(api.get("/connectors/my-source-connect/status").await.1["connector"]["state"], "FAILED");
    let ticks = serde_json::json!({"name": "ticks", "config": {"connector.class": "ChaosSource", "chaos.behaviour": "records", "topic": "ticks"}});
    assert_eq!(api.post("/connectors", &ticks).await.0, 201);

    // The JDBC source is dropped in: offered, and the waiting connector starts.
    copy_plugin("jdbc-source", plugins.path());
    eventually("the JDBC source to be offered", WAIT, || async {
        classes(&api).await.contains(&"io.confluent.connect.jdbc.JdbcSourceConnector".to_owned()).then_some(())
    })
    .await;
    eventually("the waiting connector to run", WAIT, || async {
        let (_, status) = api.get("/connectors/my-source-connect/status").await;
        (status["connector"]["state"] == "RUNNING" && status["tasks"][0]["state"] == "RUNNING").then_some(())
    })
    .await;
    db.exec("INSERT INTO users (user_id, pwd) VALUES ('alice', 'secret')").await;
    eventually("the row on the topic", WAIT, || async { (api.topic_values("my_topic_users").await.len() == 1).then_some(()) }).await;

    // A broken component is skipped; nothing else changes.
    std::fs::write(plugins.path().join("broken.wasm"), b"not a component").unwrap();
    std::fs::write(plugins.path().join("broken.toml"), "this is = not [a manifest").unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(classes(&api).await.len(), 2, "{:?}", classes(&api).await);

    // ChaosSource is removed: no longer offered, but the running connector keeps running.
    assert!(classes(&api).await.iter().any(|c| c.ends_with("ChaosSource")));
    for extension in ["wasm", "toml"] {
        std::fs::remove_file(plugins.path().join(format!("chaos-source.{extension}"))).unwrap();
    }
    eventually("ChaosSource to be gone", WAIT, || async { (!classes(&api).await.iter().any(|c| c.ends_with("ChaosSource"))).then_some(()) })
        .await;
    let before = api.topic_values("ticks").await.len();
    eventually("more ticks", WAIT, || async { (api.topic_values("ticks").await.len() > before).then_some(()) }).await;
    assert_eq!(api.get("/connectors/ticks/status").await.1["tasks"][0]["state"], "RUNNING");
    let (code, _) = api.post("/connectors", &serde_json::json!({"name": "more-ticks", "config": {"connector.class": "ChaosSource",
        "chaos.behaviour": "records", "topic": "more"}})).await;
    assert_eq!(code, 400, "a removed plugin cannot be used for new connectors");
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}
