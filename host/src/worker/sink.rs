//! The sink task loop: read the subscribed topics from the committed position of the
//! consumer group `connect-<connector>` and convert (a batch ahead, on a thread of their
//! own), transform, `put` a batch, then commit the positions (on another thread, while the
//! next batch is put).
//! A record that cannot be converted or written fails the task with a message that says
//! why, or goes to the dead-letter queue with `errors.tolerance=all`; it is never dropped.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use wasmconnect_log::{ConsumerRecord, TopicPartition};

use super::chain::TransformChain;
use super::committer::Committer;
use super::dead_letter::{DeadLetters, Failure, Original, Stage};
use super::fetcher::{Fetched, Fetcher};
use crate::metrics::TaskMetrics;
use super::retry::Retries;
use super::{Converters, StopSignal, TaskSpec, WorkerContext, start_plugin};
use crate::runtime::{PluginError, SinkInstance, SinkRecord, TransformRecord};

/// How long an idle task waits for a batch before it looks for a stop request.
const IDLE_WAIT: Duration = Duration::from_millis(200);

struct SinkTask<'a> {
    ctx: &'a WorkerContext,
    spec: &'a TaskSpec,
    chain: Option<TransformChain>,
    metrics: TaskMetrics,
    dead_letters: DeadLetters,
    /// Positions put but not handed to the committer yet, and how often to hand them over:
    /// the worker's `offset.flush.interval.ms`, or after every batch when it is not set.
    uncommitted: BTreeMap<TopicPartition, i64>,
    flush_every: Option<Duration>,
    last_flush: Instant,
    committer: &'a Committer,
}

pub fn run(ctx: &WorkerContext, spec: &TaskSpec, stop: &StopSignal) -> Result<(), String> {
    let topics: Vec<String> = spec
        .config
        .get("topics")
        .map(|t| t.split(',').map(str::trim).filter(|t| !t.is_empty()).map(String::from).collect())
        .unwrap_or_default();
    if topics.is_empty() {
        return Err("a sink connector needs `topics`: the comma-separated topics to read".into());
    }
    let converters = Converters::for_connector(&spec.config, &ctx.worker_config).map_err(|e| e.to_string())?;
    let group = format!("connect-{}", spec.connector);
    let metrics = TaskMetrics::new(ctx.metrics.clone(), &spec.connector, spec.id);
    let committer = Committer::new();
    let fetcher = Fetcher {
        ctx,
        spec,
        log: ctx.log_for(&spec.config)?,
        group: &group,
        topics,
        converters,
        resume_at: BTreeMap::new(),
        positions: BTreeMap::new(),
    };
    let mut task = SinkTask {
        ctx,
        spec,
        chain: TransformChain::start(ctx, spec)?,
        metrics: metrics.clone(),
        dead_letters: DeadLetters::from_config(&spec.config),
        uncommitted: BTreeMap::new(),
        flush_every: flush_interval(&ctx.worker_config)?,
        last_flush: Instant::now(),
        committer: &committer,
    };
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name(format!("{}-commit-{}", spec.connector, spec.id))
            .spawn_scoped(scope, || committer.run(commit_positions(ctx, spec, &group, &metrics)))
            .map_err(|e| format!("cannot start the thread that commits the task's positions: {e}"))?;
        // Ends the committer's thread however the task ends, so the scope can end too.
        let _closing = committer.closing();
        task.run(fetcher, stop)
    })
}

impl SinkTask<'_> {
    fn run(&mut self, mut fetcher: Fetcher, stop: &StopSignal) -> Result<(), String> {
        let (ctx, spec) = (self.ctx, self.spec);
        let task_ctx = ctx.task_context(&spec.connector, Some(spec.id), &spec.config)?;
        let mut instance = ctx.runtime.sink(&spec.plugin, task_ctx).map_err(|e| e.to_string())?;
        if !start_plugin(ctx, spec, stop, || instance.start())? {
            return Ok(());
        }
        fetcher.resume_at = instance.resume_offsets().into_iter().map(|(topic, partition, offset)| (TopicPartition { topic, partition }, offset)).collect();
        if !fetcher.resume_at.is_empty() {
            tracing::info!(connector = %spec.connector, task = spec.id, offsets = ?fetcher.resume_at, "resuming from the offsets the sink keeps");
        }
        let done = AtomicBool::new(false);
        let mut result = std::thread::scope(|scope| {
            // One batch waits while another is put, as a consumer fetches ahead.
            let (batches, fetched) = std::sync::mpsc::sync_channel(1);
            std::thread::Builder::new()
                .name(format!("{}-fetch-{}", spec.connector, spec.id))
                .spawn_scoped(scope, || fetcher.run(batches, &done))
                .map_err(|e| format!("cannot start the thread that reads the task's topics: {e}"))?;
            let consumed = self.consume_until_stopped(&mut instance, &fetched, stop);
            // The fetcher ends at its next look, or when its next batch finds no one to take it.
            done.store(true, Ordering::Relaxed);
            consumed
        });
        if result.is_ok() {
            // What was put before the stop is committed, so it is not read again.
            result = self.flush().and_then(|()| self.committer.wait_committed());
        }
        if let Err(e) = instance.stop() {
            tracing::warn!(connector = %spec.connector, "stopping the plugin failed: {e}");
        }
        result
    }

    fn consume_until_stopped(&mut self, instance: &mut SinkInstance, fetched: &Receiver<Result<Fetched, String>>, stop: &StopSignal) -> Result<(), String> {
        while !stop.stopped() {
            self.committer.check()?;
            match fetched.recv_timeout(IDLE_WAIT) {
                Ok(batch) => {
                    let batch = batch?;
                    self.metrics.read(batch.records.len());
                    self.deliver(instance, batch, stop)?;
                }
                Err(RecvTimeoutError::Timeout) if self.flush_due() => self.flush()?,
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Err("the thread that reads the task's topics ended".into()),
            }
        }
        Ok(())
    }

    /// Puts the records of a batch, then commits their positions.
    fn deliver(&mut self, instance: &mut SinkInstance, batch: Fetched, stop: &StopSignal) -> Result<(), String> {
        let Fetched { records, next } = batch;
        for tp in next.keys() {
            self.ctx.status.topic_used(&self.spec.connector, &tp.topic, self.spec.id);
        }
        let mut converted = Vec::with_capacity(records.len());
        let mut originals = Vec::with_capacity(records.len());
        for (record, converted_record) in records {
            match converted_record {
                Ok(sink_record) => {
                    converted.push(sink_record);
                    originals.push(record);
                }
                Err(failure) => self.tolerate(&record, &failure)?,
            }
        }
        let (mut converted, mut originals) = self.transform(converted, originals)?;
        let mut retries = Retries::new(self.ctx, self.spec, "put");
        let started = Instant::now();
        while !converted.is_empty() {
            let call = Instant::now();
            let put = instance.put(&converted);
            self.metrics.call("put", call.elapsed(), instance.memory_bytes());
            if let Err(e) = &put {
                self.metrics.failed_call(e);
            }
            match put {
                Ok(()) => {
                    retries.succeeded();
                    self.metrics.sent(converted.len(), started.elapsed());
                    break;
                }
                Err(PluginError::Record { index, message }) if (index as usize) < converted.len() => {
                    let index = index as usize;
                    self.tolerate(&originals[index], &Failure::new(Stage::TaskPut, Some(&self.spec.plugin.manifest.class), message))?;
                    converted.remove(index);
                    originals.remove(index);
                }
                Err(PluginError::Retriable(message)) => {
                    if stop.wait(retries.failed(&message)?) {
                        // Nothing of this batch is committed; it is read again after a restart.
                        return Ok(());
                    }
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        self.commit(next)
    }

    /// Runs the transforms over the converted records; `originals` (for the dead-letter
    /// queue) stay paired with what comes out. A record a transform drops is done with.
    fn transform(
        &mut self,
        converted: Vec<SinkRecord>,
        originals: Vec<ConsumerRecord>,
    ) -> Result<(Vec<SinkRecord>, Vec<ConsumerRecord>), String> {
        let Some(chain) = self.chain.as_mut() else { return Ok((converted, originals)) };
        let inputs = converted
            .into_iter()
            .map(|r| TransformRecord {
                topic: r.topic,
                kafka_partition: Some(r.partition),
                kafka_offset: Some(r.offset),
                key: r.key,
                value: r.value,
                timestamp: r.timestamp,
                headers: r.headers,
            })
            .collect();
        let count = originals.len();
        let out = chain.apply(inputs, &self.metrics)?;
        self.metrics.dropped(count - out.records.len() - out.failures.len());
        for (index, message) in &out.failures {
            self.tolerate(&originals[*index], &Failure::new(Stage::Transformation, None, format!("a transform failed: {message}")))?;
        }
        let mut slots: Vec<Option<ConsumerRecord>> = originals.into_iter().map(Some).collect();
        let mut records = Vec::with_capacity(out.records.len());
        let mut kept = Vec::with_capacity(out.records.len());
        for (index, r) in out.records {
            let original = slots[index].take().ok_or("the transforms returned one record twice")?;
            records.push(SinkRecord {
                topic: r.topic,
                partition: r.kafka_partition.unwrap_or(original.partition),
                offset: original.offset,
                key: r.key,
                value: r.value,
                timestamp: r.timestamp,
                headers: r.headers,
            });
            kept.push(original);
        }
        Ok((records, kept))
    }

    /// With `errors.tolerance=all` a bad record goes to the dead-letter queue (if one is
    /// configured), as it was read, and the task carries on; otherwise the task fails on it.
    fn tolerate(&self, record: &ConsumerRecord, failure: &Failure) -> Result<(), String> {
        self.metrics.record_errors(1);
        let message = &failure.message;
        if !self.dead_letters.tolerates_all() {
            return Err(format!("{}\n{message}", crate::herder::hint::RECORD_STOPPED));
        }
        tracing::warn!(connector = %self.spec.connector, "skipping a bad record: {message}");
        let original = Original { key: record.key.clone(), value: record.value.clone(), timestamp: Some(record.timestamp), headers: record.headers.clone() };
        let context = [("topic", record.topic.clone()), ("partition", record.partition.to_string()), ("offset", record.offset.to_string())];
        let Some(dead) = self.dead_letters.letter(original, &context, &self.spec.connector, self.spec.id, failure) else { return Ok(()) };
        let topic = dead.topic.clone();
        self.ctx
            .log
            .append(vec![dead])
            .map(|_| self.metrics.dead_lettered(1))
            .map_err(|e| format!("{message}; writing it to the dead-letter queue {topic} failed too: {e}"))
    }

    /// Moves past a batch that was put; its positions are committed now or, with
    /// `offset.flush.interval.ms`, with the next flush.
    fn commit(&mut self, next: BTreeMap<TopicPartition, i64>) -> Result<(), String> {
        self.uncommitted.extend(next);
        if self.flush_due() { self.flush() } else { Ok(()) }
    }

    fn flush_due(&self) -> bool {
        !self.uncommitted.is_empty() && self.flush_every.is_none_or(|every| self.last_flush.elapsed() >= every)
    }

    /// Hands the positions put so far to the committer.
    fn flush(&mut self) -> Result<(), String> {
        self.last_flush = Instant::now();
        if self.uncommitted.is_empty() {
            return Ok(());
        }
        self.committer.submit(std::mem::take(&mut self.uncommitted))
    }
}

/// Commits positions for the committer's thread, retrying while the store is unavailable:
/// the records are in the sink already, so giving up would only make them come again.
fn commit_positions<'a>(
    ctx: &'a WorkerContext,
    spec: &'a TaskSpec,
    group: &'a str,
    metrics: &'a TaskMetrics,
) -> impl FnMut(&[(TopicPartition, i64)]) -> Result<(), String> + 'a {
    let mut retries = Retries::new(ctx, spec, "committing the positions");
    move |positions| loop {
        let committed = ctx.group_offsets.commit(group, positions);
        metrics.committed(committed.is_ok());
        match committed {
            Ok(()) => {
                retries.succeeded();
                return Ok(());
            }
            Err(e) => std::thread::sleep(retries.failed(&format!("cannot commit the positions of {group}: {e:#}"))?),
        }
    }
}

/// The worker's `offset.flush.interval.ms`: how often a sink commits its positions.
fn flush_interval(worker: &BTreeMap<String, String>) -> Result<Option<Duration>, String> {
    worker
        .get("offset.flush.interval.ms")
        .map(|v| {
            v.trim()
                .parse()
                .map(Duration::from_millis)
                .map_err(|_| format!("the worker's offset.flush.interval.ms must be a number of milliseconds, not {v:?}"))
        })
        .transpose()
}
