//! The plugin path is live: a plugin dropped in is offered without a restart (and a stored
//! connector that waited for it starts), a broken one is skipped, and a removed one is no
//! longer offered while its running connector keeps running.

use std::path::Path;
use std::time::Duration;

use wasmconnect::standalone::StandaloneConfig;
use wasmconnect_e2e::*;

const WAIT: Duration = Duration::from_secs(60);

/// Copies a built plugin: its component, which carries its manifest, or for a 1.0 plugin the
/// component and its `.toml` (last: a component without one is skipped until it arrives).
fn copy_plugin(name: &str, to: &Path) {
    std::fs::copy(plugin_path().join(format!("{name}.wasm")), to.join(format!("{name}.wasm"))).unwrap();
    let manifest = plugin_path().join(format!("{name}.toml"));
    if manifest.exists() {
        std::fs::copy(manifest, to.join(format!("{name}.toml"))).unwrap();
    }
}

async fn failures(api: &Api) -> Vec<String> {
    let (code, failures) = api.get("/connector-plugins/errors").await;
    assert_eq!(code, 200, "{failures}");
    failures.as_array().unwrap().iter().map(|f| format!("{}: {}", f["path"].as_str().unwrap(), f["error"].as_str().unwrap())).collect()
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

    // A broken component is skipped and reported; nothing else changes.
    std::fs::write(plugins.path().join("broken.wasm"), b"not a component").unwrap();
    std::fs::write(plugins.path().join("broken.toml"), "this is = not [a manifest").unwrap();
    let reported = eventually("the broken plugin to be reported", WAIT, || async {
        let failures = failures(&api).await;
        (!failures.is_empty()).then_some(failures)
    })
    .await;
    assert!(reported[0].contains("broken.wasm is not a usable plugin component"), "{reported:?}");
    assert_eq!(classes(&api).await.len(), 2, "{:?}", classes(&api).await);

    // ChaosSource is removed: no longer offered, but the running connector keeps running.
    assert!(classes(&api).await.iter().any(|c| c.ends_with("ChaosSource")));
    std::fs::remove_file(plugins.path().join("chaos-source.wasm")).unwrap();
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

/// Two versions of one plugin side by side, `connector.plugin.version` choosing between them
/// (the newest by default), and the status saying which runs. The plugin is built against
/// contract 1.0.0 with a manifest file beside it: an older minor version than the host's, and
/// it runs. A component that is no component, and one that is not of the world its manifest
/// says, are refused with errors saying so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_side_by_side_and_plugins_of_an_older_contract() {
    let plugins = tempfile::tempdir().unwrap();
    copy_plugin("compat-source", plugins.path());
    let v2 = std::fs::read_to_string(plugin_path().join("compat-source.toml")).unwrap().replace("version = \"1.0.0\"", "version = \"2.0.0\"");
    std::fs::copy(plugin_path().join("compat-source.wasm"), plugins.path().join("compat-source-2.wasm")).unwrap();
    std::fs::write(plugins.path().join("compat-source-2.toml"), v2).unwrap();
    std::fs::copy(plugin_path().join("compat-source.wasm"), plugins.path().join("liar.wasm")).unwrap();
    std::fs::write(plugins.path().join("liar.toml"), "name = \"liar\"\nversion = \"1.0.0\"\nkind = \"sink\"\nclass = \"Liar\"\n").unwrap();
    std::fs::write(plugins.path().join("garbage.wasm"), b"\0asm but nothing else").unwrap();

    let data = tempfile::tempdir().unwrap();
    let worker = start_worker_with(StandaloneConfig { plugin_path: vec![plugins.path().to_owned()], ..worker_config(data.path()) }).await;
    let api = Api::new(&worker);
    let (_, listed) = api.get("/connector-plugins").await;
    let versions: Vec<&str> = listed.as_array().unwrap().iter().map(|p| p["version"].as_str().unwrap()).collect();
    assert_eq!(versions, ["1.0.0", "2.0.0"], "{listed}");
    let failures = failures(&api).await;
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert!(failures[0].contains("garbage.wasm is not a usable plugin component"), "{failures:?}");
    assert!(failures[1].contains("liar.wasm: its manifest says kind \"sink\", but the component does not implement that world"), "{failures:?}");
    assert!(failures[1].contains("sink-task"), "names what is missing: {failures:?}");
    let mut out = Vec::new();
    let client = wasmconnect::cli::Client::new(&format!("http://{}", worker.rest_addr()));
    client.plugins(wasmconnect::cli::PluginsCommand::Errors, false, &mut out).await.unwrap();
    let printed = String::from_utf8(out).unwrap();
    assert!(printed.contains("garbage.wasm\n  ") && printed.contains("liar.wasm\n  "), "{printed}");

    let ticks = |name: &str, version: Option<&str>| {
        let mut config = serde_json::json!({"connector.class": "CompatSource", "topic": name});
        if let Some(version) = version {
            config["connector.plugin.version"] = version.into();
        }
        serde_json::json!({"name": name, "config": config})
    };
    assert_eq!(api.post("/connectors", &ticks("old", Some("1.0.0"))).await.0, 201);
    assert_eq!(api.post("/connectors", &ticks("new", None)).await.0, 201);
    for (name, version) in [("old", "1.0.0"), ("new", "2.0.0")] {
        let (_, status) = api.get(&format!("/connectors/{name}/status")).await;
        assert_eq!(status["connector"]["version"], version, "{status}");
        let values = eventually("ticks from the 1.0 plugin", WAIT, || async {
            let values = api.topic_values(name).await;
            (values.len() >= 2).then_some(values)
        })
        .await;
        assert_eq!(values[..2], [serde_json::json!({"schema": {"type": "string", "optional": false}, "payload": "tick 0"}),
            serde_json::json!({"schema": {"type": "string", "optional": false}, "payload": "tick 1"})]);
    }
    let (code, body) = api.post("/connectors", &ticks("none", Some("9.9.9"))).await;
    assert_eq!(code, 400);
    assert!(body["message"].as_str().unwrap().contains("at connector.plugin.version \"9.9.9\""), "{body}");
    worker.shutdown().await.unwrap();
}
