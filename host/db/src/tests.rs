use super::*;

fn url(u: &str) -> ConnectionConfig {
    ConnectionConfig::from_connector_config(u, None, None).unwrap()
}

#[test]
fn jdbc_urls_of_every_supported_form() {
    let c = url("jdbc:mysql://localhost:3306/mydb");
    assert_eq!((c.dialect(), c.host(), c.port(), c.database()), (Dialect::MySql, "localhost", 3306, Some("mydb")));
    let c = url("jdbc:mariadb://db.example/sales?user=app&password=p%40ss");
    assert_eq!((c.dialect(), c.port(), c.user()), (Dialect::MySql, 3306, Some("app")));
    let c = url("jdbc:postgresql://127.0.0.1/test");
    assert_eq!((c.dialect(), c.port(), c.database()), (Dialect::Postgres, 5432, Some("test")));
    let c = ConnectionConfig::from_connector_config("jdbc:mysql://h/db?user=url-user&password=url-pw", Some("root"), Some("")).unwrap();
    assert_eq!(c.user(), Some("root"), "connection.user wins over the URL");
    assert_eq!(c.password, None, "an empty password is no password");
    let c = url("jdbc:mysql://h:3307");
    assert_eq!((c.port(), c.database()), (3307, None));
}

#[test]
fn bad_urls_say_which_forms_are_accepted_and_hide_passwords() {
    for bad in ["mysql://localhost/db", "jdbc:oracle:thin:@host:1521:db", "jdbc:sqlserver://h/db", "jdbc:mysql:///db", "jdbc:mysql://h1,h2/db"] {
        let err = ConnectionConfig::from_connector_config(bad, None, None).unwrap_err().to_string();
        assert!(err.contains("jdbc:mysql://HOST"), "{bad}: {err}");
    }
    let err = ConnectionConfig::from_connector_config("jdbc:db2://h/db?password=s3cret", None, None).unwrap_err().to_string();
    assert!(!err.contains("s3cret"), "{err}");
    let debug = format!("{:?}", ConnectionConfig::from_connector_config("jdbc:mysql://h/db", Some("u"), Some("s3cret")).unwrap());
    assert!(!debug.contains("s3cret") && debug.contains("[hidden]"), "{debug}");
}

#[test]
fn value_conversions_round_trip() {
    for days in [-1, 0, 19_700] {
        assert_eq!(value::days_from_date(value::date_from_days(days).unwrap()), days);
    }
    for micros in [0, 1, 86_399_999_999] {
        assert_eq!(value::micros_from_time(value::time_from_micros(micros).unwrap()), micros);
    }
    assert!(value::time_from_micros(86_400_000_000).is_none());
    for micros in [-1_000_000, 0, 1_700_000_000_123_456] {
        assert_eq!(value::micros_from_datetime(value::datetime_from_micros(micros).unwrap()), micros);
    }
}

fn unique(label: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("wcdb_{label}_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A fresh MariaDB database and a pool on it.
async fn mariadb(label: &str) -> (Database, String) {
    let name = unique(label);
    let admin = Database::connect_lazy(&url("jdbc:mysql://127.0.0.1:3306/test?user=root"));
    admin.execute(vec![Statement { sql: format!("CREATE DATABASE {name}"), params: vec![] }]).await.unwrap();
    (Database::connect_lazy(&url(&format!("jdbc:mysql://127.0.0.1:3306/{name}?user=root"))), name)
}

async fn drop_mariadb(name: &str) {
    let admin = Database::connect_lazy(&url("jdbc:mysql://127.0.0.1:3306/test?user=root"));
    admin.execute(vec![Statement { sql: format!("DROP DATABASE {name}"), params: vec![] }]).await.unwrap();
}

fn every_kind() -> Vec<SqlValue> {
    vec![
        SqlValue::Boolean(true),
        SqlValue::Int(-42),
        SqlValue::Float(2.5),
        SqlValue::Decimal("-12.50".into()),
        SqlValue::Text("héllo".into()),
        SqlValue::Bytes(vec![0, 1, 255]),
        SqlValue::Date(19_700),
        SqlValue::Time(3_723_000_000),
        SqlValue::Timestamp(1_700_000_000_123_000),
        SqlValue::Null,
    ]
}

fn stmt(sql: &str, params: Vec<Vec<SqlValue>>) -> Statement {
    Statement { sql: sql.into(), params }
}

#[tokio::test]
async fn mariadb_round_trips_every_value_kind_with_type_names() {
    let (db, name) = mariadb("kinds").await;
    assert_eq!(db.dialect(), Dialect::MySql);
    db.execute(vec![
        stmt("CREATE TABLE t (b BOOLEAN, i INT, f DOUBLE, d DECIMAL(10,2), s VARCHAR(20), y VARBINARY(10), dt DATE, tm TIME(6), ts DATETIME(6), n INT, u INT UNSIGNED)", vec![]),
        stmt("INSERT INTO t VALUES (?,?,?,?,?,?,?,?,?,?,?)", vec![[every_kind(), vec![SqlValue::Uint(4_000_000_000)]].concat()]),
    ])
    .await
    .unwrap();
    let rows = db.query("SELECT * FROM t WHERE i = ?", vec![SqlValue::Int(-42)]).await.unwrap();
    assert_eq!(rows.rows, vec![[every_kind(), vec![SqlValue::Uint(4_000_000_000)]].concat()]);
    let types: Vec<&str> = rows.columns.iter().map(|c| c.type_name.as_str()).collect();
    assert_eq!(types, ["BOOLEAN", "INT", "DOUBLE", "DECIMAL", "VARCHAR", "VARBINARY", "DATE", "TIME", "DATETIME", "INT", "INT UNSIGNED"]);
    assert_eq!(rows.columns[0].name, "b");
    drop_mariadb(&name).await;
}

#[tokio::test]
async fn execute_is_one_transaction_and_counts_rows_per_statement() {
    let (db, name) = mariadb("tx").await;
    db.execute(vec![stmt("CREATE TABLE t (id INT PRIMARY KEY)", vec![])]).await.unwrap();
    let counts = db
        .execute(vec![
            stmt("INSERT INTO t VALUES (?)", vec![vec![SqlValue::Int(1)], vec![SqlValue::Int(2)]]),
            stmt("UPDATE t SET id = id + 10 WHERE id = ?", vec![vec![SqlValue::Int(2)]]),
        ])
        .await
        .unwrap();
    assert_eq!(counts, vec![2, 1]);
    let err = db
        .execute(vec![
            stmt("INSERT INTO t VALUES (?)", vec![vec![SqlValue::Int(3)]]),
            stmt("INSERT INTO t VALUES (?)", vec![vec![SqlValue::Int(1)]]),
        ])
        .await
        .unwrap_err();
    assert!(matches!(&err, SqlError::Database { code: Some(code), .. } if code == "23000"), "{err:?}");
    let ids = db.query("SELECT id FROM t ORDER BY id", vec![]).await.unwrap();
    assert_eq!(ids.rows, vec![vec![SqlValue::Int(1)], vec![SqlValue::Int(12)]], "the failed batch left nothing behind");
    drop_mariadb(&name).await;
}

#[tokio::test]
async fn postgres_round_trips_every_value_kind_with_type_names() {
    let db = Database::connect_lazy(&url("jdbc:postgresql://127.0.0.1:5432/test?user=postgres"));
    let table = unique("pg");
    db.execute(vec![stmt(
        &format!("CREATE TABLE {table} (b BOOLEAN, i BIGINT, f DOUBLE PRECISION, d NUMERIC(10,2), s TEXT, y BYTEA, dt DATE, tm TIME, ts TIMESTAMP, n INT)"),
        vec![],
    )])
    .await
    .unwrap();
    db.execute(vec![stmt(&format!("INSERT INTO {table} VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)"), vec![every_kind()])]).await.unwrap();
    let rows = db.query(&format!("SELECT * FROM {table}"), vec![]).await.unwrap();
    // PostgreSQL hands NUMERIC over in base-10000 digits: the same number, more trailing zeros.
    let mut expected = every_kind();
    expected[3] = SqlValue::Decimal("-12.5000".into());
    assert_eq!(rows.rows, vec![expected]);
    let types: Vec<&str> = rows.columns.iter().map(|c| c.type_name.as_str()).collect();
    assert_eq!(types, ["BOOL", "INT8", "FLOAT8", "NUMERIC", "TEXT", "BYTEA", "DATE", "TIME", "TIMESTAMP", "INT4"]);
    let err = db.query("SELECT * FROM no_such_table_here", vec![]).await.unwrap_err();
    assert!(matches!(&err, SqlError::Database { code: Some(code), .. } if code == "42P01"), "{err:?}");
    db.execute(vec![stmt(&format!("DROP TABLE {table}"), vec![])]).await.unwrap();
}

#[tokio::test]
async fn an_unreachable_database_is_a_connection_error() {
    let db = Database::connect_lazy(&url("jdbc:mysql://127.0.0.1:1/db?user=root"));
    let err = db.query("SELECT 1", vec![]).await.unwrap_err();
    assert!(matches!(err, SqlError::Connection(_)), "{err:?}");
}

#[tokio::test]
async fn pools_are_shared_per_connection_settings() {
    let pools = Pools::new();
    let a = pools.get(&url("jdbc:mysql://127.0.0.1/test?user=root")).await.unwrap();
    let b = pools.get(&url("jdbc:mysql://127.0.0.1/test?user=root")).await.unwrap();
    let c = pools.get(&url("jdbc:mysql://127.0.0.1/test?user=other")).await.unwrap();
    let same = |x: &Database, y: &Database| match (x, y) {
        (Database::MySql(x), Database::MySql(y)) => std::ptr::eq(x.options(), y.options()),
        _ => false,
    };
    assert!(same(&a, &b));
    assert!(!same(&a, &c));
}
