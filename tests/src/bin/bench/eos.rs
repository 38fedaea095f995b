//! What exactly-once delivery costs beside at-least-once, both measured in one run on the same
//! rows: the JDBC source onto Kafka (a tansu broker of its own for each) with the worker's
//! `exactly.once.source.support` disabled and enabled (one transaction per poll of 1000 rows),
//! and the JDBC sink into MariaDB with `exactly.once.enabled` false and true (its offsets
//! written in each batch's transaction).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::json;
use wasmconnect::standalone::InternalTopics;
use wasmconnect_e2e::{Api, TestDb, start_kafka_worker_with};
use wasmconnect_log::test_broker::Tansu;

use super::{create_source, wait_for_sink, wait_for_source_written, worker_with_sink_input};

pub struct Delivery {
    pub scenario: &'static str,
    pub rows: usize,
    pub at_least_once: Duration,
    pub exactly_once: Duration,
}

pub async fn run(db: &TestDb, rows: usize) -> anyhow::Result<Vec<Delivery>> {
    let source = Delivery {
        scenario: "source: MariaDB users → Kafka (tansu), exactly.once.source.support disabled vs enabled",
        rows,
        at_least_once: source_to_kafka(db, rows, "disabled").await?,
        exactly_once: source_to_kafka(db, rows, "enabled").await?,
    };
    let (at_least_once, exactly_once) = sinks_into_mariadb(db, rows).await?;
    let sink = Delivery { scenario: "sink: JSON envelopes → MariaDB, exactly.once.enabled false vs true", rows, at_least_once, exactly_once };
    Ok(vec![source, sink])
}

/// From creating the source until the task counts every row written (with exactly-once:
/// committed).
async fn source_to_kafka(db: &TestDb, rows: usize, support: &str) -> anyhow::Result<Duration> {
    let broker = Tansu::start();
    let dir = tempfile::tempdir()?;
    let properties = BTreeMap::from([("exactly.once.source.support".to_owned(), support.to_owned())]);
    let worker = start_kafka_worker_with(dir.path(), broker.bootstrap_servers(), InternalTopics::default(), Duration::from_secs(30), properties).await;
    let api = Api::new(&worker);
    let started = Instant::now();
    create_source(&api, db).await?;
    wait_for_source_written(&api, rows).await?;
    let elapsed = started.elapsed();
    worker.shutdown().await?;
    Ok(elapsed)
}

/// Both sinks read the same records from the embedded log, one after the other, each into a
/// table of its own.
async fn sinks_into_mariadb(db: &TestDb, rows: usize) -> anyhow::Result<(Duration, Duration)> {
    let dir = tempfile::tempdir()?;
    let (worker, _) = worker_with_sink_input(db, dir.path(), rows).await?;
    let api = Api::new(&worker);
    let mut times = Vec::new();
    for (name, table, exactly_once) in [("alo-sink", "bench_alo", false), ("eos-sink", "bench_eos", true)] {
        let mut config = wasmconnect_e2e::sink_config(db);
        config["name"] = json!(name);
        config["config"]["topics"] = json!("bench_in");
        config["config"]["table.name.format"] = json!(table);
        config["config"]["exactly.once.enabled"] = json!(exactly_once.to_string());
        let started = Instant::now();
        let (status, body) = api.post("/connectors", &config).await;
        anyhow::ensure!(status == 201, "creating {name} failed: {body}");
        wait_for_sink(&api, name, rows).await?;
        times.push(started.elapsed());
        let written = db.count(table).await.unwrap_or(0);
        anyhow::ensure!(written == rows as i64, "{name} committed {rows} records but its table holds {written} rows");
    }
    worker.shutdown().await?;
    Ok((times[0], times[1]))
}
