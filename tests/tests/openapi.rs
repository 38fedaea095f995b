//! The OpenAPI document at `/openapi.json`: it covers Kafka Connect's whole API, and
//! schemathesis, generating requests from it, finds no answer that contradicts it.

use std::process::Command;

use serde_json::{Value, json};
use wasmconnect_e2e::*;

/// Kafka Connect's REST API (3.x/4.x), plus wasmconnect's own `/topics`. The web console at
/// `/ui` is served beside the API but is no part of it, so not documented (tests/tests/ui.rs).
const ROUTES: &[(&str, &str)] = &[
    ("get", "/"),
    ("get", "/health"),
    ("get", "/metrics"),
    ("get", "/connectors"),
    ("post", "/connectors"),
    ("get", "/connectors/{name}"),
    ("delete", "/connectors/{name}"),
    ("get", "/connectors/{name}/config"),
    ("put", "/connectors/{name}/config"),
    ("patch", "/connectors/{name}/config"),
    ("get", "/connectors/{name}/status"),
    ("get", "/connectors/{name}/tasks"),
    ("get", "/connectors/{name}/tasks-config"),
    ("get", "/connectors/{name}/tasks/{task}/status"),
    ("post", "/connectors/{name}/tasks/{task}/restart"),
    ("put", "/connectors/{name}/pause"),
    ("put", "/connectors/{name}/resume"),
    ("put", "/connectors/{name}/stop"),
    ("post", "/connectors/{name}/restart"),
    ("get", "/connectors/{name}/offsets"),
    ("patch", "/connectors/{name}/offsets"),
    ("delete", "/connectors/{name}/offsets"),
    ("get", "/connectors/{name}/topics"),
    ("put", "/connectors/{name}/topics/reset"),
    ("get", "/connector-plugins"),
    ("get", "/connector-plugins/errors"),
    ("get", "/connector-plugins/{plugin}/config"),
    ("put", "/connector-plugins/{plugin}/config/validate"),
    ("get", "/admin/loggers"),
    ("get", "/admin/loggers/{logger}"),
    ("put", "/admin/loggers/{logger}"),
    ("get", "/topics"),
    ("get", "/topics/{topic}"),
    ("get", "/topics/{topic}/records"),
    ("post", "/topics/{topic}/records"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_covers_every_route_and_its_errors() {
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);

    let (status, spec) = api.get("/openapi.json").await;
    assert_eq!(status, 200);
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."), "{}", spec["openapi"]);
    let paths = spec["paths"].as_object().unwrap();
    let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(documented, ROUTES.len(), "every documented operation is one of the API's: {:?}", paths.keys().collect::<Vec<_>>());
    for (method, path) in ROUTES {
        let operation = &spec["paths"][path][method];
        assert!(operation.is_object(), "{} {path} is not documented", method.to_uppercase());
        let responses = operation["responses"].as_object().unwrap();
        assert!(responses.keys().any(|code| code.starts_with('2')), "{method} {path} documents no success");
        // PUT .../config creates a connector that does not exist.
        if path.contains("{name}") && !(*method == "put" && path.ends_with("/config")) {
            let not_found = &operation["responses"]["404"]["content"]["application/json"]["schema"]["$ref"];
            assert_eq!(not_found, &json!("#/components/schemas/ErrorBody"), "{method} {path} documents its 404 body");
        }
    }
    let error = &spec["components"]["schemas"]["ErrorBody"]["properties"];
    assert!(error["error_code"].is_object() && error["message"].is_object(), "{error}");

    // Paths and methods outside the document answer in the API's error format too.
    let (status, body) = api.get("/no-such-path").await;
    assert_eq!((status, &body["error_code"]), (404, &json!(404)), "{body}");
    let (status, body) = api.delete("/topics").await;
    assert_eq!((status, &body["error_code"]), (405, &json!(405)), "{body}");
    let (status, body) = api.get("/connectors/x/tasks/-1/status").await;
    assert_eq!((status, &body["error_code"]), (404, &json!(404)), "{body}");
    let (status, body) = api.get("/topics/connect-status/records?offset=-1").await;
    assert_eq!((status, &body["error_code"]), (400, &json!(400)), "{body}");
}

/// schemathesis (PyPI) generates valid and invalid requests for every operation of the
/// document, also in sequences (create, then read, pause, delete), and checks that no answer is
/// a 5xx and every status code, content type, header and body is the documented one.
///
/// One check is left out: `positive_data_acceptance` expects every schema-valid request to
/// succeed, but whether a connector config is valid depends on the plugin's own config
/// definition (and on the database it names), which no static schema expresses; those
/// requests get a documented 400.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_answer_that_contradicts_the_document() {
    let db = TestDb::create("openapi").await;
    db.exec(USERS_DDL).await;
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    // Something to find, so that the stateful phase exercises real connectors too.
    let (status, body) = api.post("/connectors", &source_config(&db)).await;
    assert_eq!(status, 201, "{body}");

    let url = format!("http://{}/openapi.json", worker.rest_addr());
    let workdir = tempfile::tempdir().unwrap();
    let mut command = Command::new("schemathesis");
    command
        .current_dir(workdir.path())
        .args(["run", &url, "--checks", "all", "--exclude-checks", "positive_data_acceptance"])
        .args(["--max-examples", "25", "--seed", "7", "--workers", "1", "--generation-database", "none", "--no-color"]);
    let output = tokio::task::spawn_blocking(move || command.output()).await.unwrap().unwrap_or_else(|e| {
        panic!("cannot run schemathesis ({e}); install it with `pip install schemathesis` (.ci/run does)")
    });
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "schemathesis found problems:\n{report}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(report.contains(&format!("{0}/{0}", ROUTES.len())), "schemathesis tested every operation:\n{report}");

    // The connector survived the fuzzing or was deleted by it; either way the worker answers.
    let (status, _) = api.get("/connectors").await;
    assert_eq!(status, 200);
    let _: Value = api.get("/").await.1;
    db.drop_database().await;
}
