//! `cargo xtask bench`: wasmconnect side by side with a raw baseline doing the same work with
//! the same crates outside wasmconnect, on MariaDB and PostgreSQL. Prints a table and writes
//! it to bench/RESULTS.md.
//!
//! Usage: bench [--results PATH] [ROWS]  (ROWS defaults to 100000; the transform chain runs
//! over ten times as many records; PATH defaults to bench/RESULTS.md)
//!        bench --only transforms [RECORDS]  (the chain alone, 1000000 records by default;
//!        prints its table and writes no file, as it is not a full run)
//!        bench --only source [ROWS]  (MariaDB → embedded log alone, likewise)
//!        bench --only scale [CONNECTORS]  (idle connectors on one worker process, 200 by
//!        default; likewise prints its table only)
//!        bench --only mariadb-sink [ROWS]  (the JDBC sink into MariaDB beside its baseline,
//!        as for a profile of it; likewise)
//!        bench --only eos [ROWS]  (exactly-once beside at-least-once: the source onto Kafka
//!        and the sink into MariaDB, each both ways in the same run; likewise)

mod eos;
mod kafka;
mod scale;
mod transforms;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::{AssertSqlSafe, MySqlPool, Row};
use wasmconnect::runtime::TaskLimits;
use wasmconnect::standalone::Standalone;
use wasmconnect_convert::{Converter, JsonConverter};
use wasmconnect_data::{Data, Field, Schema, SchemaType, Value};
use wasmconnect_e2e::{AnyDb, Api, PgDb, TestDb, USERS_DDL, jdbc_sink, start_worker_with_limits};
use wasmconnect_log::{EmbeddedLog, EmbeddedOptions, ProducerRecord, TopicLog, TopicPartition};

/// Rows per SELECT, as batch.max.rows.
const READ_BATCH: usize = 1000;
/// Records per sink transaction: what the worker hands one `put`.
const WRITE_BATCH: usize = 500;
/// Idle connectors on one worker in the scale scenario, as issue 12 sets it.
const SCALE_CONNECTORS: usize = 200;

struct Measurement {
    scenario: &'static str,
    rows: usize,
    baseline: Duration,
    wasmconnect: Duration,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == scale::BARE_INSTANCES_ARG) {
        return scale::bare_instances(&args[1..]);
    }
    let mut flag = |name: &str| -> anyhow::Result<Option<String>> {
        let Some(at) = args.iter().position(|a| a == name) else { return Ok(None) };
        anyhow::ensure!(at + 1 < args.len(), "{name} needs a value");
        args.remove(at);
        Ok(Some(args.remove(at)))
    };
    let results_path = flag("--results")?.unwrap_or_else(|| "bench/RESULTS.md".into());
    let only = flag("--only")?;
    let count: Option<usize> = args.first().map(|a| a.parse()).transpose()?;
    match only.as_deref() {
        None => {}
        Some("transforms") => {
            let records = count.unwrap_or(1_000_000);
            let chain = transforms::run(records, &wasmconnect_e2e::plugin_path(), tokio::runtime::Handle::current())?;
            println!("{}", render_chain(records, &chain));
            return Ok(());
        }
        Some("source") => {
            let rows = count.unwrap_or(100_000);
            let db = users_db(rows).await?;
            let source = source_scenario(&db, rows).await?;
            db.drop_database().await;
            println!("{}", render(&[source]));
            return Ok(());
        }
        Some("scale") => {
            let scale = scale::run(count.unwrap_or(SCALE_CONNECTORS), &wasmconnect_e2e::plugin_path()).await?;
            println!("{}", render_scale(&scale));
            return Ok(());
        }
        Some("mariadb-sink") => {
            let rows = count.unwrap_or(100_000);
            let db = users_db(rows).await?;
            let sinks = sink_scenarios(&db, rows, false).await?;
            db.drop_database().await;
            println!("{}", render(&sinks));
            return Ok(());
        }
        Some("eos") => {
            let rows = count.unwrap_or(100_000);
            let db = users_db(rows).await?;
            let deliveries = eos::run(&db, rows).await?;
            db.drop_database().await;
            println!("{}", render_eos(&deliveries));
            return Ok(());
        }
        Some(other) => anyhow::bail!("--only {other}: the scenarios that run alone are `transforms`, `source`, `scale`, `mariadb-sink` and `eos`"),
    }
    let rows = count.unwrap_or(100_000);
    let db = users_db(rows).await?;

    let source = source_scenario(&db, rows).await?;
    let kafka = kafka::source_scenario(&db, rows).await?;
    let sinks = sink_scenarios(&db, rows, true).await?;
    let deliveries = eos::run(&db, rows).await?;
    db.drop_database().await;
    let chain_records = rows * 10;
    let chain = transforms::run(chain_records, &wasmconnect_e2e::plugin_path(), tokio::runtime::Handle::current())?;
    let scale = scale::run(SCALE_CONNECTORS, &wasmconnect_e2e::plugin_path()).await?;

    let scenarios: Vec<Measurement> = [source, kafka].into_iter().chain(sinks).collect();
    let table = format!("{}\n{}\n{}\n{}", render(&scenarios), render_eos(&deliveries), render_chain(chain_records, &chain), render_scale(&scale));
    println!("{table}");
    let report = format!(
        "# Benchmark results\n\nCommand: `cargo xtask bench {rows}` (release build) on {} cores ({}), MariaDB and \
         PostgreSQL on 127.0.0.1, Kafka as the tansu broker on 127.0.0.1, the baseline and wasmconnect measured in the same run. Peak RSS of the whole run: {} MiB.\n\n{table}\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::env::consts::ARCH,
        peak_rss_mib().unwrap_or(0),
    );
    std::fs::write(&results_path, report)?;
    eprintln!("written to {results_path}");
    Ok(())
}

/// A database of the bench's own with a `users` table of `rows` rows.
async fn users_db(rows: usize) -> anyhow::Result<TestDb> {
    let db = TestDb::create("bench").await;
    db.exec(USERS_DDL).await;
    fill_users(&db.pool, rows).await?;
    Ok(db)
}

async fn fill_users(pool: &MySqlPool, rows: usize) -> anyhow::Result<()> {
    for start in (0..rows).step_by(5000) {
        let end = (start + 5000).min(rows);
        let values: Vec<String> = (start..end).map(|i| format!("('user{i}','pw{i}')")).collect();
        sqlx::query(AssertSqlSafe(format!("INSERT INTO users (user_id, pwd) VALUES {}", values.join(",")))).execute(pool).await?;
    }
    Ok(())
}

fn users_schema() -> Arc<Schema> {
    Arc::new(
        Schema::structure(vec![
            Field::new("id", Schema::new(SchemaType::Int32)),
            Field::new("user_id", Schema::new(SchemaType::String)),
            Field::new("pwd", Schema::new(SchemaType::String)),
            Field::new("created_at", Schema::timestamp().optional()),
        ])
        .named("users"),
    )
}

/// Baseline: the same paged SELECT the JDBC source runs, the same JSON envelope, the same
/// atomic append of records plus offset, without WASM.
async fn raw_source(pool: &MySqlPool, log: &EmbeddedLog, rows: usize) -> anyhow::Result<()> {
    raw_source_pages(pool, rows, |batch| Ok(log.append(batch).map(|_| ())?)).await
}

/// The source's work without wasmconnect: each page of rows as JSON envelopes, followed by
/// the offset record that commits it, handed to `emit`.
async fn raw_source_pages(pool: &MySqlPool, rows: usize, mut emit: impl FnMut(Vec<ProducerRecord>) -> anyhow::Result<()>) -> anyhow::Result<()> {
    let schema = users_schema();
    let converter = JsonConverter::new(true);
    let mut last = -1i64;
    let mut written = 0;
    while written < rows {
        let page = sqlx::query("SELECT id, user_id, pwd, created_at FROM users WHERE id > ? ORDER BY id ASC LIMIT ?")
            .bind(last)
            .bind(READ_BATCH as i64)
            .fetch_all(pool)
            .await?;
        let mut batch = Vec::with_capacity(page.len() + 1);
        for row in &page {
            let id: i32 = row.get(0);
            let created: Option<chrono::NaiveDateTime> = row.get(3);
            let value = Value::Struct(vec![
                Value::Int32(id),
                Value::String(row.get(1)),
                Value::String(row.get(2)),
                created.map_or(Value::Null, |c| Value::Int64(c.and_utc().timestamp_millis())),
            ]);
            let bytes = converter.from_connect_data("raw_users", &Data { schema: Some(schema.clone()), value })?;
            batch.push(ProducerRecord { topic: "raw_users".into(), partition: None, key: None, value: bytes, timestamp: None, headers: vec![] });
            last = id.into();
        }
        batch.push(ProducerRecord {
            topic: "raw-offsets".into(),
            partition: None,
            key: Some(br#"["raw",{"table":"users"}]"#.to_vec()),
            value: Some(json!({ "incrementing": last }).to_string().into_bytes()),
            timestamp: None,
            headers: vec![],
        });
        written += page.len();
        emit(batch)?;
    }
    Ok(())
}

async fn source_scenario(db: &TestDb, rows: usize) -> anyhow::Result<Measurement> {
    let dir = tempfile::tempdir()?;
    let log = EmbeddedLog::open(&dir.path().join("raw"), EmbeddedOptions::default())?;
    let started = Instant::now();
    raw_source(&db.pool, &log, rows).await?;
    let baseline = started.elapsed();

    let worker = start_worker_with_limits(&dir.path().join("worker"), TaskLimits::default()).await;
    let api = Api::new(&worker);
    let started = Instant::now();
    create_source(&api, db).await?;
    let tp = TopicPartition { topic: "my_topic_users".into(), partition: 0 };
    while worker.log().end_offset(&tp).unwrap_or(0) < rows as i64 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let wasmconnect = started.elapsed();
    worker.shutdown().await?;
    Ok(Measurement { scenario: "source: MariaDB users → embedded log (JSON envelope)", rows, baseline, wasmconnect })
}

/// A worker whose topic `bench_in` holds `rows` records as the source writes them, and the
/// log they were made in (topic `raw_users`), for the sinks' baselines to read.
async fn worker_with_sink_input(db: &TestDb, dir: &std::path::Path, rows: usize) -> anyhow::Result<(Standalone, EmbeddedLog)> {
    let worker = start_worker_with_limits(&dir.join("worker"), TaskLimits::default()).await;
    let source_log = EmbeddedLog::open(&dir.join("input"), EmbeddedOptions::default())?;
    raw_source(&db.pool, &source_log, rows).await?;
    let input = TopicPartition { topic: "raw_users".into(), partition: 0 };
    let mut next = 0;
    while next < rows as i64 {
        let records = source_log.read(&input, next, 5000)?;
        next += records.len() as i64;
        let copy = records
            .into_iter()
            .map(|r| ProducerRecord { topic: "bench_in".into(), partition: Some(0), key: r.key, value: r.value, timestamp: Some(r.timestamp), headers: vec![] })
            .collect();
        worker.log().append(copy)?;
    }
    Ok((worker, source_log))
}

/// Waits until the source task counts `rows` records written (acknowledged, or with
/// exactly-once committed).
async fn wait_for_source_written(api: &Api, rows: usize) -> anyhow::Result<()> {
    loop {
        let (_, status) = api.get("/connectors/my-source-connect/status").await;
        if status["tasks"][0]["progress"]["records_written"].as_u64().unwrap_or(0) >= rows as u64 {
            return Ok(());
        }
        anyhow::ensure!(status["tasks"][0]["state"] != "FAILED", "the source failed: {}", status["tasks"][0]["trace"]);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Creates the reference scenario's JDBC source, reading pages of the baseline's size.
async fn create_source(api: &Api, db: &TestDb) -> anyhow::Result<()> {
    let mut config = wasmconnect_e2e::source_config(db);
    config["config"]["batch.max.rows"] = json!(READ_BATCH.to_string());
    let (status, body) = api.post("/connectors", &config).await;
    anyhow::ensure!(status == 201, "creating the source failed: {body}");
    Ok(())
}

/// Baseline: read the envelopes, convert them, and write them with the multi-row INSERT the
/// JDBC sink builds, one transaction per batch of the size the worker hands the sink.
async fn raw_sink(pool: &MySqlPool, log: &EmbeddedLog, topic: &str, rows: usize) -> anyhow::Result<()> {
    let converter = JsonConverter::new(true);
    let tp = TopicPartition { topic: topic.into(), partition: 0 };
    let mut next = 0;
    while (next as usize) < rows {
        let records = log.read(&tp, next, WRITE_BATCH)?;
        next += records.len() as i64;
        let marks = vec!["(?, ?, ?, ?)"; records.len()].join(", ");
        let sql = format!("INSERT INTO raw_sink (id, user_id, pwd, created_at) VALUES {marks}");
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for record in &records {
            let data = converter.to_connect_data(topic, record.value.as_deref())?;
            let Value::Struct(fields) = data.value else { anyhow::bail!("not a struct") };
            for field in fields {
                query = match field {
                    Value::Int32(v) => query.bind(v),
                    Value::String(v) => query.bind(v),
                    Value::Int64(ms) => query.bind(chrono::DateTime::from_timestamp_millis(ms).map(|d| d.naive_utc())),
                    _ => query.bind(None::<String>),
                };
            }
        }
        let mut tx = pool.begin().await?;
        query.execute(&mut *tx).await?;
        tx.commit().await?;
    }
    Ok(())
}

/// Baseline: read the envelopes, convert them, and write each batch the worker would hand
/// the sink with PostgreSQL's binary COPY, one transaction per batch. It needs sqlx >= 0.9.1:
/// 0.9.0 left TCP_NODELAY off, so CopyDone (a few bytes, written after the data with no
/// answer in between) waited for the server's delayed ACK of the data, ~40 ms a batch.
async fn raw_pg_sink(pool: &sqlx::PgPool, log: &EmbeddedLog, topic: &str, rows: usize) -> anyhow::Result<()> {
    /// Microseconds from 1970-01-01 to 2000-01-01, PostgreSQL's timestamp epoch.
    const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;
    let converter = JsonConverter::new(true);
    let tp = TopicPartition { topic: topic.into(), partition: 0 };
    let mut next = 0;
    while (next as usize) < rows {
        let records = log.read(&tp, next, WRITE_BATCH)?;
        next += records.len() as i64;
        let mut copy = b"PGCOPY\n\xff\r\n\0".to_vec();
        copy.extend_from_slice(&[0; 8]); // flags, header extension length
        for record in &records {
            let data = converter.to_connect_data(topic, record.value.as_deref())?;
            let Value::Struct(fields) = data.value else { anyhow::bail!("not a struct") };
            copy.extend_from_slice(&(fields.len() as i16).to_be_bytes());
            for field in fields {
                let bytes = match field {
                    Value::Int32(v) => v.to_be_bytes().to_vec(),
                    Value::String(v) => v.into_bytes(),
                    Value::Int64(ms) => (ms * 1000 - PG_EPOCH_MICROS).to_be_bytes().to_vec(),
                    _ => {
                        copy.extend_from_slice(&(-1i32).to_be_bytes());
                        continue;
                    }
                };
                copy.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
                copy.extend_from_slice(&bytes);
            }
        }
        copy.extend_from_slice(&(-1i16).to_be_bytes());
        let mut tx = pool.begin().await?;
        let mut writer = tx.copy_in_raw("COPY raw_sink (id, user_id, pwd, created_at) FROM STDIN (FORMAT binary)").await?;
        writer.send(copy).await?;
        writer.finish().await?;
        tx.commit().await?;
    }
    Ok(())
}

/// The JDBC sink writing the source's records to MariaDB and (with `postgres`) to
/// PostgreSQL, each beside its baseline (multi-row INSERT on MariaDB, binary COPY on
/// PostgreSQL), on the same records.
async fn sink_scenarios(db: &TestDb, rows: usize, postgres: bool) -> anyhow::Result<Vec<Measurement>> {
    let dir = tempfile::tempdir()?;
    let (worker, source_log) = worker_with_sink_input(db, dir.path(), rows).await?;
    let api = Api::new(&worker);

    db.exec("CREATE TABLE raw_sink (id INT NOT NULL, user_id TEXT NOT NULL, pwd TEXT NOT NULL, created_at DATETIME(3))").await;
    let started = Instant::now();
    raw_sink(&db.pool, &source_log, "raw_users", rows).await?;
    let baseline = started.elapsed();

    let mut config = wasmconnect_e2e::sink_config(db);
    config["config"]["topics"] = json!("bench_in");
    let started = Instant::now();
    let (status, body) = api.post("/connectors", &config).await;
    anyhow::ensure!(status == 201, "creating the sink failed: {body}");
    wait_for_sink(&api, "my-sink-connect", rows).await?;
    let mariadb = Measurement { scenario: "sink: JSON envelopes → MariaDB multi-row INSERT", rows, baseline, wasmconnect: started.elapsed() };
    let written = db.count("bench_in").await.unwrap_or(0);
    anyhow::ensure!(written == rows as i64, "the MariaDB sink committed {rows} records but its table holds {written} rows");
    if !postgres {
        worker.shutdown().await?;
        return Ok(vec![mariadb]);
    }

    let pg_db = PgDb::create("bench").await;
    let pg_pool = pg_db.pool.clone();
    let pg = AnyDb::Postgres(pg_db);
    pg.exec("CREATE TABLE raw_sink (id INT NOT NULL, user_id TEXT NOT NULL, pwd TEXT NOT NULL, created_at TIMESTAMP(3))").await;
    let started = Instant::now();
    raw_pg_sink(&pg_pool, &source_log, "raw_users", rows).await?;
    let baseline = started.elapsed();
    let settings = json!({"topics": "bench_in", "auto.create": "true"});
    let started = Instant::now();
    let (status, body) = api.post("/connectors", &jdbc_sink("pg-sink", &pg, settings)).await;
    anyhow::ensure!(status == 201, "creating the PostgreSQL sink failed: {body}");
    wait_for_sink(&api, "pg-sink", rows).await?;
    let postgres = Measurement { scenario: "sink: JSON envelopes → PostgreSQL (baseline: binary COPY)", rows, baseline, wasmconnect: started.elapsed() };
    let written = pg.count("bench_in").await.unwrap_or(0);
    anyhow::ensure!(written == rows as i64, "the PostgreSQL sink committed {rows} records but its table holds {written} rows");
    worker.shutdown().await?;
    pg.drop_database().await;
    Ok(vec![mariadb, postgres])
}

/// Waits until the sink has committed the position after the last of `rows` records of
/// `bench_in`. It commits only after the batch's transaction did, so the rows are in the
/// table by then. Asking the worker, not the database: a `COUNT(*)` every few milliseconds
/// would scan the growing table and slow the very writes being measured.
async fn wait_for_sink(api: &Api, connector: &str, rows: usize) -> anyhow::Result<()> {
    loop {
        let (status, body) = api.get(&format!("/connectors/{connector}/offsets")).await;
        anyhow::ensure!(status == 200, "reading the offsets of {connector} failed: {body}");
        let committed = body["offsets"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|entry| entry["partition"]["kafka_topic"] == "bench_in")
            .filter_map(|entry| entry["offset"]["kafka_offset"].as_i64())
            .max()
            .unwrap_or(0);
        if committed >= rows as i64 {
            return Ok(());
        }
        let (state, trace) = wasmconnect_e2e::task_state(api, connector).await;
        anyhow::ensure!(state != "FAILED", "{connector} failed: {trace}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn render(rows: &[Measurement]) -> String {
    let columns = ["scenario", "baseline rows/s", "wasmconnect rows/s", "wasmconnect / baseline"];
    render_rates(columns, rows.iter().map(|r| (r.scenario, r.rows, r.baseline, r.wasmconnect)))
}

fn render_eos(rows: &[eos::Delivery]) -> String {
    let columns = ["delivery", "at least once rows/s", "exactly once rows/s", "exactly once / at least once"];
    render_rates(columns, rows.iter().map(|r| (r.scenario, r.rows, r.at_least_once, r.exactly_once)))
}

/// A table of two sides' rows/s on the same rows, and the second's share of the first.
fn render_rates(columns: [&str; 4], rows: impl Iterator<Item = (&'static str, usize, Duration, Duration)>) -> String {
    let [label, first, second, ratio] = columns;
    let mut out = format!("| {label} | rows | {first} | {second} | {ratio} |\n|---|---:|---:|---:|---:|\n");
    for (scenario, count, first, second) in rows {
        let rate = |d: Duration| count as f64 / d.as_secs_f64();
        out.push_str(&format!(
            "| {scenario} | {count} | {:.0} | {:.0} | {:.0}% |\n",
            rate(first),
            rate(second),
            100.0 * first.as_secs_f64() / second.as_secs_f64()
        ));
    }
    out
}

fn render_chain(records: usize, times: &transforms::ChainTimes) -> String {
    let per_record = |d: Duration| d.as_nanos() as f64 / records as f64;
    format!(
        "| transform chain (ValueToKey, ExtractField$Key, MaskField$Value) | records | native Rust ns/record | WASM ns/record | WASM / native |\n\
         |---|---:|---:|---:|---:|\n| batches of 1000 `users` records | {records} | {:.0} | {:.0} | {:.2}× |\n",
        per_record(times.native),
        per_record(times.wasm),
        times.wasm.as_secs_f64() / times.native.as_secs_f64()
    )
}

fn render_scale(s: &scale::Scale) -> String {
    const MIB: f64 = (1u64 << 20) as f64;
    let n = s.connectors;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let latency = |l: &scale::Latency| format!("{:.2} / {:.2} ms", ms(l.p50), ms(l.p99));
    let per_connector = (s.rss_loaded.saturating_sub(s.rss_empty)) as f64 / n as f64 / MIB;
    let rows = [
        ("resident memory per idle connector (worker VmRSS, loaded − empty, / connectors)", format!("{:.2} MiB per bare source instance", s.bare_instance as f64 / MIB), format!("{per_connector:.2} MiB"), "≤ 5 MiB"),
        ("worker VmRSS", format!("{:.0} MiB with 0 connectors", s.rss_empty as f64 / MIB), format!("{:.0} MiB with {n}", s.rss_loaded as f64 / MIB), ""),
        ("`GET /connectors?expand=status` p50 / p99", format!("{} with 0 connectors", latency(&s.list_empty)), format!("{} with {n}", latency(&s.list_loaded)), ""),
        ("`GET /` p50 / p99", String::new(), format!("{} with {n}", latency(&s.root_loaded)), ""),
        ("start to first REST answer, compiled components cached, 0 connectors (median)", format!("{:.0} ms first start, compiling them", ms(s.first_start)), format!("{:.0} ms", ms(s.cold_start)), "< 300 ms"),
        ("restart with {n} connectors: first REST answer / every task RUNNING (median)", String::new(), format!("{:.0} / {:.0} ms", ms(s.restart_ready), ms(s.restart_running)), ""),
        ("creating the {n} connectors over REST, one after the other", String::new(), format!("{:.0} ms", ms(s.create_all)), ""),
    ];
    let mut out = format!("| scale: {n} idle connectors on one worker process | baseline | wasmconnect | goal |\n|---|---:|---:|---:|\n");
    for (what, baseline, measured, goal) in rows {
        out.push_str(&format!("| {} | {baseline} | {measured} | {goal} |\n", what.replace("{n}", &n.to_string())));
    }
    out
}

/// The process's peak resident set (VmHWM), in MiB.
fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? / 1024)
}
