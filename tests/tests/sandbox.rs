//! A plugin that panics, never returns, or eats memory fails its own task, with a trace
//! that says why, while the worker and every other connector carry on.

use std::time::Duration;

use serde_json::json;
use wasmconnect::runtime::TaskLimits;
use wasmconnect_e2e::*;

const WAIT: Duration = Duration::from_secs(60);

fn chaos(name: &str, behaviour: &str) -> serde_json::Value {
    json!({"name": name, "config": {"connector.class": "ChaosSource", "chaos.behaviour": behaviour, "topic": format!("{name}-out")}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misbehaving_plugins_fail_alone() {
    let data = tempfile::tempdir().unwrap();
    let limits = TaskLimits { memory_bytes: 64 << 20, call_timeout: Duration::from_secs(2) };
    let worker = start_worker_with_limits(data.path(), limits).await;
    let api = Api::new(&worker);
    for (name, behaviour) in [("healthy", "records"), ("panics", "panic"), ("spins", "spin"), ("hoards", "allocate")] {
        assert_eq!(api.post("/connectors", &chaos(name, behaviour)).await.0, 201, "{name}");
    }
    for (name, expected) in [("panics", "deliberate panic"), ("spins", "interrupt"), ("hoards", "memory")] {
        let trace = eventually(&format!("{name} to fail"), WAIT, || async {
            let (_, status) = api.get(&format!("/connectors/{name}/status")).await;
            (status["tasks"][0]["state"] == "FAILED").then(|| status["tasks"][0]["trace"].as_str().unwrap_or("").to_owned())
        })
        .await;
        assert!(trace.contains("trapped") && trace.contains(expected), "{name}: {trace}");
    }
    // The healthy connector kept producing throughout, and keeps going.
    let before = api.topic_values("healthy-out").await.len();
    assert!(before > 0);
    eventually("more healthy records", WAIT, || async { (api.topic_values("healthy-out").await.len() > before).then_some(()) }).await;
    let (_, status) = api.get("/connectors/healthy/status").await;
    assert_eq!(status["tasks"][0]["state"], "RUNNING");

    // A failed task restarts on request (and fails again, the same way).
    assert_eq!(api.post("/connectors/panics/tasks/0/restart", &json!(null)).await.0, 204);
    worker.shutdown().await.unwrap();
}
