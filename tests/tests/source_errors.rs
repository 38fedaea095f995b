//! A source's bad records (beyond Kafka Connect): with `errors.tolerance=all` and a
//! dead-letter topic, a row a transform or the converter cannot handle goes to the
//! dead-letter queue, as polled, with context headers; the source carries on and its offset
//! commits. Without tolerance the task stops at the row, writing nothing of its batch.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};
use wasmconnect_e2e::*;

const WAIT: Duration = Duration::from_secs(60);

fn with(mut connector: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        connector["config"][k] = v.clone();
    }
    connector
}

fn tolerant(dlq: &str) -> Value {
    json!({
        "errors.tolerance": "all",
        "errors.deadletterqueue.topic.name": dlq,
        "errors.deadletterqueue.context.headers.enable": "true"
    })
}

/// The records of `topic`, each as (value JSON, headers by name).
async fn letters(api: &Api, topic: &str) -> Vec<(Value, BTreeMap<String, String>)> {
    let (status, records) = api.get(&format!("/topics/{topic}/records?max=1000")).await;
    if status == 404 {
        return Vec::new();
    }
    assert_eq!(status, 200, "{records}");
    records
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let pairs: Vec<(String, Option<String>)> = serde_json::from_value(r["headers"].clone()).expect("headers");
            let headers = pairs.into_iter().map(|(k, v)| (k, v.unwrap_or_default())).collect();
            (serde_json::from_str(r["value"].as_str().expect("a value")).expect("JSON value"), headers)
        })
        .collect()
}

async fn source_offset(api: &Api) -> Value {
    let (status, offsets) = api.get("/connectors/my-source-connect/offsets").await;
    assert_eq!(status, 200, "{offsets}");
    offsets["offsets"][0]["offset"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_a_transform_fails_on_goes_to_the_dead_letter_queue_once_and_the_source_continues() {
    let db = TestDb::create("srcdlq").await;
    db.exec(USERS_DDL).await;
    db.exec("INSERT INTO users (user_id, pwd) VALUES ('alice', '7'), ('bob', 'seven'), ('carol', '9')").await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let cast = json!({"transforms": "cast", "transforms.cast.type": "org.apache.kafka.connect.transforms.Cast$Value", "transforms.cast.spec": "pwd:int32"});
    let connector = with(with(source_config(&db), cast), tolerant("users-dlq"));
    let (status, body) = api.post("/connectors", &connector).await;
    assert_eq!(status, 201, "{body}");

    let dead = eventually("bob in the dead-letter queue", WAIT, || async {
        let dead = letters(&api, "users-dlq").await;
        (dead.len() == 1).then_some(dead)
    })
    .await;
    let good = eventually("alice and carol on the topic", WAIT, || async {
        let good = api.topic_values("my_topic_users").await;
        (good.len() == 2).then_some(good)
    })
    .await;
    assert_eq!((good[0]["payload"]["pwd"].clone(), good[1]["payload"]["pwd"].clone()), (json!(7), json!(9)), "cast: {good:?}");
    let (value, headers) = &dead[0];
    // The row as the plugin polled it, before the cast, with its schema.
    assert_eq!(value["payload"]["user_id"], "bob", "{value}");
    assert_eq!(value["payload"]["pwd"], "seven", "{value}");
    assert_eq!(value["schema"]["type"], "struct", "{value}");
    assert_eq!(headers["__connect.errors.stage"], "TRANSFORMATION", "{headers:?}");
    assert_eq!(headers["__connect.errors.topic"], "my_topic_users");
    assert_eq!(headers["__connect.errors.connector.name"], "my-source-connect");
    assert_eq!(headers["__connect.errors.task.id"], "0");
    assert_eq!(headers["__connect.errors.exception.class.name"], "org.apache.kafka.connect.errors.DataException");
    assert!(headers["__connect.errors.exception.message"].contains("seven"), "{headers:?}");
    let source_partition: Value = serde_json::from_str(&headers["__connect.errors.source.partition"]).unwrap();
    assert_eq!(source_partition["table"], format!("{}.users", db.name));
    let offset: Value = serde_json::from_str(&headers["__connect.errors.source.offset"]).unwrap();
    assert_eq!(offset["incrementing"], 2, "bob's own offset: {headers:?}");
    eventually("the offset past carol", WAIT, || async { (source_offset(&api).await["incrementing"] == 3).then_some(()) }).await;
    let (_, status) = api.get("/connectors/my-source-connect/status").await;
    assert_eq!(status["tasks"][0]["state"], "RUNNING", "{status}");

    // After a restart nothing is read again (the letter was in the batch's atomic append),
    // and the next bad row goes the same way.
    worker.shutdown().await.unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    db.exec("INSERT INTO users (user_id, pwd) VALUES ('dave', 'four'), ('erin', '5')").await;
    eventually("erin on the topic", WAIT, || async { (api.topic_values("my_topic_users").await.len() == 3).then_some(()) }).await;
    let dead = letters(&api, "users-dlq").await;
    let names: Vec<&Value> = dead.iter().map(|(v, _)| &v["payload"]["user_id"]).collect();
    assert_eq!(names, [&json!("bob"), &json!("dave")]);
    let metrics = reqwest::get(format!("http://{}/metrics", worker.rest_addr())).await.unwrap().text().await.unwrap();
    let sample = "deadletterqueue_produce_requests_total{connector=\"my-source-connect\",task=\"0\"} 1";
    assert!(metrics.lines().any(|l| l == sample), "the restarted worker counted dave's letter:\n{metrics}");

    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_the_converter_cannot_write_stops_the_task_or_goes_to_the_dead_letter_queue() {
    let db = TestDb::create("srcconv").await;
    db.exec(USERS_DDL).await;
    db.exec("INSERT INTO users (user_id, pwd) VALUES ('alice', 'a'), ('bob', 'b')").await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    // ByteArrayConverter writes bytes only; the JDBC source's values are structs.
    let bytes = json!({"value.converter": "org.apache.kafka.connect.converters.ByteArrayConverter"});

    let strict = with(source_config(&db), bytes.clone());
    assert_eq!(api.post("/connectors", &strict).await.0, 201);
    let trace = eventually("the strict task to fail", WAIT, || async {
        let (_, status) = api.get("/connectors/my-source-connect/status").await;
        (status["tasks"][0]["state"] == "FAILED").then(|| status["tasks"][0]["trace"].as_str().unwrap().to_owned())
    })
    .await;
    assert!(trace.contains("errors.tolerance") && trace.contains("ByteArrayConverter"), "{trace}");
    assert!(api.topic_values("my_topic_users").await.is_empty());
    assert_eq!(api.get("/connectors/my-source-connect/offsets").await.1["offsets"], json!([]), "nothing committed");
    assert_eq!(api.delete("/connectors/my-source-connect").await.0, 204);

    let (status, body) = api.post("/connectors", &with(with(source_config(&db), bytes), tolerant("conv-dlq"))).await;
    assert_eq!(status, 201, "{body}");
    let dead = eventually("both rows in the dead-letter queue", WAIT, || async {
        let dead = letters(&api, "conv-dlq").await;
        (dead.len() == 2).then_some(dead)
    })
    .await;
    for ((value, headers), name) in dead.iter().zip(["alice", "bob"]) {
        assert_eq!(value["payload"]["user_id"], name, "{value}");
        assert_eq!(headers["__connect.errors.stage"], "VALUE_CONVERTER", "{headers:?}");
        assert_eq!(headers["__connect.errors.class.name"], "org.apache.kafka.connect.converters.ByteArrayConverter");
    }
    eventually("the offset past bob", WAIT, || async { (source_offset(&api).await["incrementing"] == 2).then_some(()) }).await;
    assert!(api.topic_values("my_topic_users").await.is_empty());
    let (_, status) = api.get("/connectors/my-source-connect/status").await;
    assert_eq!(status["tasks"][0]["state"], "RUNNING", "{status}");

    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_settings_are_checked_when_the_connector_is_created() {
    let db = TestDb::create("srcerrcfg").await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let bad = with(source_config(&db), json!({"errors.tolerance": "most", "errors.deadletterqueue.topic.name": "dead letters"}));
    let (status, body) = api.post("/connectors", &bad).await;
    assert_eq!(status, 400, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("errors.tolerance") && message.contains("errors.deadletterqueue.topic.name"), "{message}");
    let mut looping = sink_config(&db);
    looping["config"]["errors.deadletterqueue.topic.name"] = json!("my_topic_users");
    let (status, body) = api.post("/connectors", &looping).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["message"].as_str().unwrap().contains("may not read its own dead-letter queue"), "{body}");
    assert_eq!(api.get("/connectors").await.1, json!([]), "neither was created");

    worker.shutdown().await.unwrap();
    db.drop_database().await;
}
