//! The source task loop: poll the plugin, transform, convert, and append the records with
//! their source offsets: on the embedded log in one atomic write, so a crash can neither lose
//! nor repeat them; on Kafka the offsets follow the acknowledged records (at least once), or
//! with `exactly.once.source.support=enabled` go with them in one Kafka transaction.
//! With `errors.tolerance=all`, a record a transform or the converter fails on is skipped, or
//! with a dead-letter topic written there in the same append, and its offset commits.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use wasmconnect_log::{LogError, ProducerRecord, Sent, TopicLog, Transactional};

use super::chain::TransformChain;
use super::dead_letter::{DeadLetters, Failure, SourceErrors, Stage};
use super::exactly_once::{self, Boundary, WorkerSupport};
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
/// offset of each source partition polled, records dropped or set aside included.
struct Polled {
    records: Vec<TransformRecord>,
    /// For each of `records`, the index of the polled record it came from.
    origins: Vec<usize>,
    /// The records as polled, kept only when the connector has a dead-letter topic.
    originals: Vec<PolledRecord>,
    /// Dead-letter records of those a transform failed on.
    letters: Vec<ProducerRecord>,
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
    let errors = SourceErrors::new(DeadLetters::from_config(&spec.config));
    let mut polling = Polling {
        spec,
        instance: &mut instance,
        chain: chain.as_mut(),
        errors: &errors,
        metrics: &metrics,
        retries: Retries::new(ctx, spec, "poll"),
        max_batch: batch_cap(&spec.config)?,
    };
    let result = pipeline(ctx, spec, stop, &mut polling, (&converters, &errors), tenant.as_deref());
    // A stopped task reads nothing: its last "remaining" would be stale.
    metrics.remaining(None);
    if let Err(e) = instance.stop() {
        tracing::warn!(connector = %spec.connector, "stopping the plugin failed: {e}");
    }
    result
}

/// With `exactly.once.source.support=enabled` on a log without atomic appends (Kafka), the
/// task's transactional producer: starting it fences any older instance of the task.
fn transaction(ctx: &WorkerContext, spec: &TaskSpec, log: &dyn TopicLog) -> Result<Option<Transaction>, String> {
    let (WorkerSupport::Enabled, Some(group)) = (ctx.exactly_once, &ctx.group_id) else { return Ok(None) };
    let boundary = Boundary::from_config(&spec.config, &ctx.worker_config).map_err(|(key, problem)| format!("{key}: {problem}"))?;
    let id = exactly_once::transactional_id(group, &spec.connector, spec.id);
    let Some(producer) = log.transactional(&id, boundary.longest()) else { return Ok(None) };
    let producer = producer.map_err(|e| format!("cannot start the task's transactional producer: {e}"))?;
    Ok(Some(Transaction { producer, boundary, opened: None, offsets: Vec::new(), written: 0, letters: 0 }))
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
    (converters, errors): (&Converters, &SourceErrors),
    tenant: Option<&Tenant>,
) -> Result<(), String> {
    let log = ctx.log_for(&spec.config)?;
    let creation = TopicCreation::from_config(&spec.config).map_err(|(key, problem)| format!("{key}: {problem}"))?;
    let transaction = transaction(ctx, spec, log.as_ref())?;
    let appending = Appender {
        ctx,
        spec,
        log: log.as_ref(),
        topics: creation.map(TopicCreator::new),
        converters,
        errors,
        metrics: polling.metrics,
        tenant,
        in_flight: VecDeque::new(),
        acked: Vec::new(),
        acked_batches: 0,
        transaction,
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

/// The polling side of a task: its plugin and its transforms.
struct Polling<'a> {
    spec: &'a TaskSpec,
    instance: &'a mut SourceInstance,
    chain: Option<&'a mut TransformChain>,
    errors: &'a SourceErrors,
    metrics: &'a TaskMetrics,
    retries: Retries<'a>,
    /// `wasm.batch.max.records`: more in one poll fails the task, so a flooding plugin
    /// cannot make the worker hold and convert without bound.
    max_batch: usize,
}

impl Polling<'_> {
    /// Runs the transforms; a record one fails on fails the task, or with
    /// `errors.tolerance=all` is set aside (its offset still commits).
    fn transform(&mut self, polled: Vec<PolledRecord>) -> Result<Polled, String> {
        let originals = if self.errors.keeps_originals() { polled.clone() } else { Vec::new() };
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
        let origins = (0..records.len()).collect();
        let mut batch = Polled { records, origins, originals, letters: Vec::new(), offsets };
        let Some(chain) = self.chain.as_deref_mut() else { return Ok(batch) };
        let inputs = std::mem::take(&mut batch.records);
        let count = inputs.len();
        let out = chain.apply(inputs, self.metrics)?;
        self.metrics.dropped(count - out.records.len() - out.failures.len());
        self.metrics.record_errors(out.failures.len());
        for (index, message) in out.failures {
            let failure = Failure::new(Stage::Transformation, None, format!("a transform failed on a record: {message}"));
            batch.letters.extend(self.errors.set_aside(batch.originals.get(index), &self.spec.connector, self.spec.id, &failure)?);
        }
        (batch.origins, batch.records) = out.records.into_iter().unzip();
        Ok(batch)
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

/// A converted batch: its records (those for the dead-letter queue last) and the source
/// offsets it commits.
struct Prepared {
    records: Vec<ProducerRecord>,
    /// How many of `records` are dead letters.
    letters: usize,
    offsets: Offsets,
}

/// The open transaction of an exactly-once task: what it holds is committed together.
struct Transaction {
    producer: Box<dyn Transactional>,
    boundary: Boundary,
    /// When its first batch was sent; `None` while nothing is open.
    opened: Option<Instant>,
    /// The source offsets of its batches, remembered once it commits.
    offsets: Offsets,
    written: usize,
    letters: usize,
}

impl Transaction {
    /// How long it may stay open still; `None` while nothing is open.
    fn due_in(&self) -> Option<Duration> {
        Some(self.boundary.longest().saturating_sub(self.opened?.elapsed()))
    }
}

/// A batch sent and not yet acknowledged.
struct InFlight {
    sent: Sent,
    offsets: Offsets,
    written: usize,
    letters: usize,
}

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
    errors: &'a SourceErrors,
    metrics: &'a TaskMetrics,
    tenant: Option<&'a Tenant>,
    /// Sent batches, oldest first.
    in_flight: VecDeque<InFlight>,
    /// Offsets of acknowledged batches not written yet, and how many batches they cover.
    acked: Offsets,
    acked_batches: usize,
    /// Exactly-once on Kafka: batches and their offsets go into transactions instead.
    transaction: Option<Transaction>,
}

impl Appender<'_> {
    fn run(mut self, received: Receiver<Polled>) -> Result<(), String> {
        loop {
            let polled = match self.idle_wait() {
                None => match received.recv() {
                    Ok(polled) => polled,
                    Err(_) => break,
                },
                Some(wait) => match received.recv_timeout(wait) {
                    Ok(polled) => polled,
                    Err(RecvTimeoutError::Timeout) if self.transaction.is_some() => {
                        self.commit_transaction()?;
                        continue;
                    }
                    Err(RecvTimeoutError::Timeout) => {
                        self.settle(Some(self.ctx.offset_flush_timeout))?;
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                },
            };
            self.write(polled)?;
        }
        // The last commit of a stopping task waits for every acknowledgement (librdkafka gives
        // up at its delivery timeout), so what it sent is not sent again by its successor;
        // the worker leaves it behind after task.shutdown.graceful.timeout.ms.
        self.settle(None)?;
        self.commit_transaction()
    }

    /// How long to wait for the next batch before committing what is under way; `None`:
    /// nothing is, so wait as long as it takes.
    fn idle_wait(&self) -> Option<Duration> {
        match &self.transaction {
            Some(transaction) => transaction.due_in(),
            None if self.in_flight.is_empty() && self.acked.is_empty() => None,
            None => Some(SETTLE_AFTER),
        }
    }

    fn write(&mut self, polled: Polled) -> Result<(), String> {
        let Prepared { records, letters, offsets } = self.prepare(polled)?;
        let written = records.len() - letters;
        if self.transaction.is_some() {
            return self.write_in_transaction(records, (written, letters), offsets);
        }
        if self.log.atomic_appends() {
            // Dead letters are in the same append, so they too are there exactly once.
            let mut batch = records;
            batch.extend(offsets.iter().map(|(p, o)| self.ctx.source_offsets.record(&self.spec.connector, p, Some(o))));
            let appended = self.log.append(batch);
            self.metrics.committed(appended.is_ok());
            appended.map_err(|e| format!("cannot write to the topic log: {e}"))?;
            self.metrics.written(written);
            self.metrics.dead_lettered(letters);
            self.remember(offsets);
            return Ok(());
        }
        let sent = self.log.send(records).map_err(|e| format!("cannot write to the topic log: {e}"))?;
        self.in_flight.push_back(InFlight { sent, offsets, written, letters });
        while self.in_flight.len() > MAX_IN_FLIGHT {
            self.complete_oldest()?;
        }
        Ok(())
    }

    /// Converts a batch and checks its topics; a record the converter fails on is set aside.
    fn prepare(&self, polled: Polled) -> Result<Prepared, String> {
        let (connector, task) = (self.spec.connector.as_str(), self.spec.id);
        let Polled { records, origins, originals, mut letters, offsets: latest } = polled;
        let mut batch = Vec::with_capacity(records.len() + letters.len() + latest.len());
        for (record, origin) in records.into_iter().zip(origins) {
            // Checked here, after the transforms, because a router (RegexRouter, TimestampRouter)
            // or the plugin itself decides the topic; the whole batch stays unwritten.
            if let Some(tenant) = self.tenant.filter(|t| !t.allows_topic(&record.topic)) {
                return Err(format!(
                    "a record is for topic {:?}, but tenant {}'s connectors may write only to topics starting with {:?}; \
                     nothing of this batch was written. Change the connector's topic settings or its transforms.",
                    record.topic, tenant.name, tenant.topic_prefix
                ));
            }
            match produce(&record, self.converters) {
                Ok(produced) => batch.push(produced),
                Err(failure) => {
                    self.metrics.record_errors(1);
                    letters.extend(self.errors.set_aside(originals.get(origin), connector, task, &failure)?);
                }
            }
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
        let letters_count = letters.len();
        batch.extend(letters);
        Ok(Prepared { records: batch, letters: letters_count, offsets })
    }

    /// Waits for the oldest batch under way; every so many, the offsets of those done are
    /// written.
    fn complete_oldest(&mut self) -> Result<(), String> {
        let Some(InFlight { sent, offsets, written, letters }) = self.in_flight.pop_front() else { return Ok(()) };
        sent.wait().map_err(|e| format!("cannot write to the topic log: {e}"))?;
        self.metrics.written(written);
        self.metrics.dead_lettered(letters);
        self.acked.extend(offsets);
        self.acked_batches += 1;
        if self.acked_batches >= OFFSETS_EVERY { self.write_offsets() } else { Ok(()) }
    }

    /// Commits the offsets of what is under way: waits for its acknowledgements, for up to
    /// `limit` (`offset.flush.timeout.ms` while the task runs). Past that, as in Kafka
    /// Connect, the commit is put off (and counted as a failed one): the offsets of the
    /// batches acknowledged so far are written, the others stay under way for the next
    /// commit, so no offset covers an unacknowledged record.
    fn settle(&mut self, limit: Option<Duration>) -> Result<(), String> {
        let deadline = limit.map(|limit| Instant::now() + limit);
        while let Some(oldest) = self.in_flight.front() {
            if let Some(deadline) = deadline
                && !oldest.sent.settled_within(deadline.saturating_duration_since(Instant::now()))
            {
                let waiting: usize = self.in_flight.iter().map(|f| f.written + f.letters).sum();
                tracing::warn!(
                    connector = %self.spec.connector,
                    "{waiting} records were not acknowledged within {}={} ms; their offsets are committed later",
                    super::FLUSH_TIMEOUT_KEY,
                    limit.unwrap_or_default().as_millis()
                );
                self.metrics.committed(false);
                break;
            }
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

    /// Sends a batch with the records that commit its offsets into the open transaction (dead
    /// letters included, so they too are there exactly once), and commits at the boundary.
    fn write_in_transaction(&mut self, mut records: Vec<ProducerRecord>, (written, letters): (usize, usize), offsets: Offsets) -> Result<(), String> {
        let (connector, source_offsets) = (&self.spec.connector, &self.ctx.source_offsets);
        records.extend(offsets.iter().map(|(p, o)| source_offsets.record(connector, p, Some(o))));
        let Some(transaction) = self.transaction.as_mut() else { return Ok(()) };
        if let Err(e) = transaction.producer.send(records) {
            return Err(self.abort_transaction(e));
        }
        transaction.opened.get_or_insert_with(Instant::now);
        transaction.offsets.extend(offsets);
        transaction.written += written;
        transaction.letters += letters;
        if transaction.due_in().is_some_and(|left| left.is_zero()) { self.commit_transaction() } else { Ok(()) }
    }

    /// Commits the open transaction; then its offsets are the task's committed ones.
    fn commit_transaction(&mut self) -> Result<(), String> {
        let Some(transaction) = self.transaction.as_mut() else { return Ok(()) };
        if transaction.opened.is_none() {
            return Ok(());
        }
        let committed = transaction.producer.commit();
        self.metrics.committed(committed.is_ok());
        // A failed commit was aborted: nothing of it is visible, and its offsets are not
        // remembered, so the restarted task reads its records again.
        committed.map_err(|e| match e {
            LogError::Fenced { .. } => e.to_string(),
            _ => format!("cannot commit the transaction of records and source offsets, so the task resumes from its last committed offsets: {e}"),
        })?;
        transaction.opened = None;
        self.metrics.written(std::mem::take(&mut transaction.written));
        self.metrics.dead_lettered(std::mem::take(&mut transaction.letters));
        let offsets = std::mem::take(&mut transaction.offsets);
        self.remember(offsets);
        Ok(())
    }

    /// Aborts the open transaction after `cause`. A fenced producer cannot, and need not:
    /// its successor aborted what it left open.
    fn abort_transaction(&mut self, cause: LogError) -> String {
        if matches!(cause, LogError::Fenced { .. }) {
            return cause.to_string();
        }
        let aborted = self.transaction.as_mut().map_or(Ok(()), |transaction| transaction.producer.abort());
        let outcome = match aborted {
            Ok(()) => "the open transaction was aborted, so the task resumes from its last committed offsets".to_owned(),
            Err(e) => format!("aborting the open transaction failed too: {e}"),
        };
        format!("cannot write to the topic log: {cause}; {outcome}")
    }

    fn remember(&self, offsets: Offsets) {
        for (partition, offset) in offsets {
            self.ctx.source_offsets.remember(&self.spec.connector, partition, Some(offset));
        }
    }
}

/// The record as the converters write it; what failed, when one of them cannot.
fn produce(record: &TransformRecord, converters: &Converters) -> Result<ProducerRecord, Failure> {
    let topic = &record.topic;
    let null = wasmconnect_data::Data::null();
    let convert = |converter: &dyn wasmconnect_convert::Converter, data: Option<&wasmconnect_data::Data>, what: &str| {
        converter
            .from_connect_data(topic, data.unwrap_or(&null))
            .map_err(|e| format!("cannot convert the {what} of a record for topic {topic}: {e}"))
    };
    fn failed(stage: Stage, class: &str) -> impl FnOnce(String) -> Failure + '_ {
        move |message| Failure::new(stage, Some(class), message)
    }
    let key = convert(converters.key.as_ref(), record.key.as_ref(), "key").map_err(failed(Stage::KeyConverter, &converters.key_class))?;
    let value = convert(converters.value.as_ref(), record.value.as_ref(), "value").map_err(failed(Stage::ValueConverter, &converters.value_class))?;
    // Header values are written by the value converter (there is no header.converter yet).
    let headers = record
        .headers
        .iter()
        .map(|(k, v)| Ok((k.clone(), convert(converters.value.as_ref(), Some(v), "header")?)))
        .collect::<Result<_, String>>()
        .map_err(failed(Stage::HeaderConverter, &converters.value_class))?;
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
