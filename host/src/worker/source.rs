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
    let result = pipeline(ctx, spec, stop, &mut instance, &converters);
    if let Err(e) = instance.stop() {
        tracing::warn!(connector = %spec.connector, "stopping the plugin failed: {e}");
    }
    result
}

/// Polls on this thread while another converts and appends the previous batch, so reading
/// the source overlaps with the log's fsync. Batches stay in order; at most one waits. When
/// the task stops, every polled batch is appended before the plugin is stopped; after a
/// crash, a polled batch that was not appended was not committed either, and is read again.
fn pipeline(
    ctx: &WorkerContext,
    spec: &TaskSpec,
    stop: &StopSignal,
    instance: &mut SourceInstance,
    converters: &Converters,
) -> Result<(), String> {
    std::thread::scope(|scope| {
        let (batches, received) = std::sync::mpsc::sync_channel::<Vec<PolledRecord>>(1);
        let appender = std::thread::Builder::new()
            .name(format!("{}-{}-append", spec.connector, spec.id))
            .spawn_scoped(scope, move || {
                for records in received {
                    write(ctx, &spec.connector, spec.id, records, converters)?;
                }
                Ok(())
            })
            .map_err(|e| format!("cannot start the task's append thread: {e}"))?;
        let polled = poll_until_stopped(spec, stop, instance, &batches, &|| appender.is_finished());
        // Closing the channel lets the appender finish what is queued, then exit.
        drop(batches);
        let appended = appender.join().unwrap_or_else(|_| Err("the task's append thread panicked".to_owned()));
        // An append error is the cause when polling stopped because the appender was gone.
        appended.and(polled)
    })
}

fn poll_until_stopped(
    spec: &TaskSpec,
    stop: &StopSignal,
    instance: &mut SourceInstance,
    batches: &std::sync::mpsc::SyncSender<Vec<PolledRecord>>,
    appender_gone: &dyn Fn() -> bool,
) -> Result<(), String> {
    let mut failures = 0;
    // The appender only ends early on an error, which then ends the task too.
    while !stop.stopped() && !appender_gone() {
        let wait = match instance.poll() {
            Ok((records, wait)) if records.is_empty() => {
                failures = 0;
                wait.max(MIN_IDLE_WAIT)
            }
            Ok((records, wait)) => {
                failures = 0;
                if batches.send(records).is_err() {
                    // The appender failed; its error is reported.
                    return Ok(());
                }
                wait
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
