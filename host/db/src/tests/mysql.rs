use super::*;

#[tokio::test]
async fn every_value_kind_round_trips_with_type_names() {
    let (db, name) = mariadb("kinds").await;
    assert_eq!(db.dialect(), Dialect::MySql);
    let row = [every_kind(), vec![SqlValue::Uint(u64::MAX), SqlValue::Float(0.5), SqlValue::Timestamp(-1_000_000)]].concat();
    db.execute(vec![
        stmt(
            "CREATE TABLE t (b BOOLEAN, i INT, f DOUBLE, d DECIMAL(10,2), s VARCHAR(20), y VARBINARY(10), dt DATE, \
             tm TIME(6), ts DATETIME(6), n INT, u BIGINT UNSIGNED, r FLOAT, old DATETIME)",
            vec![],
        ),
        stmt("INSERT INTO t VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", vec![row.clone()]),
    ])
    .await
    .unwrap();
    let rows = db.query("SELECT * FROM t WHERE i = ?", vec![SqlValue::Int(-42)]).await.unwrap();
    assert_eq!(rows.rows, vec![row]);
    let expected = ["BOOLEAN", "INT", "DOUBLE", "DECIMAL", "VARCHAR", "VARBINARY", "DATE", "TIME", "DATETIME", "INT", "BIGINT UNSIGNED", "FLOAT", "DATETIME"];
    assert_eq!(type_names(&rows), expected);
    assert_eq!(rows.columns[0].name, "b");
    drop_mariadb(&name).await;
}

#[tokio::test]
async fn text_like_and_small_integer_columns() {
    let (db, name) = mariadb("texts").await;
    db.execute(vec![
        stmt(
            "CREATE TABLE t (c CHAR(3), e ENUM('red','green'), x TEXT, j JSON, tiny TINYINT, tu TINYINT UNSIGNED, \
             sm SMALLINT, mu MEDIUMINT UNSIGNED, bl BLOB, bn BINARY(2))",
            vec![],
        ),
        stmt(
            "INSERT INTO t VALUES (?,?,?,?,?,?,?,?,?,?)",
            vec![vec![
                SqlValue::Text("abc".into()),
                SqlValue::Text("green".into()),
                SqlValue::Text("long".into()),
                SqlValue::Text(r#"{"a":1}"#.into()),
                SqlValue::Int(-128),
                SqlValue::Uint(255),
                SqlValue::Int(-300),
                SqlValue::Uint(16_777_215),
                SqlValue::Bytes(vec![9]),
                SqlValue::Bytes(vec![1, 2]),
            ]],
        ),
    ])
    .await
    .unwrap();
    let rows = db.query("SELECT * FROM t", vec![]).await.unwrap();
    assert_eq!(
        rows.rows[0],
        vec![
            SqlValue::Text("abc".into()),
            SqlValue::Text("green".into()),
            SqlValue::Text("long".into()),
            SqlValue::Text(r#"{"a":1}"#.into()),
            SqlValue::Int(-128),
            SqlValue::Uint(255),
            SqlValue::Int(-300),
            SqlValue::Uint(16_777_215),
            SqlValue::Bytes(vec![9]),
            SqlValue::Bytes(vec![1, 2]),
        ]
    );
    drop_mariadb(&name).await;
}

#[tokio::test]
async fn timestamps_are_utc_whatever_the_server_zone() {
    let (db, name) = mariadb("utc").await;
    db.execute(vec![
        stmt("CREATE TABLE t (ts TIMESTAMP(6) NULL, dt DATETIME(6))", vec![]),
        stmt("INSERT INTO t VALUES (?, ?)", vec![vec![SqlValue::Timestamp(1_700_000_000_000_001); 2]]),
    ])
    .await
    .unwrap();
    let rows = db.query("SELECT ts, dt, UNIX_TIMESTAMP(ts), @@session.time_zone FROM t", vec![]).await.unwrap();
    assert_eq!(rows.rows[0][..2], [SqlValue::Timestamp(1_700_000_000_000_001), SqlValue::Timestamp(1_700_000_000_000_001)]);
    assert_eq!(rows.rows[0][2], SqlValue::Decimal("1700000000.000001".into()), "the server stored the same instant");
    assert_eq!(rows.rows[0][3], SqlValue::Text("+00:00".into()));
    assert_eq!(type_names(&rows)[0], "TIMESTAMP");
    drop_mariadb(&name).await;
}

#[tokio::test]
async fn an_empty_result_still_names_its_columns() {
    let (db, name) = mariadb("empty").await;
    db.execute(vec![stmt("CREATE TABLE t (id BIGINT, label VARCHAR(5))", vec![])]).await.unwrap();
    let rows = db.query("SELECT id, label FROM t WHERE id > ?", vec![SqlValue::Int(0)]).await.unwrap();
    assert!(rows.rows.is_empty());
    assert_eq!(rows.columns, [Column { name: "id".into(), type_name: "BIGINT".into() }, Column { name: "label".into(), type_name: "VARCHAR".into() }]);
    drop_mariadb(&name).await;
}

#[tokio::test]
async fn execute_is_one_transaction_and_counts_rows_per_statement() {
    let (db, name) = mariadb("tx").await;
    db.execute(vec![stmt("CREATE TABLE t (id INT PRIMARY KEY) ENGINE=InnoDB", vec![])]).await.unwrap();
    let counts = db
        .execute(vec![
            stmt("INSERT INTO t VALUES (?)", vec![vec![SqlValue::Int(1)], vec![SqlValue::Int(2)], vec![SqlValue::Int(3)]]),
            stmt("UPDATE t SET id = id + 10 WHERE id = ?", vec![vec![SqlValue::Int(2)]]),
            stmt("DELETE FROM t WHERE id = 99", vec![]),
        ])
        .await
        .unwrap();
    assert_eq!(counts, vec![3, 1, 0]);
    let err = db
        .execute(vec![
            stmt("INSERT INTO t VALUES (?)", vec![vec![SqlValue::Int(4)]]),
            stmt("INSERT INTO t VALUES (?)", vec![vec![SqlValue::Int(5)], vec![SqlValue::Int(1)]]),
        ])
        .await
        .unwrap_err();
    assert!(matches!(&err, SqlError::Database { code: Some(code), message } if code == "23000" && message.contains("Duplicate")), "{err:?}");
    let ids = db.query("SELECT id FROM t ORDER BY id", vec![]).await.unwrap();
    assert_eq!(ids.rows, [[SqlValue::Int(1)], [SqlValue::Int(3)], [SqlValue::Int(12)]], "the failed batch left nothing behind");
    drop_mariadb(&name).await;
}

#[tokio::test]
async fn errors_carry_the_sqlstate_or_say_what_was_wrong() {
    let db = connect(MARIADB_ADMIN).await;
    let err = db.query("SELECT * FROM wcdb_no_such_table", vec![]).await.unwrap_err();
    assert!(matches!(&err, SqlError::Database { code: Some(code), .. } if code == "42S02"), "{err:?}");
    let err = db.query("SELEC 1", vec![]).await.unwrap_err();
    assert!(matches!(&err, SqlError::Database { code: Some(code), .. } if code == "42000"), "{err:?}");
    let err = db.query("SELECT ? + ?", vec![SqlValue::Int(1)]).await.unwrap_err();
    assert!(matches!(&err, SqlError::Database { code: None, message } if message.contains("2 parameters but 1")), "{err:?}");
    let err = db.query("SELECT ?", vec![SqlValue::Decimal("1,5".into())]).await.unwrap_err();
    assert!(err.to_string().contains("\"1,5\""), "{err}");
}

#[tokio::test]
async fn a_copy_step_is_refused_before_anything_runs() {
    let (db, name) = mariadb("copy").await;
    db.execute(vec![stmt("CREATE TABLE t (id INT)", vec![])]).await.unwrap();
    let steps = vec![
        Step::Statement(stmt("INSERT INTO t VALUES (1)", vec![])),
        Step::CopyIn { sql: "COPY t (id) FROM STDIN".into(), data: b"2\n".to_vec() },
    ];
    let err = db.execute_steps(steps).await.unwrap_err();
    assert!(matches!(&err, SqlError::Denied(m) if m.contains("PostgreSQL's") && m.contains("MySQL database")), "{err:?}");
    let counts = db.execute_steps(vec![Step::Statement(stmt("INSERT INTO t VALUES (3)", vec![]))]).await.unwrap();
    assert_eq!(counts, [1], "statements alone run as with execute");
    let ids = db.query("SELECT id FROM t", vec![]).await.unwrap();
    assert_eq!(ids.rows, [[SqlValue::Int(3)]]);
    drop_mariadb(&name).await;
}
