//! Fuzzing the REST API's JSON bodies: any JSON document, and any bytes at all, sent as the
//! body of the calls that take one gets a 2xx or a 4xx with Kafka Connect's error body, never
//! a 5xx, a hang or a crash. 256 cases, or PROPTEST_CASES.

use proptest::prelude::*;
use proptest::test_runner::Config;
use reqwest::Method;
use serde_json::{Value, json};
use wasmconnect_e2e::*;

/// Any JSON document, with the words the API looks for among its keys and strings, so that
/// bodies close to valid ones (a config with a wrong type here and there) come up often.
fn json_document() -> impl Strategy<Value = Value> {
    let words = || {
        prop::sample::select(vec![
            "name", "config", "connector.class", "ChaosSource", "tasks.max", "offsets", "partition", "offset", "initial_state",
            "STOPPED", "RUNNING", "chaos.behaviour", "records", "topic", "kafka_topic", "kafka_partition", "kafka_offset",
            "wasm.memory.max.bytes", "wasm.cpu.slice.ms", "transforms", "connection.password", "[hidden]", "${env:HOME}",
        ])
        .prop_map(str::to_owned)
    };
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("JSON numbers are finite", |f| f.is_finite()).prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        words().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        let key = prop_oneof![".{0,8}".boxed(), words().boxed()];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key, inner), 0..6).prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => json_document().prop_map(|document| document.to_string().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..256),
    ]
}

#[test]
fn any_body_gets_a_2xx_or_a_4xx_with_an_error_body() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let data = tempfile::tempdir().unwrap();
    let worker = runtime.block_on(start_worker(data.path()));
    let api = Api::new(&worker);
    // A stopped connector, so that a PATCH of its offsets gets past the state check.
    let target = json!({"name": "target", "initial_state": "STOPPED",
        "config": {"connector.class": "ChaosSource", "chaos.behaviour": "records", "topic": "fuzz-out"}});
    assert_eq!(runtime.block_on(api.post("/connectors", &target)).0, 201);
    let calls = [
        (Method::POST, "/connectors"),
        (Method::PUT, "/connectors/target/config"),
        (Method::PATCH, "/connectors/target/config"),
        (Method::PUT, "/connectors/fresh/config"),
        (Method::PUT, "/connector-plugins/ChaosSource/config/validate"),
        (Method::PATCH, "/connectors/target/offsets"),
    ];
    let config = Config { failure_persistence: None, ..Config::default() };
    proptest!(config, |(body in body())| {
        for (method, path) in &calls {
            let (status, answer) = runtime.block_on(api.send_bytes(method.clone(), path, body.clone()));
            prop_assert!(status < 500, "{method} {path} answered {status}: {}", String::from_utf8_lossy(&answer));
            if status >= 400 {
                let error: Value = serde_json::from_slice(&answer).map_err(|e| TestCaseError::fail(format!("{method} {path}: {e}")))?;
                prop_assert_eq!(&error["error_code"], &json!(status), "{} {}: {}", method, path, error);
                prop_assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{} {}: {}", method, path, error);
            }
        }
    });
    runtime.block_on(worker.shutdown()).unwrap();
}
