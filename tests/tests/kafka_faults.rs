//! Broker faults on librdkafka's in-process mock cluster while a source and a sink run:
//! requests that fail (produce, fetch, offset commit) and a broker that answers slowly.
//! Nothing is lost; the source's records reach the topic once (its producer is idempotent)
//! and the sink's table holds every row.

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::mocking::MockCluster;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use sqlx::Row;
use wasmconnect::standalone::{InternalTopics, Standalone};
use wasmconnect_e2e::*;

const WAIT: Duration = Duration::from_secs(120);

/// A one-broker mock cluster with the worker's internal topics and the scenario's topic
/// (the mock cluster cannot create topics through the admin API).
fn cluster() -> (MockCluster<'static, rdkafka::producer::DefaultProducerContext>, InternalTopics) {
    let cluster = MockCluster::new(1).unwrap();
    let topics = InternalTopics::default();
    for topic in [&topics.config, &topics.offsets, &topics.status, &topics.assignment] {
        cluster.create_topic(&topic.name, topic.partitions, 1).unwrap();
    }
    cluster.create_topic("my_topic_users", 1, 1).unwrap();
    (cluster, topics)
}

async fn insert(db: &TestDb, ids: std::ops::RangeInclusive<i32>) {
    for i in ids {
        db.exec(&format!("INSERT INTO users (user_id, pwd) VALUES ('u{i}', 'p{i}')")).await;
    }
}

async fn sink_ids(db: &TestDb) -> Vec<i32> {
    let rows = sqlx::query("SELECT id FROM my_topic_users ORDER BY id").fetch_all(&db.pool).await.unwrap();
    rows.iter().map(|r| r.get(0)).collect()
}

/// The ids on the topic, page by page: a read from Kafka may return fewer records than there are.
async fn topic_ids(api: &Api) -> Vec<i64> {
    let mut ids = Vec::new();
    loop {
        let page = api.topic_values_from("my_topic_users", ids.len() as i64, 1000).await;
        if page.is_empty() {
            return ids;
        }
        ids.extend(page.iter().map(|v| v["payload"]["id"].as_i64().unwrap()));
    }
}

async fn metric(worker: &Standalone, sample: &str) -> Option<f64> {
    let text = reqwest::get(format!("http://{}/metrics", worker.rest_addr())).await.ok()?.text().await.ok()?;
    text.lines().find_map(|line| line.strip_prefix(sample)?.strip_prefix(' ')?.parse().ok())
}

async fn source_offset(api: &Api) -> serde_json::Value {
    api.get("/connectors/my-source-connect/offsets").await.1["offsets"][0]["offset"]["incrementing"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_produce_fetch_and_commit_requests_lose_and_repeat_nothing() {
    let (cluster, topics) = cluster();
    let db = TestDb::create("kafkafaults").await;
    db.exec(USERS_DDL).await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_kafka_worker(data.path(), cluster.bootstrap_servers(), topics, Duration::from_secs(10)).await;
    let api = Api::new(&worker);
    assert_eq!(api.post("/connectors", &source_config(&db)).await.0, 201);
    assert_eq!(api.post("/connectors", &sink_config(&db)).await.0, 201);
    insert(&db, 1..=3).await;
    eventually("3 rows in the sink table", WAIT, || async { (db.count("my_topic_users").await == Some(3)).then_some(()) }).await;

    // The next produce requests fail as they do while leadership moves or a broker is slow:
    // librdkafka retries them, and the idempotent producer keeps a retry from writing twice.
    use RDKafkaRespErr::*;
    let produce = [RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR__TRANSPORT];
    cluster.request_errors(RDKafkaApiKey::Produce, &produce.repeat(3));
    insert(&db, 4..=6).await;
    eventually("6 rows in the sink table", WAIT, || async { (db.count("my_topic_users").await == Some(6)).then_some(()) }).await;

    // Then the sink's reads and its commits of the group's positions fail for a while.
    cluster.request_errors(RDKafkaApiKey::Fetch, &[RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR__TRANSPORT].repeat(3));
    let commit = [RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NOT_COORDINATOR, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT];
    cluster.request_errors(RDKafkaApiKey::OffsetCommit, &commit.repeat(3));
    insert(&db, 7..=9).await;
    eventually("9 rows in the sink table", WAIT, || async { (db.count("my_topic_users").await == Some(9)).then_some(()) }).await;

    eventually("the source's offset past row 9", WAIT, || async { (source_offset(&api).await == 9).then_some(()) }).await;
    assert_eq!(topic_ids(&api).await, (1..=9).collect::<Vec<_>>(), "each row once on the topic, in order");
    // At least once allows the sink to write a row again after a failed commit; none is missing.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut ids = sink_ids(&db).await;
    ids.dedup();
    assert_eq!(ids, (1..=9).collect::<Vec<_>>(), "every row in the sink table");
    let (_, status) = api.get("/connectors?expand=status").await;
    for connector in ["my-source-connect", "my-sink-connect"] {
        assert_eq!(status[connector]["status"]["tasks"][0]["state"], "RUNNING", "{status}");
    }
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

/// With a broker slower to acknowledge than `offset.flush.timeout.ms`, the source's offset
/// commit is put off (counted as failed), never written ahead of its records; once the
/// acknowledgements come, the offsets follow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offset_commit_waits_offset_flush_timeout_ms_for_acknowledgements_then_tries_again() {
    let (cluster, topics) = cluster();
    let db = TestDb::create("kafkaflushtimeout").await;
    db.exec(USERS_DDL).await;
    let data = tempfile::tempdir().unwrap();
    let properties = BTreeMap::from([("offset.flush.timeout.ms".to_owned(), "100".to_owned())]);
    let worker = start_kafka_worker_with(data.path(), cluster.bootstrap_servers(), topics, Duration::from_secs(30), properties).await;
    let api = Api::new(&worker);
    assert_eq!(api.post("/connectors", &source_config(&db)).await.0, 201);
    insert(&db, 1..=3).await;
    eventually("the offset past row 3", WAIT, || async { (source_offset(&api).await == 3).then_some(()) }).await;
    let failures = r#"offset_commit_failure_total{connector="my-source-connect",task="0"}"#;
    assert_eq!(metric(&worker, failures).await, None, "no commit failed yet");

    cluster.broker_round_trip_time(1, Duration::from_secs(5)).unwrap();
    insert(&db, 4..=6).await;
    eventually("a commit put off", WAIT, || async { metric(&worker, failures).await.filter(|n| *n >= 1.0) }).await;
    assert_eq!(source_offset(&api).await, 3, "no offset covers records the broker has not acknowledged");
    cluster.broker_round_trip_time(1, Duration::ZERO).unwrap();

    eventually("the offset past row 6", WAIT, || async { (source_offset(&api).await == 6).then_some(()) }).await;
    assert_eq!(topic_ids(&api).await, (1..=6).collect::<Vec<_>>());
    let (_, status) = api.get("/connectors/my-source-connect/status").await;
    assert_eq!(status["tasks"][0]["state"], "RUNNING", "{status}");
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}
