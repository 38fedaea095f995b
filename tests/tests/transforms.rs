//! Transform chains configured exactly as in Kafka Connect, running in the sandbox: on the
//! source side before the converter, on the sink side after it.

use std::time::Duration;

use serde_json::{Value, json};
use sqlx::Row;
use wasmconnect_e2e::*;

const WAIT: Duration = Duration::from_secs(60);

fn with(mut connector: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        connector["config"][k] = v.clone();
    }
    connector
}

/// The chain of the issue: key each record by its id, and mask the password so that no
/// downstream system ever sees it.
fn key_and_mask() -> Value {
    json!({
        "transforms": "createKey,extractId,mask",
        "transforms.createKey.type": "org.apache.kafka.connect.transforms.ValueToKey",
        "transforms.createKey.fields": "id",
        "transforms.extractId.type": "org.apache.kafka.connect.transforms.ExtractField$Key",
        "transforms.extractId.field": "id",
        "transforms.mask.type": "org.apache.kafka.connect.transforms.MaskField$Value",
        "transforms.mask.fields": "pwd"
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_chain_keys_records_by_id_and_masks_passwords_before_the_sink() {
    let db = TestDb::create("smtsource").await;
    db.exec(USERS_DDL).await;
    db.exec("INSERT INTO users (user_id, pwd) VALUES ('alice', 's3cret'), ('bob', 'hunter2'), ('carol', 'pa55')").await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);

    let (status, body) = api.post("/connectors", &with(source_config(&db), key_and_mask())).await;
    assert_eq!(status, 201, "{body}");
    let records = eventually("three records on the topic", WAIT, || async {
        let (status, records) = api.get("/topics/my_topic_users/records").await;
        (status == 200 && records.as_array().unwrap().len() == 3).then_some(records)
    })
    .await;
    for (i, record) in records.as_array().unwrap().iter().enumerate() {
        let key: Value = serde_json::from_str(record["key"].as_str().unwrap()).unwrap();
        assert_eq!(key["schema"]["type"], "int32", "ExtractField$Key leaves the bare id: {key}");
        assert_eq!(key["payload"], json!(i + 1));
        let value: Value = serde_json::from_str(record["value"].as_str().unwrap()).unwrap();
        assert_eq!(value["payload"]["pwd"], "", "MaskField empties the password: {value}");
        assert_eq!(value["payload"]["id"], json!(i + 1), "the rest of the value is untouched");
    }
    assert_eq!(serde_json::from_str::<Value>(records[0]["value"].as_str().unwrap()).unwrap()["payload"]["user_id"], "alice");

    // The sink copies what the topic holds: the passwords never reach the target table.
    let target = TestDb::create("smttarget").await;
    assert_eq!(api.post("/connectors", &sink_config(&target)).await.0, 201);
    eventually("three rows in the target", WAIT, || async { (target.count("my_topic_users").await == Some(3)).then_some(()) }).await;
    let stored: Vec<String> = sqlx::query("SELECT pwd FROM my_topic_users").fetch_all(&target.pool).await.unwrap().iter().map(|r| r.get(0)).collect();
    assert_eq!(stored, vec!["", "", ""]);

    worker.shutdown().await.unwrap();
    target.drop_database().await;
    db.drop_database().await;
}

fn envelope(id: i64, name: &str) -> String {
    json!({
        "schema": {"type": "struct", "optional": false, "name": "events", "fields": [
            {"type": "int64", "optional": false, "field": "id"},
            {"type": "string", "optional": false, "field": "name"}]},
        "payload": {"id": id, "name": name}
    })
    .to_string()
}

fn events_sink(db: &TestDb, extra: Value) -> Value {
    let mut config = sink_config(db);
    config["config"]["topics"] = json!("users_a,other_b");
    with(config, extra)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sink_chain_filters_with_negated_predicates_and_adds_the_kafka_offset() {
    let db = TestDb::create("smtsink").await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let users = json!([{"value": envelope(1, "a")}, {"value": null}, {"value": envelope(2, "b")}]);
    assert_eq!(api.post("/topics/users_a/records", &users).await.0, 200);
    assert_eq!(api.post("/topics/other_b/records", &json!([{"value": envelope(3, "c")}])).await.0, 200);

    let chain = json!({
        "transforms": "dropTombstones,onlyUsers,offset,route",
        "transforms.dropTombstones.type": "org.apache.kafka.connect.transforms.Filter",
        "transforms.dropTombstones.predicate": "isTombstone",
        "transforms.onlyUsers.type": "org.apache.kafka.connect.transforms.Filter",
        "transforms.onlyUsers.predicate": "isUsers",
        "transforms.onlyUsers.negate": "true",
        "transforms.offset.type": "org.apache.kafka.connect.transforms.InsertField$Value",
        "transforms.offset.offset.field": "kafka_offset",
        "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
        "transforms.route.regex": "users_(.*)",
        "transforms.route.replacement": "people_$1",
        "predicates": "isTombstone,isUsers",
        "predicates.isTombstone.type": "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
        "predicates.isUsers.type": "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
        "predicates.isUsers.pattern": "users_.*"
    });
    let (status, body) = api.post("/connectors", &events_sink(&db, chain)).await;
    assert_eq!(status, 201, "{body}");
    eventually("two rows in the routed table", WAIT, || async { (db.count("people_a").await == Some(2)).then_some(()) }).await;
    let rows = sqlx::query("SELECT id, name, kafka_offset FROM people_a ORDER BY id").fetch_all(&db.pool).await.unwrap();
    let rows: Vec<(i64, String, i64)> = rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect();
    assert_eq!(rows, vec![(1, "a".to_owned(), 0), (2, "b".to_owned(), 2)], "the tombstone at offset 1 was filtered");
    // Everything was read, including what the chain dropped: the positions moved past it.
    let offsets = eventually("committed positions", WAIT, || async {
        let (_, offsets) = api.get("/connectors/my-sink-connect/offsets").await;
        (offsets["offsets"].as_array().unwrap().len() == 2).then_some(offsets)
    })
    .await;
    for entry in offsets["offsets"].as_array().unwrap() {
        let end = if entry["partition"]["kafka_topic"] == "users_a" { 3 } else { 1 };
        assert_eq!(entry["offset"]["kafka_offset"], json!(end), "{offsets}");
    }
    assert_eq!(db.count("other_b").await, None, "records of other topics were filtered");

    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_a_transform_fails_on_fails_the_task_or_goes_to_the_dead_letter_queue() {
    let db = TestDb::create("smterr").await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let records = json!([{"value": envelope(1, "7")}, {"value": envelope(2, "seven")}, {"value": envelope(3, "9")}]);
    assert_eq!(api.post("/topics/users_a/records", &records).await.0, 200);
    let cast = json!({
        "topics": "users_a",
        "transforms": "cast",
        "transforms.cast.type": "org.apache.kafka.connect.transforms.Cast$Value",
        "transforms.cast.spec": "name:int32"
    });

    let mut strict = events_sink(&db, cast.clone());
    strict["name"] = json!("strict");
    assert_eq!(api.post("/connectors", &strict).await.0, 201);
    let trace = eventually("the strict task to fail", WAIT, || async {
        let (_, status) = api.get("/connectors/strict/status").await;
        (status["tasks"][0]["state"] == "FAILED").then(|| status["tasks"][0]["trace"].as_str().unwrap().to_owned())
    })
    .await;
    assert!(trace.contains("Cast") && trace.contains("seven"), "the trace names the transform and the value: {trace}");
    assert!(trace.contains("errors.tolerance"), "and says what to do: {trace}");
    assert_eq!(db.count("users_a").await.unwrap_or(0), 0, "nothing of the failing batch was written");
    assert_eq!(api.delete("/connectors/strict").await.0, 204);

    let mut tolerant = with(events_sink(&db, cast), json!({"errors.tolerance": "all", "errors.deadletterqueue.topic.name": "users-dlq"}));
    tolerant["name"] = json!("tolerant");
    assert_eq!(api.post("/connectors", &tolerant).await.0, 201);
    eventually("the two castable rows", WAIT, || async { (db.count("users_a").await == Some(2)).then_some(()) }).await;
    let dead = api.topic_values("users-dlq").await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["payload"]["name"], "seven", "the original record, as it was read");

    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transform_configs_are_validated_and_the_classes_are_listed() {
    let db = TestDb::create("smtvalid").await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);

    let (_, plugins) = api.get("/connector-plugins?connectorsOnly=false").await;
    let listed = |class: &str, kind: &str| plugins.as_array().unwrap().iter().any(|p| p["class"] == class && p["type"] == kind);
    assert!(listed("org.apache.kafka.connect.transforms.MaskField$Value", "transformation"), "{plugins}");
    assert!(listed("org.apache.kafka.connect.transforms.predicates.HasHeaderKey", "predicate"), "{plugins}");
    let (_, connectors) = api.get("/connector-plugins").await;
    assert!(connectors.as_array().unwrap().iter().all(|p| p["type"] == "source" || p["type"] == "sink"), "{connectors}");

    let broken = json!({
        "transforms": "mask,route,odd",
        "transforms.mask.type": "MaskField$Value",
        "transforms.route.type": "org.example.NoSuchTransform",
        "transforms.odd.type": "org.apache.kafka.connect.transforms.Filter",
        "transforms.odd.predicate": "missing"
    });
    let (status, body) = api.post("/connectors", &with(sink_config(&db), broken.clone())).await;
    assert_eq!(status, 400, "{body}");
    let message = body["message"].as_str().unwrap();
    for part in ["transforms.mask.fields", "org.example.NoSuchTransform", "connectorsOnly=false", "transforms.odd.predicate"] {
        assert!(message.contains(part), "{part:?} in {message}");
    }
    assert_eq!(api.get("/connectors").await.1, json!([]), "nothing was created");

    let mut config = sink_config(&db)["config"].clone();
    for (k, v) in broken.as_object().unwrap() {
        config[k] = v.clone();
    }
    let (status, result) = api.put("/connector-plugins/JdbcSinkConnector/config/validate", &config).await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["error_count"], 3, "{result}");
    let errors_of = |key: &str| {
        result["configs"].as_array().unwrap().iter().find(|c| c["value"]["name"] == key).map(|c| c["value"]["errors"].clone())
    };
    assert!(errors_of("transforms.mask.fields").is_some_and(|e| e.as_array().unwrap().len() == 1), "{result}");
    assert!(errors_of("transforms.route.type").is_some(), "{result}");

    worker.shutdown().await.unwrap();
    db.drop_database().await;
}
