//! HTTPS on the REST listener: a worker whose properties say `listeners=https://...` with a
//! PEM keystore serves the API and the console over TLS (and nothing over plain HTTP), the
//! client commands reach it with `--cacert`, and a missing or unusable key stops the worker
//! at start with a message saying what is wrong.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

fn wasmconnect() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wasmconnect"))
}

fn plugins() -> std::ffi::OsString {
    std::env::var_os("WASMCONNECT_TEST_PLUGIN_PATH").expect("run the tests with `cargo xtask test`")
}

/// A self-signed certificate for 127.0.0.1 and localhost: (certificate, private key) as PEM.
fn self_signed() -> (String, String) {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    (cert.cert.pem(), cert.signing_key.serialize_pem())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_with_a_pem_keystore_serves_https_only() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed();
    let cert_file = dir.path().join("cert.pem");
    std::fs::write(&cert_file, &cert).unwrap();
    // Kafka's PEM keystore: the private key and the certificate chain in one file.
    let keystore = dir.path().join("keystore.pem");
    std::fs::write(&keystore, format!("{key}{cert}")).unwrap();
    let port = free_port();
    let properties = dir.path().join("worker.properties");
    std::fs::write(
        &properties,
        format!(
            "listeners=https://127.0.0.1:{port}\nlisteners.https.ssl.keystore.type=PEM\nlisteners.https.ssl.keystore.location={}\n",
            keystore.display()
        ),
    )
    .unwrap();
    let mut worker = wasmconnect()
        .arg("standalone")
        .arg(&properties)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--plugin-path")
        .arg(plugins())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = worker.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut log = String::new();
        stderr.read_to_string(&mut log).unwrap();
        log
    });

    let base = format!("https://127.0.0.1:{port}");
    let trusted = reqwest::Certificate::from_pem(cert.as_bytes()).unwrap();
    let https = reqwest::Client::builder().add_root_certificate(trusted).timeout(Duration::from_secs(30)).build().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while https.get(&base).send().await.is_err() {
        assert!(Instant::now() < deadline, "the worker did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let connector = json!({"name": "over-tls", "config": {"connector.class": "ChaosSource", "chaos.behaviour": "records", "topic": "tls-out"}});
    let created = https.post(format!("{base}/connectors")).json(&connector).send().await.unwrap();
    assert_eq!(created.status(), 201);
    let names: Vec<String> = https.get(format!("{base}/connectors")).send().await.unwrap().json().await.unwrap();
    assert_eq!(names, ["over-tls"]);
    let console = https.get(format!("{base}/ui/")).send().await.unwrap();
    assert_eq!(console.status(), 200);
    assert!(console.text().await.unwrap().contains("<html"), "the console's page");

    // Plain HTTP to the TLS port gets no answer.
    let plain = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let answer = plain.get(format!("http://127.0.0.1:{port}/connectors")).send().await;
    assert!(answer.is_err(), "plain HTTP to the https port: {answer:?}");
    // A client that does not trust the certificate refuses the worker.
    let untrusting = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    assert!(untrusting.get(&base).send().await.is_err(), "an unknown issuer is refused");

    // The client commands, trusting the worker's certificate by flag or by variable.
    let list = |cacert: Option<&Path>| {
        let mut command = wasmconnect();
        command.args(["connectors", "list", "--url", &base]).env_remove("WASMCONNECT_CACERT");
        if let Some(cacert) = cacert {
            command.env("WASMCONNECT_CACERT", cacert);
        }
        command.output().unwrap()
    };
    let listed = list(Some(&cert_file));
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    assert!(String::from_utf8_lossy(&listed.stdout).contains("over-tls"), "{}", String::from_utf8_lossy(&listed.stdout));
    let flagged = wasmconnect().args(["topics", "list", "--url", &base, "--cacert"]).arg(&cert_file).output().unwrap();
    assert!(flagged.status.success(), "{}", String::from_utf8_lossy(&flagged.stderr));
    let refused = list(None);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("cannot reach the worker"), "{}", String::from_utf8_lossy(&refused.stderr));

    worker.kill().unwrap();
    worker.wait().unwrap();
    assert!(log.join().unwrap().contains("protocol=\"https\""), "the start is logged with the protocol");
}

/// Runs a worker that is expected to stop at once; its exit and standard error.
fn failed_start(args: &[&std::ffi::OsStr]) -> (Output, String) {
    let data = tempfile::tempdir().unwrap();
    let output = wasmconnect()
        .arg("standalone")
        .args(args)
        .args(["--rest-host", "127.0.0.1", "--rest-port", &free_port().to_string(), "--data-dir"])
        .arg(data.path())
        .arg("--plugin-path")
        .arg(plugins())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, stderr)
}

#[test]
fn a_missing_or_unusable_key_stops_the_worker_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, _) = self_signed();
    let (_, other_key) = self_signed();
    let cert_file = dir.path().join("cert.pem");
    std::fs::write(&cert_file, &cert).unwrap();
    let other_key_file = dir.path().join("other-key.pem");
    std::fs::write(&other_key_file, &other_key).unwrap();
    let missing = dir.path().join("missing-key.pem");

    let cases: [(Vec<&std::ffi::OsStr>, &[&str]); 3] = [
        (vec!["--tls-cert".as_ref(), cert_file.as_os_str(), "--tls-key".as_ref(), missing.as_os_str()], &["cannot read the private key file", "missing-key.pem"]),
        (vec!["--tls-cert".as_ref(), cert_file.as_os_str(), "--tls-key".as_ref(), cert_file.as_os_str()], &["holds no PEM private key"]),
        (vec!["--tls-cert".as_ref(), cert_file.as_os_str(), "--tls-key".as_ref(), other_key_file.as_os_str()], &["cannot be used"]),
    ];
    for (args, expected) in cases {
        let (output, stderr) = failed_start(&args);
        assert!(!output.status.success(), "{args:?} must not start");
        for text in expected {
            assert!(stderr.contains(text), "{args:?}: {stderr}");
        }
    }

    // listeners=https without a keystore, and a JKS keystore.
    let properties = dir.path().join("https.properties");
    std::fs::write(&properties, "listeners=https://127.0.0.1:0\n").unwrap();
    let (output, stderr) = failed_start(&[properties.as_os_str()]);
    assert!(!output.status.success() && stderr.contains("ssl.keystore.location"), "{stderr}");
    std::fs::write(&properties, "listeners=https://127.0.0.1:0\nssl.keystore.type=JKS\nssl.keystore.location=/etc/keystore.jks\n").unwrap();
    let (output, stderr) = failed_start(&[properties.as_os_str()]);
    assert!(!output.status.success() && stderr.contains("ssl.keystore.type=JKS") && stderr.contains("keytool"), "{stderr}");
}
