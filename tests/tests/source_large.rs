//! A table far larger than the plugin's memory cap streams through in pages: incrementing
//! mode and a bulk pass each read 1,000,000 rows with the plugin limited to 16 MiB, which one
//! query for the whole table would overflow (the task would fail with a memory trap), and
//! the task status shows how far the snapshot has got meanwhile: the records read, and the
//! rows still to read (`lag`), which falls to 0 as the snapshot ends.

use std::time::Duration;

use serde_json::json;
use wasmconnect::runtime::TaskLimits;
use wasmconnect_e2e::*;

const ROWS: i64 = 1_000_000;
const WAIT: Duration = Duration::from_secs(180);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_table_streams_within_a_small_memory_cap() {
    let db = AnyDb::create(false, "large").await;
    db.exec("CREATE TABLE big (id int auto_increment primary key, payload varchar(100) not null)").await;
    db.exec(&format!("INSERT INTO big (payload) SELECT CONCAT('row number ', seq, ' with some padding text') FROM seq_1_to_{ROWS}")).await;
    let data = tempfile::tempdir().unwrap();
    let limits = TaskLimits { memory_bytes: 16 << 20, call_timeout: Duration::from_secs(60), ..TaskLimits::default() };
    let worker = start_worker_with_limits(data.path(), limits).await;
    let api = Api::new(&worker);
    let incrementing = jdbc_source("large-inc", &db, json!({"mode": "incrementing", "table.whitelist": "big", "topic.prefix": "inc_", "batch.max.rows": "5000"}));
    let bulk = jdbc_source(
        "large-bulk",
        &db,
        json!({"mode": "bulk", "table.whitelist": "big", "topic.prefix": "bulk_", "batch.max.rows": "5000", "poll.interval.ms": "600000"}),
    );
    assert_eq!(api.post("/connectors", &incrementing).await.0, 201);
    assert_eq!(api.post("/connectors", &bulk).await.0, 201);

    // Both snapshots run at once, so both are watched from the start: (read, lag) samples.
    let connectors = [("large-inc", "inc_big"), ("large-bulk", "bulk_big")];
    let samples = std::sync::Mutex::new(vec![Vec::new(); connectors.len()]);
    eventually(&format!("{ROWS} records on each topic"), WAIT, || {
        let (samples, api) = (&samples, &api);
        async move {
            let mut done = true;
            for (i, (connector, topic)) in connectors.iter().enumerate() {
                let (_, status) = api.get(&format!("/connectors/{connector}/status")).await;
                assert_eq!(status["tasks"][0]["state"], "RUNNING", "{status}");
                let progress = &status["tasks"][0]["progress"];
                let read = progress["records_read"].as_i64().unwrap_or(0);
                samples.lock().unwrap()[i].push((read, progress["lag"].as_i64()));
                done &= api.topic_size(topic).await >= ROWS;
            }
            done.then_some(())
        }
    })
    .await;
    let samples = samples.into_inner().unwrap();
    for ((connector, topic), samples) in connectors.iter().zip(&samples) {
        let midway = samples.iter().any(|(read, lag)| *read > 0 && *read < ROWS && lag.is_some_and(|lag| lag > 0 && lag < ROWS));
        assert!(midway, "{connector}: the records read and still to read showed midway: {samples:?}");
        let lags: Vec<i64> = samples.iter().filter_map(|(_, lag)| *lag).collect();
        assert!(lags.windows(2).all(|w| w[1] <= w[0]), "{connector}: the rows still to read only fell: {lags:?}");
        eventually(&format!("{connector} to have caught up"), WAIT, || async {
            let (_, status) = api.get(&format!("/connectors/{connector}/status")).await;
            (status["tasks"][0]["progress"]["lag"] == 0).then_some(())
        })
        .await;
        let first = api.topic_values_from(topic, 0, 1).await;
        let last = api.topic_values_from(topic, ROWS - 1, 1).await;
        assert_eq!((first[0]["payload"]["id"].as_i64(), last[0]["payload"]["id"].as_i64()), (Some(1), Some(ROWS)), "{topic}");
    }
    assert_eq!(api.topic_size("bulk_big").await, ROWS, "one bulk pass so far");
    let (_, committed) = api.get("/connectors/large-inc/offsets").await;
    assert_eq!(committed["offsets"][0]["offset"], json!({"incrementing": ROWS}));
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}
