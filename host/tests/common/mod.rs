//! What the tests that run worker processes share: free ports, waiting, and REST reads.

use std::time::{Duration, Instant};

use serde_json::Value;

/// How long a test waits for a worker to get somewhere before it fails.
const WAIT: Duration = Duration::from_secs(120);

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Checks every 100 ms until `check` answers, for at most [`WAIT`].
pub async fn eventually<T, F: std::future::Future<Output = Option<T>>>(what: &str, mut check: impl FnMut() -> F) -> T {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A GET's JSON body, or `None` while the worker does not answer or answers an error.
pub async fn get(http: &reqwest::Client, url: &str) -> Option<Value> {
    let response = http.get(url).send().await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    response.json().await.ok()
}
