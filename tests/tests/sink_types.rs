//! Logical types survive the round trip table → JDBC source → topic → JDBC sink → table on
//! MariaDB and PostgreSQL: the copy the sink creates holds equal values. With db.timezone the
//! sink writes the wall-clock time of that zone to columns without a time zone.

use std::time::Duration;

use serde_json::json;
use wasmconnect_e2e::*;

const WAIT: Duration = Duration::from_secs(60);
const COLUMNS: [&str; 6] = ["id", "amount", "day", "at_time", "at", "note"];

async fn round_trip(postgres: bool) {
    let db = AnyDb::create(postgres, "sinktypes").await;
    let (serial, datetime) = if postgres { ("SERIAL PRIMARY KEY", "TIMESTAMP(3)") } else { ("INT AUTO_INCREMENT PRIMARY KEY", "DATETIME(3)") };
    db.exec(&format!(
        "CREATE TABLE things (id {serial}, amount DECIMAL(10,2) NOT NULL, day DATE NOT NULL, at_time TIME(3) NOT NULL, \
         at {datetime} NOT NULL, note VARCHAR(50))"
    ))
    .await;
    db.exec(
        "INSERT INTO things (amount, day, at_time, at, note) VALUES \
         (12.50, '2024-01-15', '10:11:12.345', '2024-01-15 10:11:12.345', 'first'), \
         (-0.07, '1969-12-31', '23:59:59.999', '1999-12-31 23:59:59.999', NULL)",
    )
    .await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let source = json!({"mode": "incrementing", "incrementing.column.name": "id", "table.whitelist": "things", "topic.prefix": "src_"});
    assert_eq!(api.post("/connectors", &jdbc_source("source", &db, source)).await.0, 201);
    let copy = json!({
        "topics": "src_things", "table.name.format": "copy_${topic}", "auto.create": "true",
        "insert.mode": "upsert", "pk.mode": "record_value", "pk.fields": "id"
    });
    assert_eq!(api.post("/connectors", &jdbc_sink("copy", &db, copy)).await.0, 201);
    let paris = json!({"topics": "src_things", "table.name.format": "paris_${topic}", "auto.create": "true", "db.timezone": "Europe/Paris"});
    assert_eq!(api.post("/connectors", &jdbc_sink("paris", &db, paris)).await.0, 201);

    let original = db.texts("things", &COLUMNS).await.unwrap();
    assert_eq!(original.len(), 2);
    eventually("an equal copy", WAIT, || async { (db.texts("copy_src_things", &COLUMNS).await.as_ref() == Some(&original)).then_some(()) })
        .await;
    let at = eventually("the rows in Paris time", WAIT, || async {
        db.texts("paris_src_things", &["at"]).await.filter(|rows| rows.len() == 2)
    })
    .await;
    let at: Vec<&str> = at.iter().map(|r| r[0].as_deref().unwrap()).collect();
    assert_eq!(at, ["2000-01-01 00:59:59.999", "2024-01-15 11:11:12.345"], "UTC+1 in winter");
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logical_types_round_trip_on_mariadb() {
    round_trip(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logical_types_round_trip_on_postgres() {
    round_trip(true).await;
}
