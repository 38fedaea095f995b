//! A sink task's reads, one batch ahead, on a thread of their own: while the task puts a
//! batch (and mostly waits for its database), the fetcher reads the next batch from the
//! topic log and converts it, so the host's work on one batch overlaps the database's
//! work on the one before.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::time::{Duration, Instant};

use wasmconnect_log::{ConsumerRecord, LogError, TopicLog, TopicPartition};

use super::dead_letter::{Failure, Stage};
use super::retry::Retries;
use super::{Converters, TaskSpec, WorkerContext};
use crate::runtime::SinkRecord;

/// Records handed to one `put`, like the consumer's `max.poll.records`.
const MAX_BATCH: usize = 500;
/// How long the fetcher waits for an append before it looks again (and at `done`).
const IDLE_WAIT: Duration = Duration::from_millis(200);
/// How often a pause between retries looks whether the task has ended.
const DONE_CHECK: Duration = Duration::from_millis(100);

/// A batch read: each record as it was read (for the dead-letter queue) and as converted,
/// or why it could not be; and the positions past it, to commit once it is put.
pub struct Fetched {
    pub records: Vec<(ConsumerRecord, Result<SinkRecord, Failure>)>,
    pub next: BTreeMap<TopicPartition, i64>,
}

pub struct Fetcher<'a> {
    pub ctx: &'a WorkerContext,
    pub spec: &'a TaskSpec,
    /// The worker's log, or one with the connector's consumer overrides.
    pub log: Arc<dyn TopicLog>,
    pub group: &'a str,
    pub topics: Vec<String>,
    pub converters: Converters,
    /// Where the plugin asked to resume, from offsets it keeps itself: wins over the group's.
    pub resume_at: BTreeMap<TopicPartition, i64>,
    /// Next offset to read per partition.
    pub positions: BTreeMap<TopicPartition, i64>,
}

impl Fetcher<'_> {
    /// Sends batches until the task hangs up (or sets `done`), or sends why reading failed.
    pub fn run(mut self, batches: SyncSender<Result<Fetched, String>>, done: &AtomicBool) {
        // A topic log that cannot be read (a Kafka broker that is down) is waited out.
        let mut reads = Retries::new(self.ctx, self.spec, "reading the topics");
        while !done.load(Ordering::Relaxed) {
            let seen = self.log.append_count();
            self.assign_partitions();
            let records = match self.fetch() {
                Ok(records) => {
                    reads.succeeded();
                    records
                }
                Err(e) if e.is_retriable() => match reads.failed(&e.to_string()) {
                    Ok(pause) => {
                        pause_unless_done(pause, done);
                        continue;
                    }
                    Err(failed) => {
                        let _ = batches.send(Err(failed));
                        return;
                    }
                },
                Err(e) => {
                    let _ = batches.send(Err(e.to_string()));
                    return;
                }
            };
            if records.is_empty() {
                self.log.wait_for_append(seen, IDLE_WAIT);
                continue;
            }
            // Positions move past every record read, including those set aside.
            let mut next = BTreeMap::new();
            for r in &records {
                next.insert(TopicPartition { topic: r.topic.clone(), partition: r.partition }, r.offset + 1);
            }
            self.positions.extend(next.iter().map(|(tp, offset)| (tp.clone(), *offset)));
            let records = records
                .into_iter()
                .map(|r| {
                    let converted = self.convert(&r);
                    (r, converted)
                })
                .collect();
            if batches.send(Ok(Fetched { records, next })).is_err() {
                return;
            }
        }
    }

    /// Picks up partitions of subscribed topics, including topics created since the last look.
    fn assign_partitions(&mut self) {
        for topic in &self.topics {
            for partition in 0..self.log.partitions(topic).unwrap_or(0) {
                let tp = TopicPartition { topic: topic.clone(), partition };
                if !self.positions.contains_key(&tp) {
                    // Like a new consumer group with auto.offset.reset=earliest.
                    let committed = || self.ctx.group_offsets.position(self.group, &tp).unwrap_or(0);
                    let start = self.resume_at.get(&tp).copied().unwrap_or_else(committed);
                    self.positions.insert(tp, start);
                }
            }
        }
    }

    fn fetch(&self) -> Result<Vec<ConsumerRecord>, LogError> {
        let mut records = Vec::new();
        for (tp, position) in &self.positions {
            let room = MAX_BATCH - records.len();
            if room == 0 {
                break;
            }
            records.extend(self.log.read(tp, *position, room)?);
        }
        Ok(records)
    }

    fn convert(&self, record: &ConsumerRecord) -> Result<SinkRecord, Failure> {
        let topic = &record.topic;
        // Only a failure needs the position as text; formatting it for every record costs.
        let at = || format!("topic {topic} partition {} offset {}", record.partition, record.offset);
        let key = self
            .converters
            .key
            .to_connect_data(topic, record.key.as_deref())
            .map_err(|e| Failure::new(Stage::KeyConverter, Some(&self.converters.key_class), format!("cannot convert the key of the record at {}: {e}", at())))?;
        let value = self
            .converters
            .value
            .to_connect_data(topic, record.value.as_deref())
            .map_err(|e| Failure::new(Stage::ValueConverter, Some(&self.converters.value_class), format!("cannot convert the value of the record at {}: {e}", at())))?;
        let some = |d: wasmconnect_data::Data| (d.schema.is_some() || d.value != wasmconnect_data::Value::Null).then_some(d);
        Ok(SinkRecord {
            topic: topic.clone(),
            partition: record.partition,
            offset: record.offset,
            key: some(key),
            value: some(value),
            timestamp: Some(record.timestamp),
            headers: Vec::new(),
        })
    }
}

fn pause_unless_done(pause: Duration, done: &AtomicBool) {
    let until = Instant::now() + pause;
    while !done.load(Ordering::Relaxed) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(DONE_CHECK));
    }
}
