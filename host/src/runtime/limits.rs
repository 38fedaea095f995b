//! Per-task sandbox limits, set where each task's `Store` is made.

use std::collections::BTreeMap;
use std::time::Duration;

/// How often the engine's epoch advances; deadlines are counted in these ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

#[derive(Clone, Debug)]
pub struct TaskLimits {
    /// Linear memory a task's instance may grow to.
    pub memory_bytes: usize,
    /// Wall-clock budget of one call into the plugin (a poll, a put), host calls included.
    pub call_timeout: Duration,
}

impl Default for TaskLimits {
    fn default() -> Self {
        TaskLimits { memory_bytes: 256 << 20, call_timeout: Duration::from_secs(60) }
    }
}

/// A connector's own limit on its instances' memory, in bytes.
pub const MEMORY_KEY: &str = "wasm.memory.max.bytes";
/// A connector's own deadline per call into its plugin, in milliseconds.
pub const CALL_TIMEOUT_KEY: &str = "wasm.call.timeout.ms";

impl TaskLimits {
    pub fn deadline_ticks(&self) -> u64 {
        (self.call_timeout.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64
    }
}

/// The worker's limits: what a connector gets unless its config asks otherwise, and the most
/// it may ask for.
#[derive(Clone, Debug)]
pub struct WorkerLimits {
    pub default: TaskLimits,
    pub max: TaskLimits,
}

impl WorkerLimits {
    /// These defaults, and maxima of at least 1 GiB and 10 minutes.
    pub fn with_defaults(default: TaskLimits) -> WorkerLimits {
        let max = TaskLimits {
            memory_bytes: default.memory_bytes.max(1 << 30),
            call_timeout: default.call_timeout.max(Duration::from_secs(600)),
        };
        WorkerLimits { default, max }
    }

    /// The limits of a connector's instances: `wasm.memory.max.bytes` and
    /// `wasm.call.timeout.ms` from its config, or the worker's defaults.
    pub fn for_connector(&self, config: &BTreeMap<String, String>) -> Result<TaskLimits, LimitError> {
        let memory_bytes = match config.get(MEMORY_KEY) {
            None => self.default.memory_bytes,
            Some(v) => bounded(MEMORY_KEY, v, 1 << 20, self.max.memory_bytes as u64)? as usize,
        };
        let call_timeout = match config.get(CALL_TIMEOUT_KEY) {
            None => self.default.call_timeout,
            Some(v) => Duration::from_millis(bounded(CALL_TIMEOUT_KEY, v, EPOCH_TICK.as_millis() as u64, self.max.call_timeout.as_millis() as u64)?),
        };
        Ok(TaskLimits { memory_bytes, call_timeout })
    }
}

#[derive(Debug, thiserror::Error)]
#[error("\"{key}\" must be a whole number from {min} to {max} (the worker's maximum), not {value:?}")]
pub struct LimitError {
    pub key: &'static str,
    value: String,
    min: u64,
    max: u64,
}

fn bounded(key: &'static str, value: &str, min: u64, max: u64) -> Result<u64, LimitError> {
    value.trim().parse::<u64>().ok().filter(|n| (min..=max).contains(n)).ok_or_else(|| LimitError { key, value: value.to_owned(), min, max })
}

/// The store's limiter: enforces the memory cap and keeps count of the linear memory the
/// instance holds, for the `wasm_memory_bytes` metric.
pub struct MeteredLimits {
    limits: wasmtime::StoreLimits,
    memory_bytes: usize,
}

impl MeteredLimits {
    pub fn new(limits: wasmtime::StoreLimits) -> MeteredLimits {
        MeteredLimits { limits, memory_bytes: 0 }
    }

    /// Linear memory of every memory of the instance.
    pub fn memory_bytes(&self) -> usize {
        self.memory_bytes
    }
}

impl wasmtime::ResourceLimiter for MeteredLimits {
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        let allowed = self.limits.memory_growing(current, desired, maximum)?;
        if allowed {
            self.memory_bytes += desired - current;
        }
        Ok(allowed)
    }

    fn table_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }
}
