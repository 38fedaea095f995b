//! The JDBC sink's bulk path on PostgreSQL: inserts go by COPY into the table and upserts by
//! COPY into a staging table merged with INSERT ... SELECT ... ON CONFLICT, in the batch's one
//! transaction. A statement trigger records the client's query text, which shows the path
//! taken; the values must come out exactly as the multi-row INSERT path
//! (`pg.copy.enabled=false`) writes them.

use std::time::Duration;

use serde_json::{Value, json};
use sqlx::Row;
use wasmconnect_e2e::*;

const WAIT: Duration = Duration::from_secs(60);

fn pg(db: &AnyDb) -> &sqlx::PgPool {
    match db {
        AnyDb::Postgres(pg) => &pg.pool,
        AnyDb::MariaDb(_) => unreachable!("these tests run on PostgreSQL"),
    }
}

/// An audit table and a statement trigger on `table` that records each INSERT's query text.
async fn audit(db: &AnyDb, table: &str) {
    db.exec("CREATE TABLE IF NOT EXISTS audit (tbl TEXT NOT NULL, query TEXT NOT NULL)").await;
    db.exec(
        "CREATE OR REPLACE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN INSERT INTO audit VALUES (TG_TABLE_NAME, current_query()); RETURN NULL; END $$",
    )
    .await;
    db.exec(&format!("CREATE TRIGGER audit_{table} AFTER INSERT ON {table} FOR EACH STATEMENT EXECUTE FUNCTION audit()")).await;
}

/// The start of each query that inserted into `table`, as the trigger saw it.
async fn queries(db: &AnyDb, table: &str) -> Vec<String> {
    let rows = sqlx::query("SELECT query FROM audit WHERE tbl = $1").bind(table).fetch_all(pg(db)).await.unwrap();
    rows.iter().map(|r| r.get::<String, _>(0)).collect()
}

fn field(name: &str, kind: &str, logical: Option<(&str, Value)>) -> Value {
    let mut field = json!({"field": name, "type": kind, "optional": name != "id"});
    if let Some((logical, parameters)) = logical {
        field["name"] = json!(logical);
        field["parameters"] = parameters;
    }
    field
}

/// A record with a value of every logical type and awkward texts.
fn awkward(payload: Value) -> Value {
    let fields = [
        field("id", "int64", None),
        field("note", "string", None),
        field("raw", "bytes", None),
        field("amount", "bytes", Some(("org.apache.kafka.connect.data.Decimal", json!({"scale": "4"})))),
        field("at", "int64", Some(("org.apache.kafka.connect.data.Timestamp", json!({})))),
        field("atz", "int64", Some(("org.apache.kafka.connect.data.Timestamp", json!({})))),
        field("day", "int32", Some(("org.apache.kafka.connect.data.Date", json!({})))),
        field("t", "int32", Some(("org.apache.kafka.connect.data.Time", json!({})))),
        field("f", "double", None),
        field("r", "float", None),
        field("flag", "boolean", None),
    ];
    let envelope = json!({"schema": {"type": "struct", "name": "awkward", "optional": false, "fields": fields}, "payload": payload});
    json!({"value": envelope.to_string()})
}

const AWKWARD_DDL: &str = "(id BIGINT PRIMARY KEY, note TEXT, raw BYTEA, amount NUMERIC(24,4), at TIMESTAMP(3), atz TIMESTAMPTZ, \
                           day DATE, t TIME(3), f DOUBLE PRECISION, r REAL, flag BOOLEAN)";
const AWKWARD_COLUMNS: [&str; 11] = ["id", "note", "raw", "amount", "at", "atz", "day", "t", "f", "r", "flag"];

/// Every value as its text, with timestamptz as epoch seconds so the session's zone is moot.
async fn awkward_rows(db: &AnyDb, table: &str) -> Vec<Vec<Option<String>>> {
    let sql = format!(
        "SELECT id::text, note, raw::text, amount::text, at::text, extract(epoch FROM atz)::text, day::text, t::text, \
         f::text, r::text, flag::text FROM {table} ORDER BY id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(pg(db)).await.unwrap();
    rows.iter().map(|r| (0..AWKWARD_COLUMNS.len()).map(|i| r.get::<Option<String>, _>(i)).collect()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inserts_go_by_copy_and_every_value_arrives_as_the_insert_path_writes_it() {
    let db = AnyDb::create(true, "sinkcopy").await;
    for table in ["by_copy", "by_insert"] {
        db.exec(&format!("CREATE TABLE {table} {AWKWARD_DDL}")).await;
        audit(&db, table).await;
    }
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let records = json!([
        awkward(json!({
            "id": 1, "note": "tab\there\nnew line\r\n back\\slash \\N end", "raw": "AAoNCVz/", "amount": "+KQy6w==",
            "at": 1_700_000_000_123_i64, "atz": 1_700_000_000_123_i64, "day": 19_675, "t": 45_296_789, "f": 0.1, "r": 0.1,
            "flag": true
        })),
        awkward(json!({
            "id": 2, "note": "grüß 🎉 'q' \"d\" \\", "raw": "", "amount": "AIrHIwSJ6AAB", "at": -1, "atz": -1, "day": -1,
            "t": 0, "f": -1e300, "r": -2.5, "flag": false
        })),
        awkward(json!({
            "id": 3, "note": "\\N", "raw": null, "amount": null, "at": null, "atz": null, "day": null, "t": null, "f": null,
            "r": null, "flag": null
        })),
        // The last millisecond of 30 December 1 BC (UTC), and 31 December 1 BC.
        awkward(json!({
            "id": 4, "note": "", "raw": null, "amount": "BQ==", "at": -62_135_683_200_001_i64, "atz": null, "day": -719_163,
            "t": 86_399_999, "f": null, "r": null, "flag": null
        })),
    ]);
    assert_eq!(api.post("/topics/awkward/records", &records).await.0, 200);
    for (name, table, copy) in [("copy", "by_copy", "true"), ("insert", "by_insert", "false")] {
        let settings = json!({"topics": "awkward", "table.name.format": table, "db.timezone": "Europe/Paris", "pg.copy.enabled": copy});
        assert_eq!(api.post("/connectors", &jdbc_sink(name, &db, settings)).await.0, 201);
    }
    for table in ["by_copy", "by_insert"] {
        eventually(table, WAIT, || async { (db.count(table).await == Some(4)).then_some(()) }).await;
    }

    let copied = awkward_rows(&db, "by_copy").await;
    assert_eq!(copied, awkward_rows(&db, "by_insert").await, "COPY writes what multi-row INSERT writes");
    let text = |s: &str| Some(s.to_owned());
    assert_eq!(copied[0][1], text("tab\there\nnew line\r\n back\\slash \\N end"));
    assert_eq!(copied[0][2..6], [text("\\x000a0d095cff"), text("-12345.6789"), text("2023-11-14 23:13:20.123"), text("1700000000.123000")]);
    assert_eq!(copied[0][6..], [text("2023-11-14"), text("12:34:56.789"), text("0.1"), text("0.1"), text("true")]);
    assert_eq!(copied[1][1..4], [text("grüß 🎉 'q' \"d\" \\"), text("\\x"), text("1000000000000000.0001")]);
    assert_eq!(copied[1][4..], [
        text("1970-01-01 00:59:59.999"),
        text("-0.001000"),
        text("1969-12-31"),
        text("00:00:00"),
        text("-1e+300"),
        text("-2.5"),
        text("false")
    ]);
    assert_eq!(copied[2][1], text("\\N"), "a text \\N is text, not a null");
    assert!(copied[2][2..].iter().all(Option::is_none), "{:?}", copied[2]);
    assert_eq!(copied[3][1..4], [text(""), None, text("0.0005")]);
    let bc = copied[3][4].as_deref().unwrap();
    assert!(bc.starts_with("0001-12-31 00:") && bc.ends_with(" BC"), "the wall time of the day after, in Paris: {bc}");
    assert_eq!(copied[3][6..8], [text("0001-12-31 BC"), text("23:59:59.999")]);

    let copies = queries(&db, "by_copy").await;
    assert!(!copies.is_empty() && copies.iter().all(|q| q.starts_with("COPY \"by_copy\" (\"id\", \"note\"")), "{copies:?}");
    let inserts = queries(&db, "by_insert").await;
    assert!(!inserts.is_empty() && inserts.iter().all(|q| q.starts_with("INSERT INTO \"by_insert\"")), "{inserts:?}");
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

fn person(id: i64, name: &str) -> Value {
    let key = envelope("key", &[("id", "int64", false)], json!({ "id": id }));
    json!({"key": key, "value": envelope("person", &[("id", "int64", false), ("name", "string", false)], json!({"id": id, "name": name}))})
}

async fn committed_offset(db: &AnyDb, connector: &str) -> Option<i64> {
    sqlx::query_scalar("SELECT next_offset FROM __wasmconnect_offsets WHERE connector = $1")
        .bind(connector)
        .fetch_optional(pg(db))
        .await
        .unwrap()
}

/// Keys repeat within a batch (the last value wins) and across batches (the row is updated);
/// a NOT NULL column the records do not fill keeps its default, which a staging table made
/// with the table's constraints would refuse.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upserts_go_by_copy_through_a_staging_table_with_the_offsets_in_the_same_transaction() {
    let db = AnyDb::create(true, "sinkstage").await;
    db.exec("CREATE TABLE people (id BIGINT PRIMARY KEY, name TEXT NOT NULL, kept TEXT NOT NULL DEFAULT 'default')").await;
    audit(&db, "people").await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let first = json!([person(1, "a"), person(2, "b"), person(1, "c\td"), person(1, "e\\")]);
    assert_eq!(api.post("/topics/people/records", &first).await.0, 200);
    let settings = json!({"topics": "people", "insert.mode": "upsert", "pk.mode": "record_key", "exactly.once.enabled": "true"});
    assert_eq!(api.post("/connectors", &jdbc_sink("upsert", &db, settings)).await.0, 201);
    let expected = vec![vec![Some("1".into()), Some("e\\".into()), Some("default".into())], vec![Some("2".into()), Some("b".into()), Some("default".into())]];
    eventually("the first batch", WAIT, || async { (db.texts("people", &["id", "name", "kept"]).await == Some(expected.clone())).then_some(()) }).await;
    assert_eq!(committed_offset(&db, "upsert").await, Some(4));

    assert_eq!(api.post("/topics/people/records", &json!([person(2, "b2"), person(3, "x")])).await.0, 200);
    let expected: Vec<Vec<Option<String>>> = [("1", "e\\"), ("2", "b2"), ("3", "x")].iter().map(|(i, n)| vec![Some(i.to_string()), Some(n.to_string())]).collect();
    eventually("the second batch", WAIT, || async { (db.texts("people", &["id", "name"]).await == Some(expected.clone())).then_some(()) }).await;
    eventually("the offsets", WAIT, || async { (committed_offset(&db, "upsert").await == Some(6)).then_some(()) }).await;
    let merges = queries(&db, "people").await;
    assert!(
        !merges.is_empty() && merges.iter().all(|q| q.starts_with("INSERT INTO \"people\" (\"id\", \"name\") SELECT") && q.contains("wasmconnect_staging_")),
        "{merges:?}"
    );
    let staging: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pg_class WHERE relname LIKE 'wasmconnect_staging_%'").fetch_one(pg(&db)).await.unwrap();
    assert_eq!(staging, 0, "staging tables go with their transaction");
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

/// A record the database refuses in the middle of a batch fails the task, in both modes, and
/// nothing of the batch stays: no row copied before it, no staging rows merged, no offsets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_copy_batch_is_rolled_back_whole() {
    let db = AnyDb::create(true, "sinkcopyfail").await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    for mode in ["insert", "upsert"] {
        db.exec(&format!("CREATE TABLE checked_{mode} (id BIGINT PRIMARY KEY, name TEXT NOT NULL CHECK (name <> 'bad'))")).await;
        let records = json!([person(1, "a"), person(2, "bad"), person(3, "c")]);
        assert_eq!(api.post(&format!("/topics/checked_{mode}/records"), &records).await.0, 200);
        let settings = json!({"topics": format!("checked_{mode}"), "insert.mode": mode, "pk.mode": "record_key", "exactly.once.enabled": "true"});
        assert_eq!(api.post("/connectors", &jdbc_sink(mode, &db, settings)).await.0, 201);
    }
    for mode in ["insert", "upsert"] {
        let trace = eventually(&format!("{mode} to fail"), WAIT, || async {
            let (state, trace) = task_state(&api, mode).await;
            (state == "FAILED").then_some(trace)
        })
        .await;
        assert!(trace.contains("offset 1") && trace.contains("SQLSTATE 23514"), "{mode}: {trace}");
        assert_eq!(db.count(&format!("checked_{mode}")).await, Some(0), "{mode}: nothing of the batch is written");
        assert_eq!(committed_offset(&db, mode).await, None, "{mode}: no offsets either");
    }
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}
