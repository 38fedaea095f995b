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
