//! Per-task sandbox limits, set where each task's `Store` is made.

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

impl TaskLimits {
    pub fn deadline_ticks(&self) -> u64 {
        (self.call_timeout.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64
    }
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
