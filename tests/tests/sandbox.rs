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
    let limits = TaskLimits { memory_bytes: 64 << 20, call_timeout: Duration::from_secs(2), ..TaskLimits::default() };
    let worker = start_worker_with_limits(data.path(), limits).await;
    let api = Api::new(&worker);
    for (name, behaviour) in [("healthy", "records"), ("panics", "panic"), ("spins", "spin"), ("hoards", "allocate"), ("strays", "out-of-bounds")] {
        assert_eq!(api.post("/connectors", &chaos(name, behaviour)).await.0, 201, "{name}");
    }
    let expected = [("panics", "deliberate panic"), ("spins", "wasm.call.timeout.ms=2000"), ("hoards", "memory"), ("strays", "out of bounds")];
    for (name, expected) in expected {
        let trace = eventually(&format!("{name} to fail"), WAIT, || async {
            let (_, status) = api.get(&format!("/connectors/{name}/status")).await;
            (status["tasks"][0]["state"] == "FAILED").then(|| status["tasks"][0]["trace"].as_str().unwrap_or("").to_owned())
        })
        .await;
        assert!(trace.contains("trapped") && trace.contains(expected), "{name}: {trace}");
        assert!(trace.starts_with("The plugin crashed") && trace.lines().next().unwrap().contains("restart the task"), "{name}: the first line says what to do: {trace}");
        assert!(trace.contains("wasm backtrace"), "{name}: where in the plugin: {trace}");
        assert!(!trace.contains("tokio::runtime"), "{name}: the host's own frames say nothing about the plugin: {trace}");
    }
    // A call stopped at its deadline counts as an interruption, besides as a trap.
    let metrics = reqwest::get(format!("http://{}/metrics", worker.rest_addr())).await.unwrap().text().await.unwrap();
    assert!(metrics.lines().any(|l| l == r#"wasm_interruptions_total{connector="spins",task="0"} 1"#), "{metrics}");
    assert!(!metrics.contains(r#"wasm_interruptions_total{connector="panics""#), "{metrics}");
    assert!(metrics.lines().any(|l| l == r#"wasm_traps_total{connector="panics",task="0"} 1"#), "{metrics}");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_task_restart_auto_a_failed_task_is_restarted_with_backoff() {
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let mut config = chaos("flaky", "panic");
    config["config"]["task.restart.auto"] = json!("true");
    config["config"]["task.restart.backoff.max.ms"] = json!("1500");
    assert_eq!(api.post("/connectors", &config).await.0, 201);
    // The first restart comes after 1 s, the second after 1.5 s (the cap).
    let trace = eventually("a second automatic restart", WAIT, || async {
        let (_, status) = api.get("/connectors/flaky/status").await;
        let trace = status["tasks"][0]["trace"].as_str().unwrap_or("").to_owned();
        trace.contains("restart 2 in 1500 ms").then_some(trace)
    })
    .await;
    assert!(trace.contains("deliberate panic"), "the reason stays visible: {trace}");
    // Without the setting a failed task stays failed.
    assert_eq!(api.post("/connectors", &chaos("once", "panic")).await.0, 201);
    let trace = eventually("the task to fail", WAIT, || async {
        let (_, status) = api.get("/connectors/once/status").await;
        (status["tasks"][0]["state"] == "FAILED").then(|| status["tasks"][0]["trace"].as_str().unwrap_or("").to_owned())
    })
    .await;
    assert!(!trace.contains("task.restart.auto"), "{trace}");
    worker.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_the_converter_refuses_fails_the_source_task_and_writes_nothing() {
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    assert_eq!(api.post("/connectors", &chaos("mismatched", "mismatch")).await.0, 201);
    let trace = eventually("the task to fail", WAIT, || async {
        let (_, status) = api.get("/connectors/mismatched/status").await;
        (status["tasks"][0]["state"] == "FAILED").then(|| status["tasks"][0]["trace"].as_str().unwrap_or("").to_owned())
    })
    .await;
    assert!(trace.contains("cannot convert the value") && trace.contains("field n"), "{trace}");
    assert_eq!(api.get("/topics/mismatched-out").await.0, 404, "nothing was written");
    assert_eq!(api.get("/connectors/mismatched/offsets").await.1, json!({"offsets": []}), "nothing was committed");
    worker.shutdown().await.unwrap();
}

/// A connector sets its own limits within the worker's maxima: `wasm.memory.max.bytes` and
/// `wasm.call.timeout.ms` (here tighter than the worker's defaults).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connector_sets_its_own_limits_within_the_workers_maxima() {
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    let limited = |name: &str, behaviour: &str, key: &str, value: &str| {
        let mut config = chaos(name, behaviour);
        config["config"][key] = json!(value);
        config
    };
    assert_eq!(api.post("/connectors", &limited("hoards", "allocate", "wasm.memory.max.bytes", "33554432")).await.0, 201);
    assert_eq!(api.post("/connectors", &limited("spins", "spin", "wasm.call.timeout.ms", "300")).await.0, 201);
    for (name, expected) in [("hoards", "memory"), ("spins", "wasm.call.timeout.ms=300")] {
        let trace = eventually(&format!("{name} to fail"), Duration::from_secs(20), || async {
            let (_, status) = api.get(&format!("/connectors/{name}/status")).await;
            (status["tasks"][0]["state"] == "FAILED").then(|| status["tasks"][0]["trace"].as_str().unwrap_or("").to_owned())
        })
        .await;
        assert!(trace.contains(expected), "{name}: {trace}");
    }

    let (status, body) = api.post("/connectors", &limited("greedy", "records", "wasm.memory.max.bytes", "1099511627776")).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["message"].as_str().unwrap().contains("the worker's maximum"), "{body}");
    let (status, body) = api.post("/connectors", &limited("vague", "records", "wasm.call.timeout.ms", "soon")).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["message"].as_str().unwrap().contains("wasm.call.timeout.ms"), "{body}");
    let (status, body) = api.post("/connectors", &limited("hungry", "records", "wasm.cpu.slice.ms", "600001")).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["message"].as_str().unwrap().contains("wasm.cpu.slice.ms"), "{body}");
    worker.shutdown().await.unwrap();
}

/// `wasm.cpu.slice.ms` counts the CPU time a call uses, not the time it takes: a spinning
/// plugin is interrupted after its slice, long before its wall-clock deadline, while a
/// well-behaved connector on the same worker goes on producing throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spinning_plugin_is_stopped_by_its_cpu_slice_while_others_keep_producing() {
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    assert_eq!(api.post("/connectors", &chaos("healthy", "records")).await.0, 201);
    eventually("healthy records", WAIT, || async { (api.topic_size("healthy-out").await > 0).then_some(()) }).await;

    let mut spinner = chaos("spins", "spin");
    spinner["config"]["wasm.cpu.slice.ms"] = json!("1500");
    spinner["config"]["wasm.call.timeout.ms"] = json!("600000");
    assert_eq!(api.post("/connectors", &spinner).await.0, 201);
    let at_spin = api.topic_size("healthy-out").await;
    let trace = eventually("the spinner to fail", WAIT, || async {
        let (_, status) = api.get("/connectors/spins/status").await;
        (status["tasks"][0]["state"] == "FAILED").then(|| status["tasks"][0]["trace"].as_str().unwrap_or("").to_owned())
    })
    .await;
    assert!(trace.contains("CPU limit") && trace.contains("wasm.cpu.slice.ms=1500"), "the trace names the limit: {trace}");
    assert!(trace.contains("wasm backtrace"), "and where the plugin was: {trace}");
    let at_failure = api.topic_size("healthy-out").await;
    assert!(at_failure > at_spin, "the healthy connector produced while the other spun ({at_spin} → {at_failure})");
    eventually("more healthy records after", WAIT, || async { (api.topic_size("healthy-out").await > at_failure).then_some(()) }).await;
    let (_, status) = api.get("/connectors/healthy/status").await;
    assert_eq!(status["tasks"][0]["state"], "RUNNING");
    worker.shutdown().await.unwrap();
}

/// After a trap the instance is done: a further call says so without entering it, and
/// stopping it is a no-op rather than a second failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trapped_instance_is_not_entered_again() {
    use std::sync::Arc;
    use wasmconnect::runtime::{NoOffsets, PluginError, PluginRegistry, Runtime, TaskContext, WorkerLimits};

    let cache = tempfile::tempdir().unwrap();
    let runtime = Runtime::new(cache.path().to_owned(), WorkerLimits::with_defaults(TaskLimits::default())).unwrap();
    let registry = PluginRegistry::scan(&[plugin_path()], &runtime).unwrap();
    let plugin = registry.resolve("ChaosSource", None).unwrap();
    let config = [("chaos.behaviour", "panic"), ("topic", "out")].map(|(k, v)| (k.to_owned(), v.to_owned())).into();
    let ctx = TaskContext {
        connector: "panics".into(),
        task: Some(0),
        config,
        offsets: Arc::new(NoOffsets),
        pools: Arc::new(wasmconnect_db::Pools::new()),
        tokio: tokio::runtime::Handle::current(),
        limits: TaskLimits::default(),
    };
    tokio::task::spawn_blocking(move || {
        let mut instance = runtime.source(&plugin, ctx).unwrap();
        let first = instance.start().and_then(|_| instance.poll().map(|_| ()));
        assert!(matches!(first, Err(PluginError::Trap(_))), "{first:?}");
        let again = instance.poll().map(|_| ());
        assert!(matches!(&again, Err(PluginError::Fatal(m)) if m.contains("trapped earlier")), "{again:?}");
        assert!(instance.stop().is_ok());
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recursion_floods_and_reaching_for_the_machine_stay_inside_the_sandbox() {
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    for (name, behaviour) in [("healthy", "records"), ("recurses", "recurse"), ("floods", "flood"), ("escapes", "escape")] {
        assert_eq!(api.post("/connectors", &chaos(name, behaviour)).await.0, 201, "{name}");
    }
    let healthy_before = api.topic_size("healthy-out").await;
    // Rust keeps its stack in linear memory: endless recursion runs off its start and traps.
    for (name, expected) in [("recurses", "recurse"), ("floods", "wasm.batch.max.records")] {
        let trace = eventually(&format!("{name} to fail"), WAIT, || async {
            let (_, status) = api.get(&format!("/connectors/{name}/status")).await;
            (status["tasks"][0]["state"] == "FAILED").then(|| status["tasks"][0]["trace"].as_str().unwrap_or("").to_owned())
        })
        .await;
        assert!(trace.contains(expected), "{name}: {trace}");
        assert!(trace.lines().count() < 100, "{name}: a readable trace, not thousands of frames: {} lines", trace.lines().count());
    }
    assert!(api.topic_values("floods-out").await.is_empty(), "nothing of the flood was written");

    // No files, no sockets, no environment: the plugin learns only that it may not.
    let report = eventually("the escape report", WAIT, || async { api.topic_values("escapes-out").await.into_iter().next() }).await;
    let report: serde_json::Value = serde_json::from_str(report["payload"].as_str().unwrap()).unwrap();
    assert!(report["file"].as_str().unwrap().starts_with("denied"), "{report}");
    assert!(report["socket"].as_str().unwrap().starts_with("denied"), "{report}");
    assert_eq!(report["env"], 0, "{report}");

    let (_, status) = api.get("/connectors/healthy/status").await;
    assert_eq!(status["tasks"][0]["state"], "RUNNING", "the well-behaved connector is untouched");
    let healthy_after = api.topic_size("healthy-out").await;
    assert!(healthy_after > healthy_before, "and kept producing meanwhile ({healthy_before} → {healthy_after})");
    let (code, body) = api.post("/connectors", &json!({"name": "bad-cap", "config": {"connector.class": "ChaosSource",
        "chaos.behaviour": "records", "topic": "x", "wasm.batch.max.records": "0"}})).await;
    assert_eq!(code, 400, "{body}");
    assert!(body["message"].as_str().unwrap().contains("wasm.batch.max.records"), "{body}");
    worker.shutdown().await.unwrap();
}
