//! Distributed mode with worker processes on a real Kafka-protocol broker (tansu): two
//! workers in one group split the connectors; when one is killed (SIGKILL) the other takes
//! its tasks over with no row lost; when it comes back the work spreads again; and a restart
//! of every worker brings every connector and offset back from the internal topics.

mod common;

use std::ffi::OsString;
use std::path::Path;

use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, MySqlPool, Row};
use wasmconnect_log::test_broker::Tansu;

use common::{Worker, eventually, free_port, get, plugin_path};

const TABLES: [&str; 3] = ["t1", "t2", "t3"];

/// `wasmconnect distributed` with a Kafka Connect worker properties file.
fn distributed(dir: &Path, port: u16, broker: &Tansu, group: &str) -> Worker {
    let plugins = plugin_path();
    let properties = dir.join(format!("worker-{port}.properties"));
    std::fs::write(
        &properties,
        format!(
            "bootstrap.servers={}\ngroup.id={group}\nlisteners=http://127.0.0.1:{port}\nplugin.path={}\n\
             offset.storage.partitions=5\nstatus.storage.partitions=3\n\
             session.timeout.ms=6000\nheartbeat.interval.ms=1000\n",
            broker.bootstrap_servers(),
            plugins.display()
        ),
    )
    .unwrap();
    // The compiled plugins are cached beside the test plugins, shared with other tests.
    let args: [OsString; 6] =
        ["distributed".into(), properties.into(), "--rest-host".into(), "127.0.0.1".into(), "--data-dir".into(), plugins.into()];
    Worker::spawn(port, args)
}

fn worker_id(worker: &Worker) -> String {
    format!("127.0.0.1:{}", worker.port)
}




/// Creates a connector through `worker`, retrying while the group rebalances (409).
async fn create(http: &reqwest::Client, worker: &Worker, connector: Value) {
    eventually("the connector to be created", || async {
        let response = http.post(worker.url("/connectors")).json(&connector).send().await.ok()?;
        match response.status().as_u16() {
            201 => Some(()),
            409 => None,
            status => panic!("creating {connector}: {status} {}", response.text().await.unwrap_or_default()),
        }
    })
    .await;
}

/// The worker each connector and task runs on, once every one of them is RUNNING.
async fn placement(http: &reqwest::Client, worker: &Worker, connectors: usize) -> Vec<String> {
    eventually("every connector and task RUNNING", || async {
        let all = get(http, &worker.url("/connectors?expand=status")).await?;
        let all = all.as_object()?;
        if all.len() != connectors {
            return None;
        }
        let mut ids = Vec::new();
        for entry in all.values() {
            let status = &entry["status"];
            let tasks = status["tasks"].as_array()?;
            if status["connector"]["state"] != "RUNNING" || tasks.is_empty() || tasks.iter().any(|t| t["state"] != "RUNNING") {
                return None;
            }
            ids.push(status["connector"]["worker_id"].as_str()?.to_owned());
            ids.extend(tasks.iter().filter_map(|t| t["worker_id"].as_str().map(str::to_owned)));
        }
        Some(ids)
    })
    .await
}

async fn insert_rows(db: &MySqlPool, from: i32, to: i32) {
    for table in TABLES {
        for i in from..=to {
            sqlx::query(AssertSqlSafe(format!("INSERT INTO {table} (id, name) VALUES ({i}, 'row {i}')"))).execute(db).await.unwrap();
        }
    }
}

/// Waits until every sink table holds exactly ids 1..=n, each once.
async fn sink_tables_hold(db: &MySqlPool, n: i64) {
    eventually(&format!("{n} rows in every sink table"), || async {
        for table in TABLES {
            let row = sqlx::query(AssertSqlSafe(format!("SELECT COUNT(*), COUNT(DISTINCT id), MAX(id) FROM dist_{table}")))
                .fetch_one(db)
                .await
                .ok()?;
            let (count, distinct, max): (i64, i64, Option<i32>) = (row.get(0), row.get(1), row.get(2));
            assert!(count == distinct, "dist_{table} holds a row twice");
            if count != n || max != Some(n as i32) {
                return None;
            }
        }
        Some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_share_the_connectors_and_take_over_from_each_other() {
    let broker = Tansu::start();
    let admin = MySqlPool::connect("mysql://root@127.0.0.1:3306/test").await.expect("MariaDB runs on 127.0.0.1:3306");
    let name = format!("wc_distributed_{}", std::process::id());
    sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}"))).execute(&admin).await.unwrap();
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await.unwrap();
    let db = MySqlPool::connect(&format!("mysql://root@127.0.0.1:3306/{name}")).await.unwrap();
    for table in TABLES {
        sqlx::query(AssertSqlSafe(format!("CREATE TABLE {table} (id int primary key, name varchar(20))"))).execute(&db).await.unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let group = format!("wasmconnect-test-{}", std::process::id());
    let (port_a, port_b) = (free_port(), free_port());
    let a = distributed(dir.path(), port_a, &broker, &group);
    let b = distributed(dir.path(), port_b, &broker, &group);
    let http = reqwest::Client::new();

    let url = format!("jdbc:mysql://127.0.0.1:3306/{name}");
    for table in TABLES {
        let source = json!({"name": format!("source-{table}"), "config": {
            "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector", "connection.url": url,
            "connection.user": "root", "mode": "incrementing", "incrementing.column.name": "id",
            "table.whitelist": table, "topic.prefix": "dist_", "poll.interval.ms": "200"}});
        let sink = json!({"name": format!("sink-{table}"), "config": {
            "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector", "connection.url": url,
            "connection.user": "root", "topics": format!("dist_{table}"), "auto.create": "true",
            "insert.mode": "upsert", "pk.mode": "record_value", "pk.fields": "id"}});
        // Any worker takes any request.
        create(&http, &a, source).await;
        create(&http, &b, sink).await;
    }

    let ids = placement(&http, &a, 6).await;
    assert!(ids.contains(&worker_id(&a)) && ids.contains(&worker_id(&b)), "both workers run connectors or tasks: {ids:?}");
    assert_eq!(get(&http, &b.url("/connectors")).await.unwrap().as_array().unwrap().len(), 6, "every worker answers for all");
    insert_rows(&db, 1, 5).await;
    sink_tables_hold(&db, 5).await;

    // B dies without a word; A takes everything over once B's session times out.
    b.kill();
    insert_rows(&db, 6, 10).await;
    sink_tables_hold(&db, 10).await;
    let ids = placement(&http, &a, 6).await;
    assert!(ids.iter().all(|id| *id == worker_id(&a)), "everything runs on A: {ids:?}");

    // B comes back: the work spreads again.
    let b = distributed(dir.path(), port_b, &broker, &group);
    eventually("B to run something again", || async {
        let ids = placement(&http, &a, 6).await;
        ids.contains(&worker_id(&b)).then_some(())
    })
    .await;
    insert_rows(&db, 11, 15).await;
    sink_tables_hold(&db, 15).await;

    // Both die; both come back with everything from the internal topics.
    a.kill();
    b.kill();
    let a = distributed(dir.path(), port_a, &broker, &group);
    let _b = distributed(dir.path(), port_b, &broker, &group);
    placement(&http, &a, 6).await;
    insert_rows(&db, 16, 20).await;
    sink_tables_hold(&db, 20).await;

    db.close().await;
    sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}"))).execute(&admin).await.unwrap();
}
