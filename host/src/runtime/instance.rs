//! A live plugin instance bound to one task: every call runs under the task's deadline and
//! memory limit, and whatever goes wrong comes back as a `PluginError` the worker can act on.

use std::collections::BTreeMap;

use wasmconnect_data::Data;
use wasmtime::Store;

use super::bindings::{sink::SinkTask as Sink, source::SourceTask as Source, types};
use super::host::TaskState;
use super::wit_data::{DecodeError, SchemaInterner, decode_data, decode_headers, decode_schemas};

#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("{0}")]
    Retriable(String),
    #[error("record {index} of the batch failed: {message}")]
    Record { index: u32, message: String },
    #[error("{0}")]
    Fatal(String),
    /// A trap: a panic in the plugin, or the memory limit.
    #[error("the plugin trapped: {0}")]
    Trap(String),
    /// A call stopped at its deadline (`wasm.call.timeout.ms`) or its CPU slice
    /// (`wasm.cpu.slice.ms`), by epoch interruption.
    #[error("the plugin trapped: {0}")]
    Interrupted(String),
    #[error("the plugin returned malformed data: {0}")]
    Malformed(#[from] DecodeError),
    #[error("cannot instantiate the plugin: {0}")]
    Instantiate(String),
}

impl From<types::ConnectorError> for PluginError {
    fn from(e: types::ConnectorError) -> Self {
        match e {
            types::ConnectorError::Config(m) => PluginError::Config(m),
            types::ConnectorError::Retriable(m) => PluginError::Retriable(m),
            types::ConnectorError::Record(r) => PluginError::Record { index: r.index, message: r.message },
            types::ConnectorError::Fatal(m) => PluginError::Fatal(m),
        }
    }
}

/// A trap, with what the plugin last wrote to standard error (a panic message goes there)
/// and the wasm backtrace: what a plugin author needs to find the bug. The host's own native
/// backtrace, which `{:?}` would add, says nothing about the plugin and is left out.
fn trap(store: &Store<TaskState>, e: wasmtime::Error) -> PluginError {
    let stderr = store.data().stderr_tail();
    let backtrace = shorten(&e.chain().map(ToString::to_string).collect::<Vec<_>>().join("\n"));
    // An interruption (a call past its deadline or its CPU slice) starts with the limit that ran out.
    let interrupted = store.data().interrupted.clone();
    let parts = [interrupted.clone().unwrap_or_default(), stderr, backtrace];
    let message = parts.into_iter().filter(|p| !p.is_empty()).collect::<Vec<_>>().join("\n");
    if interrupted.is_some() { PluginError::Interrupted(message) } else { PluginError::Trap(message) }
}

fn config_map(config: Vec<(String, String)>) -> BTreeMap<String, String> {
    config.into_iter().collect()
}

/// How a connector splits its work: one config per task, and how often to ask again.
pub struct TaskSplit {
    pub configs: Vec<BTreeMap<String, String>>,
    pub recheck: Option<std::time::Duration>,
}

/// A task's store, and how every call into its plugin is made: under a fresh budget of
/// wall-clock and CPU time, with a trap turned into `PluginError::Trap` (or `Interrupted`
/// when a budget ran out).
pub(super) struct Sandbox {
    store: Store<TaskState>,
    /// A trapped instance cannot be entered again; its task is done with it.
    trapped: bool,
}

impl Sandbox {
    pub(super) fn new(store: Store<TaskState>) -> Sandbox {
        Sandbox { store, trapped: false }
    }

    pub(super) fn take_resume_offsets(&mut self) -> Vec<(String, i32, i64)> {
        std::mem::take(&mut self.store.data_mut().resume_at)
    }

    /// Linear memory the instance holds now.
    pub(super) fn memory_bytes(&self) -> usize {
        self.store.data().limits.memory_bytes()
    }

    pub(super) fn call<T>(&mut self, f: impl FnOnce(&mut Store<TaskState>) -> wasmtime::Result<T>) -> Result<T, PluginError> {
        if self.trapped {
            return Err(PluginError::Fatal("the plugin trapped earlier; its instance cannot be called again".into()));
        }
        self.store.data_mut().call = super::limits::CallBudget::start();
        // The budget is checked at the next tick, and at every tick after it.
        self.store.set_epoch_deadline(1);
        f(&mut self.store).map_err(|e| {
            self.trapped = true;
            trap(&self.store, e)
        })
    }

    /// Calls `stop`-like cleanup unless the instance trapped, when there is nothing to clean.
    pub(super) fn cleanup(&mut self, f: impl FnOnce(&mut Store<TaskState>) -> wasmtime::Result<()>) -> Result<(), PluginError> {
        if self.trapped { Ok(()) } else { self.call(f) }
    }
}

/// A record a source task produced, with its source partition and offset.
#[derive(Clone, Debug)]
pub struct PolledRecord {
    /// JSON texts as the plugin wrote them: the worker parses only the last offset of each
    /// partition in a batch, not one per record.
    pub source_partition: String,
    pub source_offset: String,
    pub topic: String,
    pub kafka_partition: Option<i32>,
    pub key: Option<Data>,
    pub value: Option<Data>,
    pub timestamp: Option<i64>,
    pub headers: Vec<(String, Data)>,
}

pub struct SourceInstance {
    sandbox: Sandbox,
    bindings: Source,
}

impl SourceInstance {
    pub(super) fn new(sandbox: Sandbox, bindings: Source) -> Self {
        SourceInstance { sandbox, bindings }
    }

    pub fn task_configs(&mut self, max_tasks: u32) -> Result<TaskSplit, PluginError> {
        let connector = self.bindings.wasmconnect_connector_connector();
        let configs = self.sandbox.call(|s| connector.call_task_configs(s, max_tasks))??.into_iter().map(config_map).collect();
        let interval = self.sandbox.call(|s| connector.call_reconfigure_interval_ms(s))?;
        Ok(TaskSplit { configs, recheck: interval.map(|ms| std::time::Duration::from_millis(ms.max(1).into())) })
    }

    pub fn start(&mut self) -> Result<(), PluginError> {
        let task = self.bindings.wasmconnect_connector_source_task();
        Ok(self.sandbox.call(|s| task.call_start(s))??)
    }

    /// The records read since the last poll, and how long to wait before the next poll.
    pub fn poll(&mut self) -> Result<(Vec<PolledRecord>, std::time::Duration), PluginError> {
        let task = self.bindings.wasmconnect_connector_source_task();
        let batch = self.sandbox.call(|s| task.call_poll(s))??;
        let wait = std::time::Duration::from_millis(batch.wait_ms.into());
        let schemas = decode_schemas(&batch.schemas)?;
        let records = batch
            .records
            .into_iter()
            .map(|r| decode_source_record(r, &schemas))
            .collect::<Result<_, _>>()?;
        Ok((records, wait))
    }

    pub fn memory_bytes(&self) -> usize {
        self.sandbox.memory_bytes()
    }

    /// The records the plugin last reported it has still to read (`progress` import);
    /// `None` when it never did or cannot tell.
    pub fn remaining(&self) -> Option<u64> {
        self.sandbox.store.data().remaining()
    }

    pub fn stop(&mut self) -> Result<(), PluginError> {
        let task = self.bindings.wasmconnect_connector_source_task();
        self.sandbox.cleanup(|s| task.call_stop(s))
    }
}

fn decode_source_record(
    r: types::SourceRecord,
    schemas: &[std::sync::Arc<wasmconnect_data::Schema>],
) -> Result<PolledRecord, PluginError> {
    let data = |d: Option<types::Data>| d.map(|d| decode_data(d, schemas)).transpose();
    Ok(PolledRecord {
        source_partition: r.source_partition,
        source_offset: r.source_offset,
        topic: r.topic,
        kafka_partition: r.kafka_partition,
        key: data(r.key)?,
        value: data(r.value)?,
        timestamp: r.timestamp,
        headers: decode_headers(r.headers, schemas)?,
    })
}

/// A record read from a topic, converted, on its way to a sink task.
#[derive(Clone, Debug)]
pub struct SinkRecord {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Data>,
    pub value: Option<Data>,
    pub timestamp: Option<i64>,
    pub headers: Vec<(String, Data)>,
}

pub struct SinkInstance {
    sandbox: Sandbox,
    bindings: Sink,
}

impl SinkInstance {
    pub(super) fn new(sandbox: Sandbox, bindings: Sink) -> Self {
        SinkInstance { sandbox, bindings }
    }

    pub fn task_configs(&mut self, max_tasks: u32) -> Result<TaskSplit, PluginError> {
        let connector = self.bindings.wasmconnect_connector_connector();
        let configs = self.sandbox.call(|s| connector.call_task_configs(s, max_tasks))??.into_iter().map(config_map).collect();
        let interval = self.sandbox.call(|s| connector.call_reconfigure_interval_ms(s))?;
        Ok(TaskSplit { configs, recheck: interval.map(|ms| std::time::Duration::from_millis(ms.max(1).into())) })
    }

    pub fn start(&mut self) -> Result<(), PluginError> {
        let task = self.bindings.wasmconnect_connector_sink_task();
        Ok(self.sandbox.call(|s| task.call_start(s))??)
    }

    /// The offsets the plugin asked to resume from (`sink-context.offset`, in `start`):
    /// `(topic, partition, next offset)`.
    pub fn resume_offsets(&mut self) -> Vec<(String, i32, i64)> {
        self.sandbox.take_resume_offsets()
    }

    pub fn put(&mut self, records: &[SinkRecord]) -> Result<(), PluginError> {
        let mut interner = SchemaInterner::default();
        let records = records
            .iter()
            .map(|r| types::SinkRecord {
                topic: r.topic.clone(),
                kafka_partition: r.partition,
                kafka_offset: r.offset,
                key: r.key.as_ref().map(|d| interner.encode(d)),
                value: r.value.as_ref().map(|d| interner.encode(d)),
                timestamp: r.timestamp,
                headers: interner.encode_headers(&r.headers),
            })
            .collect();
        let batch = types::SinkBatch { schemas: interner.into_table(), records };
        let task = self.bindings.wasmconnect_connector_sink_task();
        Ok(self.sandbox.call(|s| task.call_put(s, &batch))??)
    }

    pub fn memory_bytes(&self) -> usize {
        self.sandbox.memory_bytes()
    }

    pub fn stop(&mut self) -> Result<(), PluginError> {
        let task = self.bindings.wasmconnect_connector_sink_task();
        self.sandbox.cleanup(|s| task.call_stop(s))
    }
}

/// Lines of a trap message kept from each end: endless recursion makes backtraces of
/// thousands of frames, which would swamp the status (and exceed a Kafka message).
const TRACE_LINES: usize = 40;

fn shorten(trace: &str) -> String {
    let lines: Vec<&str> = trace.lines().collect();
    if lines.len() <= 2 * TRACE_LINES {
        return trace.to_owned();
    }
    let omitted = lines.len() - 2 * TRACE_LINES;
    format!(
        "{}\n    ... {omitted} lines omitted (endless recursion?) ...\n{}",
        lines[..TRACE_LINES].join("\n"),
        lines[lines.len() - TRACE_LINES..].join("\n")
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn long_traces_keep_both_ends() {
        let trace: String = (0..1000).map(|i| format!("frame {i}\n")).collect();
        let short = super::shorten(&trace);
        assert!(short.starts_with("frame 0\n") && short.ends_with("frame 999"), "{short}");
        assert!(short.contains("920 lines omitted"), "{short}");
        assert_eq!(super::shorten("one\ntwo"), "one\ntwo");
    }
}
