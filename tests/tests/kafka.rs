//! The reference scenario on a real Kafka-protocol broker (tansu): topics, configs, offsets
//! and statuses on Kafka, records from an ordinary Kafka client reaching the sink, and a
//! restart restoring everything from the internal topics.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use sqlx::Row;
use wasmconnect::standalone::{InternalTopics, Standalone};
use wasmconnect_e2e::*;
use wasmconnect_log::test_broker::Tansu;

const WAIT: Duration = Duration::from_secs(60);

async fn start_tansu_worker(data_dir: &Path, broker: &Tansu) -> Standalone {
    start_kafka_worker(data_dir, broker.bootstrap_servers(), InternalTopics::default(), Duration::from_secs(20)).await
}

/// Runs tests/kafka/client.py, an ordinary confluent-kafka client.
fn client(args: &[&str], stdin: &str) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("kafka/client.py");
    let mut child = Command::new("python3")
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), stdin.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "client.py {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

async fn sink_ids(db: &TestDb) -> Vec<i32> {
    let rows = sqlx::query("SELECT id FROM my_topic_users ORDER BY id").fetch_all(&db.pool).await.unwrap();
    rows.iter().map(|r| r.get(0)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_scenario_runs_on_kafka_and_survives_a_restart() {
    let broker = Tansu::start();
    let bootstrap = broker.bootstrap_servers();
    let db = TestDb::create("kafka").await;
    db.exec(USERS_DDL).await;
    let data = tempfile::tempdir().unwrap();

    let worker = start_tansu_worker(data.path(), &broker).await;
    let api = Api::new(&worker);
    assert_eq!(api.post("/connectors", &source_config(&db)).await.0, 201);
    assert_eq!(api.post("/connectors", &sink_config(&db)).await.0, 201);
    for i in 1..=3 {
        db.exec(&format!("INSERT INTO users (user_id, pwd) VALUES ('u{i}', 'p{i}')")).await;
    }
    eventually("3 rows in the sink table", WAIT, || async { (db.count("my_topic_users").await == Some(3)).then_some(()) }).await;

    // A record from an ordinary Kafka producer, in the JsonConverter envelope, reaches the sink.
    let fields = [("id", "int32", false), ("user_id", "string", false), ("pwd", "string", false)];
    let record = envelope("users", &fields, serde_json::json!({"id": 100, "user_id": "from-python", "pwd": "x"}));
    client(&["produce", &bootstrap, "my_topic_users"], &format!("{record}\n"));
    eventually("the Python producer's row in the sink table", WAIT, || async {
        sink_ids(&db).await.contains(&100).then_some(())
    })
    .await;

    // Kafka tooling reads the internal topics and the sink's consumer group.
    let topics = api.get("/topics").await.1;
    for internal in ["connect-configs", "connect-offsets", "connect-status", "my_topic_users"] {
        assert!(topics.as_array().unwrap().iter().any(|t| t == internal), "{internal} in {topics}");
    }
    let configs = client(&["keys", &bootstrap, "connect-configs"], "");
    let source = configs.lines().find(|l| l.starts_with("connector-my-source-connect\t")).expect("the source's config record");
    let source: serde_json::Value = serde_json::from_str(source.split_once('\t').unwrap().1).unwrap();
    assert_eq!(source["properties"]["table.whitelist"], "users");
    assert!(configs.lines().any(|l| l.starts_with("commit-my-source-connect\t")), "{configs}");
    let offsets = client(&["keys", &bootstrap, "connect-offsets"], "");
    assert!(offsets.contains(r#"["my-source-connect",{"protocol":"1","table":"#), "{offsets}");
    eventually("the sink's consumer group committed all 4 records", WAIT, || async {
        let committed = client(&["committed", &bootstrap, "connect-my-sink-connect", "my_topic_users", "1"], "");
        (committed.trim() == "4").then_some(())
    })
    .await;
    worker.shutdown().await.unwrap();

    // Everything comes back from Kafka: a fresh data directory proves nothing came from disk.
    for i in 4..=5 {
        db.exec(&format!("INSERT INTO users (user_id, pwd) VALUES ('u{i}', 'p{i}')")).await;
    }
    let data = tempfile::tempdir().unwrap();
    let worker = start_tansu_worker(data.path(), &broker).await;
    let api = Api::new(&worker);
    assert_eq!(api.get("/connectors").await, (200, serde_json::json!(["my-sink-connect", "my-source-connect"])));
    eventually("5 rows from the table in the sink", WAIT, || async { (db.count("my_topic_users").await == Some(6)).then_some(()) }).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sink_ids(&db).await, vec![1, 2, 3, 4, 5, 100], "every row exactly once after the restart");

    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_outage_pauses_the_tasks_and_they_recover_without_loss() {
    let cluster = rdkafka::mocking::MockCluster::new(1).unwrap();
    // librdkafka's mock cluster cannot create topics through the admin API.
    let topics = InternalTopics::default();
    for topic in [&topics.config, &topics.offsets, &topics.status, &topics.assignment] {
        cluster.create_topic(&topic.name, topic.partitions, 1).unwrap();
    }
    cluster.create_topic("my_topic_users", 1, 1).unwrap();
    let db = TestDb::create("kafkaoutage").await;
    db.exec(USERS_DDL).await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_kafka_worker(data.path(), cluster.bootstrap_servers(), topics, Duration::from_secs(10)).await;
    let api = Api::new(&worker);
    assert_eq!(api.post("/connectors", &source_config(&db)).await.0, 201);
    assert_eq!(api.post("/connectors", &sink_config(&db)).await.0, 201);
    for i in 1..=3 {
        db.exec(&format!("INSERT INTO users (user_id, pwd) VALUES ('u{i}', 'p{i}')")).await;
    }
    eventually("3 rows in the sink table", WAIT, || async { (db.count("my_topic_users").await == Some(3)).then_some(()) }).await;

    // The only broker is down for 30 s while rows keep coming.
    cluster.broker_down(1).unwrap();
    for i in 4..=6 {
        db.exec(&format!("INSERT INTO users (user_id, pwd) VALUES ('u{i}', 'p{i}')")).await;
    }
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(db.count("my_topic_users").await, Some(3), "nothing reaches the sink through a broker that is down");
    cluster.broker_up(1).unwrap();

    eventually("6 rows in the sink table", Duration::from_secs(120), || async { (db.count("my_topic_users").await == Some(6)).then_some(()) })
        .await;
    let (_, status) = api.get("/connectors?expand=status").await;
    for connector in ["my-source-connect", "my-sink-connect"] {
        assert_eq!(status[connector]["status"]["tasks"][0]["state"], "RUNNING", "{status}");
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sink_ids(&db).await, vec![1, 2, 3, 4, 5, 6], "every row once, none lost");
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connector_gets_its_own_producer_with_producer_override_settings() {
    let broker = Tansu::start();
    let db = TestDb::create("kafkaoverride").await;
    db.exec(USERS_DDL).await;
    db.exec("INSERT INTO users (user_id, pwd) VALUES ('alice', 'secret')").await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_tansu_worker(data.path(), &broker).await;
    let api = Api::new(&worker);

    let mut compressed = source_config(&db);
    compressed["config"]["producer.override.compression.type"] = "gzip".into();
    assert_eq!(api.post("/connectors", &compressed).await.0, 201);
    eventually("the row on the topic", WAIT, || async {
        let values = api.topic_values("my_topic_users").await;
        (values.len() == 1 && values[0]["payload"]["user_id"] == "alice").then_some(())
    })
    .await;

    // A setting librdkafka refuses shows that the override reached the connector's producer.
    let mut broken = source_config(&db);
    broken["name"] = "broken-source".into();
    broken["config"]["topic.prefix"] = "broken_".into();
    broken["config"]["producer.override.acks"] = "banana".into();
    assert_eq!(api.post("/connectors", &broken).await.0, 201);
    let trace = eventually("the task to fail", WAIT, || async {
        let (state, trace) = task_state(&api, "broken-source").await;
        (state == "FAILED").then_some(trace)
    })
    .await;
    assert!(trace.contains("client overrides") && trace.contains("acks"), "{trace}");
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_creates_its_topics_by_its_topic_creation_rules() {
    let broker = Tansu::start();
    let bootstrap = broker.bootstrap_servers();
    let db = TestDb::create("kafkacreation").await;
    db.exec(USERS_DDL).await;
    db.exec("INSERT INTO users (user_id, pwd) VALUES ('alice', 'secret')").await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_tansu_worker(data.path(), &broker).await;
    let api = Api::new(&worker);
    let mut source = source_config(&db);
    for (key, value) in [
        ("topic.creation.default.partitions", "3"),
        ("topic.creation.default.replication.factor", "-1"),
        ("topic.creation.groups", "compacted"),
        ("topic.creation.compacted.include", "my_topic_.*"),
        ("topic.creation.compacted.partitions", "2"),
        ("topic.creation.compacted.cleanup.policy", "compact"),
    ] {
        source["config"][key] = value.into();
    }
    assert_eq!(api.post("/connectors", &source).await.0, 201);
    // Unkeyed records spread over the partitions, so all of them are read.
    eventually("the row on the topic", WAIT, || async {
        let exists = api.get("/topics").await.1.as_array().unwrap().iter().any(|t| t == "my_topic_users");
        (exists && client(&["keys", &bootstrap, "my_topic_users"], "").lines().count() == 1).then_some(())
    })
    .await;
    assert_eq!(client(&["describe", &bootstrap, "my_topic_users"], "").trim(), "partitions=2 cleanup.policy=compact");

    // A rule that cannot be read is refused when the connector is created, under its key.
    let mut bad = source_config(&db);
    bad["name"] = "bad-rules".into();
    bad["config"]["topic.creation.default.partitions"] = "3".into();
    let (status, body) = api.post("/connectors", &bad).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["message"].as_str().unwrap().contains("topic.creation.default.partitions"), "{body}");
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}
