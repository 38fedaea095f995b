//! The web console at `/ui`: its files as the worker serves them, and the console itself
//! driven in headless Chromium by `tests/ui/console.mjs` (Playwright's `playwright-core`).

use std::path::Path;
use std::process::Command;

use serde_json::json;
use wasmconnect_e2e::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_is_served_from_the_binary_and_stays_out_of_the_api_document() {
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let base = format!("http://{}", worker.rest_addr());
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();

    let response = http.get(format!("{base}/ui")).send().await.unwrap();
    assert_eq!(response.status(), 308);
    assert_eq!(response.headers()["location"], "ui/");
    for (file, content_type, content) in [
        ("", "text/html; charset=utf-8", "<script type=\"module\" src=\"console.js\">"),
        ("console.js", "text/javascript; charset=utf-8", "from './connectors.js'"),
        ("console.css", "text/css; charset=utf-8", ".state-failed"),
    ] {
        let response = http.get(format!("{base}/ui/{file}")).send().await.unwrap();
        assert_eq!(response.status(), 200, "/ui/{file}");
        assert_eq!(response.headers()["content-type"], content_type, "/ui/{file}");
        assert!(response.headers()["content-security-policy"].to_str().unwrap().starts_with("default-src 'self'"), "/ui/{file}");
        assert!(response.text().await.unwrap().contains(content), "/ui/{file}");
    }
    let api = Api::new(&worker);
    let (status, body) = api.get("/ui/no-such-file.js").await;
    assert_eq!((status, &body["error_code"]), (404, &json!(404)), "{body}");

    let (_, spec) = api.get("/openapi.json").await;
    let paths: Vec<&String> = spec["paths"].as_object().unwrap().keys().collect();
    assert!(paths.iter().all(|p| !p.starts_with("/ui")), "the console is not part of the API: {paths:?}");
    worker.shutdown().await.unwrap();
}

/// The steps the script takes, in order; it prints "<step> ... ok" after each.
const STEPS: &[&str] = &["open", "failed task trace", "snapshot progress", "validation feedback", "create", "throughput", "edit", "pause", "records", "delete"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_the_console_creates_pauses_and_deletes_a_connector() {
    let data = tempfile::tempdir().unwrap();
    let worker = start_worker(data.path()).await;
    let api = Api::new(&worker);
    // A connector whose task fails at once, so the console has a trace to show.
    let panics = json!({"name": "ui-panics", "config": {"connector.class": "ChaosSource", "chaos.behaviour": "panic", "topic": "ui-panics-out"}});
    assert_eq!(api.post("/connectors", &panics).await.0, 201);
    // A snapshot held at a gap in its ids (as in source_progress.rs): 30 rows read, 29 to go.
    let db = AnyDb::create(false, "uisnapshot").await;
    db.exec("CREATE TABLE ledger (id int primary key, memo varchar(20) not null)").await;
    let values: Vec<String> = (1..=60).filter(|id| *id != 31).map(|id| format!("({id}, 'row {id}')")).collect();
    db.exec(&format!("INSERT INTO ledger (id, memo) VALUES {}", values.join(", "))).await;
    let settings = json!({"mode": "incrementing", "incrementing.column.name": "id", "table.whitelist": "ledger",
                          "topic.prefix": "ui_", "batch.max.rows": "10", "incrementing.gap.grace.ms": "600000"});
    assert_eq!(api.post("/connectors", &jdbc_source("ui-snapshot", &db, settings)).await.0, 201);

    let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui");
    assert!(
        scripts.join("node_modules").join("playwright-core").is_dir(),
        "playwright-core is not installed: run `npm ci` in {} (.ci/run does)",
        scripts.display()
    );
    // In the target directory, where a run can be looked at afterwards.
    let screenshot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("console.png");
    let _ = std::fs::remove_file(&screenshot);
    let mut node = Command::new("node");
    node.current_dir(&scripts).arg("console.mjs").arg(format!("http://{}", worker.rest_addr())).arg(&screenshot);
    let output = tokio::task::spawn_blocking(move || node.output())
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("cannot run node ({e}); the test needs Node.js and /usr/bin/chromium (.ci/run installs it)"));
    let log = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "the console failed a step:\n{log}\n{}", String::from_utf8_lossy(&output.stderr));
    for step in STEPS {
        assert!(log.contains(&format!("{step} ... ok")), "the script ran step {step:?}:\n{log}");
    }

    // What was done in the browser, as the worker saw it.
    assert_eq!(api.get("/connectors/ui-ticks").await.0, 404, "deleted");
    assert!(api.topic_size("ui-ticks-out").await > 20, "the connector created in the browser ran");
    assert_eq!(api.get("/connectors").await.1, json!(["ui-panics", "ui-snapshot"]));
    let png = std::fs::read(&screenshot).expect("the script saved a screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000, "a PNG of the console, {} bytes", png.len());
    println!("screenshot: {}", screenshot.display());
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}
