//! The client commands against a running worker: produce lines, list topics, consume.

use wasmconnect::cli::{Client, ConsumeOptions};
use wasmconnect_e2e::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produce_list_and_consume_like_the_console_tools() {
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let client = Client::new(&format!("http://{}", worker.rest_addr()));

    let sent = client.produce("lines", Some(":"), "k1:first\nk2:second\nk3:third\n".as_bytes()).await.unwrap();
    assert_eq!(sent, 3);
    let err = client.produce("lines", Some(":"), "no separator here\n".as_bytes()).await.unwrap_err();
    assert!(err.to_string().contains("separator"), "{err}");
    assert!(client.topics().await.unwrap().contains(&"lines".to_owned()));

    let mut out = Vec::new();
    let options = ConsumeOptions { from_beginning: true, max_messages: Some(2), print_key: true, key_separator: "=".into() };
    assert_eq!(client.consume("lines", &options, &mut out).await.unwrap(), 2);
    assert_eq!(String::from_utf8(out).unwrap(), "k1=first\nk2=second\n");

    let err = client.consume("missing", &options, &mut Vec::new()).await.unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
    worker.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connectors_and_plugins_commands_drive_the_rest_api() {
    use wasmconnect::cli::{ConnectorsCommand as C, PluginsCommand as P};

    let db = TestDb::create("clicmd").await;
    db.exec(USERS_DDL).await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let client = Client::new(&format!("http://{}", worker.rest_addr()));
    let file = data.path().join("source.json");
    std::fs::write(&file, source_config(&db).to_string()).unwrap();
    let run = |command: C, json: bool| {
        let client = &client;
        async move {
            let mut out = Vec::new();
            client.connectors(command, json, &mut out).await.map(|_| String::from_utf8(out).unwrap())
        }
    };

    let created = run(C::Create { file: file.clone() }, false).await.unwrap();
    assert!(created.contains("\"name\": \"my-source-connect\""), "{created}");
    let list = run(C::List, false).await.unwrap();
    let lines: Vec<&str> = list.lines().collect();
    assert!(lines[0].starts_with("NAME") && lines[1].starts_with("my-source-connect"), "{list}");
    assert!(lines[1].contains("source") && lines[1].contains("RUNNING") && lines[1].contains("0:RUNNING"), "{list}");
    assert_eq!(run(C::Pause { name: "my-source-connect".into() }, false).await.unwrap(), "paused my-source-connect\n");
    let status = run(C::Status { name: "my-source-connect".into(), watch: None }, false).await.unwrap();
    assert!(status.contains("connector") && status.contains("PAUSED"), "{status}");
    let status: serde_json::Value = serde_json::from_str(&run(C::Status { name: "my-source-connect".into(), watch: None }, true).await.unwrap()).unwrap();
    assert_eq!(status["connector"]["state"], "PAUSED");
    // --watch shows the status again every interval until interrupted, with the progress.
    let mut out = Vec::new();
    let watching = client.connectors(C::Status { name: "my-source-connect".into(), watch: Some(1) }, false, &mut out);
    assert!(tokio::time::timeout(std::time::Duration::from_millis(2500), watching).await.is_err(), "it keeps watching");
    let views = String::from_utf8(out).unwrap();
    assert!(views.matches("WHAT").count() >= 2, "{views}");
    assert!(views.lines().next().unwrap().contains("READ") && views.contains("WRITTEN"), "{views}");
    let err = run(C::Get { name: "nope".into() }, false).await.unwrap_err().to_string();
    assert!(err.contains("nope") && err.contains("404"), "{err}");
    assert_eq!(run(C::Delete { name: "my-source-connect".into() }, false).await.unwrap(), "deleted my-source-connect\n");

    let mut out = Vec::new();
    client.plugins(P::List, false, &mut out).await.unwrap();
    assert!(String::from_utf8(out).unwrap().contains("io.confluent.connect.jdbc.JdbcSinkConnector"));
    let invalid = data.path().join("invalid.json");
    std::fs::write(&invalid, r#"{"connector.class": "JdbcSourceConnector", "batch.max.rows": "many"}"#).unwrap();
    let mut out = Vec::new();
    client.plugins(P::Validate { class: "JdbcSourceConnector".into(), file: invalid }, false, &mut out).await.unwrap();
    let report = String::from_utf8(out).unwrap();
    assert!(report.starts_with("4 error(s)") && report.contains("batch.max.rows:"), "{report}");
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}
