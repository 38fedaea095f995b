//! SQLite, embedded: a database file on the worker, read by the JDBC source
//! (`jdbc:sqlite:PATH`) and written by the JDBC sink.

use std::time::Duration;

use serde_json::{Value, json};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AssertSqlSafe, Row, SqlitePool};
use wasmconnect_e2e::*;

const WAIT: Duration = Duration::from_secs(60);

async fn sqlite_db(path: &std::path::Path) -> SqlitePool {
    SqlitePool::connect_with(SqliteConnectOptions::new().filename(path).create_if_missing(true)).await.unwrap()
}

async fn exec(pool: &SqlitePool, sql: &str) {
    sqlx::query(AssertSqlSafe(sql.to_owned())).execute(pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn source(name: &str, path: &std::path::Path, settings: Value) -> Value {
    let mut config = json!({
        "connector.class": "JdbcSource",
        "connection.url": format!("jdbc:sqlite:{}", path.display()),
        "topic.prefix": format!("{name}_"),
        "poll.interval.ms": "100"
    });
    for (k, v) in settings.as_object().unwrap() {
        config[k] = v.clone();
    }
    json!({"name": name, "config": config})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_source_reads_a_sqlite_file_with_its_types() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shop.db");
    let pool = sqlite_db(&file).await;
    exec(&pool, "CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL, price NUMERIC(10, 2), weight REAL, \
                 photo BLOB, sold BOOLEAN, added DATE, seen DATETIME)").await;
    exec(&pool, "INSERT INTO items (name, price, weight, photo, sold, added, seen) VALUES \
                 ('lamp', 12.50, 1.5, X'CAFE', 1, '2024-02-29', '2024-02-29 13:45:00'), \
                 ('desk', 99, NULL, NULL, 0, NULL, NULL)").await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);

    assert_eq!(api.post("/connectors", &source("inc", &file, json!({"mode": "incrementing"}))).await.0, 201);
    let values = eventually("both rows", WAIT, || async {
        let values = api.topic_values("inc_items").await;
        (values.len() == 2).then_some(values)
    })
    .await;
    let fields: Vec<(String, String)> = values[0]["schema"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["field"].as_str().unwrap().to_owned(), f["name"].as_str().unwrap_or(f["type"].as_str().unwrap()).to_owned()))
        .collect();
    let types: Vec<&str> = fields.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(
        types,
        [
            "int64",
            "string",
            "org.apache.kafka.connect.data.Decimal",
            "double",
            "bytes",
            "boolean",
            "org.apache.kafka.connect.data.Date",
            "org.apache.kafka.connect.data.Timestamp"
        ],
        "{fields:?}"
    );
    let lamp = &values[0]["payload"];
    assert_eq!(lamp["id"], 1);
    assert_eq!(lamp["name"], "lamp");
    assert_eq!(lamp["price"], "BOI=", "12.50 as Decimal(scale 2), base64 of 1250");
    assert_eq!(lamp["weight"], 1.5);
    assert_eq!(lamp["photo"], "yv4=");
    assert_eq!(lamp["sold"], true);
    assert_eq!(lamp["added"], 19782, "days since the epoch");
    assert_eq!(lamp["seen"], 1_709_214_300_000i64);
    assert_eq!(values[1]["payload"]["weight"], Value::Null);
    let (_, offsets) = api.get("/connectors/inc/offsets").await;
    assert_eq!(offsets["offsets"][0]["partition"]["table"], "items", "{offsets}");
    assert_eq!(offsets["offsets"][0]["offset"]["incrementing"], 2, "{offsets}");

    // Timestamps are free text in SQLite, in several formats; timestamp+incrementing mode
    // compares them normalized, reads rows in time order, and an update is read again.
    exec(&pool, "CREATE TABLE events (id INTEGER PRIMARY KEY, at DATETIME NOT NULL)").await;
    exec(&pool, "INSERT INTO events (at) VALUES ('2024-01-01 10:00:00'), ('2024-01-01T09:00:00.500'), ('2024-01-01 11:00:00')").await;
    let timestamps = source(
        "ts",
        &file,
        json!({"mode": "timestamp+incrementing", "timestamp.column.name": "at", "incrementing.column.name": "id", "table.whitelist": "events"}),
    );
    assert_eq!(api.post("/connectors", &timestamps).await.0, 201);
    let ids = |values: Vec<Value>| values.iter().map(|v| v["payload"]["id"].as_i64().unwrap()).collect::<Vec<_>>();
    let first = eventually("the three events", WAIT, || async {
        let values = api.topic_values("ts_events").await;
        (values.len() == 3).then_some(values)
    })
    .await;
    assert_eq!(ids(first), vec![2, 1, 3], "in time order, whatever the text format");
    exec(&pool, "UPDATE events SET at = '2024-01-01 12:00:00' WHERE id = 1").await;
    let all = eventually("the updated event again", WAIT, || async {
        let values = api.topic_values("ts_events").await;
        (values.len() == 4).then_some(values)
    })
    .await;
    assert_eq!(ids(all), vec![2, 1, 3, 1]);

    // A URL naming no existing file is an error, not a new empty database on the worker.
    let missing = source("missing", &dir.path().join("nope.db"), json!({"mode": "bulk"}));
    assert_eq!(api.post("/connectors", &missing).await.0, 201);
    eventually("the task to report the missing file", WAIT, || async {
        let (_, status) = api.get("/connectors/missing/status").await;
        let text = status.to_string();
        (text.contains("nope.db") || status["tasks"][0]["state"] == "FAILED").then_some(())
    })
    .await;
    assert!(!dir.path().join("nope.db").exists());

    worker.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sink_writes_the_reference_rows_into_a_sqlite_file() {
    let db = TestDb::create("tosqlite").await;
    db.exec(USERS_DDL).await;
    db.exec("INSERT INTO users (user_id, pwd) VALUES ('alice', 'a'), ('bob', 'b')").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("copy.db");
    let pool = sqlite_db(&file).await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    assert_eq!(api.post("/connectors", &source_config(&db)).await.0, 201);
    let mut sink = sink_config(&db);
    sink["config"]["connection.url"] = json!(format!("jdbc:sqlite:{}", file.display()));
    assert_eq!(api.post("/connectors", &sink).await.0, 201);
    let rows = eventually("two rows in SQLite", WAIT, || async {
        let rows = sqlx::query("SELECT id, user_id, pwd FROM my_topic_users ORDER BY id").fetch_all(&pool).await.ok()?;
        (rows.len() == 2).then_some(rows)
    })
    .await;
    let rows: Vec<(i64, String, String)> = rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect();
    assert_eq!(rows, vec![(1, "alice".into(), "a".into()), (2, "bob".into(), "b".into())]);
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}
