//! The JDBC sink's modes on MariaDB and PostgreSQL: every insert.mode with every pk.mode
//! that makes sense together, tombstones deleting rows in record order, and a table that
//! evolves with its records' schema until a change it cannot take.

use std::time::Duration;

use serde_json::{Value, json};
use wasmconnect_e2e::*;

const WAIT: Duration = Duration::from_secs(60);
const PERSON: [(&str, &str, bool); 2] = [("id", "int64", false), ("name", "string", false)];

fn key(id: i64) -> String {
    envelope("key", &[("id", "int64", false)], json!({ "id": id }))
}

fn person(id: i64, name: &str) -> Value {
    json!({"key": key(id), "value": envelope("person", &PERSON, json!({"id": id, "name": name}))})
}

fn tombstone(id: i64) -> Value {
    json!({"key": key(id), "value": null})
}

fn rows(rows: &[&[&str]]) -> Vec<Vec<Option<String>>> {
    rows.iter().map(|r| r.iter().map(|v| Some(v.to_string())).collect()).collect()
}

struct Case {
    insert: &'static str,
    pk: &'static str,
    /// The table and its rows before the sink starts (`{t}` is its name), for update mode.
    existing: &'static [&'static str],
    columns: &'static [&'static str],
    expected: &'static [&'static [&'static str]],
    /// Records the database refuses (a duplicate key), set aside in the dead-letter queue.
    dead: usize,
}

const PLAIN: &[&str] = &["id", "name"];
const KAFKA: &[&str] = &["__connect_partition", "__connect_offset", "id", "name"];
const PEOPLE: &[&str] = &[
    "CREATE TABLE {t} (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(20) NOT NULL)",
    "INSERT INTO {t} VALUES (1, 'x'), (2, 'y'), (3, 'z')",
];
const KAFKA_PEOPLE: &[&str] = &[
    "CREATE TABLE {t} (__connect_topic VARCHAR(100) NOT NULL, __connect_partition INT NOT NULL, __connect_offset BIGINT NOT NULL, \
     id BIGINT NOT NULL, name VARCHAR(20) NOT NULL, PRIMARY KEY (__connect_topic, __connect_partition, __connect_offset))",
    "INSERT INTO {t} VALUES ('{topic}', 0, 0, 0, 'x'), ('{topic}', 0, 9, 9, 'y')",
];

/// The records are `1:a`, `2:b`, `1:c` (offsets 0, 1, 2).
const CASES: [Case; 10] = [
    Case { insert: "insert", pk: "none", existing: &[], columns: PLAIN, expected: &[&["1", "a"], &["1", "c"], &["2", "b"]], dead: 0 },
    Case {
        insert: "insert",
        pk: "kafka",
        existing: &[],
        columns: KAFKA,
        expected: &[&["0", "0", "1", "a"], &["0", "1", "2", "b"], &["0", "2", "1", "c"]],
        dead: 0,
    },
    Case { insert: "insert", pk: "record_key", existing: &[], columns: PLAIN, expected: &[&["1", "a"], &["2", "b"]], dead: 1 },
    Case { insert: "insert", pk: "record_value", existing: &[], columns: PLAIN, expected: &[&["1", "a"], &["2", "b"]], dead: 1 },
    Case {
        insert: "upsert",
        pk: "kafka",
        existing: &[],
        columns: KAFKA,
        expected: &[&["0", "0", "1", "a"], &["0", "1", "2", "b"], &["0", "2", "1", "c"]],
        dead: 0,
    },
    Case { insert: "upsert", pk: "record_key", existing: &[], columns: PLAIN, expected: &[&["1", "c"], &["2", "b"]], dead: 0 },
    Case { insert: "upsert", pk: "record_value", existing: &[], columns: PLAIN, expected: &[&["1", "c"], &["2", "b"]], dead: 0 },
    Case {
        insert: "update",
        pk: "kafka",
        existing: KAFKA_PEOPLE,
        columns: KAFKA,
        expected: &[&["0", "0", "1", "a"], &["0", "9", "9", "y"]],
        dead: 0,
    },
    Case { insert: "update", pk: "record_key", existing: PEOPLE, columns: PLAIN, expected: &[&["1", "c"], &["2", "b"], &["3", "z"]], dead: 0 },
    Case { insert: "update", pk: "record_value", existing: PEOPLE, columns: PLAIN, expected: &[&["1", "c"], &["2", "b"], &["3", "z"]], dead: 0 },
];

async fn every_mode(postgres: bool) {
    let db = AnyDb::create(postgres, "modes").await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    for (i, case) in CASES.iter().enumerate() {
        let topic = format!("modes_{i}");
        for sql in case.existing {
            db.exec(&sql.replace("{t}", &db.quote(&topic)).replace("{topic}", &topic)).await;
        }
        let records = json!([person(1, "a"), person(2, "b"), person(1, "c")]);
        assert_eq!(api.post(&format!("/topics/{topic}/records"), &records).await.0, 200);
        let mut settings = json!({
            "topics": topic, "insert.mode": case.insert, "pk.mode": case.pk, "auto.create": "true",
            "errors.tolerance": "all", "errors.deadletterqueue.topic.name": format!("{topic}_dlq")
        });
        if case.pk == "record_value" {
            settings["pk.fields"] = json!("id");
        }
        let (status, body) = api.post("/connectors", &jdbc_sink(&format!("modes-{i}"), &db, settings)).await;
        assert_eq!(status, 201, "{body}");
    }
    for (i, case) in CASES.iter().enumerate() {
        let (topic, expected) = (format!("modes_{i}"), rows(case.expected));
        let what = format!("insert.mode={} pk.mode={}", case.insert, case.pk);
        let found = eventually(&what, WAIT, || async {
            let found = db.texts(&topic, case.columns).await;
            (found.as_ref() == Some(&expected) || task_state(&api, &format!("modes-{i}")).await.0 == "FAILED").then_some(found)
        })
        .await;
        assert_eq!(found, Some(expected), "{what}: {:?}", task_state(&api, &format!("modes-{i}")).await);
        assert_eq!(api.topic_size(&format!("{topic}_dlq")).await, case.dead as i64, "{what}");
    }
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mode_on_mariadb() {
    every_mode(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mode_on_postgres() {
    every_mode(true).await;
}

/// Tombstones and re-inserts of the same keys in one batch are applied in record order.
async fn deletes(postgres: bool) {
    let db = AnyDb::create(postgres, "deletes").await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let records = json!([person(1, "a"), person(2, "b"), tombstone(1), person(1, "d"), tombstone(2), person(3, "e"), person(3, "f")]);
    assert_eq!(api.post("/topics/people/records", &records).await.0, 200);
    let settings = json!({"topics": "people", "insert.mode": "upsert", "pk.mode": "record_key", "delete.enabled": "true", "auto.create": "true"});
    assert_eq!(api.post("/connectors", &jdbc_sink("deletes", &db, settings)).await.0, 201);
    let expected = rows(&[&["1", "d"], &["3", "f"]]);
    eventually("the rows left after the deletes", WAIT, || async { (db.texts("people", PLAIN).await == Some(expected.clone())).then_some(()) }).await;
    // A later batch deletes a row written by an earlier one.
    assert_eq!(api.post("/topics/people/records", &json!([tombstone(3)])).await.0, 200);
    let expected = rows(&[&["1", "d"]]);
    eventually("row 3 deleted", WAIT, || async { (db.texts("people", PLAIN).await == Some(expected.clone())).then_some(()) }).await;
    assert_eq!(task_state(&api, "deletes").await.0, "RUNNING");
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tombstones_delete_in_order_on_mariadb() {
    deletes(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tombstones_delete_in_order_on_postgres() {
    deletes(true).await;
}

/// auto.create makes a table keyed by a string (an indexable VARCHAR on MariaDB), auto.evolve
/// adds the optional field a later schema brings, and a new required field without a
/// default fails the task with a message that says why.
async fn evolution(postgres: bool) {
    let db = AnyDb::create(postgres, "evolve").await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let v2 = [("id", "int64", false), ("name", "string", false), ("email", "string", true)];
    let records = json!([
        {"value": envelope("person", &PERSON, json!({"id": 1, "name": "ann"}))},
        {"value": envelope("person", &v2, json!({"id": 2, "name": "ben", "email": "ben@example.com"}))},
    ]);
    assert_eq!(api.post("/topics/people/records", &records).await.0, 200);
    let settings = json!({
        "topics": "people", "insert.mode": "upsert", "pk.mode": "record_value", "pk.fields": "name",
        "auto.create": "true", "auto.evolve": "true"
    });
    assert_eq!(api.post("/connectors", &jdbc_sink("evolve", &db, settings)).await.0, 201);
    let expected = vec![vec![Some("1".into()), Some("ann".into()), None], vec![Some("2".into()), Some("ben".into()), Some("ben@example.com".into())]];
    eventually("both rows, the second with its email", WAIT, || async {
        (db.texts("people", &["id", "name", "email"]).await == Some(expected.clone())).then_some(())
    })
    .await;

    let v3 = [("id", "int64", false), ("name", "string", false), ("age", "int32", false)];
    let incompatible = json!([{"value": envelope("person", &v3, json!({"id": 3, "name": "cy", "age": 30}))}]);
    assert_eq!(api.post("/topics/people/records", &incompatible).await.0, 200);
    let trace = eventually("the task to fail", WAIT, || async {
        let (state, trace) = task_state(&api, "evolve").await;
        (state == "FAILED").then_some(trace)
    })
    .await;
    assert!(trace.contains("\"age\"") && trace.contains("required and has no default"), "{trace}");
    assert_eq!(db.count("people").await, Some(2));
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_create_and_evolve_on_mariadb() {
    evolution(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_create_and_evolve_on_postgres() {
    evolution(true).await;
}
