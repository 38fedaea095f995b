//! `wasmconnect plugin inspect|test`: a plugin author runs a component in the sandbox
//! without a worker and sees what comes out.

use std::io::Write;
use std::time::Duration;

use serde_json::{Value, json};
use wasmconnect::cli::plugin::{Kind, PluginCommand, run};
use wasmconnect_e2e::*;

/// Runs a `plugin` command as the CLI does (off the async workers) and returns its output.
async fn plugin(command: PluginCommand) -> anyhow::Result<String> {
    let tokio = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        run(command, tokio, &mut out)?;
        Ok(String::from_utf8(out)?)
    })
    .await?
}

fn component(name: &str) -> std::path::PathBuf {
    plugin_path().join(format!("{name}.wasm"))
}

fn file(dir: &std::path::Path, name: &str, contents: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::File::create(&path).unwrap().write_all(contents.as_bytes()).unwrap();
    path
}

fn lines(output: &str) -> Vec<Value> {
    output.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspect_shows_the_manifest_and_the_wit_interfaces() {
    let output = plugin(PluginCommand::Inspect { plugin: component("jdbc-source") }).await.unwrap();
    assert!(output.starts_with("jdbc-source 0.1.0 (source)"), "{output}");
    assert!(output.contains("class: io.confluent.connect.jdbc.JdbcSourceConnector (aliases: JdbcSource)"), "{output}");
    assert!(output.contains("contract: wasmconnect:connector@1.2.0 (this host: 1.2.0)"), "{output}");
    assert!(output.contains("wasmconnect:connector/sql@1.2.0"), "imports: {output}");
    assert!(
        output.contains("exports: wasmconnect:connector/plugin@1.2.0, wasmconnect:connector/connector@1.2.0, wasmconnect:connector/source-task@1.2.0"),
        "{output}"
    );
    assert!(output.contains("connection.url (required)"), "{output}");
    let old = plugin(PluginCommand::Inspect { plugin: component("compat-source") }).await.unwrap();
    assert!(old.contains("contract: wasmconnect:connector@1.0.0 (this host: 1.2.0)"), "{old}");
    let legacy = plugin(PluginCommand::Inspect { plugin: component("legacy-transforms") }).await.unwrap();
    assert!(legacy.contains("contract: wasmconnect:connector@1.1.0 (this host: 1.2.0)"), "{legacy}");
    let transforms = plugin(PluginCommand::Inspect { plugin: component("connect-transforms") }).await.unwrap();
    assert!(transforms.contains("transform: org.apache.kafka.connect.transforms.MaskField$Value [fields (required)"), "{transforms}");
    assert!(transforms.contains("predicate: org.apache.kafka.connect.transforms.predicates.TopicNameMatches"), "{transforms}");
    let missing = plugin(PluginCommand::Inspect { plugin: plugin_path().join("nothing.wasm") }).await.unwrap_err();
    assert!(missing.to_string().contains("cannot read plugin"), "{missing}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_polls_a_source_puts_into_a_sink_and_applies_transforms() {
    let db = TestDb::create("plugintest").await;
    db.exec(USERS_DDL).await;
    db.exec("INSERT INTO users (user_id, pwd) VALUES ('alice', 'a'), ('bob', 'b')").await;
    let dir = tempfile::tempdir().unwrap();

    // A source: polled once, every row with its offset.
    let source = file(dir.path(), "source.json", &source_config(&db).to_string());
    let polled = plugin(PluginCommand::Test { plugin: component("jdbc-source"), config: source, input: None, polls: 1 }).await.unwrap();
    let records = lines(&polled);
    assert_eq!(records.len(), 2, "{polled}");
    assert_eq!(records[0]["topic"], "my_topic_users");
    assert_eq!(records[0]["value"]["payload"]["user_id"], "alice");
    assert_eq!(records[1]["source_offset"], json!({"incrementing": 2}));

    // Transforms: the records of the input file, masked and routed.
    let envelope = |id: i64, pwd: &str| {
        json!({"schema": {"type": "struct", "fields": [{"field": "id", "type": "int64"}, {"field": "pwd", "type": "string"}]},
               "payload": {"id": id, "pwd": pwd}})
    };
    let input = [json!({"topic": "users", "value": envelope(1, "s3cret")}), json!({"topic": "users", "value": envelope(2, "hunter2")})];
    let input = file(dir.path(), "in.jsonl", &input.iter().map(Value::to_string).collect::<Vec<_>>().join("\n"));
    let chain = json!({"transforms": "mask,route", "transforms.mask.type": "MaskField$Value", "transforms.mask.fields": "pwd",
                       "transforms.route.type": "RegexRouter", "transforms.route.regex": "(.*)", "transforms.route.replacement": "masked_$1"});
    let config = file(dir.path(), "chain.json", &chain.to_string());
    let output = plugin(PluginCommand::Test { plugin: component("connect-transforms"), config, input: Some(input.clone()), polls: 1 }).await.unwrap();
    let records = lines(&output);
    assert_eq!(records.len(), 2, "{output}");
    assert!(records.iter().all(|r| r["topic"] == "masked_users" && r["value"]["payload"]["pwd"] == ""), "{output}");

    // A sink: the input written into the database.
    let mut sink = sink_config(&db);
    sink["config"]["topics"] = json!("users");
    sink["config"]["table.name.format"] = json!("copied_${topic}");
    let config = file(dir.path(), "sink.json", &sink.to_string());
    let output = plugin(PluginCommand::Test { plugin: component("jdbc-sink"), config, input: Some(input), polls: 1 }).await.unwrap();
    assert_eq!(lines(&output), vec![json!({"put": 2, "result": "ok"})]);
    assert_eq!(db.count("copied_users").await, Some(2));

    // A config the transforms reject is reported per key.
    let bad = file(dir.path(), "bad.json", &json!({"transforms": "mask", "transforms.mask.type": "MaskField$Value"}).to_string());
    let err = plugin(PluginCommand::Test { plugin: component("connect-transforms"), config: bad, input: Some(dir.path().join("in.jsonl")), polls: 1 })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("transforms.mask.fields"), "{err}");
    db.drop_database().await;
}

/// From nothing to running plugins: `new` makes a crate of each kind, `build` makes its
/// component, `test` runs it in the sandbox, and a worker whose plugin path has the three runs
/// them as connectors: the generator feeds a topic through the redacting transform, and the
/// sink reads it. The manifests come from the components (the SDK's builder), validators too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_and_build_make_plugins_that_run_in_a_worker() {
    let dir = tempfile::tempdir().unwrap();
    // Not the target directory of the running tests, which cargo holds locked meanwhile.
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| dir.path().join("target"), |t| std::path::PathBuf::from(t).join("plugin-scaffold"));
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    let mut components = Vec::new();
    for kind in [Kind::Source, Kind::Sink, Kind::Transform] {
        let name = format!("my-{kind:?}").to_lowercase();
        let crate_dir = dir.path().join(&name);
        let created = plugin(PluginCommand::New { name: name.clone(), kind, dir: Some(crate_dir.clone()), sdk: None }).await.unwrap();
        assert!(created.contains("wasmconnect plugin build"), "{created}");
        let built = plugin(PluginCommand::Build { dir: crate_dir.clone(), target_dir: Some(target.clone()) }).await.unwrap();
        assert!(built.contains(&format!("{name}.wasm")), "{built}");
        let component = crate_dir.join("dist").join(format!("{name}.wasm"));
        std::fs::copy(&component, plugins.join(format!("{name}.wasm"))).unwrap();
        components.push(component);
    }

    let config = file(dir.path(), "source.json", &json!({"topic": "ticks", "rows.per.poll": "2", "interval.ms": "10"}).to_string());
    let polled = plugin(PluginCommand::Test { plugin: components[0].clone(), config, input: None, polls: 2 }).await.unwrap();
    let ids: Vec<Value> = lines(&polled).iter().map(|r| r["value"]["payload"]["id"].clone()).collect();
    assert_eq!(ids, vec![json!(1), json!(2), json!(3), json!(4)], "{polled}");

    let input = file(dir.path(), "in.jsonl", &json!({"topic": "t", "value": {"schema": {"type": "string"}, "payload": "shout"}}).to_string());
    let config = file(dir.path(), "sink.json", &json!({"topics": "t", "log.prefix": "got"}).to_string());
    let put = plugin(PluginCommand::Test { plugin: components[1].clone(), config, input: Some(input), polls: 1 }).await.unwrap();
    assert_eq!(lines(&put), vec![json!({"put": 1, "result": "ok"})]);

    let data = tempfile::tempdir().unwrap();
    let worker = start_worker_with(wasmconnect::standalone::StandaloneConfig { plugin_path: vec![plugins], ..worker_config(data.path()) }).await;
    let api = Api::new(&worker);
    let (_, definition) = api.get("/connector-plugins/MySource/config").await;
    assert_eq!(definition[1]["name"], "rows.per.poll", "{definition}");
    assert_eq!(definition[1]["default_value"], "10", "{definition}");
    let (_, checked) = api.put("/connector-plugins/MySource/config/validate", &json!({"connector.class": "MySource", "rows.per.poll": "0"})).await;
    assert_eq!(checked["error_count"], 2, "topic is missing and rows.per.poll out of range: {checked}");
    let rows = checked["configs"].as_array().unwrap().iter().find(|c| c["value"]["name"] == "rows.per.poll").unwrap();
    assert_eq!(rows["value"]["errors"], json!(["invalid value \"0\": must be between 1 and 10000"]), "{checked}");

    let source = json!({"name": "gen", "config": {"connector.class": "com.example.MySource", "topic": "generated", "rows.per.poll": "5",
        "interval.ms": "20", "transforms": "redact", "transforms.redact.type": "com.example.MyTransform", "transforms.redact.fields": "name"}});
    assert_eq!(api.post("/connectors", &source).await.0, 201);
    let values = eventually("five generated rows", Duration::from_secs(60), || async {
        let values = api.topic_values("generated").await;
        (values.len() >= 5).then_some(values)
    })
    .await;
    assert_eq!(values[0]["payload"], json!({"id": 1, "name": "****"}), "redacted by the transform: {values:?}");
    let sink = json!({"name": "log", "config": {"connector.class": "MySink", "topics": "generated"}});
    assert_eq!(api.post("/connectors", &sink).await.0, 201);
    eventually("the sink to take the rows", Duration::from_secs(60), || async {
        let (_, status) = api.get("/connectors/log/status").await;
        (status["tasks"][0]["progress"]["records_written"].as_u64() >= Some(5)).then_some(())
    })
    .await;
    worker.shutdown().await.unwrap();
}
