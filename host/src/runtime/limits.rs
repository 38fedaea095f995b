//! Per-task sandbox limits, set where each task's `Store` is made.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How often the engine's epoch advances: a running call's budgets are checked at every tick.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

#[derive(Clone, Debug)]
pub struct TaskLimits {
    /// Linear memory a task's instance may grow to.
    pub memory_bytes: usize,
    /// Wall-clock budget of one call into the plugin (a poll, a put), host calls included.
    pub call_timeout: Duration,
    /// CPU time one call into the plugin may use on its thread. Unlike the wall-clock
    /// deadline, time the call spends waiting (for a database, for a CPU the other tasks
    /// hold) does not count, so a tight slice stops a spinning plugin without failing one
    /// that waits on a slow query.
    pub cpu_slice: Duration,
}

impl Default for TaskLimits {
    fn default() -> Self {
        TaskLimits { memory_bytes: 256 << 20, call_timeout: Duration::from_secs(60), cpu_slice: Duration::from_secs(30) }
    }
}

/// A connector's own limit on its instances' memory, in bytes.
pub const MEMORY_KEY: &str = "wasm.memory.max.bytes";
/// A connector's own deadline per call into its plugin, in milliseconds.
pub const CALL_TIMEOUT_KEY: &str = "wasm.call.timeout.ms";
/// A connector's own CPU time per call into its plugin, in milliseconds.
pub const CPU_SLICE_KEY: &str = "wasm.cpu.slice.ms";

/// The worker's limits: what a connector gets unless its config asks otherwise, and the most
/// it may ask for.
#[derive(Clone, Debug)]
pub struct WorkerLimits {
    pub default: TaskLimits,
    pub max: TaskLimits,
}

impl WorkerLimits {
    /// These defaults, and maxima of at least 1 GiB and 10 minutes (of wall-clock and of CPU time).
    pub fn with_defaults(default: TaskLimits) -> WorkerLimits {
        let max = TaskLimits {
            memory_bytes: default.memory_bytes.max(1 << 30),
            call_timeout: default.call_timeout.max(Duration::from_secs(600)),
            cpu_slice: default.cpu_slice.max(Duration::from_secs(600)),
        };
        WorkerLimits { default, max }
    }

    /// The limits of a connector's instances: `wasm.memory.max.bytes`, `wasm.call.timeout.ms`
    /// and `wasm.cpu.slice.ms` from its config, or the worker's defaults.
    pub fn for_connector(&self, config: &BTreeMap<String, String>) -> Result<TaskLimits, LimitError> {
        let memory_bytes = match config.get(MEMORY_KEY) {
            None => self.default.memory_bytes,
            Some(v) => bounded(MEMORY_KEY, v, 1 << 20, self.max.memory_bytes as u64)? as usize,
        };
        let call_timeout = match config.get(CALL_TIMEOUT_KEY) {
            None => self.default.call_timeout,
            Some(v) => Duration::from_millis(bounded(CALL_TIMEOUT_KEY, v, EPOCH_TICK.as_millis() as u64, self.max.call_timeout.as_millis() as u64)?),
        };
        // Measured once per epoch tick, so a slice shorter than a tick could not be kept.
        let cpu_slice = match config.get(CPU_SLICE_KEY) {
            None => self.default.cpu_slice,
            Some(v) => Duration::from_millis(bounded(CPU_SLICE_KEY, v, EPOCH_TICK.as_millis() as u64, self.max.cpu_slice.as_millis() as u64)?),
        };
        Ok(TaskLimits { memory_bytes, call_timeout, cpu_slice })
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

/// What one call into a plugin has used so far: the engine asks at every epoch tick (on
/// the thread running the plugin), and the call goes on while both budgets hold.
pub struct CallBudget {
    started: Instant,
    cpu_started: Duration,
}

impl CallBudget {
    /// A budget counted from now, on the calling thread.
    pub fn start() -> CallBudget {
        CallBudget { started: Instant::now(), cpu_started: thread_cpu_time() }
    }

    /// The limit the call has gone past, if any, said as the trap will say it.
    pub fn exceeded(&self, limits: &TaskLimits) -> Option<String> {
        let cpu = thread_cpu_time().saturating_sub(self.cpu_started);
        if cpu > limits.cpu_slice {
            return Some(format!(
                "CPU limit: the call used {} ms of CPU time, more than its slice {CPU_SLICE_KEY}={}; the plugin was interrupted",
                cpu.as_millis(),
                limits.cpu_slice.as_millis()
            ));
        }
        let elapsed = self.started.elapsed();
        if elapsed > limits.call_timeout {
            return Some(format!(
                "deadline: the call took {} ms of wall-clock time, more than {CALL_TIMEOUT_KEY}={} (waiting included); the plugin was interrupted",
                elapsed.as_millis(),
                limits.call_timeout.as_millis()
            ));
        }
        None
    }
}

/// CPU time the calling thread has used, in user and kernel mode.
fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid timespec to write to; CLOCK_THREAD_CPUTIME_ID is always there
    // on Linux, and a failure leaves `now` at zero, which only makes the budget lenient.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn a_connector_sets_its_cpu_slice_within_the_workers_maximum() {
        let worker = WorkerLimits::with_defaults(TaskLimits::default());
        assert_eq!(worker.for_connector(&config(&[])).unwrap().cpu_slice, Duration::from_secs(30));
        assert_eq!(worker.for_connector(&config(&[(CPU_SLICE_KEY, "250")])).unwrap().cpu_slice, Duration::from_millis(250));
        for bad in ["5", "600001", "-1", "lots"] {
            let e = worker.for_connector(&config(&[(CPU_SLICE_KEY, bad)])).unwrap_err();
            assert_eq!(e.key, CPU_SLICE_KEY);
            assert!(e.to_string().contains("from 10 to 600000"), "{e}");
        }
    }

    #[test]
    fn the_budget_names_the_limit_a_call_went_past() {
        let limits = TaskLimits { cpu_slice: Duration::from_millis(20), call_timeout: Duration::from_secs(60), ..TaskLimits::default() };
        let budget = CallBudget::start();
        assert_eq!(budget.exceeded(&limits), None);
        // Spinning until the thread's own clock says 30 ms, however busy the machine is.
        let cpu = thread_cpu_time();
        while thread_cpu_time() - cpu < Duration::from_millis(30) {
            std::hint::black_box(());
        }
        let reason = budget.exceeded(&limits).expect("30 ms of CPU is more than a 20 ms slice");
        assert!(reason.contains("CPU limit") && reason.contains("wasm.cpu.slice.ms=20"), "{reason}");

        // Sleeping uses no CPU: only the wall-clock deadline is passed.
        let limits = TaskLimits { cpu_slice: Duration::from_secs(10), call_timeout: Duration::from_millis(20), ..TaskLimits::default() };
        let budget = CallBudget::start();
        std::thread::sleep(Duration::from_millis(40));
        let reason = budget.exceeded(&limits).expect("40 ms asleep is past a 20 ms deadline");
        assert!(reason.contains("wasm.call.timeout.ms=20"), "{reason}");
    }
}
