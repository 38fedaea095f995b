//! Prometheus metrics (`GET /metrics`): Kafka Connect's task metrics under Prometheus names,
//! per connector and task, how much a source has still to read, and what only a WASM host
//! can tell: time spent in plugin calls, traps, and each instance's memory.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::runtime::PluginError;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TaskLabels {
    pub connector: String,
    pub task: u32,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallLabels {
    pub connector: String,
    pub task: u32,
    /// The exported function: poll, put, apply.
    pub call: &'static str,
}

type Counters = Family<TaskLabels, Counter>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PartitionLabels {
    pub topic: String,
    pub partition: i32,
}

pub struct Metrics {
    registry: Registry,
    pub source_record_poll: Counters,
    pub source_record_write: Counters,
    pub sink_record_read: Counters,
    pub sink_record_send: Counters,
    pub offset_commit_success: Counters,
    pub offset_commit_failure: Counters,
    pub task_error_record_errors: Counters,
    pub deadletterqueue_produce_requests: Counters,
    pub batch_size: Family<TaskLabels, Histogram>,
    pub put_batch_time: Family<TaskLabels, Histogram>,
    pub plugin_call_time: Family<CallLabels, Histogram>,
    pub plugin_traps: Counters,
    pub plugin_interruptions: Counters,
    pub plugin_memory: Family<TaskLabels, Gauge>,
    pub transform_dropped: Counters,
    /// What a source plugin reports it has still to read (`progress.report-remaining`).
    pub source_record_remaining: Family<TaskLabels, Gauge>,
    /// What opening the embedded log cut off the end of a partition.
    pub log_recovery_truncations: Family<PartitionLabels, Counter>,
    pub log_recovery_truncated_bytes: Family<PartitionLabels, Counter>,
}

fn seconds_histogram() -> Histogram {
    // 10 µs to ~40 s.
    Histogram::new(exponential_buckets(0.00001, 4.0, 12))
}

fn size_histogram() -> Histogram {
    Histogram::new(exponential_buckets(1.0, 4.0, 10))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut metrics = Metrics {
            registry: Registry::default(),
            source_record_poll: Family::default(),
            source_record_write: Family::default(),
            sink_record_read: Family::default(),
            sink_record_send: Family::default(),
            offset_commit_success: Family::default(),
            offset_commit_failure: Family::default(),
            task_error_record_errors: Family::default(),
            deadletterqueue_produce_requests: Family::default(),
            transform_dropped: Family::default(),
            batch_size: Family::new_with_constructor(size_histogram),
            put_batch_time: Family::new_with_constructor(seconds_histogram),
            plugin_call_time: Family::new_with_constructor(seconds_histogram),
            plugin_traps: Family::default(),
            plugin_interruptions: Family::default(),
            plugin_memory: Family::default(),
            source_record_remaining: Family::default(),
            log_recovery_truncations: Family::default(),
            log_recovery_truncated_bytes: Family::default(),
        };
        metrics.register();
        metrics
    }
}

impl Metrics {
    fn register(&mut self) {
        let r = &mut self.registry;
        r.register("source_record_poll", "Records the source plugin produced", self.source_record_poll.clone());
        r.register("source_record_write", "Source records written to their topics, after transforms", self.source_record_write.clone());
        r.register("sink_record_read", "Records read from the topics by the sink task", self.sink_record_read.clone());
        r.register("sink_record_send", "Records the sink plugin accepted (put succeeded)", self.sink_record_send.clone());
        r.register("offset_commit_success", "Offset commits that succeeded", self.offset_commit_success.clone());
        r.register("offset_commit_failure", "Offset commits that failed", self.offset_commit_failure.clone());
        r.register("task_error_record_errors", "Records that failed, tolerated or not", self.task_error_record_errors.clone());
        r.register("deadletterqueue_produce_requests", "Records sent to the dead-letter queue", self.deadletterqueue_produce_requests.clone());
        r.register(
            "source_record_remaining",
            "Records the source plugin reports it has still to read, e.g. the rest of an initial snapshot",
            self.source_record_remaining.clone(),
        );
        r.register("transform_records_dropped", "Records a transform dropped (Filter, say)", self.transform_dropped.clone());
        r.register("batch_size", "Records per polled or put batch", self.batch_size.clone());
        r.register("put_batch_time_seconds", "Time of one sink put, retries included", self.put_batch_time.clone());
        r.register("wasm_call_duration_seconds", "Time of one call into a plugin instance", self.plugin_call_time.clone());
        r.register("wasm_traps", "Plugin traps: panics, deadlines, CPU slices, memory limits", self.plugin_traps.clone());
        r.register(
            "wasm_interruptions",
            "Plugin calls interrupted at their deadline (wasm.call.timeout.ms) or CPU slice (wasm.cpu.slice.ms), by epoch interruption",
            self.plugin_interruptions.clone(),
        );
        r.register("wasm_memory_bytes", "Linear memory of the task's plugin instance", self.plugin_memory.clone());
        r.register(
            "log_recovery_truncations",
            "Partitions of the embedded log whose end was cut off when it was opened: a torn write, a CRC mismatch, an uncommitted append",
            self.log_recovery_truncations.clone(),
        );
        r.register("log_recovery_truncated_bytes", "Bytes cut off the ends of the embedded log's partitions when it was opened", self.log_recovery_truncated_bytes.clone());
    }

    /// Counts what opening the embedded log cut off one partition.
    pub fn log_recovered(&self, cut: &wasmconnect_log::Truncation) {
        let labels = PartitionLabels { topic: cut.topic.clone(), partition: cut.partition };
        self.log_recovery_truncations.get_or_create(&labels).inc();
        self.log_recovery_truncated_bytes.get_or_create(&labels).inc_by(cut.bytes);
    }

    /// A task's (records read, records written) so far, if it has done anything: for a
    /// source polled and written, for a sink read and sent.
    pub fn progress(&self, connector: &str, task: u32, source: bool) -> Option<(u64, u64)> {
        let labels = TaskLabels { connector: connector.to_owned(), task };
        let count = |family: &Counters| family.get(&labels).map(|c| c.get());
        let (read, written) = if source {
            (count(&self.source_record_poll), count(&self.source_record_write))
        } else {
            (count(&self.sink_record_read), count(&self.sink_record_send))
        };
        (read.is_some() || written.is_some()).then(|| (read.unwrap_or(0), written.unwrap_or(0)))
    }

    /// The records a running source task last reported it has still to read.
    pub fn source_remaining(&self, connector: &str, task: u32) -> Option<i64> {
        let labels = TaskLabels { connector: connector.to_owned(), task };
        self.source_record_remaining.get(&labels).map(|g| g.get())
    }

    /// The OpenMetrics text exposition, which Prometheus scrapes.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

/// One task's view of the metrics: its labels resolved once.
#[derive(Clone)]
pub struct TaskMetrics {
    metrics: Arc<Metrics>,
    labels: TaskLabels,
}

impl TaskMetrics {
    pub fn new(metrics: Arc<Metrics>, connector: &str, task: u32) -> TaskMetrics {
        TaskMetrics { metrics, labels: TaskLabels { connector: connector.to_owned(), task } }
    }

    fn inc(&self, family: &Counters, by: usize) {
        family.get_or_create(&self.labels).inc_by(by as u64);
    }

    /// A call into the plugin took `took`; afterwards its instance holds `memory` bytes.
    pub fn call(&self, call: &'static str, took: Duration, memory: usize) {
        let labels = CallLabels { connector: self.labels.connector.clone(), task: self.labels.task, call };
        self.metrics.plugin_call_time.get_or_create(&labels).observe(took.as_secs_f64());
        self.metrics.plugin_memory.get_or_create(&self.labels).set(memory as i64);
    }

    /// Counts a trap (and an interruption at the deadline) among the errors of a plugin call.
    pub fn failed_call(&self, error: &PluginError) {
        if matches!(error, PluginError::Trap(_) | PluginError::Interrupted(_)) {
            self.inc(&self.metrics.plugin_traps, 1);
        }
        if matches!(error, PluginError::Interrupted(_)) {
            self.inc(&self.metrics.plugin_interruptions, 1);
        }
    }

    /// What the source plugin reports it has still to read: a gauge while it tells, no
    /// series when it cannot tell (or the task has stopped).
    pub fn remaining(&self, records: Option<u64>) {
        let family = &self.metrics.source_record_remaining;
        match records {
            Some(records) => {
                family.get_or_create(&self.labels).set(i64::try_from(records).unwrap_or(i64::MAX));
            }
            None => {
                family.remove(&self.labels);
            }
        }
    }

    pub fn polled(&self, records: usize) {
        self.inc(&self.metrics.source_record_poll, records);
        self.metrics.batch_size.get_or_create(&self.labels).observe(records as f64);
    }

    pub fn written(&self, records: usize) {
        self.inc(&self.metrics.source_record_write, records);
    }

    pub fn read(&self, records: usize) {
        self.inc(&self.metrics.sink_record_read, records);
    }

    /// A put of `records` succeeded after `took`, retries included.
    pub fn sent(&self, records: usize, took: Duration) {
        self.inc(&self.metrics.sink_record_send, records);
        self.metrics.batch_size.get_or_create(&self.labels).observe(records as f64);
        self.metrics.put_batch_time.get_or_create(&self.labels).observe(took.as_secs_f64());
    }

    pub fn committed(&self, ok: bool) {
        let family = if ok { &self.metrics.offset_commit_success } else { &self.metrics.offset_commit_failure };
        self.inc(family, 1);
    }

    pub fn record_errors(&self, records: usize) {
        self.inc(&self.metrics.task_error_record_errors, records);
    }

    pub fn dead_lettered(&self, records: usize) {
        if records > 0 {
            self.inc(&self.metrics.deadletterqueue_produce_requests, records);
        }
    }

    pub fn dropped(&self, records: usize) {
        self.inc(&self.metrics.transform_dropped, records);
    }
}
