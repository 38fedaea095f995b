//! The sink's table management: auto.evolve adds optional columns, a missing column without
//! it fails the task with the column named, and PostgreSQL works as MariaDB does.

use std::time::Duration;

use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, Row};
use wasmconnect_e2e::*;

const WAIT: Duration = Duration::from_secs(60);

fn record(fields: &[(&str, &str, bool)], payload: Value) -> Value {
    let fields: Vec<Value> = fields.iter().map(|(name, kind, optional)| json!({"type": kind, "optional": optional, "field": name})).collect();
    json!({"value": json!({"schema": {"type": "struct", "fields": fields, "optional": false, "name": "person"}, "payload": payload}).to_string()})
}

fn sink(url: &str, topic: &str, auto_evolve: bool) -> Value {
    json!({"name": "people-sink", "config": {
        "connector.class": "JdbcSink", "connection.url": url, "connection.user": "root",
        "topics": topic, "auto.create": "true", "auto.evolve": auto_evolve.to_string()
    }})
}

async fn task_state(api: &Api) -> (String, String) {
    let (_, status) = api.get("/connectors/people-sink/status").await;
    let task = &status["tasks"][0];
    (task["state"].as_str().unwrap_or("").to_owned(), task["trace"].as_str().unwrap_or("").to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_evolve_adds_optional_columns() {
    let db = TestDb::create("evolve").await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let v1 = [("id", "int64", false), ("name", "string", false)];
    let v2 = [("id", "int64", false), ("name", "string", false), ("email", "string", true)];
    let records = json!([
        record(&v1, json!({"id": 1, "name": "ann"})),
        record(&v2, json!({"id": 2, "name": "ben", "email": "ben@example.com"})),
    ]);
    assert_eq!(api.post("/topics/people/records", &records).await.0, 200);
    assert_eq!(api.post("/connectors", &sink(&db.jdbc_url(), "people", true)).await.0, 201);
    eventually("both rows", WAIT, || async { (db.count("people").await == Some(2)).then_some(()) }).await;
    let rows = sqlx::query("SELECT id, email FROM people ORDER BY id").fetch_all(&db.pool).await.unwrap();
    assert_eq!(rows[0].get::<Option<String>, _>(1), None);
    assert_eq!(rows[1].get::<Option<String>, _>(1).as_deref(), Some("ben@example.com"));
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_field_without_auto_evolve_fails_the_task_naming_it() {
    let db = TestDb::create("noevolve").await;
    db.exec("CREATE TABLE people (id BIGINT NOT NULL, name TEXT NOT NULL)").await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let v2 = [("id", "int64", false), ("name", "string", false), ("email", "string", true)];
    assert_eq!(api.post("/topics/people/records", &json!([record(&v2, json!({"id": 1, "name": "a"}))])).await.0, 200);
    assert_eq!(api.post("/connectors", &sink(&db.jdbc_url(), "people", false)).await.0, 201);
    let trace = eventually("the task to fail", WAIT, || async {
        let (state, trace) = task_state(&api).await;
        (state == "FAILED").then_some(trace)
    })
    .await;
    assert!(trace.contains("email") && trace.contains("auto.evolve"), "{trace}");
    assert!(trace.starts_with("The connector's config does not fit"), "the first line says what to do: {trace}");
    assert_eq!(db.count("people").await, Some(0));
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sink_writes_to_postgresql() {
    let pg = sqlx::PgPool::connect("postgres://postgres@127.0.0.1:5432/test").await.expect("PostgreSQL on 127.0.0.1:5432");
    let topic = format!("pg_people_{}", std::process::id());
    sqlx::query(AssertSqlSafe(format!("DROP TABLE IF EXISTS \"{topic}\""))).execute(&pg).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let fields = [("id", "int64", false), ("name", "string", false), ("score", "double", true)];
    let records: Vec<Value> = (1..=3).map(|i| record(&fields, json!({"id": i, "name": format!("p{i}"), "score": 0.5 * i as f64}))).collect();
    assert_eq!(api.post(&format!("/topics/{topic}/records"), &json!(records)).await.0, 200);
    let mut config = sink("jdbc:postgresql://127.0.0.1:5432/test", &topic, true);
    config["config"]["connection.user"] = json!("postgres");
    assert_eq!(api.post("/connectors", &config).await.0, 201);
    let count_sql = format!("SELECT COUNT(*) FROM \"{topic}\"");
    eventually("3 rows in PostgreSQL", WAIT, || async {
        let count: Option<i64> = sqlx::query_scalar(AssertSqlSafe(count_sql.clone())).fetch_one(&pg).await.ok();
        (count == Some(3)).then_some(())
    })
    .await;
    let score: f64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT score FROM \"{topic}\" WHERE id = 2"))).fetch_one(&pg).await.unwrap();
    assert_eq!(score, 1.0);
    worker.shutdown().await.unwrap();
    sqlx::query(AssertSqlSafe(format!("DROP TABLE \"{topic}\""))).execute(&pg).await.unwrap();
}
