//! `--log-format json`: every log line on standard error is one JSON object that a log
//! collector can parse, with the level, the message and the fields.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn json_log_lines_are_json_objects() {
    let data = tempfile::tempdir().unwrap();
    // An empty plugin path is enough to start.
    let plugins = tempfile::tempdir().unwrap();
    let mut worker = Command::new(env!("CARGO_BIN_EXE_wasmconnect"))
        .args(["--log-format", "json", "standalone", "--rest-port", "0", "--rest-host", "127.0.0.1", "--data-dir"])
        .arg(data.path())
        .arg("--plugin-path")
        .arg(plugins.path())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(worker.stderr.take().unwrap()).lines();
    let listening = lines
        .by_ref()
        .map(Result::unwrap)
        .inspect(|line| {
            let parsed: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            assert!(parsed["level"].is_string() && parsed["fields"]["message"].is_string(), "{line}");
        })
        .find(|line| line.contains("REST API listening"));
    worker.kill().unwrap();
    worker.wait().unwrap();
    let listening: serde_json::Value = serde_json::from_str(&listening.expect("the worker starts")).unwrap();
    assert!(listening["fields"]["addr"].as_str().unwrap().starts_with("127.0.0.1:"), "{listening}");
}
