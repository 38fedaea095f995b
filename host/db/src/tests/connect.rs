use std::time::Duration;

use super::*;

const QUICK: PoolSettings = PoolSettings { max_connections: 2, acquire_timeout: Duration::from_secs(1) };

#[tokio::test]
async fn a_closed_port_is_a_connection_error_naming_the_database() {
    for (url, kind) in [("jdbc:mysql://127.0.0.1:1/db?user=root", "MySQL"), ("jdbc:postgresql://127.0.0.1:1/db?user=postgres", "PostgreSQL")] {
        let err = Database::connect(&config(url), QUICK).await.err().unwrap();
        let SqlError::Connection(message) = &err else { panic!("{err:?}") };
        assert!(message.contains(&format!("{kind} database `db` at 127.0.0.1:1")), "{message}");
    }
}

#[tokio::test]
async fn bad_credentials_and_databases_are_database_errors() {
    let wrong_password = ConnectionConfig::from_connector_config("jdbc:mysql://127.0.0.1/test", Some("root"), Some("wrong-s3cret")).unwrap();
    let err = Database::connect(&wrong_password, QUICK).await.err().unwrap();
    assert!(matches!(&err, SqlError::Database { code: Some(code), .. } if code == "28000"), "{err:?}");
    assert!(!err.to_string().contains("wrong-s3cret"), "{err}");
    let err = Database::connect(&config("jdbc:postgresql://127.0.0.1/wcdb_missing?user=postgres"), QUICK).await.err().unwrap();
    assert!(matches!(&err, SqlError::Database { code: Some(code), message } if code == "3D000" && message.contains("at 127.0.0.1:5432")), "{err:?}");
}

#[tokio::test]
async fn pools_are_shared_per_connection_settings() {
    let pools = Pools::new();
    let get = async |url: &str| pools.get(&config(url)).await.unwrap();
    let same = |x: &Database, y: &Database| std::sync::Arc::ptr_eq(&x.endpoint, &y.endpoint);
    let a = get("jdbc:mysql://127.0.0.1/test?user=root").await;
    assert!(same(&a, &get("jdbc:mariadb://127.0.0.1:3306/test?user=root").await), "the same settings, written differently");
    assert!(!same(&a, &get("jdbc:mysql://127.0.0.1/information_schema?user=root").await));
    let c = get(POSTGRES).await;
    assert!(same(&c, &get(POSTGRES).await));
    assert!(!same(&c, &get("jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres").await));
    let one = a.query("SELECT 1", vec![]).await.unwrap();
    assert_eq!(one.rows, [[SqlValue::Int(1)]]);
}

#[tokio::test]
async fn a_failed_connect_is_not_remembered() {
    let pools = Pools::new();
    let err = pools.get(&config("jdbc:postgresql://127.0.0.1/test?user=wcdb_no_such_role")).await.err().unwrap();
    assert!(matches!(&err, SqlError::Database { code: Some(code), .. } if code == "28000"), "{err:?}");
    assert!(pools.pools.lock().unwrap().values().all(|cell| cell.get().is_none()));
}
