//! The source task loop: poll the plugin, convert, and append the records together with
//! their source offsets in one atomic write, so a crash can neither lose nor repeat them.

use std::collections::HashMap;
use std::time::Duration;

use wasmconnect_log::ProducerRecord;

use super::offsets::{OFFSETS_TOPIC, SourceOffsets};
use super::{Converters, StopSignal, TaskSpec, WorkerContext, backoff};

/// The shortest pause after a poll that returned nothing, whatever the plugin asks for, so a
/// plugin that keeps answering "nothing yet, poll again" cannot spin a core.
const MIN_IDLE_WAIT: Duration = Duration::from_millis(50);
use crate::runtime::{PluginError, PolledRecord, SourceInstance};

pub fn run(ctx: &WorkerContext, spec: &TaskSpec, stop: &StopSignal) -> Result<(), String> {
    let converters = Converters::for_connector(&spec.config, &ctx.worker_config).map_err(|e| e.to_string())?;
    let task_ctx = ctx.task_context(&spec.connector, Some(spec.id), &spec.config)?;
    let mut instance = ctx.runtime.source(&spec.plugin, task_ctx).map_err(|e| e.to_string())?;
    instance.start().map_err(|e| e.to_string())?;
    let result = poll_until_stopped(ctx, spec, stop, &mut instance, &converters);
    if let Err(e) = instance.stop() {
        tracing::warn!(connector = %spec.connector, "stopping the plugin failed: {e}");
    }
    result
}

fn poll_until_stopped(
    ctx: &WorkerContext,
    spec: &TaskSpec,
    stop: &StopSignal,
    instance: &mut SourceInstance,
    converters: &Converters,
) -> Result<(), String> {
    let mut failures = 0;
    while !stop.stopped() {
        let wait = match instance.poll() {
            Ok((records, wait)) => {
                failures = 0;
                let idle = records.is_empty();
                write(ctx, &spec.connector, spec.id, records, converters)?;
                if idle { wait.max(MIN_IDLE_WAIT) } else { wait }
            }
            Err(PluginError::Retriable(message)) => {
                failures += 1;
                tracing::warn!(connector = %spec.connector, attempt = failures, "poll failed, retrying: {message}");
                backoff(failures)
            }
            Err(e) => return Err(e.to_string()),
        };
        if !wait.is_zero() && stop.wait(wait) {
            break;
        }
    }
    Ok(())
}

fn write(ctx: &WorkerContext, connector: &str, task: u32, records: Vec<PolledRecord>, converters: &Converters) -> Result<(), String> {
    if records.is_empty() {
        return Ok(());
    }
    // Only the last offset of each source partition needs committing.
    let mut latest: HashMap<String, String> = HashMap::new();
    let mut batch = Vec::with_capacity(records.len() + 1);
    for mut record in records {
        let partition = std::mem::take(&mut record.source_partition);
        let offset = std::mem::take(&mut record.source_offset);
        batch.push(produce(record, converters)?);
        latest.insert(partition, offset);
    }
    let json = |text: &str, what: &str| {
        serde_json::from_str::<serde_json::Value>(text).map_err(|e| format!("the plugin's source {what} {text:?} is not JSON: {e}"))
    };
    let mut committed = Vec::with_capacity(latest.len());
    for (partition, offset) in &latest {
        committed.push((json(partition, "partition")?, json(offset, "offset")?));
    }
    batch.extend(committed.iter().map(|(p, o)| SourceOffsets::record(connector, p, Some(o))));
    let written: std::collections::BTreeSet<&str> = batch.iter().map(|r| r.topic.as_str()).filter(|t| *t != OFFSETS_TOPIC).collect();
    for topic in written {
        ctx.status.topic_used(connector, topic, task);
    }
    ctx.log.append(batch).map_err(|e| format!("cannot write to the topic log: {e}"))?;
    for (partition, offset) in committed {
        ctx.source_offsets.remember(connector, partition, Some(offset));
    }
    Ok(())
}

fn produce(record: PolledRecord, converters: &Converters) -> Result<ProducerRecord, String> {
    let topic = record.topic;
    let convert = |converter: &dyn wasmconnect_convert::Converter, data: Option<wasmconnect_data::Data>, what: &str| {
        let data = data.unwrap_or_else(wasmconnect_data::Data::null);
        converter
            .from_connect_data(&topic, &data)
            .map_err(|e| format!("cannot convert the {what} of a record for topic {topic}: {e}"))
    };
    let key = convert(converters.key.as_ref(), record.key, "key")?;
    let value = convert(converters.value.as_ref(), record.value, "value")?;
    let headers = record
        .headers
        .into_iter()
        .map(|(k, v)| Ok((k, convert(converters.value.as_ref(), Some(v), "header")?)))
        .collect::<Result<_, String>>()?;
    Ok(ProducerRecord {
        topic: topic.clone(),
        partition: record.kafka_partition,
        key,
        value,
        timestamp: record.timestamp.or_else(|| Some(now_millis())),
        headers,
    })
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis() as i64
}
