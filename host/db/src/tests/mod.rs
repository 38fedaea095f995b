//! Tests against the real MariaDB and PostgreSQL of the development setup; each test works
//! in a database (MariaDB) or table (PostgreSQL) of its own and drops it.

mod connect;
mod mysql;
mod postgres;
mod url;
mod value;

use super::*;

fn config(url: &str) -> ConnectionConfig {
    ConnectionConfig::from_connector_config(url, None, None).unwrap()
}

fn unique(label: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("wcdb_{label}_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

fn stmt(sql: &str, params: Vec<Vec<SqlValue>>) -> Statement {
    Statement { sql: sql.into(), params }
}

async fn connect(url: &str) -> Database {
    Database::connect(&config(url), PoolSettings::default()).await.unwrap()
}

const MARIADB_ADMIN: &str = "jdbc:mariadb://127.0.0.1:3306/test?user=root";
const POSTGRES: &str = "jdbc:postgresql://127.0.0.1:5432/test?user=postgres";

/// A fresh MariaDB database and a pool on it; `drop_mariadb` removes it.
async fn mariadb(label: &str) -> (Database, String) {
    let name = unique(label);
    connect(MARIADB_ADMIN).await.execute(vec![stmt(&format!("CREATE DATABASE {name}"), vec![])]).await.unwrap();
    (connect(&format!("jdbc:mysql://127.0.0.1:3306/{name}?user=root")).await, name)
}

async fn drop_mariadb(name: &str) {
    connect(MARIADB_ADMIN).await.execute(vec![stmt(&format!("DROP DATABASE {name}"), vec![])]).await.unwrap();
}

/// A PostgreSQL pool and a table name of the test's own.
async fn postgres(label: &str) -> (Database, String) {
    (connect(POSTGRES).await, unique(label))
}

async fn drop_table(db: &Database, table: &str) {
    db.execute(vec![stmt(&format!("DROP TABLE {table}"), vec![])]).await.unwrap();
}

/// One value of every kind but `uint` (whose column types differ between the databases).
fn every_kind() -> Vec<SqlValue> {
    vec![
        SqlValue::Boolean(true),
        SqlValue::Int(-42),
        SqlValue::Float(2.5),
        SqlValue::Decimal("-12.50".into()),
        SqlValue::Text("héllo 'quoted'".into()),
        SqlValue::Bytes(vec![0, 1, 255]),
        SqlValue::Date(19_700),
        SqlValue::Time(3_723_000_456),
        SqlValue::Timestamp(1_700_000_000_123_456),
        SqlValue::Null,
    ]
}

fn type_names(rows: &RowSet) -> Vec<&str> {
    rows.columns.iter().map(|c| c.type_name.as_str()).collect()
}
