//! The worker runs connector tasks: each task on its own thread, with its own plugin
//! instance, converting between Connect data and topic bytes, committing offsets.

mod chain;
mod committer;
mod convert;
pub mod dead_letter;
pub mod exactly_once;
mod fetcher;
pub mod offsets;
pub mod retry;
pub mod providers;
mod sink;
pub mod source;
pub mod topic_creation;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use wasmconnect_db::Pools;
use wasmconnect_log::TopicLog;

use crate::herder::status::{State, StatusStore};
use crate::runtime::{Plugin, PluginError, PluginKind, Runtime, TaskContext};
use crate::tenancy::{Tenant, Tenants};

pub use chain::{ChainSpec, TransformChain};
pub use convert::Converters;
use offsets::{GroupOffsets, SourceOffsets};

/// What every task of this worker shares.
pub struct WorkerContext {
    pub log: Arc<dyn TopicLog>,
    pub runtime: Arc<Runtime>,
    pub source_offsets: Arc<SourceOffsets>,
    pub group_offsets: Arc<dyn GroupOffsets>,
    pub pools: Arc<Pools>,
    pub status: Arc<StatusStore>,
    pub tokio: tokio::runtime::Handle,
    /// Worker-level properties: converter defaults and the like.
    pub worker_config: BTreeMap<String, String>,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// With `rest.auth=tenants`: what each tenant's connectors may reach.
    pub tenants: Option<Arc<Tenants>>,
    /// On Kafka, the worker's client settings, for connectors that override some.
    pub kafka: Option<wasmconnect_log::KafkaOptions>,
    /// `task.shutdown.graceful.timeout.ms`: how long a stopping task may take.
    pub graceful_timeout: Duration,
    /// `offset.flush.timeout.ms`: how long a source's offset commit waits for the records
    /// it covers to be acknowledged before it is put off to the next one.
    pub offset_flush_timeout: Duration,
    /// `exactly.once.source.support`.
    pub exactly_once: exactly_once::WorkerSupport,
    /// On Kafka, the worker group's `group.id`, which source tasks' transactional ids start with.
    pub group_id: Option<String>,
}

impl WorkerContext {
    /// The log a task writes and reads through: the worker's, or on Kafka one with the
    /// connector's own `producer.override.*` / `consumer.override.*` client settings. On the
    /// embedded log there are no clients, so those settings change nothing.
    pub fn log_for(&self, config: &BTreeMap<String, String>) -> Result<Arc<dyn TopicLog>, String> {
        match self.kafka.as_ref().and_then(|options| options.with_overrides(config)) {
            Some(options) => Ok(Arc::new(
                wasmconnect_log::KafkaLog::connect(options).map_err(|e| format!("cannot connect with the connector's client overrides: {e}"))?,
            )),
            None => Ok(self.log.clone()),
        }
    }

    /// What a plugin instance gets: its config with provider references resolved (only
    /// here, never in stored or reported configs), and its capabilities.
    /// A tenant's connector gets only what the tenant may use, checked again here because
    /// the plugin may have changed its task configs and the tenants file may have changed.
    pub fn task_context(&self, connector: &str, task: Option<u32>, config: &BTreeMap<String, String>) -> Result<TaskContext, String> {
        let resolved = providers::resolve(config)?;
        let mut limits = self.runtime.limits_for(config).map_err(|e| e.to_string())?;
        if let Some(tenant) = self.tenant(config)? {
            tenant.check_task(&resolved)?;
            limits = tenant.cap(limits);
        }
        Ok(TaskContext {
            connector: connector.to_owned(),
            task,
            config: resolved,
            offsets: self.source_offsets.reader(connector),
            pools: self.pools.clone(),
            tokio: self.tokio.clone(),
            limits,
        })
    }

    /// The tenant that owns the connector, when this worker has tenants.
    pub fn tenant(&self, config: &BTreeMap<String, String>) -> Result<Option<Arc<Tenant>>, String> {
        self.tenants.as_ref().map_or(Ok(None), |tenants| tenants.owner(config))
    }
}

/// A running task; dropping `stop` tells its thread to finish.
pub struct TaskHandle {
    name: String,
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
    /// The worker's `task.shutdown.graceful.timeout.ms`.
    grace: Duration,
}

/// Kafka Connect's default `task.shutdown.graceful.timeout.ms`.
const DEFAULT_GRACE: Duration = Duration::from_secs(5);
const GRACE_KEY: &str = "task.shutdown.graceful.timeout.ms";
/// Kafka Connect's default `offset.flush.timeout.ms`.
const DEFAULT_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);
pub const FLUSH_TIMEOUT_KEY: &str = "offset.flush.timeout.ms";

/// How long a stopping task may take to commit what it finished, from the worker's config.
pub fn graceful_timeout(worker: &BTreeMap<String, String>) -> Result<Duration, String> {
    millis(worker, GRACE_KEY, DEFAULT_GRACE)
}

/// How long a source's offset commit may wait for its records' acknowledgements.
pub fn offset_flush_timeout(worker: &BTreeMap<String, String>) -> Result<Duration, String> {
    millis(worker, FLUSH_TIMEOUT_KEY, DEFAULT_FLUSH_TIMEOUT)
}

fn millis(worker: &BTreeMap<String, String>, key: &str, default: Duration) -> Result<Duration, String> {
    worker.get(key).map_or(Ok(default), |v| {
        v.trim().parse().map(Duration::from_millis).map_err(|_| format!("the worker's {key} must be a number of milliseconds, not {v:?}"))
    })
}

impl TaskHandle {
    /// Asks the task to stop and waits until it has committed what it finished, or for the
    /// graceful timeout: a task stuck in its plugin is then left to finish on its own, and
    /// what it did not commit is read again after a restart.
    pub fn stop(self) {
        drop(self.stop);
        let deadline = Instant::now() + self.grace;
        while !self.thread.is_finished() {
            if Instant::now() >= deadline {
                tracing::warn!(task = %self.name, "the task did not stop within {GRACE_KEY}={}; leaving it behind", self.grace.as_millis());
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        if self.thread.join().is_err() {
            tracing::error!(task = %self.name, "a task thread panicked while stopping");
        }
    }
}

/// The receiving side of a task's stop signal.
pub struct StopSignal(mpsc::Receiver<()>);

impl StopSignal {
    /// Waits up to `timeout`; true once the task should stop.
    pub fn wait(&self, timeout: Duration) -> bool {
        !matches!(self.0.recv_timeout(timeout), Err(RecvTimeoutError::Timeout))
    }

    pub fn stopped(&self) -> bool {
        self.wait(Duration::ZERO)
    }
}

pub struct TaskSpec {
    pub connector: String,
    pub id: u32,
    pub config: BTreeMap<String, String>,
    pub plugin: Arc<Plugin>,
    /// The transforms, or why they cannot run.
    pub chain: Arc<Result<ChainSpec, String>>,
}

pub fn start_task(ctx: Arc<WorkerContext>, spec: TaskSpec) -> TaskHandle {
    let (stop, signal) = mpsc::channel();
    let name = format!("{}-{}", spec.connector, spec.id);
    ctx.status.task(&spec.connector, spec.id, State::Running, None);
    let grace = ctx.graceful_timeout;
    let thread = std::thread::Builder::new()
        .name(name.clone())
        .spawn(move || run_task(&ctx, &spec, &StopSignal(signal)))
        .expect("spawn task thread");
    TaskHandle { name, stop, thread, grace }
}

/// Runs the task until it is stopped or fails; with `task.restart.auto=true` a failed task
/// starts again (a fresh plugin instance) after a growing pause, its status FAILED with the
/// reason and the next attempt in the meantime.
fn run_task(ctx: &WorkerContext, spec: &TaskSpec, signal: &StopSignal) {
    // Every line the task logs names it, like Kafka Connect's `[name|task-0]`.
    let _span = tracing::info_span!("task", connector = %spec.connector, task = spec.id).entered();
    let policy = RestartPolicy::from_config(&spec.config);
    let mut attempt = 0;
    loop {
        let result = match spec.plugin.manifest.kind {
            PluginKind::Source => source::run(ctx, spec, signal),
            PluginKind::Sink => sink::run(ctx, spec, signal),
            PluginKind::Transforms => Err(format!("{} offers transforms; it is not a connector", spec.plugin.manifest.name)),
        };
        let Err(trace) = result else { return };
        let Some(delay) = policy.delay(attempt) else {
            ctx.status.task(&spec.connector, spec.id, State::Failed, Some(trace));
            return;
        };
        attempt += 1;
        let note = format!("{trace}\n(task.restart.auto: restart {attempt} in {} ms)", delay.as_millis());
        ctx.status.task(&spec.connector, spec.id, State::Failed, Some(note));
        if signal.wait(delay) {
            return;
        }
        ctx.status.task(&spec.connector, spec.id, State::Running, None);
    }
}

/// Automatic restarts of failed tasks, beyond Kafka Connect: `task.restart.auto` (default
/// false) and `task.restart.backoff.max.ms` (default 60000); the pause starts at 1 s and doubles.
struct RestartPolicy {
    enabled: bool,
    max: Duration,
}

impl RestartPolicy {
    fn from_config(config: &BTreeMap<String, String>) -> RestartPolicy {
        RestartPolicy {
            enabled: config.get("task.restart.auto").is_some_and(|v| v.trim().eq_ignore_ascii_case("true")),
            max: Duration::from_millis(config.get("task.restart.backoff.max.ms").and_then(|v| v.trim().parse().ok()).unwrap_or(60_000)),
        }
    }

    /// The pause before restart number `attempt + 1`, or `None` when restarts are off.
    fn delay(&self, attempt: u32) -> Option<Duration> {
        self.enabled.then(|| Duration::from_secs(1).saturating_mul(1 << attempt.min(16)).min(self.max))
    }
}

/// Calls a plugin's `start` until it succeeds, retrying a retriable failure (the database is
/// not up yet, say) as a poll would be. `Ok(false)`: the task was stopped meanwhile.
fn start_plugin(
    ctx: &WorkerContext,
    spec: &TaskSpec,
    stop: &StopSignal,
    mut start: impl FnMut() -> Result<(), PluginError>,
) -> Result<bool, String> {
    let mut retries = retry::Retries::new(ctx, spec, "start");
    loop {
        match start() {
            Ok(()) => {
                retries.succeeded();
                return Ok(true);
            }
            Err(PluginError::Retriable(message)) => {
                if stop.wait(retries.failed(&message)?) {
                    return Ok(false);
                }
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_graceful_and_offset_flush_timeouts_are_kafka_connects_unless_set() {
        let worker = |v: &str| BTreeMap::from([(GRACE_KEY.to_owned(), v.to_owned())]);
        assert_eq!(graceful_timeout(&BTreeMap::new()), Ok(Duration::from_secs(5)));
        assert_eq!(graceful_timeout(&worker("250")), Ok(Duration::from_millis(250)));
        assert!(graceful_timeout(&worker("soon")).unwrap_err().contains("task.shutdown.graceful.timeout.ms must be a number"));
        let flush = |v: &str| BTreeMap::from([(FLUSH_TIMEOUT_KEY.to_owned(), v.to_owned())]);
        assert_eq!(offset_flush_timeout(&BTreeMap::new()), Ok(Duration::from_secs(5)));
        assert_eq!(offset_flush_timeout(&flush("200")), Ok(Duration::from_millis(200)));
        assert!(offset_flush_timeout(&flush("-1")).unwrap_err().contains("offset.flush.timeout.ms must be a number"));
    }
}
