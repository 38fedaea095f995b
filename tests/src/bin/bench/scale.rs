//! Scenario 6, scale: many idle connectors on one worker, run as the real `wasmconnect`
//! binary in a process of its own, so the memory measured is the worker's and not the
//! bench's. Half the connectors are JDBC sources on empty MariaDB tables (each polling its
//! table every `poll.interval.ms`, Confluent's default 5 s), half JDBC sinks reading the
//! sources' topics, which stay empty; every connector runs its one task.
//!
//! Measured in one run: the worker's resident memory with none and with all connectors
//! running, REST latency with none and with all, the time from spawning the worker to its
//! first REST answer (empty, and with every connector configured), and, as the raw
//! baseline of a connector's memory, bare instances of the JDBC source component in a
//! process of their own.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wasmconnect::runtime::{NoOffsets, PluginRegistry, Runtime, TaskContext, TaskLimits, WorkerLimits};
use wasmconnect_e2e::TestDb;

/// Requests per latency measurement, sent one after the other on a keep-alive connection.
const REQUESTS: usize = 500;
/// Starts of the empty worker, and restarts of the loaded one, whose median is reported.
const COLD_STARTS: usize = 5;
const LOADED_RESTARTS: usize = 3;
/// How long the connectors run before the memory is read: past one poll of every source.
const SETTLE: Duration = Duration::from_secs(7);
/// The hidden argument that makes the bench binary the bare-instance baseline's process.
pub const BARE_INSTANCES_ARG: &str = "--bare-instances";

pub struct Scale {
    pub connectors: usize,
    pub rss_empty: u64,
    pub rss_loaded: u64,
    /// Bytes of resident memory per bare instance of the JDBC source component.
    pub bare_instance: u64,
    pub list_empty: Latency,
    pub list_loaded: Latency,
    pub root_loaded: Latency,
    /// The first start of all, which compiles the plugins into the cache.
    pub first_start: Duration,
    pub cold_start: Duration,
    pub restart_ready: Duration,
    pub restart_running: Duration,
    /// How long creating every connector over REST took, one request after the other.
    pub create_all: Duration,
}

pub struct Latency {
    pub p50: Duration,
    pub p99: Duration,
}

pub async fn run(connectors: usize, plugin_path: &Path) -> anyhow::Result<Scale> {
    let binary = worker_binary()?;
    let db = TestDb::create("scale").await;
    let sources = connectors / 2;
    for table in 0..sources {
        db.exec(&format!("CREATE TABLE t{table} (id int auto_increment primary key, user_id varchar(20) not null, pwd varchar(20) not null)"))
            .await;
    }
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("worker");
    let http = reqwest::Client::new();

    let (worker, first_start) = WorkerProcess::start(&binary, &data, plugin_path, &http).await?;
    worker.terminate()?;
    anyhow::ensure!(compiled_components(&data) > 0, "the first start left no compiled components in {}", data.join("compiled").display());
    let mut starts = Vec::new();
    let mut worker = None;
    for _ in 0..COLD_STARTS {
        if let Some(previous) = worker.take() {
            WorkerProcess::terminate(previous)?;
        }
        let (started, elapsed) = WorkerProcess::start(&binary, &data, plugin_path, &http).await?;
        starts.push(elapsed);
        worker = Some(started);
    }
    let worker = worker.expect("at least one start");

    let list_empty = latency(&http, &worker.url("/connectors?expand=status"), REQUESTS).await?;
    let rss_empty = worker.rss()?;

    let created = Instant::now();
    for i in 0..connectors {
        let config = if i < sources { source(&db, i) } else { sink(&db, i - sources) };
        let response = http.post(worker.url("/connectors")).json(&config).send().await?;
        anyhow::ensure!(response.status() == 201, "creating connector {i} failed: {}", response.text().await?);
    }
    let create_all = created.elapsed();
    all_running(&http, &worker, connectors).await?;
    tokio::time::sleep(SETTLE).await;
    let rss_loaded = worker.rss()?;
    let list_loaded = latency(&http, &worker.url("/connectors?expand=status"), REQUESTS).await?;
    let root_loaded = latency(&http, &worker.url("/"), REQUESTS).await?;
    worker.terminate()?;

    let (mut ready, mut running) = (Vec::new(), Vec::new());
    for _ in 0..LOADED_RESTARTS {
        let spawned = Instant::now();
        let (worker, elapsed) = WorkerProcess::start(&binary, &data, plugin_path, &http).await?;
        ready.push(elapsed);
        all_running(&http, &worker, connectors).await?;
        running.push(spawned.elapsed());
        worker.terminate()?;
    }
    db.drop_database().await;

    Ok(Scale {
        connectors,
        rss_empty,
        rss_loaded,
        bare_instance: bare_instance_rss(plugin_path, &data.join("compiled"), connectors)?,
        list_empty,
        list_loaded,
        root_loaded,
        first_start,
        cold_start: median(starts),
        restart_ready: median(ready),
        restart_running: median(running),
        create_all,
    })
}

/// The release `wasmconnect` that `cargo xtask bench` builds beside the bench binary.
fn worker_binary() -> anyhow::Result<PathBuf> {
    let bench = std::env::current_exe()?;
    let binary = bench.with_file_name("wasmconnect");
    anyhow::ensure!(binary.exists(), "no worker binary at {}: run the bench with `cargo xtask bench`, which builds it", binary.display());
    Ok(binary)
}

fn compiled_components(data: &Path) -> usize {
    std::fs::read_dir(data.join("compiled"))
        .map(|entries| entries.filter_map(Result::ok).filter(|e| e.path().extension().is_some_and(|x| x == "cwasm")).count())
        .unwrap_or(0)
}

/// A JDBC source on the empty table `t{i}`, at Confluent's default poll interval.
fn source(db: &TestDb, i: usize) -> Value {
    json!({
        "name": format!("scale-source-{i}"),
        "config": {
            "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector",
            "connection.url": db.jdbc_url(),
            "connection.user": "root",
            "connection.password": "",
            "mode": "incrementing",
            "incrementing.column.name": "id",
            "table.whitelist": format!("t{i}"),
            "topic.prefix": "scale_",
            "tasks.max": "1"
        }
    })
}

/// A JDBC sink on the (empty) topic of source `i`.
fn sink(db: &TestDb, i: usize) -> Value {
    json!({
        "name": format!("scale-sink-{i}"),
        "config": {
            "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
            "connection.url": db.jdbc_url(),
            "connection.user": "root",
            "connection.password": "",
            "topics": format!("scale_t{i}"),
            "auto.create": "true",
            "insert.mode": "insert",
            "tasks.max": "1"
        }
    })
}

/// Waits until the worker lists `connectors` connectors, each with one RUNNING task; a
/// FAILED one ends the bench with its trace.
async fn all_running(http: &reqwest::Client, worker: &WorkerProcess, connectors: usize) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let all: Value = http.get(worker.url("/connectors?expand=status")).send().await?.json().await?;
        let statuses: Vec<&Value> = all.as_object().map(|all| all.values().map(|c| &c["status"]).collect()).unwrap_or_default();
        if let Some(failed) = statuses.iter().flat_map(|s| s["tasks"].as_array().into_iter().flatten()).find(|t| t["state"] == "FAILED") {
            anyhow::bail!("a task failed: {}", failed["trace"]);
        }
        let running = |s: &&Value| s["tasks"].as_array().is_some_and(|t| t.len() == 1 && t[0]["state"] == "RUNNING");
        if statuses.len() == connectors && statuses.iter().all(running) {
            return Ok(());
        }
        anyhow::ensure!(Instant::now() < deadline, "the worker did not run its {connectors} connectors within 300 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `requests` GETs of `url` one after the other on one keep-alive client, after a few to warm up.
async fn latency(http: &reqwest::Client, url: &str, requests: usize) -> anyhow::Result<Latency> {
    let mut times = Vec::with_capacity(requests);
    for i in 0..requests + 10 {
        let started = Instant::now();
        let response = http.get(url).send().await?;
        anyhow::ensure!(response.status().is_success(), "GET {url}: {}", response.status());
        response.bytes().await?;
        if i >= 10 {
            times.push(started.elapsed());
        }
    }
    times.sort();
    Ok(Latency { p50: times[requests / 2], p99: times[(requests * 99).div_ceil(100) - 1] })
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// A `wasmconnect standalone` process on a free loopback port; killed if dropped.
struct WorkerProcess {
    child: Child,
    port: u16,
}

impl WorkerProcess {
    /// Spawns the worker and waits for its first REST answer; returns it with the time
    /// from spawn to that answer. Its log goes to `<data>.log`.
    async fn start(binary: &Path, data: &Path, plugin_path: &Path, http: &reqwest::Client) -> anyhow::Result<(WorkerProcess, Duration)> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let log = std::fs::OpenOptions::new().create(true).append(true).open(data.with_extension("log"))?;
        let spawned = Instant::now();
        let child = Command::new(binary)
            .args(["standalone", "--rest-host", "127.0.0.1", "--rest-port", &port.to_string(), "--data-dir"])
            .arg(data)
            .arg("--plugin-path")
            .arg(plugin_path)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()?;
        let mut worker = WorkerProcess { child, port };
        let url = worker.url("/");
        loop {
            if http.get(&url).send().await.is_ok_and(|r| r.status().is_success()) {
                return Ok((worker, spawned.elapsed()));
            }
            if let Some(status) = worker.child.try_wait()? {
                anyhow::bail!("the worker exited ({status}) before answering; see {}", data.with_extension("log").display());
            }
            anyhow::ensure!(spawned.elapsed() < Duration::from_secs(120), "the worker did not answer within 120 s");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The worker's resident set (VmRSS), in bytes.
    fn rss(&self) -> anyhow::Result<u64> {
        rss_of(&format!("/proc/{}/status", self.child.id()))
    }

    /// SIGTERM, as a service manager stops a worker, and waits until it has exited.
    fn terminate(mut self) -> anyhow::Result<()> {
        let sent = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status()?;
        anyhow::ensure!(sent.success(), "kill -TERM failed");
        let status = self.child.wait()?;
        // A worker still starting up has no handler for the signal yet, and it ends it.
        let stopped = status.success() || std::os::unix::process::ExitStatusExt::signal(&status) == Some(15);
        anyhow::ensure!(stopped, "the worker stopped with {status}");
        Ok(())
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rss_of(status_file: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(status_file)?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).ok_or_else(|| anyhow::anyhow!("no VmRSS in {status_file}"))?;
    let kib: u64 = line.split_whitespace().nth(1).ok_or_else(|| anyhow::anyhow!("a bare VmRSS line"))?.parse()?;
    Ok(kib << 10)
}

/// The raw baseline of a connector's memory: the bench binary, started again as a process
/// of its own, instantiates the JDBC source component `count` times with the worker's
/// runtime (the same engine settings, the same compiled-component cache) and reports the
/// resident memory each instance added: a store and an instance, no task, no thread, no
/// call into the plugin.
fn bare_instance_rss(plugin_path: &Path, cache: &Path, count: usize) -> anyhow::Result<u64> {
    let output = Command::new(std::env::current_exe()?)
        .arg(BARE_INSTANCES_ARG)
        .arg(count.to_string())
        .arg(plugin_path)
        .arg(cache)
        .stderr(Stdio::inherit())
        .output()?;
    anyhow::ensure!(output.status.success(), "the bare-instance process failed ({})", output.status);
    Ok(String::from_utf8(output.stdout)?.trim().parse()?)
}

/// The bare-instance process: prints the resident bytes per instance on standard output.
pub fn bare_instances(args: &[String]) -> anyhow::Result<()> {
    let [count, plugin_path, cache] = args else { anyhow::bail!("{BARE_INSTANCES_ARG} COUNT PLUGIN_PATH CACHE_DIR") };
    let count: usize = count.parse()?;
    let runtime = Runtime::new(cache.into(), WorkerLimits::with_defaults(TaskLimits::default()))?;
    let registry = PluginRegistry::scan(&[plugin_path.into()], &runtime)?;
    let plugin = registry
        .plugins()
        .iter()
        .find(|p| p.component_path.file_stem().is_some_and(|s| s == "jdbc-source"))
        .ok_or_else(|| anyhow::anyhow!("no jdbc-source component in {plugin_path}"))?
        .clone();
    let context = |i: usize| TaskContext {
        connector: format!("bare-{i}"),
        task: Some(0),
        config: Default::default(),
        offsets: Arc::new(NoOffsets),
        pools: Arc::new(wasmconnect_db::Pools::new()),
        tokio: tokio::runtime::Handle::current(),
        limits: TaskLimits::default(),
    };
    // One instance first, so what every instance shares (the loaded component) is in the
    // resident set before the first reading.
    let first = runtime.source(&plugin, context(0))?;
    let before = rss_of("/proc/self/status")?;
    let instances = (1..=count).map(|i| runtime.source(&plugin, context(i))).collect::<Result<Vec<_>, _>>()?;
    let after = rss_of("/proc/self/status")?;
    println!("{}", after.saturating_sub(before) / count as u64);
    drop((first, instances));
    Ok(())
}
