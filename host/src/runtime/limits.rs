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
