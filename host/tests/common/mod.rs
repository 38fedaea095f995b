//! What the tests that run worker processes share: the processes themselves, free ports,
//! waiting, and REST reads.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long a test waits for a worker to get somewhere before it fails.
const WAIT: Duration = Duration::from_secs(120);

/// A `wasmconnect` process serving REST on `port`; killed when dropped.
pub struct Worker {
    child: Child,
    pub port: u16,
}

impl Worker {
    /// `wasmconnect ARGS`, its output discarded.
    pub fn spawn<S: AsRef<OsStr>>(port: u16, args: impl IntoIterator<Item = S>) -> Worker {
        let child = Command::new(env!("CARGO_BIN_EXE_wasmconnect"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Worker { child, port }
    }

    /// A worker started by `command`: `wasmconnect` with its own output settings, or behind
    /// a wrapper such as `prlimit`.
    #[allow(dead_code, reason = "each test binary compiles this module; only some start workers their own way")]
    pub fn spawn_command(port: u16, mut command: Command) -> Worker {
        Worker { child: command.spawn().unwrap(), port }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// SIGKILL: no final commit, no flush, no goodbye to a group.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, as a service manager stops a worker; returns once it has exited.
    #[allow(dead_code, reason = "each test binary compiles this module; only some stop workers gracefully")]
    pub fn terminate(mut self) -> ExitStatus {
        let sent = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(sent.success(), "kill -TERM failed");
        self.child.wait().unwrap()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The plugins `cargo xtask test` built for this run.
pub fn plugin_path() -> PathBuf {
    PathBuf::from(std::env::var_os("WASMCONNECT_TEST_PLUGIN_PATH").expect("run the tests with `cargo xtask test`"))
}

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
