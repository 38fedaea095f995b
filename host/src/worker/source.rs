//! The source task loop: poll the plugin, transform, convert, and append the records with
//! their source offsets: on the embedded log in one atomic write, so a crash can neither lose
//! nor repeat them; on Kafka the offsets follow the acknowledged records (at least once).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use wasmconnect_log::{ProducerRecord, Sent, TopicLog};

use super::chain::TransformChain;
use crate::metrics::TaskMetrics;
use super::retry::Retries;
use super::topic_creation::{TopicCreation, TopicCreator};
use super::{Converters, StopSignal, TaskSpec, WorkerContext, start_plugin};
use crate::tenancy::Tenant;

/// The shortest pause after a poll that returned nothing, whatever the plugin asks for, so a
/// plugin that keeps answering "nothing yet, poll again" cannot spin a core.
const MIN_IDLE_WAIT: Duration = Duration::from_millis(50);
use crate::runtime::{PluginError, PolledRecord, SourceInstance, TransformRecord};

/// What one poll produced, ready to append: the records after the transforms, and the last
/// offset of each source partition polled, records dropped by a transform included.
struct Polled {
    records: Vec<TransformRecord>,
    offsets: HashMap<String, String>,
}

pub fn run(ctx: &WorkerContext, spec: &TaskSpec, stop: &StopSignal) -> Result<(), String> {
    let converters = Converters::for_connector(&spec.config, &ctx.worker_config).map_err(|e| e.to_string())?;
    let mut chain = TransformChain::start(ctx, spec)?;
    let task_ctx = ctx.task_context(&spec.connector, Some(spec.id), &spec.config)?;
    let tenant = ctx.tenant(&spec.config)?;
    let mut instance = ctx.runtime.source(&spec.plugin, task_ctx).map_err(|e| e.to_string())?;
    if !start_plugin(ctx, spec, stop, || instance.start())? {
        return Ok(());
    }
    let metrics = TaskMetrics::new(ctx.metrics.clone(), &spec.connector, spec.id);
    let mut polling = Polling {
        spec,
        instance: &mut instance,
        chain: chain.as_mut(),
        tolerate_all: tolerates_all(spec),
        metrics: &metrics,
        retries: Retries::new(ctx, spec, "poll"),
        max_batch: batch_cap(&spec.config)?,
    };
    let result = pipeline(ctx, spec, stop, &mut polling, &converters, tenant.as_deref());
    // A stopped task reads nothing: its last "remaining" would be stale.
    metrics.remaining(None);
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
    polling: &mut Polling,
    converters: &Converters,
    tenant: Option<&Tenant>,
) -> Result<(), String> {
    let log = ctx.log_for(&spec.config)?;
    let creation = TopicCreation::from_config(&spec.config).map_err(|(key, problem)| format!("{key}: {problem}"))?;
    let appending = Appender {
        ctx,
        spec,
        log: log.as_ref(),
        topics: creation.map(TopicCreator::new),
        converters,
        metrics: polling.metrics,
        tenant,
        in_flight: VecDeque::new(),
        acked: Vec::new(),
        acked_batches: 0,
    };
    std::thread::scope(|scope| {
        let (batches, received) = std::sync::mpsc::sync_channel::<Polled>(1);
        let appender = std::thread::Builder::new()
            .name(format!("{}-{}-append", spec.connector, spec.id))
            .spawn_scoped(scope, move || appending.run(received))
            .map_err(|e| format!("cannot start the task's append thread: {e}"))?;
        let polled = poll_until_stopped(stop, polling, &batches, &|| appender.is_finished());
        // Closing the channel lets the appender finish what is queued, then exit.
        drop(batches);
        let appended = appender.join().unwrap_or_else(|_| Err("the task's append thread panicked".to_owned()));
        // An append error is the cause when polling stopped because the appender was gone.
        appended.and(polled)
    })
}

fn tolerates_all(spec: &TaskSpec) -> bool {
    spec.config.get("errors.tolerance").is_some_and(|t| t == "all")
}

/// The polling side of a task: its plugin and its transforms.
struct Polling<'a> {
    spec: &'a TaskSpec,
    instance: &'a mut SourceInstance,
    chain: Option<&'a mut TransformChain>,
    tolerate_all: bool,
    metrics: &'a TaskMetrics,
    retries: Retries<'a>,
    /// `wasm.batch.max.records`: more in one poll fails the task, so a flooding plugin
    /// cannot make the worker hold and convert without bound.
    max_batch: usize,
}

impl Polling<'_> {
    /// Runs the transforms; a record one fails on fails the task, or with
    /// `errors.tolerance=all` is logged and skipped (its offset still commits).
    fn transform(&mut self, polled: Vec<PolledRecord>) -> Result<Polled, String> {
        let mut offsets = HashMap::new();
        let mut records = Vec::with_capacity(polled.len());
        for record in polled {
            offsets.insert(record.source_partition, record.source_offset);
            records.push(TransformRecord {
                topic: record.topic,
                kafka_partition: record.kafka_partition,
                kafka_offset: None,
                key: record.key,
                value: record.value,
                timestamp: record.timestamp,
                headers: record.headers,
            });
        }
        let Some(chain) = self.chain.as_deref_mut() else { return Ok(Polled { records, offsets }) };
        let inputs = records.len();
        let out = chain.apply(records, self.metrics)?;
        self.metrics.dropped(inputs - out.records.len() - out.failures.len());
        self.metrics.record_errors(out.failures.len());
        for (_, message) in out.failures {
            if !self.tolerate_all {
                return Err(format!("{}\na transform failed on a record: {message}", crate::herder::hint::RECORD_STOPPED));
            }
            tracing::warn!(connector = %self.spec.connector, "skipping a record a transform failed on: {message}");
        }
        Ok(Polled { records: out.records.into_iter().map(|(_, r)| r).collect(), offsets })
    }
}

fn poll_until_stopped(
    stop: &StopSignal,
    polling: &mut Polling,
    batches: &std::sync::mpsc::SyncSender<Polled>,
    appender_gone: &dyn Fn() -> bool,
) -> Result<(), String> {
    // The appender only ends early on an error, which then ends the task too.
    while !stop.stopped() && !appender_gone() {
        let started = Instant::now();
        let polled = polling.instance.poll();
        polling.metrics.call("poll", started.elapsed(), polling.instance.memory_bytes());
        polling.metrics.remaining(polling.instance.remaining());
        let wait = match polled {
            Ok((records, wait)) if records.is_empty() => {
                polling.retries.succeeded();
                wait.max(MIN_IDLE_WAIT)
            }
            Ok((records, _)) if records.len() > polling.max_batch => {
                return Err(format!(
                    "the plugin returned {} records from one poll, more than {BATCH_KEY}={}; nothing of them was written. \
                     Lower the plugin's batch size (e.g. batch.max.rows) or raise {BATCH_KEY}",
                    records.len(),
                    polling.max_batch
                ));
            }
            Ok((records, wait)) => {
                polling.retries.succeeded();
                polling.metrics.polled(records.len());
                if batches.send(polling.transform(records)?).is_err() {
                    // The appender failed; its error is reported.
                    return Ok(());
                }
                wait
            }
            Err(PluginError::Retriable(message)) => polling.retries.failed(&message)?,
            Err(e) => {
                polling.metrics.failed_call(&e);
                return Err(e.to_string());
            }
        };
        if !wait.is_zero() && stop.wait(wait) {
            break;
        }
    }
    Ok(())
}

/// Batches a task may have sent and not yet seen acknowledged, on a log where that pays
/// (Kafka): each costs a broker round trip otherwise.
const MAX_IN_FLIGHT: usize = 4;
/// On such a log, how many acknowledged batches share one write of their offsets.
const OFFSETS_EVERY: usize = 8;
/// With batches under way and no new one for this long, they are waited for and their
/// offsets written, so an idle source commits promptly.
const SETTLE_AFTER: Duration = Duration::from_millis(50);

type Offsets = Vec<(serde_json::Value, serde_json::Value)>;

/// The appending side of a task: writes polled batches and commits their source offsets.
///
/// On a log with atomic appends (the embedded log) a batch and its offsets are one append.
/// On Kafka the data of several batches may be under way at once; a batch's offsets are
/// written only after its data and all data before it are acknowledged, so a committed
/// offset never covers a record that was lost (a crash can only repeat records).
struct Appender<'a> {
    ctx: &'a WorkerContext,
    spec: &'a TaskSpec,
    /// The worker's log, or one with the connector's producer overrides.
    log: &'a dyn TopicLog,
    /// KIP-158 topic creation, when the connector asks for it.
    topics: Option<TopicCreator>,
    converters: &'a Converters,
    metrics: &'a TaskMetrics,
    tenant: Option<&'a Tenant>,
    /// Sent batches, oldest first: the append, the offsets it carries, its record count.
    in_flight: VecDeque<(Sent, Offsets, usize)>,
    /// Offsets of acknowledged batches not written yet, and how many batches they cover.
    acked: Offsets,
    acked_batches: usize,
}

impl Appender<'_> {
    fn run(mut self, received: Receiver<Polled>) -> Result<(), String> {
        loop {
            let polled = if self.in_flight.is_empty() && self.acked.is_empty() {
                match received.recv() {
                    Ok(polled) => polled,
                    Err(_) => break,
                }
            } else {
                match received.recv_timeout(SETTLE_AFTER) {
                    Ok(polled) => polled,
                    Err(RecvTimeoutError::Timeout) => {
                        self.settle()?;
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            };
            self.write(polled)?;
        }
        self.settle()
    }

    fn write(&mut self, polled: Polled) -> Result<(), String> {
        let (records, offsets) = self.prepare(polled)?;
        let written = records.len();
        if self.log.atomic_appends() {
            let mut batch = records;
            batch.extend(offsets.iter().map(|(p, o)| self.ctx.source_offsets.record(&self.spec.connector, p, Some(o))));
            let appended = self.log.append(batch);
            self.metrics.committed(appended.is_ok());
            appended.map_err(|e| format!("cannot write to the topic log: {e}"))?;
            self.metrics.written(written);
            self.remember(offsets);
            return Ok(());
        }
        let sent = self.log.send(records).map_err(|e| format!("cannot write to the topic log: {e}"))?;
        self.in_flight.push_back((sent, offsets, written));
        while self.in_flight.len() > MAX_IN_FLIGHT {
            self.complete_oldest()?;
        }
        Ok(())
    }

    /// Converts a batch and checks its topics; the records and the offsets they commit.
    fn prepare(&self, polled: Polled) -> Result<(Vec<ProducerRecord>, Offsets), String> {
        let (connector, task) = (self.spec.connector.as_str(), self.spec.id);
        let Polled { records, offsets: latest } = polled;
        let mut batch = Vec::with_capacity(records.len() + latest.len());
        for record in records {
            // Checked here, after the transforms, because a router (RegexRouter, TimestampRouter)
            // or the plugin itself decides the topic; the whole batch stays unwritten.
            if let Some(tenant) = self.tenant.filter(|t| !t.allows_topic(&record.topic)) {
                return Err(format!(
                    "a record is for topic {:?}, but tenant {}'s connectors may write only to topics starting with {:?}; \
                     nothing of this batch was written. Change the connector's topic settings or its transforms.",
                    record.topic, tenant.name, tenant.topic_prefix
                ));
            }
            batch.push(produce(record, self.converters)?);
        }
        let json = |text: &str, what: &str| {
            serde_json::from_str::<serde_json::Value>(text).map_err(|e| format!("the plugin's source {what} {text:?} is not JSON: {e}"))
        };
        let mut offsets = Vec::with_capacity(latest.len());
        for (partition, offset) in &latest {
            offsets.push((json(partition, "partition")?, json(offset, "offset")?));
        }
        let topics: std::collections::BTreeSet<&str> = batch.iter().map(|r| r.topic.as_str()).collect();
        for topic in &topics {
            self.ctx.status.topic_used(connector, topic, task);
        }
        if let Some(creator) = &self.topics {
            creator.ensure(self.log, topics).map_err(|e| format!("cannot create a topic by the connector's topic.creation.* rules: {e}"))?;
        }
        Ok((batch, offsets))
    }

    /// Waits for the oldest batch under way; every so many, the offsets of those done are
    /// written.
    fn complete_oldest(&mut self) -> Result<(), String> {
        let Some((sent, offsets, written)) = self.in_flight.pop_front() else { return Ok(()) };
        sent.wait().map_err(|e| format!("cannot write to the topic log: {e}"))?;
        self.metrics.written(written);
        self.acked.extend(offsets);
        self.acked_batches += 1;
        if self.acked_batches >= OFFSETS_EVERY { self.write_offsets() } else { Ok(()) }
    }

    /// Waits for everything under way and writes its offsets.
    fn settle(&mut self) -> Result<(), String> {
        while !self.in_flight.is_empty() {
            self.complete_oldest()?;
        }
        self.write_offsets()
    }

    /// One append of the latest acknowledged offset per source partition.
    fn write_offsets(&mut self) -> Result<(), String> {
        self.acked_batches = 0;
        let mut latest: Offsets = Vec::new();
        for (partition, offset) in std::mem::take(&mut self.acked) {
            match latest.iter_mut().find(|(p, _)| *p == partition) {
                Some(entry) => entry.1 = offset,
                None => latest.push((partition, offset)),
            }
        }
        if latest.is_empty() {
            return Ok(());
        }
        let records = latest.iter().map(|(p, o)| self.ctx.source_offsets.record(&self.spec.connector, p, Some(o))).collect();
        let appended = self.log.append(records);
        self.metrics.committed(appended.is_ok());
        appended.map_err(|e| format!("cannot commit the source offsets: {e}"))?;
        self.remember(latest);
        Ok(())
    }

    fn remember(&self, offsets: Offsets) {
        for (partition, offset) in offsets {
            self.ctx.source_offsets.remember(&self.spec.connector, partition, Some(offset));
        }
    }
}

fn produce(record: TransformRecord, converters: &Converters) -> Result<ProducerRecord, String> {
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

pub const BATCH_KEY: &str = "wasm.batch.max.records";
const DEFAULT_MAX_BATCH: usize = 100_000;

/// The connector's `wasm.batch.max.records`, from 1 to 1,000,000 (default 100,000).
pub fn batch_cap(config: &BTreeMap<String, String>) -> Result<usize, String> {
    match config.get(BATCH_KEY) {
        None => Ok(DEFAULT_MAX_BATCH),
        Some(v) => v
            .trim()
            .parse()
            .ok()
            .filter(|n| (1..=1_000_000).contains(n))
            .ok_or_else(|| format!("{BATCH_KEY} must be a whole number from 1 to 1000000, not {v:?}")),
    }
}
