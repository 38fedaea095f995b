//! How the JDBC source maps column types to Connect schemas and values, on MariaDB and
//! PostgreSQL, checked on the JSON envelope of the records: the schema of each field and
//! the value of each column, then the NULLs of a second row.

use std::time::Duration;

use serde_json::{Value, json};
use wasmconnect::standalone::Standalone;
use wasmconnect_e2e::*;

const WAIT: Duration = Duration::from_secs(60);

async fn records(api: &Api, topic: &str, n: usize) -> Vec<Value> {
    eventually(&format!("{n} records on {topic}"), WAIT, || async {
        let values = api.topic_values(topic).await;
        (values.len() >= n).then_some(values)
    })
    .await
}

/// Each field's (name, type, optional, logical name).
fn fields(envelope: &Value) -> Vec<(String, String, bool, Option<String>)> {
    envelope["schema"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["field"].as_str().unwrap().to_owned(),
                f["type"].as_str().unwrap().to_owned(),
                f["optional"].as_bool().unwrap(),
                f["name"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

fn expect(spec: &[(&str, &str, bool, Option<&str>)]) -> Vec<(String, String, bool, Option<String>)> {
    spec.iter().map(|(n, t, o, l)| (n.to_string(), t.to_string(), *o, l.map(str::to_owned))).collect()
}

const TIMESTAMP: Option<&str> = Some("org.apache.kafka.connect.data.Timestamp");
const DATE: Option<&str> = Some("org.apache.kafka.connect.data.Date");
const TIME: Option<&str> = Some("org.apache.kafka.connect.data.Time");
const DECIMAL: Option<&str> = Some("org.apache.kafka.connect.data.Decimal");

/// Starts a worker reading table `types` of `db` in incrementing mode and returns its records.
async fn read_types(db: &AnyDb, extra: Value, rows: usize) -> (Vec<Value>, Standalone, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let mut settings = json!({"mode": "incrementing", "incrementing.column.name": "id", "table.whitelist": "types", "topic.prefix": "ty_"});
    for (k, v) in extra.as_object().unwrap() {
        settings[k] = v.clone();
    }
    assert_eq!(api.post("/connectors", &jdbc_source("types", db, settings)).await.0, 201);
    let values = records(&api, "ty_types", rows).await;
    (values, worker, data)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_types_map_to_connect_schemas_and_values() {
    let db = AnyDb::create(false, "mytypes").await;
    db.exec(
        "CREATE TABLE types (id int auto_increment primary key, ti tinyint, tiu tinyint unsigned, si smallint, siu smallint unsigned, \
         mi mediumint, i int, iu int unsigned, bi bigint, biu bigint unsigned, b boolean, bt bit(1), d decimal(10,2), f float, \
         db double, c char(3), vc varchar(10), tx text, e enum('a','b'), j json, bin binary(2), vb varbinary(4), bl blob, \
         dt date, tm time, dtm datetime, ts timestamp null, nn varchar(5) not null)",
    )
    .await;
    db.exec(
        "INSERT INTO types VALUES (1, -5, 200, -300, 60000, -70000, -2000000000, 4000000000, -9000000000, 18000000000000000000, \
         true, b'1', 12.34, 1.5, 2.25, 'ab', 'hello', 'long text', 'b', '{\"k\": 1}', 0x0102, 0xFF00, 0x000102, \
         '2024-02-29', '13:14:15', '2024-01-15 12:00:00', '2024-01-15 12:00:00', 'x')",
    )
    .await;
    db.exec("INSERT INTO types (id, nn) VALUES (2, 'y')").await;
    let (values, worker, _data) = read_types(&db, json!({}), 2).await;
    assert_eq!(
        fields(&values[0]),
        expect(&[
            ("id", "int32", false, None),
            ("ti", "int8", true, None),
            ("tiu", "int16", true, None),
            ("si", "int16", true, None),
            ("siu", "int32", true, None),
            ("mi", "int32", true, None),
            ("i", "int32", true, None),
            ("iu", "int64", true, None),
            ("bi", "int64", true, None),
            ("biu", "bytes", true, DECIMAL),
            ("b", "boolean", true, None),
            ("bt", "boolean", true, None),
            ("d", "bytes", true, DECIMAL),
            ("f", "float", true, None),
            ("db", "double", true, None),
            ("c", "string", true, None),
            ("vc", "string", true, None),
            ("tx", "string", true, None),
            ("e", "string", true, None),
            ("j", "string", true, None),
            ("bin", "bytes", true, None),
            ("vb", "bytes", true, None),
            ("bl", "bytes", true, None),
            ("dt", "int32", true, DATE),
            ("tm", "int32", true, TIME),
            ("dtm", "int64", true, TIMESTAMP),
            ("ts", "int64", true, TIMESTAMP),
            ("nn", "string", false, None),
        ])
    );
    assert_eq!(values[0]["schema"]["name"], "types");
    let d = values[0]["schema"]["fields"].as_array().unwrap().iter().find(|f| f["field"] == "d").unwrap().clone();
    assert_eq!(d["parameters"]["scale"], "2");
    assert_eq!(
        values[0]["payload"],
        json!({"id": 1, "ti": -5, "tiu": 200, "si": -300, "siu": 60000, "mi": -70000, "i": -2000000000, "iu": 4000000000_i64,
               "bi": -9000000000_i64, "biu": "APnM2KHFCAAA", "b": true, "bt": true, "d": "BNI=", "f": 1.5, "db": 2.25, "c": "ab",
               "vc": "hello", "tx": "long text", "e": "b", "j": "{\"k\": 1}", "bin": "AQI=", "vb": "/wA=", "bl": "AAEC",
               "dt": 19782, "tm": 47_655_000, "dtm": 1_705_320_000_000_i64, "ts": 1_705_320_000_000_i64, "nn": "x"})
    );
    let nulls = values[1]["payload"].as_object().unwrap();
    assert!(nulls.iter().all(|(k, v)| v.is_null() || k == "id" || k == "nn"), "{nulls:?}");
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

// 3.14159 is a stored NUMERIC value here, not an attempt at PI.
#[allow(clippy::approx_constant)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_types_map_to_connect_schemas_and_values() {
    let db = AnyDb::create(true, "pgtypes").await;
    db.exec("CREATE TYPE mood AS ENUM ('happy', 'sad')").await;
    db.exec(
        "CREATE TABLE types (id serial primary key, si smallint, i integer, bi bigint, r real, dp double precision, \
         n numeric(10,2), nu numeric, b boolean, c char(3), vc varchar(10), tx text, by bytea, d date, t time, \
         ts timestamp, tstz timestamptz, j json, jb jsonb, u uuid, m mood, nn text not null)",
    )
    .await;
    db.exec(
        "INSERT INTO types VALUES (1, -300, -2000000000, -9000000000, 1.5, 2.25, -99.99, 3.14159, true, 'ab', 'hello', 'long text', \
         '\\x0102', '2024-02-29', '13:14:15', '2024-01-15 12:00:00', '2024-01-15 13:00:00+01', '{\"k\": 1}', '{\"k\": 1}', \
         'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'sad', 'x')",
    )
    .await;
    db.exec("INSERT INTO types (id, nn) VALUES (2, 'y')").await;
    let (values, worker, _data) = read_types(&db, json!({}), 2).await;
    assert_eq!(
        fields(&values[0]),
        expect(&[
            ("id", "int32", false, None),
            ("si", "int16", true, None),
            ("i", "int32", true, None),
            ("bi", "int64", true, None),
            ("r", "float", true, None),
            ("dp", "double", true, None),
            ("n", "bytes", true, DECIMAL),
            ("nu", "double", true, None),
            ("b", "boolean", true, None),
            ("c", "string", true, None),
            ("vc", "string", true, None),
            ("tx", "string", true, None),
            ("by", "bytes", true, None),
            ("d", "int32", true, DATE),
            ("t", "int32", true, TIME),
            ("ts", "int64", true, TIMESTAMP),
            ("tstz", "int64", true, TIMESTAMP),
            ("j", "string", true, None),
            ("jb", "string", true, None),
            ("u", "string", true, None),
            ("m", "string", true, None),
            ("nn", "string", false, None),
        ])
    );
    assert_eq!(
        values[0]["payload"],
        json!({"id": 1, "si": -300, "i": -2000000000, "bi": -9000000000_i64, "r": 1.5, "dp": 2.25, "n": "2PE=", "nu": 3.14159,
               "b": true, "c": "ab ", "vc": "hello", "tx": "long text", "by": "AQI=", "d": 19782, "t": 47_655_000,
               "ts": 1_705_320_000_000_i64, "tstz": 1_705_320_000_000_i64, "j": "{\"k\": 1}", "jb": "{\"k\": 1}",
               "u": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "m": "sad", "nn": "x"})
    );
    let nulls = values[1]["payload"].as_object().unwrap();
    assert!(nulls.iter().all(|(k, v)| v.is_null() || k == "id" || k == "nn"), "{nulls:?}");
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

async fn numeric_mapping(postgres: bool) {
    let db = AnyDb::create(postgres, "numeric").await;
    db.exec("CREATE TABLE types (id int primary key, small decimal(5,0), money decimal(10,2), huge decimal(30,2))").await;
    db.exec("INSERT INTO types VALUES (1, 12345, 12.34, 12.34)").await;
    let types = |values: &[Value]| fields(&values[0]).into_iter().map(|(_, t, _, l)| (t, l)).collect::<Vec<_>>();
    let decimal = ("bytes".to_owned(), DECIMAL.map(str::to_owned));
    let plain = |t: &str| (t.to_owned(), None);

    let (values, worker, _data) = read_types(&db, json!({"numeric.mapping": "best_fit"}), 1).await;
    assert_eq!(types(&values), vec![plain("int32"), plain("int32"), plain("double"), decimal.clone()]);
    assert_eq!(values[0]["payload"], json!({"id": 1, "small": 12345, "money": 12.34, "huge": "BNI="}));
    worker.shutdown().await.unwrap();

    let (values, worker, _data) = read_types(&db, json!({"numeric.mapping": "precision_only"}), 1).await;
    assert_eq!(types(&values), vec![plain("int32"), plain("int32"), decimal.clone(), decimal.clone()]);
    worker.shutdown().await.unwrap();

    let (values, worker, _data) = read_types(&db, json!({}), 1).await;
    assert_eq!(types(&values), vec![plain("int32"), decimal.clone(), decimal.clone(), decimal]);
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numeric_mapping_on_mariadb() {
    numeric_mapping(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numeric_mapping_on_postgres() {
    numeric_mapping(true).await;
}

/// DATETIME values are wall-clock times in db.timezone: read as the instants they mean, and
/// compared in timestamp mode with bounds in the same zone (a wrong bound reads rows twice).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn db_timezone_applies_to_values_and_timestamp_bounds() {
    let db = AnyDb::create(false, "zone").await;
    db.exec("CREATE TABLE types (id int primary key, at datetime not null)").await;
    db.exec("INSERT INTO types VALUES (1, '2024-01-15 12:00:00')").await;
    let settings = json!({"mode": "timestamp", "timestamp.column.name": "at", "db.timezone": "Europe/Paris", "poll.interval.ms": "100"});
    let (values, worker, _data) = read_types(&db, settings, 1).await;
    assert_eq!(values[0]["payload"]["at"], json!(1_705_316_400_000_i64), "12:00 in Paris is 11:00Z");
    let api = Api::new(&worker);
    db.exec("INSERT INTO types VALUES (2, '2024-01-15 12:30:00')").await;
    let values = records(&api, "ty_types", 2).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(api.topic_size("ty_types").await, 2, "no row read twice");
    assert_eq!(values[1]["payload"]["at"], json!(1_705_318_200_000_i64));
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}
