use super::*;

#[tokio::test]
async fn every_value_kind_round_trips_with_type_names() {
    let (db, table) = postgres("kinds").await;
    assert_eq!(db.dialect(), Dialect::Postgres);
    db.execute(vec![stmt(
        &format!(
            "CREATE TABLE {table} (b BOOLEAN, i BIGINT, f DOUBLE PRECISION, d NUMERIC(10,2), s TEXT, y BYTEA, dt DATE, \
             tm TIME, ts TIMESTAMP, n INT, u NUMERIC(20), tz TIMESTAMPTZ, r REAL)"
        ),
        vec![],
    )])
    .await
    .unwrap();
    let extra = [SqlValue::Uint(u64::MAX), SqlValue::Timestamp(-1_000_001), SqlValue::Float(0.5)];
    let row = [every_kind(), extra.to_vec()].concat();
    let placeholders = (1..=row.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(",");
    db.execute(vec![stmt(&format!("INSERT INTO {table} VALUES ({placeholders})"), vec![row.clone()])]).await.unwrap();
    let rows = db.query(&format!("SELECT * FROM {table} WHERE i = $1"), vec![SqlValue::Int(-42)]).await.unwrap();
    let mut expected = row;
    expected[12 - 2] = SqlValue::Decimal(u64::MAX.to_string());
    assert_eq!(rows.rows, vec![expected]);
    let names = ["BOOL", "INT8", "FLOAT8", "NUMERIC", "TEXT", "BYTEA", "DATE", "TIME", "TIMESTAMP", "INT4", "NUMERIC", "TIMESTAMPTZ", "FLOAT4"];
    assert_eq!(type_names(&rows), names);
    drop_table(&db, &table).await;
}

/// PostgreSQL fixes parameter types when a statement is prepared; later executions of the
/// same SQL with other kinds of values (a NULL first, then numbers of another kind) must
/// still store the right values.
#[tokio::test]
async fn values_are_converted_to_each_parameter_type() {
    let (db, table) = postgres("convert").await;
    db.execute(vec![stmt(
        &format!("CREATE TABLE {table} (id SMALLINT, f DOUBLE PRECISION, big BIGINT, d NUMERIC(6,3), tz TIMESTAMPTZ, s VARCHAR(10))"),
        vec![],
    )])
    .await
    .unwrap();
    let insert = format!("INSERT INTO {table} VALUES ($1, $2, $3, $4, $5, $6)");
    let counts = db
        .execute(vec![stmt(
            &insert,
            vec![
                vec![SqlValue::Int(1), SqlValue::Null, SqlValue::Null, SqlValue::Null, SqlValue::Null, SqlValue::Null],
                vec![SqlValue::Int(2), SqlValue::Float(1.5), SqlValue::Uint(7), SqlValue::Int(3), SqlValue::Timestamp(0), SqlValue::Int(12)],
                vec![SqlValue::Uint(3), SqlValue::Int(3), SqlValue::Decimal("8".into()), SqlValue::Float(0.1), SqlValue::Date(1), SqlValue::Boolean(true)],
            ],
        )])
        .await
        .unwrap();
    assert_eq!(counts, [3]);
    let rows = db.query(&format!("SELECT * FROM {table} ORDER BY id"), vec![]).await.unwrap();
    let day = 86_400_000_000;
    assert_eq!(
        rows.rows,
        [
            vec![SqlValue::Int(1), SqlValue::Null, SqlValue::Null, SqlValue::Null, SqlValue::Null, SqlValue::Null],
            vec![SqlValue::Int(2), SqlValue::Float(1.5), SqlValue::Int(7), SqlValue::Decimal("3.000".into()), SqlValue::Timestamp(0), SqlValue::Text("12".into())],
            vec![SqlValue::Int(3), SqlValue::Float(3.0), SqlValue::Int(8), SqlValue::Decimal("0.100".into()), SqlValue::Timestamp(day), SqlValue::Text("true".into())],
        ]
    );
    let err = db.execute(vec![stmt(&insert, vec![vec![SqlValue::Int(70_000), SqlValue::Null, SqlValue::Null, SqlValue::Null, SqlValue::Null, SqlValue::Null]])]).await.unwrap_err();
    assert!(matches!(&err, SqlError::Database { code: None, message } if message.contains("70000") && message.contains("INT2")), "{err:?}");
    let err = db.query(&format!("SELECT id FROM {table} WHERE id = $1"), vec![SqlValue::Bytes(vec![1])]).await.unwrap_err();
    let message = err.to_string();
    assert!(message.contains("bytes value to parameter $1, of type INT2") && message.contains("CAST($1 AS TEXT)"), "{message}");
    let err = db.query(&format!("SELECT id FROM {table} WHERE big = $1"), vec![SqlValue::Decimal("1.5".into())]).await.unwrap_err();
    assert!(err.to_string().contains("not an integer"), "{err}");
    drop_table(&db, &table).await;
}

#[tokio::test]
async fn json_uuid_enum_and_domain_columns() {
    let (db, table) = postgres("types").await;
    let (mood, short) = (format!("{table}_mood"), format!("{table}_short"));
    db.execute(vec![
        stmt(&format!("CREATE TYPE {mood} AS ENUM ('sad', 'happy')"), vec![]),
        stmt(&format!("CREATE DOMAIN {short} AS VARCHAR(5)"), vec![]),
        stmt(&format!("CREATE TABLE {table} (j JSONB, js JSON, id UUID, m {mood}, sh {short}, big NUMERIC, iv INTERVAL)"), vec![]),
    ])
    .await
    .unwrap();
    let uuid = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";
    let row = vec![
        SqlValue::Text(r#"{"a": 1}"#.into()),
        SqlValue::Text(r#"{"b":2}"#.into()),
        SqlValue::Text(uuid.to_uppercase()),
        SqlValue::Text("happy".into()),
        SqlValue::Text("abc".into()),
        SqlValue::Decimal("123456789012345678901234567890.5".into()),
        SqlValue::Null,
    ];
    db.execute(vec![stmt(&format!("INSERT INTO {table} VALUES ($1, $2, $3, $4, $5, $6, $7)"), vec![row])]).await.unwrap();
    let rows = db.query(&format!("SELECT j, js, id, m, sh, big, iv, 'NaN'::numeric FROM {table} WHERE id = $1"), vec![SqlValue::Text(uuid.into())]).await.unwrap();
    let SqlValue::Float(nan) = rows.rows[0][7] else { panic!("{:?}", rows.rows[0][7]) };
    assert!(nan.is_nan());
    assert_eq!(
        rows.rows[0][..7],
        [
            SqlValue::Text(r#"{"a": 1}"#.into()),
            SqlValue::Text(r#"{"b":2}"#.into()),
            SqlValue::Text(uuid.into()),
            SqlValue::Text("happy".into()),
            SqlValue::Text("abc".into()),
            SqlValue::Decimal("123456789012345678901234567890.5".into()),
            SqlValue::Null,
        ]
    );
    assert_eq!(type_names(&rows)[..4], ["JSONB", "JSON", "UUID", mood.as_str()]);
    let err = db.query(&format!("SELECT 1 FROM {table} WHERE id = $1"), vec![SqlValue::Text("not-a-uuid".into())]).await.unwrap_err();
    assert!(err.to_string().contains("\"not-a-uuid\" is not a UUID"), "{err}");
    db.execute(vec![
        stmt(&format!("DROP TABLE {table}"), vec![]),
        stmt(&format!("DROP TYPE {mood}"), vec![]),
        stmt(&format!("DROP DOMAIN {short}"), vec![]),
    ])
    .await
    .unwrap();
}

#[tokio::test]
async fn an_empty_result_still_names_its_columns() {
    let (db, table) = postgres("empty").await;
    db.execute(vec![stmt(&format!("CREATE TABLE {table} (id BIGINT, at TIMESTAMPTZ)"), vec![])]).await.unwrap();
    let rows = db.query(&format!("SELECT id, at FROM {table} WHERE id > $1"), vec![SqlValue::Int(0)]).await.unwrap();
    assert!(rows.rows.is_empty());
    assert_eq!(rows.columns, [Column { name: "id".into(), type_name: "INT8".into() }, Column { name: "at".into(), type_name: "TIMESTAMPTZ".into() }]);
    drop_table(&db, &table).await;
}

#[tokio::test]
async fn execute_is_one_transaction_and_counts_rows_per_statement() {
    let (db, table) = postgres("tx").await;
    db.execute(vec![stmt(&format!("CREATE TABLE {table} (id INT PRIMARY KEY)"), vec![])]).await.unwrap();
    let counts = db
        .execute(vec![
            stmt(&format!("INSERT INTO {table} VALUES ($1)"), vec![vec![SqlValue::Int(1)], vec![SqlValue::Int(2)]]),
            stmt(&format!("UPDATE {table} SET id = id + 10"), vec![]),
        ])
        .await
        .unwrap();
    assert_eq!(counts, [2, 2]);
    let err = db
        .execute(vec![
            stmt(&format!("INSERT INTO {table} VALUES ($1)"), vec![vec![SqlValue::Int(3)]]),
            stmt(&format!("INSERT INTO {table} VALUES ($1)"), vec![vec![SqlValue::Int(11)]]),
        ])
        .await
        .unwrap_err();
    assert!(matches!(&err, SqlError::Database { code: Some(code), .. } if code == "23505"), "{err:?}");
    let ids = db.query(&format!("SELECT id FROM {table} ORDER BY id"), vec![]).await.unwrap();
    assert_eq!(ids.rows, [[SqlValue::Int(11)], [SqlValue::Int(12)]], "the failed batch left nothing behind");
    drop_table(&db, &table).await;
}

fn copy(sql: &str, data: &str) -> Step {
    Step::CopyIn { sql: sql.into(), data: data.as_bytes().to_vec() }
}

#[tokio::test]
async fn steps_copy_data_in_the_same_transaction_as_statements() {
    let (db, table) = postgres("copy").await;
    db.execute(vec![stmt(&format!("CREATE TABLE {table} (id INT PRIMARY KEY, note TEXT)"), vec![])]).await.unwrap();
    let counts = db
        .execute_steps(vec![
            Step::Statement(stmt(&format!("INSERT INTO {table} VALUES ($1, 'param')"), vec![vec![SqlValue::Int(1)]])),
            copy(&format!("COPY {table} (id, note) FROM STDIN"), "2\ta\\tb\n3\t\\N\n4\t\\\\N\n"),
            Step::Statement(stmt(&format!("UPDATE {table} SET id = id + 10 WHERE id > 1"), vec![])),
        ])
        .await
        .unwrap();
    assert_eq!(counts, [1, 3, 3], "a copy counts the rows it loaded");
    let rows = db.query(&format!("SELECT id, note FROM {table} ORDER BY id"), vec![]).await.unwrap();
    let text = |s: &str| SqlValue::Text(s.into());
    assert_eq!(
        rows.rows,
        [vec![SqlValue::Int(1), text("param")], vec![SqlValue::Int(12), text("a\tb")], vec![SqlValue::Int(13), SqlValue::Null], vec![SqlValue::Int(14), text("\\N")]]
    );
    drop_table(&db, &table).await;
}

#[tokio::test]
async fn a_failed_copy_rolls_back_the_whole_transaction_and_the_connection_stays_usable() {
    let (db, table) = postgres("copyfail").await;
    db.execute(vec![stmt(&format!("CREATE TABLE {table} (id INT PRIMARY KEY)"), vec![])]).await.unwrap();
    let duplicate = db
        .execute_steps(vec![
            Step::Statement(stmt(&format!("INSERT INTO {table} VALUES (1)"), vec![])),
            copy(&format!("COPY {table} (id) FROM STDIN"), "2\n1\n"),
        ])
        .await
        .unwrap_err();
    assert!(matches!(&duplicate, SqlError::Database { code: Some(code), .. } if code == "23505"), "{duplicate:?}");
    let garbage = db.execute_steps(vec![copy(&format!("COPY {table} (id) FROM STDIN"), "two\n")]).await.unwrap_err();
    assert!(matches!(&garbage, SqlError::Database { code: Some(code), .. } if code == "22P02"), "{garbage:?}");
    let missing = db.execute_steps(vec![copy("COPY wcdb_no_such_table (id) FROM STDIN", "1\n")]).await.unwrap_err();
    assert!(matches!(&missing, SqlError::Database { code: Some(code), .. } if code == "42P01"), "{missing:?}");
    let not_a_copy = db.execute_steps(vec![copy(&format!("SELECT * FROM {table}"), "")]).await.unwrap_err();
    assert!(matches!(&not_a_copy, SqlError::Database { code: None, message } if message.contains("COPY ... FROM STDIN")), "{not_a_copy:?}");
    // Every pooled connection is still in step with the server after those failures.
    for _ in 0..12 {
        let count = db.query(&format!("SELECT COUNT(*) FROM {table}"), vec![]).await.unwrap();
        assert_eq!(count.rows, [[SqlValue::Int(0)]], "nothing of the failed transactions is left");
    }
    drop_table(&db, &table).await;
}

#[tokio::test]
async fn errors_carry_the_sqlstate() {
    let db = connect(POSTGRES).await;
    let err = db.query("SELECT * FROM wcdb_no_such_table", vec![]).await.unwrap_err();
    assert!(matches!(&err, SqlError::Database { code: Some(code), .. } if code == "42P01"), "{err:?}");
    let err = db.query("SELECT $1::int + $2::int", vec![SqlValue::Int(1)]).await.unwrap_err();
    assert!(matches!(&err, SqlError::Database { code: None, message } if message.contains("2 parameters but 1")), "{err:?}");
}

#[tokio::test]
async fn sessions_run_in_utc_so_naive_timestamps_mean_utc() {
    let db = connect(POSTGRES).await;
    let zone = db.query("SHOW TimeZone", vec![]).await.unwrap();
    assert_eq!(zone.rows, [[SqlValue::Text("UTC".into())]]);
    let back = db.query("SELECT $1::timestamp::timestamptz", vec![SqlValue::Timestamp(1_700_000_000_000_000)]).await.unwrap();
    assert_eq!(back.rows, [[SqlValue::Timestamp(1_700_000_000_000_000)]]);
}

/// information_schema's columns are domains (`sql_identifier`, `cardinal_number`): they bind
/// and read as their base types, as the JDBC plugins' catalog queries need.
#[tokio::test]
async fn catalog_queries_on_domain_columns() {
    let (db, table) = postgres("catalog").await;
    db.execute(vec![stmt(&format!("CREATE TABLE {table} (amount NUMERIC(8,3))"), vec![])]).await.unwrap();
    let sql = "SELECT column_name, numeric_scale FROM information_schema.columns WHERE table_name = $1 AND table_schema = $2";
    let rows = db.query(sql, vec![SqlValue::Text(table.clone()), SqlValue::Text("public".into())]).await.unwrap();
    assert_eq!(rows.rows, [[SqlValue::Text("amount".into()), SqlValue::Int(3)]]);
    drop_table(&db, &table).await;
}
