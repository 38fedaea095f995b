//! The JDBC source's modes on MariaDB and PostgreSQL: bulk, incrementing, timestamp,
//! timestamp+incrementing and query, each checked on the records and committed offsets.

use std::time::Duration;

use serde_json::{Value, json};
use wasmconnect_e2e::*;

const WAIT: Duration = Duration::from_secs(60);

/// Waits for at least `n` records on `topic` and returns their payloads.
async fn payloads(api: &Api, topic: &str, n: usize) -> Vec<Value> {
    eventually(&format!("{n} records on {topic}"), WAIT, || async {
        let values = api.topic_values(topic).await;
        (values.len() >= n).then(|| values.into_iter().map(|v| v["payload"].clone()).collect())
    })
    .await
}

fn ids(payloads: &[Value]) -> Vec<i64> {
    payloads.iter().map(|p| p["id"].as_i64().expect("an id")).collect()
}

async fn offsets(api: &Api, connector: &str) -> Value {
    api.get(&format!("/connectors/{connector}/offsets")).await.1
}

/// Gives a record that should not come the time to show up.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(800)).await;
}

fn serial(db: &AnyDb) -> &'static str {
    if db.is_postgres() { "id serial primary key" } else { "id int auto_increment primary key" }
}

fn datetime(db: &AnyDb) -> &'static str {
    if db.is_postgres() { "timestamp(3)" } else { "datetime(3)" }
}

async fn incrementing(postgres: bool) {
    let db = AnyDb::create(postgres, "inc").await;
    db.exec(&format!("CREATE TABLE items ({}, name varchar(20) not null)", serial(&db))).await;
    db.exec("INSERT INTO items (name) VALUES ('a'), ('b'), ('c')").await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    // No incrementing.column.name: the auto-increment column is found in the catalogs.
    let config = jdbc_source("inc", &db, json!({"mode": "incrementing", "table.whitelist": "items", "topic.prefix": "inc_", "batch.max.rows": "2"}));
    assert_eq!(api.post("/connectors", &config).await.0, 201);
    assert_eq!(ids(&payloads(&api, "inc_items", 3).await), vec![1, 2, 3]);
    db.exec("INSERT INTO items (name) VALUES ('d')").await;
    let all = payloads(&api, "inc_items", 4).await;
    settle().await;
    assert_eq!(ids(&api.topic_values("inc_items").await.iter().map(|v| v["payload"].clone()).collect::<Vec<_>>()), vec![1, 2, 3, 4]);
    assert_eq!(all[3]["name"], "d");
    let partition = json!({"protocol": "1", "table": format!("{}.items", db.qualifier())});
    assert_eq!(offsets(&api, "inc").await, json!({"offsets": [{"partition": partition, "offset": {"incrementing": 4}}]}));
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incrementing_on_mariadb() {
    incrementing(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incrementing_on_postgres() {
    incrementing(true).await;
}

async fn bulk(postgres: bool) {
    let db = AnyDb::create(postgres, "bulk").await;
    // A composite key, paged by both columns.
    db.exec("CREATE TABLE pairs (a int not null, b int not null, label varchar(10), PRIMARY KEY (a, b))").await;
    db.exec("INSERT INTO pairs VALUES (2, 1, 'x'), (1, 2, 'y'), (1, 1, 'z'), (2, 2, 'w'), (3, 0, 'v')").await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let config = jdbc_source("bulk", &db, json!({"mode": "bulk", "table.whitelist": "pairs", "topic.prefix": "bulk_", "batch.max.rows": "2", "poll.interval.ms": "500"}));
    assert_eq!(api.post("/connectors", &config).await.0, 201);
    // Every pass reads the whole table, in key order, in pages of 2.
    let rows = payloads(&api, "bulk_pairs", 10).await;
    let keys: Vec<(i64, i64)> = rows.iter().map(|p| (p["a"].as_i64().unwrap(), p["b"].as_i64().unwrap())).collect();
    let pass = [(1, 1), (1, 2), (2, 1), (2, 2), (3, 0)];
    assert_eq!(keys[..5], pass[..]);
    assert_eq!(keys[5..10], pass[..]);
    db.exec("DELETE FROM pairs WHERE a = 1").await;
    // A later pass sees the table as it is now.
    let rows = eventually("a pass without the deleted rows", WAIT, || async {
        let rows = api.topic_values("bulk_pairs").await;
        let labels: Vec<String> = rows.iter().map(|v| v["payload"]["label"].as_str().unwrap().to_owned()).collect();
        // A full pass ends with v; one without z and y follows it.
        labels.windows(4).any(|w| w == ["v", "x", "w", "v"]).then_some(labels)
    })
    .await;
    assert!(rows.len() >= 13, "{rows:?}");
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_on_mariadb() {
    bulk(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_on_postgres() {
    bulk(true).await;
}

async fn timestamp(postgres: bool) {
    let db = AnyDb::create(postgres, "ts").await;
    db.exec(&format!("CREATE TABLE events (id int not null, updated {} not null)", datetime(&db))).await;
    // Three rows share a timestamp, more than one page holds: none may be skipped.
    db.exec("INSERT INTO events VALUES (1, '2024-01-01 10:00:00'), (2, '2024-01-01 10:00:01'), (3, '2024-01-01 10:00:01'), \
             (4, '2024-01-01 10:00:01'), (5, '2024-01-01 10:00:02')")
        .await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let config = jdbc_source(
        "ts",
        &db,
        json!({"mode": "timestamp", "timestamp.column.name": "updated", "table.whitelist": "events", "topic.prefix": "ts_", "batch.max.rows": "2"}),
    );
    assert_eq!(api.post("/connectors", &config).await.0, 201);
    let rows = payloads(&api, "ts_events", 5).await;
    let mut first = ids(&rows);
    first[1..4].sort();
    assert_eq!(first, vec![1, 2, 3, 4, 5]);
    assert_eq!(rows[0]["updated"], json!(1_704_103_200_000_i64), "a Timestamp in epoch milliseconds");
    // An update moves a row past the last timestamp read: it is read again.
    db.exec("UPDATE events SET updated = '2024-01-02 00:00:00.250' WHERE id = 1").await;
    let rows = payloads(&api, "ts_events", 6).await;
    settle().await;
    assert_eq!(api.topic_values("ts_events").await.len(), 6, "nothing read twice");
    assert_eq!(rows[5]["id"], 1);
    let partition = json!({"protocol": "1", "table": format!("{}.events", db.qualifier())});
    assert_eq!(
        offsets(&api, "ts").await,
        json!({"offsets": [{"partition": partition, "offset": {"timestamp": 1_704_153_600_250_i64, "timestamp_nanos": 250_000_000}}]})
    );
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timestamp_on_mariadb() {
    timestamp(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timestamp_on_postgres() {
    timestamp(true).await;
}

async fn timestamp_incrementing(postgres: bool) {
    let db = AnyDb::create(postgres, "tsinc").await;
    // Two timestamp columns: the first non-NULL one counts.
    db.exec(&format!("CREATE TABLE orders ({}, modified {ts} null, created {ts} not null, total int)", serial(&db), ts = datetime(&db))).await;
    db.exec("INSERT INTO orders (modified, created, total) VALUES (NULL, '2024-01-01 00:00:00', 10), (NULL, '2024-01-01 00:00:00', 20), \
             ('2024-01-03 00:00:00', '2024-01-01 00:00:00', 30)")
        .await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let config = jdbc_source(
        "tsinc",
        &db,
        json!({"mode": "timestamp+incrementing", "timestamp.column.name": "modified,created", "incrementing.column.name": "id",
               "validate.non.null": "false", "table.whitelist": "orders", "topic.prefix": "tsinc_", "batch.max.rows": "1"}),
    );
    assert_eq!(api.post("/connectors", &config).await.0, 201);
    assert_eq!(ids(&payloads(&api, "tsinc_orders", 3).await), vec![1, 2, 3]);
    db.exec("UPDATE orders SET modified = '2024-01-05 00:00:00', total = 21 WHERE id = 2").await;
    let rows = payloads(&api, "tsinc_orders", 4).await;
    settle().await;
    assert_eq!(api.topic_values("tsinc_orders").await.len(), 4);
    assert_eq!((rows[3]["id"].clone(), rows[3]["total"].clone()), (json!(2), json!(21)));
    let (_, committed) = api.get("/connectors/tsinc/offsets").await;
    assert_eq!(committed["offsets"][0]["offset"], json!({"timestamp": 1_704_412_800_000_i64, "timestamp_nanos": 0, "incrementing": 2}));
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timestamp_incrementing_on_mariadb() {
    timestamp_incrementing(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timestamp_incrementing_on_postgres() {
    timestamp_incrementing(true).await;
}

async fn query(postgres: bool) {
    let db = AnyDb::create(postgres, "query").await;
    db.exec(&format!("CREATE TABLE people ({}, name varchar(20) not null, team int not null)", serial(&db))).await;
    db.exec("CREATE TABLE teams (tid int primary key, title varchar(20) not null)").await;
    db.exec("INSERT INTO teams VALUES (1, 'red'), (2, 'blue')").await;
    db.exec("INSERT INTO people (name, team) VALUES ('ann', 1), ('bob', 2), ('cy', 1)").await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let config = jdbc_source(
        "query",
        &db,
        json!({"mode": "incrementing", "incrementing.column.name": "id", "topic.prefix": "people_in_red",
               "query": "SELECT p.id, p.name, t.title FROM people p JOIN teams t ON t.tid = p.team WHERE t.title = 'red'"}),
    );
    assert_eq!(api.post("/connectors", &config).await.0, 201);
    let rows = payloads(&api, "people_in_red", 2).await;
    assert_eq!(rows, vec![json!({"id": 1, "name": "ann", "title": "red"}), json!({"id": 3, "name": "cy", "title": "red"})]);
    db.exec("INSERT INTO people (name, team) VALUES ('dee', 2), ('eve', 1)").await;
    let inserted = std::time::Instant::now();
    let rows = payloads(&api, "people_in_red", 3).await;
    // Ids the query's WHERE leaves out are no gap to wait at (incrementing.gap.grace.ms is 30 s).
    assert!(inserted.elapsed() < Duration::from_secs(10), "eve took {:?}", inserted.elapsed());
    assert_eq!(rows[2]["name"], "eve");
    let (_, committed) = api.get("/connectors/query/offsets").await;
    assert_eq!(committed, json!({"offsets": [{"partition": {"query": "query"}, "offset": {"incrementing": 5}}]}));
    // Only the query's result is read: no topic for the tables.
    let (_, topics) = api.get("/topics").await;
    assert!(!topics.as_array().unwrap().iter().any(|t| t.as_str().unwrap().contains("people_in_redpeople")), "{topics}");
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_on_mariadb() {
    query(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_on_postgres() {
    query(true).await;
}

/// Without a whitelist every table is read, and a table created later is found without a
/// restart; tables.exclude keeps one out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_tables_are_found_and_excluded_ones_left_alone() {
    let db = AnyDb::create(false, "discover").await;
    db.exec("CREATE TABLE first (id int auto_increment primary key, v int)").await;
    db.exec("CREATE TABLE secret (id int auto_increment primary key, v int)").await;
    db.exec("INSERT INTO first (v) VALUES (1)").await;
    db.exec("INSERT INTO secret (v) VALUES (1)").await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let config = jdbc_source("discover", &db, json!({"mode": "incrementing", "table.exclude.list": "secret", "topic.prefix": "d_", "table.poll.interval.ms": "300"}));
    assert_eq!(api.post("/connectors", &config).await.0, 201);
    payloads(&api, "d_first", 1).await;
    db.exec("CREATE TABLE second (id int auto_increment primary key, v int)").await;
    db.exec("INSERT INTO second (v) VALUES (7)").await;
    assert_eq!(payloads(&api, "d_second", 1).await, vec![json!({"id": 1, "v": 7})]);
    assert_eq!(api.topic_size("d_secret").await, 0);
    let (_, status) = api.get("/connectors/discover/status").await;
    assert_eq!(status["tasks"].as_array().unwrap().len(), 1);
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

/// tasks.max splits the tables: the status shows each task, and each table is read once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_max_splits_the_tables() {
    let db = AnyDb::create(true, "split").await;
    for table in ["t1", "t2", "t3"] {
        db.exec(&format!("CREATE TABLE {table} (id serial primary key, v int)")).await;
        db.exec(&format!("INSERT INTO {table} (v) VALUES (1), (2)")).await;
    }
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let mut config = jdbc_source("split", &db, json!({"mode": "incrementing", "topic.prefix": "split_"}));
    config["config"]["tasks.max"] = json!("2");
    assert_eq!(api.post("/connectors", &config).await.0, 201);
    for table in ["t1", "t2", "t3"] {
        payloads(&api, &format!("split_{table}"), 2).await;
    }
    settle().await;
    for table in ["t1", "t2", "t3"] {
        assert_eq!(api.topic_size(&format!("split_{table}")).await, 2, "{table} read once");
    }
    let (_, status) = api.get("/connectors/split/status").await;
    let tasks = status["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 2, "{status}");
    assert!(tasks.iter().all(|t| t["state"] == "RUNNING"), "{status}");
    let (_, task_configs) = api.get("/connectors/split/tasks").await;
    let assigned: Vec<String> = task_configs.as_array().unwrap().iter().map(|t| t["config"]["tables"].as_str().unwrap().to_owned()).collect();
    assert_eq!(assigned, vec![r#"[["public","t1"],["public","t3"]]"#, r#"[["public","t2"]]"#]);
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

/// With room for more tasks, a table created while the connector runs gets the split
/// redone: the host asks the connector again every table.poll.interval.ms and restarts its
/// tasks with the new configs; every row still arrives once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_table_is_split_onto_a_second_task() {
    let db = AnyDb::create(false, "resplit").await;
    db.exec("CREATE TABLE t1 (id int auto_increment primary key, v int)").await;
    db.exec("INSERT INTO t1 (v) VALUES (1), (2)").await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let mut config = jdbc_source("resplit", &db, json!({"mode": "incrementing", "topic.prefix": "rs_", "table.poll.interval.ms": "300"}));
    config["config"]["tasks.max"] = json!("2");
    assert_eq!(api.post("/connectors", &config).await.0, 201);
    payloads(&api, "rs_t1", 2).await;
    let (_, status) = api.get("/connectors/resplit/status").await;
    assert_eq!(status["tasks"].as_array().unwrap().len(), 1, "one table, one task: {status}");

    db.exec("CREATE TABLE t2 (id int auto_increment primary key, v int)").await;
    db.exec("INSERT INTO t2 (v) VALUES (3), (4), (5)").await;
    eventually("a second task", Duration::from_secs(30), || async {
        let (_, status) = api.get("/connectors/resplit/status").await;
        let tasks = status["tasks"].as_array().unwrap().clone();
        (tasks.len() == 2 && tasks.iter().all(|t| t["state"] == "RUNNING")).then_some(())
    })
    .await;
    payloads(&api, "rs_t2", 3).await;
    db.exec("INSERT INTO t1 (v) VALUES (6)").await;
    payloads(&api, "rs_t1", 3).await;
    settle().await;
    assert_eq!(api.topic_size("rs_t1").await, 3, "t1's rows once each, across the restart");
    assert_eq!(api.topic_size("rs_t2").await, 3);
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

/// A restart resumes each table from its committed offset, in timestamp+incrementing mode
/// too: rows written while the worker was down arrive, none twice.
async fn restart_resumes(postgres: bool) {
    let db = AnyDb::create(postgres, "resume").await;
    db.exec(&format!("CREATE TABLE notes ({}, at {} not null)", serial(&db), datetime(&db))).await;
    db.exec("INSERT INTO notes (at) VALUES ('2024-01-01 00:00:00'), ('2024-01-01 00:00:00')").await;
    let data = tempfile::tempdir().unwrap();
    let config = jdbc_source(
        "resume",
        &db,
        json!({"mode": "timestamp+incrementing", "timestamp.column.name": "at", "table.whitelist": "notes", "topic.prefix": "r_"}),
    );
    let worker = start_worker(data.path()).await;
    assert_eq!(Api::new(&worker).post("/connectors", &config).await.0, 201);
    payloads(&Api::new(&worker), "r_notes", 2).await;
    worker.shutdown().await.unwrap();

    db.exec("INSERT INTO notes (at) VALUES ('2024-01-01 00:00:00'), ('2024-01-02 00:00:00')").await;
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    payloads(&api, "r_notes", 4).await;
    settle().await;
    let all: Vec<Value> = api.topic_values("r_notes").await.into_iter().map(|v| v["payload"].clone()).collect();
    assert_eq!(ids(&all), vec![1, 2, 3, 4], "every row once, in order");
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_resumes_on_mariadb() {
    restart_resumes(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_resumes_on_postgres() {
    restart_resumes(true).await;
}

/// Confluent's source loses a row when a later insert commits first (issues #915, #1015):
/// it reads id 2, moves its offset past 1, and never looks back. Here reading waits at the
/// gap until the earlier transaction commits; a gap that never fills (a rollback) is passed
/// once incrementing.gap.grace.ms is over.
async fn out_of_order_commits(postgres: bool) {
    let db = AnyDb::create(postgres, "order").await;
    db.exec(&format!("CREATE TABLE ledger ({}, memo varchar(20) not null)", serial(&db))).await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let config = jdbc_source(
        "order",
        &db,
        json!({"mode": "incrementing", "table.whitelist": "ledger", "topic.prefix": "o_", "incrementing.gap.grace.ms": "3000"}),
    );
    assert_eq!(api.post("/connectors", &config).await.0, 201);
    db.exec("INSERT INTO ledger (memo) VALUES ('first')").await;
    payloads(&api, "o_ledger", 1).await;

    // Transaction A takes id 2 and stays open; B takes id 3 and commits.
    let mut a = db.session().await;
    a.exec("BEGIN").await;
    a.exec("INSERT INTO ledger (memo) VALUES ('slow')").await;
    db.exec("INSERT INTO ledger (memo) VALUES ('fast')").await;
    settle().await;
    assert_eq!(api.topic_size("o_ledger").await, 1, "id 3 waits for id 2");
    a.exec("COMMIT").await;
    let rows = payloads(&api, "o_ledger", 3).await;
    assert_eq!(ids(&rows), vec![1, 2, 3]);

    // A rolled-back insert leaves id 4 missing for good: id 5 comes after the grace time.
    let mut c = db.session().await;
    c.exec("BEGIN").await;
    c.exec("INSERT INTO ledger (memo) VALUES ('undone')").await;
    c.exec("ROLLBACK").await;
    db.exec("INSERT INTO ledger (memo) VALUES ('after')").await;
    let waiting = std::time::Instant::now();
    let rows = payloads(&api, "o_ledger", 4).await;
    assert!(waiting.elapsed() >= Duration::from_millis(2500), "id 5 came after {:?}, within the grace time", waiting.elapsed());
    assert_eq!(ids(&rows), vec![1, 2, 3, 5]);
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_order_commits_lose_nothing_on_mariadb() {
    out_of_order_commits(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_order_commits_lose_nothing_on_postgres() {
    out_of_order_commits(true).await;
}

/// The database goes away (a proxy in between is cut) while the task runs: it keeps
/// retrying, stays RUNNING, and reads on when the database is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_is_retried_until_it_ends() {
    let db = TestDb::create("outage").await;
    db.exec("CREATE TABLE beats (id int auto_increment primary key, n int)").await;
    db.exec("INSERT INTO beats (n) VALUES (1), (2)").await;
    let proxy = TcpProxy::start("127.0.0.1:3306").await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let mut config = source_config(&db);
    config["name"] = json!("outage");
    config["config"]["connection.url"] = json!(format!("jdbc:mysql://127.0.0.1:{}/{}", proxy.port, db.name));
    config["config"]["table.whitelist"] = json!("beats");
    config["config"]["topic.prefix"] = json!("beat_");
    config["config"]["poll.interval.ms"] = json!("100");
    assert_eq!(api.post("/connectors", &config).await.0, 201);
    payloads(&api, "beat_beats", 2).await;

    proxy.cut();
    db.exec("INSERT INTO beats (n) VALUES (3), (4)").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(api.topic_size("beat_beats").await, 2, "nothing can be read through the cut proxy");
    let (_, status) = api.get("/connectors/outage/status").await;
    assert_eq!(status["tasks"][0]["state"], "RUNNING", "a connection error is retried, not fatal: {status}");

    proxy.restore();
    let rows = payloads(&api, "beat_beats", 4).await;
    assert_eq!(ids(&rows), vec![1, 2, 3, 4]);
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}
