//! A source's lag: the JDBC source counts the rows its mode still has to read when a page
//! comes back full, reports the count through the `progress` import as it reads on, and 0
//! once caught up; the task status shows it as `progress.lag`, the CLI in its LAG column,
//! and `/metrics` as `source_record_remaining`.
//!
//! A gap in the incrementing ids holds reading back (`incrementing.gap.grace.ms`), which
//! stops the snapshot at a known row, so the count can be checked exactly.

use std::time::Duration;

use serde_json::json;
use wasmconnect::cli::{Client, ConnectorsCommand};
use wasmconnect_e2e::*;

const WAIT: Duration = Duration::from_secs(60);

async fn remaining_metric(worker: &wasmconnect::standalone::Standalone, connector: &str) -> Option<f64> {
    let text = reqwest::get(format!("http://{}/metrics", worker.rest_addr())).await.unwrap().text().await.unwrap();
    let prefix = format!("source_record_remaining{{connector=\"{connector}\",task=\"0\"}} ");
    text.lines().find_map(|line| line.strip_prefix(&prefix)).map(|v| v.parse().unwrap())
}

async fn lag(postgres: bool) {
    let db = AnyDb::create(postgres, "lag").await;
    db.exec("CREATE TABLE ledger (id int primary key, memo varchar(20) not null)").await;
    // Ids 1 to 60 without 31: 30 rows before the gap, 29 after it.
    let values: Vec<String> = (1..=60).filter(|id| *id != 31).map(|id| format!("({id}, 'row {id}')")).collect();
    db.exec(&format!("INSERT INTO ledger (id, memo) VALUES {}", values.join(", "))).await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let config = jdbc_source(
        "lagging",
        &db,
        json!({"mode": "incrementing", "incrementing.column.name": "id", "table.whitelist": "ledger", "topic.prefix": "lag_",
               "batch.max.rows": "10", "incrementing.gap.grace.ms": "600000"}),
    );
    assert_eq!(api.post("/connectors", &config).await.0, 201);

    // Pages of 10: after the first the source counts 49 rows still to read, then 39, 29;
    // at the gap it stops with the 29 rows after it still to read.
    let progress = eventually("the snapshot to stop at the gap", WAIT, || async {
        let (_, status) = api.get("/connectors/lagging/status").await;
        let progress = status["tasks"][0]["progress"].clone();
        (progress["records_written"] == 30).then_some(progress)
    })
    .await;
    assert_eq!(progress, json!({"records_read": 30, "records_written": 30, "lag": 29}));
    assert_eq!(remaining_metric(&worker, "lagging").await, Some(29.0));
    let client = Client::new(&format!("http://{}", worker.rest_addr()));
    let mut out = Vec::new();
    client.connectors(ConnectorsCommand::Status { name: "lagging".into(), watch: None }, false, &mut out).await.unwrap();
    let table = String::from_utf8(out).unwrap();
    let task = table.lines().find(|l| l.starts_with("task 0")).unwrap_or_default();
    assert!(task.split_whitespace().rev().take(3).eq(["29", "30", "30"]), "READ WRITTEN LAG: {table}");

    // Id 31 fills the gap: the rest is read, and the source has caught up.
    db.exec("INSERT INTO ledger (id, memo) VALUES (31, 'late')").await;
    let progress = eventually("the snapshot to finish", WAIT, || async {
        let (_, status) = api.get("/connectors/lagging/status").await;
        let progress = status["tasks"][0]["progress"].clone();
        (progress["records_written"] == 60).then_some(progress)
    })
    .await;
    assert_eq!(progress["lag"], 0, "{progress}");
    assert_eq!(remaining_metric(&worker, "lagging").await, Some(0.0));

    // A task that no longer runs reads nothing: no lag, no series.
    assert_eq!(api.put("/connectors/lagging/stop", &json!(null)).await.0, 204);
    eventually("the series to go", WAIT, || async { remaining_metric(&worker, "lagging").await.is_none().then_some(()) }).await;
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_reports_the_rows_it_has_still_to_read_on_mariadb() {
    lag(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_reports_the_rows_it_has_still_to_read_on_postgres() {
    lag(true).await;
}
