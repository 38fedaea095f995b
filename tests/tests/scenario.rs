//! The reference scenario of DESIGN.md, step by step, over HTTP against a real MariaDB.

use std::time::Duration;

use serde_json::json;
use sqlx::Row;
use wasmconnect_e2e::*;

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_scenario_end_to_end() {
    let db = TestDb::create("scenario").await;
    db.exec(USERS_DDL).await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);

    // 3. The source connector is created and listed.
    let (status, created) = api.post("/connectors", &source_config(&db)).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["name"], "my-source-connect");
    assert_eq!(created["type"], "source");
    assert_eq!(created["config"]["connector.class"], "io.confluent.connect.jdbc.JdbcSourceConnector");
    assert_eq!(created["tasks"], json!([{"connector": "my-source-connect", "task": 0}]));
    assert_eq!(api.get("/connectors").await, (200, json!(["my-source-connect"])));

    // 4. The topic does not exist until the first row is read.
    let (_, topics) = api.get("/topics").await;
    assert!(!topics.as_array().unwrap().contains(&json!("my_topic_users")), "{topics}");
    for (user, pwd) in [("alice", "a1"), ("bob", "b2"), ("carol", "c3")] {
        db.exec(&format!("INSERT INTO users (user_id, pwd) VALUES ('{user}', '{pwd}')")).await;
    }
    let values = eventually("3 records on my_topic_users", WAIT, || async {
        let values = api.topic_values("my_topic_users").await;
        (values.len() >= 3).then_some(values)
    })
    .await;
    assert_eq!(values.len(), 3, "each row exactly once");
    let expected_schema = json!({
        "type": "struct",
        "fields": [
            {"type": "int32", "optional": false, "field": "id"},
            {"type": "string", "optional": false, "field": "user_id"},
            {"type": "string", "optional": false, "field": "pwd"},
            {"type": "int64", "optional": true, "name": "org.apache.kafka.connect.data.Timestamp", "version": 1, "field": "created_at"}
        ],
        "optional": false,
        "name": "users"
    });
    for (i, (value, user)) in values.iter().zip(["alice", "bob", "carol"]).enumerate() {
        assert_eq!(value["schema"], expected_schema);
        assert_eq!(value["payload"]["id"], json!(i + 1), "in order");
        assert_eq!(value["payload"]["user_id"], user);
        assert!(value["payload"]["created_at"].as_i64().unwrap() > 1_600_000_000_000, "{value}");
    }
    let (_, topics) = api.get("/topics").await;
    for topic in ["my_topic_users", "connect-configs", "connect-offsets", "connect-status"] {
        assert!(topics.as_array().unwrap().contains(&json!(topic)), "{topic} missing from {topics}");
    }

    // 5. Any producer can add schema+payload records to the topic.
    let mut produced = values[0].clone();
    produced["payload"] = json!({"id": 100, "user_id": "dave", "pwd": "d4", "created_at": 1_700_000_000_000_i64});
    let (status, _) = api.post("/topics/my_topic_users/records", &json!([{"value": produced.to_string()}])).await;
    assert_eq!(status, 200);

    // 6. The sink creates my_topic_users and keeps it filled with every record.
    let (status, created) = api.post("/connectors", &sink_config(&db)).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["type"], "sink");
    eventually("4 rows in my_topic_users", WAIT, || async { (db.count("my_topic_users").await == Some(4)).then_some(()) }).await;
    let dave = sqlx::query("SELECT user_id, pwd, created_at FROM my_topic_users WHERE id = 100")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(dave.get::<String, _>(0), "dave");
    assert_eq!(dave.get::<String, _>(1), "d4");
    db.exec("INSERT INTO users (user_id, pwd) VALUES ('erin', 'e5')").await;
    eventually("erin in my_topic_users", WAIT, || async { (db.count("my_topic_users").await == Some(5)).then_some(()) }).await;
    let ids: Vec<i32> = sqlx::query("SELECT id FROM my_topic_users ORDER BY id")
        .fetch_all(&db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids, vec![1, 2, 3, 4, 100]);

    let (status, body) = api.get("/connectors/my-sink-connect/status").await;
    assert_eq!(status, 200);
    assert_eq!(body["connector"]["state"], "RUNNING", "{body}");
    assert_eq!(body["tasks"][0]["state"], "RUNNING", "{body}");

    // 7. Deleting the source stops it.
    let (status, body) = api.delete("/connectors/my-source-connect").await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(api.get("/connectors/my-source-connect").await.0, 404);
    assert_eq!(api.get("/connectors").await, (200, json!(["my-sink-connect"])));
    let before = api.topic_values("my_topic_users").await.len();
    db.exec("INSERT INTO users (user_id, pwd) VALUES ('frank', 'f6')").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(api.topic_values("my_topic_users").await.len(), before, "a deleted source reads nothing more");

    worker.shutdown().await.unwrap();
    db.drop_database().await;
}
