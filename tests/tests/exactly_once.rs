//! Exactly-once sources (KIP-618): on a real Kafka-protocol broker (tansu), a source task's
//! rows reach the topic once through task and worker restarts, in transactions; a zombie
//! task is fenced and fails with the reason; and the connector and worker settings are
//! checked (`exactly.once.support=required` needs an `enabled` worker).

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::producer::{BaseProducer, Producer};
use serde_json::{Value, json};
use wasmconnect::standalone::{InternalTopics, Standalone, StandaloneConfig};
use wasmconnect_e2e::*;
use wasmconnect_log::test_broker::Tansu;

const WAIT: Duration = Duration::from_secs(60);
/// KIP-618's `<group.id>-<connector>-<task>` for the test worker's group.
const TRANSACTIONAL_ID: &str = "connect-cluster-my-source-connect-0";

fn enabled() -> BTreeMap<String, String> {
    BTreeMap::from([("exactly.once.source.support".to_owned(), "enabled".to_owned())])
}

async fn start_eos_worker(data: &std::path::Path, broker: &Tansu) -> Standalone {
    start_kafka_worker_with(data, broker.bootstrap_servers(), InternalTopics::default(), Duration::from_secs(20), enabled()).await
}

fn required(db: &TestDb) -> Value {
    let mut source = source_config(db);
    source["config"]["exactly.once.support"] = json!("required");
    source
}

async fn insert(db: &TestDb, ids: std::ops::RangeInclusive<i32>) {
    for i in ids {
        db.exec(&format!("INSERT INTO users (user_id, pwd) VALUES ('u{i}', 'p{i}')")).await;
    }
}

/// The ids on the topic as the worker reads it (read_committed), following the records'
/// own offsets: transaction markers leave gaps between them.
async fn topic_ids(api: &Api) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut next = 0;
    loop {
        let (status, page) = api.get(&format!("/topics/my_topic_users/records?offset={next}&max=1000")).await;
        if status == 404 {
            return ids;
        }
        let page = page.as_array().unwrap().clone();
        let Some(last) = page.last() else { return ids };
        next = last["offset"].as_i64().unwrap() + 1;
        for record in &page {
            let value: Value = serde_json::from_str(record["value"].as_str().unwrap()).unwrap();
            ids.push(value["payload"]["id"].as_i64().unwrap());
        }
    }
}

async fn await_ids(api: &Api, expected: std::ops::RangeInclusive<i64>) {
    let expected: Vec<i64> = expected.collect();
    eventually(&format!("ids {expected:?} on the topic"), WAIT, || async {
        let ids = topic_ids(api).await;
        (ids.len() >= expected.len()).then_some(())
    })
    .await;
    // Anything repeated would come with the next poll, so give it a moment.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(topic_ids(api).await, expected, "every row once, in order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_once_sources_write_each_row_once_through_task_and_worker_restarts() {
    let broker = Tansu::start();
    let db = TestDb::create("eos").await;
    db.exec(USERS_DDL).await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_eos_worker(data.path(), &broker).await;
    let api = Api::new(&worker);
    assert_eq!(api.post("/connectors", &required(&db)).await.0, 201);
    insert(&db, 1..=3).await;
    await_ids(&api, 1..=3).await;
    // Each transaction ends with a commit marker, which takes an offset of the partition:
    // the records were written in transactions.
    assert!(api.topic_size("my_topic_users").await > 3, "no transaction marker on the topic");

    // The restarted task's producer fences the old one and starts from the committed offsets.
    assert_eq!(api.post("/connectors/my-source-connect/tasks/0/restart", &json!(null)).await.0, 204);
    insert(&db, 4..=5).await;
    await_ids(&api, 1..=5).await;
    assert_eq!(task_state(&api, "my-source-connect").await.0, "RUNNING");
    worker.shutdown().await.unwrap();

    // A new worker (nothing on disk) reads the committed offsets back from Kafka.
    insert(&db, 6..=6).await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_eos_worker(data.path(), &broker).await;
    let api = Api::new(&worker);
    await_ids(&api, 1..=6).await;
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zombie_source_task_is_fenced_and_fails_without_writing() {
    let broker = Tansu::start();
    let db = TestDb::create("eos_zombie").await;
    db.exec(USERS_DDL).await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_eos_worker(data.path(), &broker).await;
    let api = Api::new(&worker);
    assert_eq!(api.post("/connectors", &source_config(&db)).await.0, 201);
    insert(&db, 1..=1).await;
    await_ids(&api, 1..=1).await;

    // Another instance of the task (as after a rebalance elsewhere) registers the same id.
    let successor: BaseProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap_servers())
        .set("transactional.id", TRANSACTIONAL_ID)
        .create()
        .unwrap();
    successor.init_transactions(Duration::from_secs(20)).unwrap();
    insert(&db, 2..=2).await;
    let trace = eventually("the zombie task to fail", WAIT, || async {
        let (state, trace) = task_state(&api, "my-source-connect").await;
        (state == "FAILED").then_some(trace)
    })
    .await;
    assert!(trace.contains(&format!("the producer with transactional.id {TRANSACTIONAL_ID} was fenced")), "{trace}");
    assert_eq!(topic_ids(&api).await, vec![1], "the zombie wrote nothing");
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_exactly_once_needs_an_enabled_worker_and_the_settings_are_checked() {
    let db = TestDb::create("eos_settings").await;
    db.exec(USERS_DDL).await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let (status, body) = api.post("/connectors", &required(&db)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error_code"], 400);
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("exactly.once.support: exactly.once.support=required, but this worker's exactly.once.source.support is disabled"), "{message}");
    assert_eq!(api.get("/connectors").await.1, json!([]), "nothing was created");

    let mut config = source_config(&db)["config"].clone();
    config["transaction.boundary"] = json!("connector");
    config["offsets.storage.topic"] = json!("my-offsets");
    let (status, result) = api.put("/connector-plugins/JdbcSourceConnector/config/validate", &config).await;
    assert_eq!(status, 200);
    assert_eq!(result["error_count"], 2, "{result}");
    let errors = |key: &str| {
        let entry = result["configs"].as_array().unwrap().iter().find(|c| c["value"]["name"] == key).unwrap_or_else(|| panic!("{key} in {result}"));
        entry["value"]["errors"][0].as_str().unwrap().to_owned()
    };
    assert!(errors("transaction.boundary").contains("the plugin contract (WIT) has no way for a connector to define its own transactions"));
    assert!(errors("offsets.storage.topic").contains("not supported"));
    config["transaction.boundary"] = json!("interval");
    config["transaction.boundary.interval.ms"] = json!("soon");
    config.as_object_mut().unwrap().remove("offsets.storage.topic");
    let (_, result) = api.put("/connector-plugins/JdbcSourceConnector/config/validate", &config).await;
    assert_eq!(result["error_count"], 1, "{result}");
    worker.shutdown().await.unwrap();

    // On the embedded log `enabled` is accepted and changes nothing: appends are atomic.
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker_with(StandaloneConfig { worker_config: enabled(), ..worker_config(data.path()) }).await;
    let api = Api::new(&worker);
    assert_eq!(api.post("/connectors", &required(&db)).await.0, 201);
    insert(&db, 1..=2).await;
    eventually("2 rows on the topic", WAIT, || async { (api.topic_values("my_topic_users").await.len() == 2).then_some(()) }).await;
    assert_eq!(api.topic_size("my_topic_users").await, 2, "no transaction markers on the embedded log");
    worker.shutdown().await.unwrap();

    let data = tempfile::tempdir().unwrap();
    let mut worker_settings = BTreeMap::new();
    worker_settings.insert("exactly.once.source.support".to_owned(), "on".to_owned());
    let refused = Standalone::start(StandaloneConfig { worker_config: worker_settings, ..worker_config(data.path()) }).await;
    let error = refused.err().expect("the worker refuses to start").to_string();
    assert_eq!(error, "the worker's exactly.once.source.support must be disabled, preparing or enabled, not \"on\"");
    db.drop_database().await;
}

async fn metric(worker: &Standalone, sample: &str) -> Option<f64> {
    let text = reqwest::get(format!("http://{}/metrics", worker.rest_addr())).await.ok()?.text().await.ok()?;
    text.lines().find_map(|line| line.strip_prefix(sample)?.strip_prefix(' ')?.parse().ok())
}

/// With `transaction.boundary=interval` and an interval longer than the test, the polled
/// rows stay in the open transaction, unseen by read_committed readers and their offsets
/// uncommitted, until the stopping task commits it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interval_boundary_keeps_polled_rows_in_one_transaction_until_it_commits() {
    let broker = Tansu::start();
    let db = TestDb::create("eos_interval").await;
    db.exec(USERS_DDL).await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_eos_worker(data.path(), &broker).await;
    let api = Api::new(&worker);
    let mut source = required(&db);
    source["config"]["transaction.boundary"] = json!("interval");
    source["config"]["transaction.boundary.interval.ms"] = json!("600000");
    source["config"]["batch.max.rows"] = json!("1");
    assert_eq!(api.post("/connectors", &source).await.0, 201);
    insert(&db, 1..=3).await;
    let polled = r#"source_record_poll_total{connector="my-source-connect",task="0"}"#;
    eventually("3 rows polled", WAIT, || async { metric(&worker, polled).await.filter(|n| *n >= 3.0) }).await;
    assert!(topic_ids(&api).await.is_empty(), "rows of the open transaction are visible");
    let (_, offsets) = api.get("/connectors/my-source-connect/offsets").await;
    assert_eq!(offsets["offsets"], json!([]), "offsets committed before their transaction: {offsets}");
    worker.shutdown().await.unwrap();

    let data = tempfile::tempdir().unwrap();
    let worker = start_eos_worker(data.path(), &broker).await;
    let api = Api::new(&worker);
    await_ids(&api, 1..=3).await;
    assert_eq!(api.topic_size("my_topic_users").await, 4, "three polls, one transaction: one commit marker");
    // The new task went on from the committed offsets: row 4 is its first.
    insert(&db, 4..=4).await;
    eventually("row 4 polled", WAIT, || async { metric(&worker, polled).await.filter(|n| *n >= 1.0) }).await;
    assert_eq!(metric(&worker, polled).await, Some(1.0), "rows 1 to 3 were polled again");
    worker.shutdown().await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let worker = start_eos_worker(data.path(), &broker).await;
    await_ids(&Api::new(&worker), 1..=4).await;
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}
