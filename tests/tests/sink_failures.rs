//! When the JDBC sink cannot write: a record the database refuses fails the task with
//! nothing of its batch written, or goes to the dead-letter queue while the rest is written;
//! a database outage is retried with no batch lost or written twice, up to max.retries.

use std::time::Duration;

use serde_json::{Value, json};
use wasmconnect_e2e::*;

const WAIT: Duration = Duration::from_secs(60);

fn event(id: i64, name: &str) -> Value {
    json!({"value": envelope("event", &[("id", "int64", false), ("name", "string", false)], json!({"id": id, "name": name}))})
}

/// A name too long for its VARCHAR(5) column: the record checks out, the database refuses it.
async fn poison(postgres: bool, tolerate: bool) {
    let db = AnyDb::create(postgres, "poison").await;
    db.exec(&format!("CREATE TABLE {} (id BIGINT NOT NULL, name VARCHAR(5) NOT NULL)", db.quote("events"))).await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let records = json!([event(1, "ann"), event(2, "much too long"), event(3, "cy")]);
    assert_eq!(api.post("/topics/events/records", &records).await.0, 200);
    let mut settings = json!({"topics": "events"});
    if tolerate {
        settings["errors.tolerance"] = json!("all");
        settings["errors.deadletterqueue.topic.name"] = json!("events_dlq");
    }
    assert_eq!(api.post("/connectors", &jdbc_sink("poison", &db, settings)).await.0, 201);
    if tolerate {
        let expected = vec![vec![Some("1".to_owned())], vec![Some("3".to_owned())]];
        eventually("the good rows", WAIT, || async { (db.texts("events", &["id"]).await == Some(expected.clone())).then_some(()) }).await;
        let dead = api.topic_values("events_dlq").await;
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0]["payload"]["name"], "much too long");
        assert_eq!(task_state(&api, "poison").await.0, "RUNNING");
    } else {
        let trace = eventually("the task to fail", WAIT, || async {
            let (state, trace) = task_state(&api, "poison").await;
            (state == "FAILED").then_some(trace)
        })
        .await;
        assert!(trace.contains("offset 1") && trace.contains("\"events\"") && trace.contains("SQLSTATE 22001"), "{trace}");
        assert_eq!(db.count("events").await, Some(0), "nothing of the batch is written");
    }
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_record_fails_the_task_and_nothing_is_written_on_mariadb() {
    poison(false, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_record_fails_the_task_and_nothing_is_written_on_postgres() {
    poison(true, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_record_goes_to_the_dead_letter_queue_on_mariadb() {
    poison(false, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_record_goes_to_the_dead_letter_queue_on_postgres() {
    poison(true, true).await;
}

/// The connection is cut (a proxy in between) while records keep coming: the task retries,
/// stays RUNNING, and once the database is back every record is written exactly once. A
/// retry.backoff.ms above the host's first backoffs makes the plugin wait out the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_loses_and_repeats_nothing() {
    let db = AnyDb::create(false, "sinkoutage").await;
    let proxy = TcpProxy::start("127.0.0.1:3306").await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let batch = |from: i64| json!((from..from + 50).map(|i| event(i, "x")).collect::<Vec<_>>());
    assert_eq!(api.post("/topics/events/records", &batch(0)).await.0, 200);
    let mut config = jdbc_sink("outage", &db, json!({"topics": "events", "auto.create": "true", "retry.backoff.ms": "1000"}));
    config["config"]["connection.url"] = json!(db.jdbc_url().replace("localhost:3306", &format!("127.0.0.1:{}", proxy.port)));
    assert_eq!(api.post("/connectors", &config).await.0, 201);
    eventually("the first 50 rows", WAIT, || async { (db.count("events").await == Some(50)).then_some(()) }).await;

    proxy.cut();
    for from in [50, 100, 150] {
        assert_eq!(api.post("/topics/events/records", &batch(from)).await.0, 200);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(db.count("events").await, Some(50), "nothing gets through the cut proxy");
    let (state, trace) = task_state(&api, "outage").await;
    assert_eq!(state, "RUNNING", "a lost connection is retried: {trace}");

    proxy.restore();
    eventually("all 200 rows", WAIT, || async { (db.count("events").await == Some(200)).then_some(()) }).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let distinct = db.texts("events", &["id"]).await.unwrap();
    assert_eq!(distinct.len(), 200, "each record exactly once");
    assert_eq!(api.topic_size("events").await, 200);
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

/// With max.retries=1 the second failed try of a batch fails the task, saying so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_retries_bounds_the_retries_on_postgres() {
    let db = AnyDb::create(true, "retries").await;
    let proxy = TcpProxy::start("127.0.0.1:5432").await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let settings = json!({"topics": "events", "auto.create": "true", "max.retries": "1", "retry.backoff.ms": "0"});
    let mut config = jdbc_sink("retries", &db, settings);
    config["config"]["connection.url"] = json!(db.jdbc_url().replace("localhost:5432", &format!("127.0.0.1:{}", proxy.port)));
    assert_eq!(api.post("/connectors", &config).await.0, 201);
    assert_eq!(api.post("/topics/events/records", &json!([event(1, "a")])).await.0, 200);
    eventually("the first row", WAIT, || async { (db.count("events").await == Some(1)).then_some(()) }).await;
    proxy.cut();
    assert_eq!(api.post("/topics/events/records", &json!([event(2, "b")])).await.0, 200);
    let trace = eventually("the task to fail", WAIT, || async {
        let (state, trace) = task_state(&api, "retries").await;
        (state == "FAILED").then_some(trace)
    })
    .await;
    assert!(trace.contains("gave up after max.retries=1"), "{trace}");
    proxy.restore();
    assert_eq!(db.count("events").await, Some(1));
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}
