//! The embedded topic log: append-only segment files of CRC-checked batches per partition
//! (`<dir>/<topic>-<partition>/`), a metadata file per topic, and `commits.log`, whose
//! markers make every append atomic across partitions (see `commits`). Opening the log
//! recovers from a crash at any point (see `recovery`).
//!
//! Appends are serialized by the `writer` mutex and do their file IO (and fsync) under it
//! alone; readers only take the `index` lock, which an append holds just long enough to
//! make its committed batches visible.

mod batch;
mod commits;
mod index;
mod meta;
mod recovery;
mod segment;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use crate::partitioner::partition_for_key;
use crate::{ConsumerRecord, LogError, ProducerRecord, TopicConfig, TopicLog, TopicPartition, validate_topic_name};
use batch::StoredRecord;
use commits::Commits;
use index::PartitionIndex;
use meta::{io, partition_dir};
use segment::{FailedWrite, Pending, SegmentWriter};

/// When appends reach the disk. A process crash (SIGKILL, a panic, the OOM killer) loses
/// nothing under any policy: the operating system has every write. The policies differ
/// after a power loss or kernel crash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// `every-batch`: the batches and then the commit marker are synced before an append
    /// returns, so after a power loss every append that returned is there, all of it.
    Always,
    /// `interval`: data files, then `commits.log`, are synced every so often (at the first
    /// append after it passed, and by `start_flusher`'s thread when appends pause). After a
    /// power loss the appends since the last sync may be lost; as the operating system writes
    /// pages back in its own order, one of them may survive in some partitions and not
    /// others. Everything up to the last sync is there, atomic.
    Interval(Duration),
    /// Leave it all to the operating system (tests and benchmarks): as `Interval`, with no
    /// bound on how much a power loss takes.
    Never,
}

#[derive(Clone, Debug)]
pub struct EmbeddedOptions {
    /// Partitions of topics created by a first write.
    pub default_partitions: i32,
    pub fsync: FsyncPolicy,
    /// A segment file is rolled once it grows past this.
    pub segment_bytes: u64,
}

impl Default for EmbeddedOptions {
    fn default() -> Self {
        EmbeddedOptions { default_partitions: 1, fsync: FsyncPolicy::Always, segment_bytes: 64 << 20 }
    }
}

/// The partition a batch of one append went to.
type PartitionKey = (String, i32);

struct TopicWriter {
    config: TopicConfig,
    partitions: Vec<SegmentWriter>,
}

struct Writer {
    commits: Commits,
    topics: BTreeMap<String, TopicWriter>,
    /// Set when a failed append may have left bytes behind that only recovery removes:
    /// committing anything after them could make them look committed.
    failure: Option<String>,
    /// The last time everything written was synced.
    synced_at: Instant,
}

/// What opening the log cut off one partition's end: a torn write, a batch failing its
/// CRC, or an append whose commit marker never reached the disk.
#[derive(Clone, Debug, PartialEq)]
pub struct Truncation {
    pub topic: String,
    pub partition: i32,
    /// The first offset cut off: the partition's end offset after recovery.
    pub offset: i64,
    pub bytes: u64,
    pub reason: String,
}

struct TopicIndex {
    config: TopicConfig,
    partitions: Vec<PartitionIndex>,
}

pub struct EmbeddedLog {
    dir: PathBuf,
    options: EmbeddedOptions,
    writer: Mutex<Writer>,
    index: RwLock<BTreeMap<String, TopicIndex>>,
    appends: Mutex<u64>,
    appended: Condvar,
    recovered: Vec<Truncation>,
    /// Test hook: the next append stops after writing its batches, before the marker, as if
    /// the process died there.
    #[cfg(test)]
    crash_before_commit: std::sync::atomic::AtomicBool,
}

impl EmbeddedLog {
    /// Opens (or creates) the log in `dir`, recovering every partition.
    pub fn open(dir: &Path, options: EmbeddedOptions) -> Result<EmbeddedLog, LogError> {
        if options.default_partitions < 1 {
            return Err(LogError::InvalidPartitionCount(options.default_partitions));
        }
        std::fs::create_dir_all(dir).map_err(io(format!("cannot create {}", dir.display())))?;
        let commits = Commits::open(dir)?;
        let mut writers = BTreeMap::new();
        let mut indexes = BTreeMap::new();
        let mut recovered = Vec::new();
        for name in meta::list_topics(dir)? {
            let config = meta::read(dir, &name)?;
            let mut partitions = Vec::new();
            let mut partition_indexes = Vec::new();
            for p in 0..config.partitions {
                let (writer, index, cut) = recovery::recover_partition(&partition_dir(dir, &name, p), commits.last())?;
                partitions.push(writer);
                partition_indexes.push(index);
                recovered.extend(cut.map(|c| Truncation { topic: name.clone(), partition: p, offset: c.offset, bytes: c.bytes, reason: c.reason }));
            }
            writers.insert(name.clone(), TopicWriter { config, partitions });
            indexes.insert(name, TopicIndex { config, partitions: partition_indexes });
        }
        Ok(EmbeddedLog {
            dir: dir.to_owned(),
            options,
            writer: Mutex::new(Writer { commits, topics: writers, failure: None, synced_at: Instant::now() }),
            index: RwLock::new(indexes),
            appends: Mutex::new(0),
            appended: Condvar::new(),
            recovered,
            #[cfg(test)]
            crash_before_commit: Default::default(),
        })
    }

    /// What opening the log cut off, partition by partition.
    pub fn recovered(&self) -> &[Truncation] {
        &self.recovered
    }

    /// With `FsyncPolicy::Interval`, a thread that syncs what appends left unsynced once
    /// the interval has passed, so a pause in appends does not leave them unsynced; it ends
    /// with the log.
    pub fn start_flusher(log: &Arc<EmbeddedLog>) -> std::io::Result<()> {
        let FsyncPolicy::Interval(every) = log.options.fsync else { return Ok(()) };
        let log: Weak<EmbeddedLog> = Arc::downgrade(log);
        std::thread::Builder::new().name("log-flusher".into()).spawn(move || {
            while let Some(open) = log.upgrade() {
                let mut writer = open.writer.lock().unwrap();
                if writer.failure.is_none()
                    && writer.synced_at.elapsed() >= every
                    && let Err(e) = sync_all(&mut writer)
                {
                    tracing::error!("cannot sync the topic log, refusing appends until it is reopened: {e}");
                    writer.failure = Some(e.to_string());
                }
                let next = every.saturating_sub(writer.synced_at.elapsed()).max(Duration::from_millis(1));
                drop(writer);
                drop(open);
                std::thread::sleep(next);
            }
        })?;
        Ok(())
    }

    /// Creates the topic unless it exists; returns its partition count. The metadata file is
    /// written last, so a crash halfway leaves no topic.
    fn ensure_topic(&self, writer: &mut Writer, name: &str, config: TopicConfig) -> Result<i32, LogError> {
        if let Some(topic) = writer.topics.get(name) {
            return Ok(topic.config.partitions);
        }
        validate_topic_name(name)?;
        if config.partitions < 1 {
            return Err(LogError::InvalidPartitionCount(config.partitions));
        }
        let mut partitions = Vec::new();
        for p in 0..config.partitions {
            let dir = partition_dir(&self.dir, name, p);
            std::fs::create_dir_all(&dir).map_err(io(format!("cannot create {}", dir.display())))?;
            partitions.push(SegmentWriter::new(dir, None, 0));
        }
        meta::write(&self.dir, name, config)?;
        tracing::debug!(topic = name, partitions = config.partitions, "created topic");
        writer.topics.insert(name.to_owned(), TopicWriter { config, partitions });
        let indexes = (0..config.partitions).map(|_| PartitionIndex::new(0)).collect();
        self.index.write().unwrap().insert(name.to_owned(), TopicIndex { config, partitions: indexes });
        Ok(config.partitions)
    }

    /// The partition of every record, creating missing topics on the way.
    fn assign_partitions(&self, writer: &mut Writer, records: &[ProducerRecord]) -> Result<Vec<PartitionKey>, LogError> {
        let default = TopicConfig { partitions: self.options.default_partitions, compacted: false };
        records
            .iter()
            .map(|record| {
                let count = self.ensure_topic(writer, &record.topic, default)?;
                let partition = match (record.partition, &record.key) {
                    (Some(p), _) if !(0..count).contains(&p) => {
                        return Err(LogError::UnknownPartition { topic: record.topic.clone(), partition: p, partitions: count });
                    }
                    (Some(p), _) => p,
                    (None, Some(key)) => partition_for_key(key, count),
                    (None, None) => 0,
                };
                Ok((record.topic.clone(), partition))
            })
            .collect()
    }

    /// Writes (and, by policy, syncs) one batch per partition; on error none of them stays.
    fn write_batches(
        &self,
        writer: &mut Writer,
        txn: u64,
        groups: &BTreeMap<PartitionKey, Vec<&ProducerRecord>>,
    ) -> Result<Vec<(PartitionKey, Pending)>, LogError> {
        let now = now_millis();
        let mut written = Vec::with_capacity(groups.len());
        for (key, records) in groups {
            let stored: Vec<StoredRecord<'_>> = records
                .iter()
                .map(|r| StoredRecord {
                    timestamp: r.timestamp.unwrap_or(now),
                    key: r.key.as_deref(),
                    value: r.value.as_deref(),
                    headers: &r.headers,
                })
                .collect();
            match segment_writer(writer, key).write(txn, &stored, self.options.segment_bytes) {
                Ok(pending) => written.push((key.clone(), pending)),
                Err(failed) => {
                    let FailedWrite { error, pending } = *failed;
                    written.push((key.clone(), pending));
                    undo(writer, written);
                    return Err(error);
                }
            }
        }
        if self.options.fsync == FsyncPolicy::Always
            && let Err(error) = written.iter().try_for_each(|(key, _)| segment_writer(writer, key).sync())
        {
            undo(writer, written);
            return Err(error);
        }
        Ok(written)
    }

    /// Shows committed batches to readers, in the order they were written.
    fn publish(&self, written: &[(PartitionKey, Pending)]) {
        let mut index = self.index.write().unwrap();
        for ((topic, p), pending) in written {
            let partition = &mut index.get_mut(topic).expect("an indexed topic").partitions[*p as usize];
            if let Some(path) = pending.new_segment() {
                partition.add_segment(path.to_owned());
            }
            partition.add_batch(pending.batch);
        }
    }

    fn notify_append(&self) {
        *self.appends.lock().unwrap() += 1;
        self.appended.notify_all();
    }

    fn with_partition<T>(&self, tp: &TopicPartition, f: impl FnOnce(&PartitionIndex) -> T) -> Result<T, LogError> {
        let index = self.index.read().unwrap();
        let topic = index.get(&tp.topic).ok_or_else(|| LogError::UnknownTopic(tp.topic.clone()))?;
        let partition = usize::try_from(tp.partition).ok().and_then(|p| topic.partitions.get(p));
        let partition = partition.ok_or_else(|| LogError::UnknownPartition {
            topic: tp.topic.clone(),
            partition: tp.partition,
            partitions: topic.config.partitions,
        })?;
        Ok(f(partition))
    }
}

fn segment_writer<'a>(writer: &'a mut Writer, (topic, p): &PartitionKey) -> &'a mut SegmentWriter {
    &mut writer.topics.get_mut(topic).expect("a created topic").partitions[*p as usize]
}

/// Syncs every partition written since the last sync, then `commits.log`, so every marker
/// on disk has its batches on disk.
fn sync_all(writer: &mut Writer) -> Result<(), LogError> {
    writer.synced_at = Instant::now();
    if !writer.topics.values().any(|t| t.partitions.iter().any(SegmentWriter::dirty)) {
        return Ok(());
    }
    for topic in writer.topics.values_mut() {
        for partition in topic.partitions.iter_mut().filter(|p| p.dirty()) {
            partition.sync()?;
        }
    }
    writer.commits.sync()
}

/// Rolls written batches back; if that fails the log stops taking appends (see `failure`).
fn undo(writer: &mut Writer, written: Vec<(PartitionKey, Pending)>) {
    for (key, pending) in written.into_iter().rev() {
        if let Err(e) = segment_writer(writer, &key).undo(pending) {
            tracing::error!("cannot roll back a failed append, refusing appends until the log is reopened: {e}");
            writer.failure = Some(e.to_string());
        }
    }
}

/// Offsets of the records in append order: their batch's base offset plus their place in it.
fn record_offsets(targets: Vec<PartitionKey>, written: &[(PartitionKey, Pending)]) -> Vec<(i32, i64)> {
    let mut next: HashMap<&PartitionKey, i64> = written.iter().map(|(key, p)| (key, p.batch.base_offset)).collect();
    targets
        .iter()
        .map(|key| {
            let offset = next.get_mut(key).expect("a batch per partition");
            *offset += 1;
            (key.1, *offset - 1)
        })
        .collect()
}

impl TopicLog for EmbeddedLog {
    fn append(&self, records: Vec<ProducerRecord>) -> Result<Vec<(i32, i64)>, LogError> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let mut writer = self.writer.lock().unwrap();
        if let Some(reason) = &writer.failure {
            return Err(LogError::Failed(reason.clone()));
        }
        let targets = self.assign_partitions(&mut writer, &records)?;
        let mut groups: BTreeMap<PartitionKey, Vec<&ProducerRecord>> = BTreeMap::new();
        for (key, record) in targets.iter().zip(&records) {
            groups.entry(key.clone()).or_default().push(record);
        }
        let txn = writer.commits.last() + 1;
        let written = self.write_batches(&mut writer, txn, &groups)?;
        #[cfg(test)]
        if self.crash_before_commit.load(std::sync::atomic::Ordering::Relaxed) {
            writer.failure = Some("simulated crash before the commit marker".into());
            return Err(LogError::Failed("simulated crash before the commit marker".into()));
        }
        // Whether or not a failed marker reached the disk, every batch of this append did: the
        // next open keeps all of them or none. Until then nothing more may be committed.
        if let Err(e) = writer.commits.record(txn, self.options.fsync == FsyncPolicy::Always) {
            writer.failure = Some(e.to_string());
            return Err(e);
        }
        if let FsyncPolicy::Interval(every) = self.options.fsync
            && writer.synced_at.elapsed() >= every
            && let Err(e) = sync_all(&mut writer)
        {
            // After a failed fsync the kernel may have dropped the pages: what is on disk is
            // known only after recovery.
            writer.failure = Some(e.to_string());
            return Err(e);
        }
        self.publish(&written);
        drop(writer);
        self.notify_append();
        Ok(record_offsets(targets, &written))
    }

    fn create_topic(&self, name: &str, config: TopicConfig) -> Result<bool, LogError> {
        let mut writer = self.writer.lock().unwrap();
        if let Some(existing) = writer.topics.get(name) {
            if existing.config.partitions != config.partitions {
                return Err(LogError::PartitionMismatch(name.to_owned(), existing.config.partitions));
            }
            return Ok(false);
        }
        self.ensure_topic(&mut writer, name, config)?;
        Ok(true)
    }

    fn topics(&self) -> Vec<String> {
        self.index.read().unwrap().keys().cloned().collect()
    }

    fn partitions(&self, topic: &str) -> Option<i32> {
        self.index.read().unwrap().get(topic).map(|t| t.config.partitions)
    }

    fn read(&self, tp: &TopicPartition, from: i64, max: usize) -> Result<Vec<ConsumerRecord>, LogError> {
        let plan = self.with_partition(tp, |p| p.plan_read(from, max))?;
        plan.execute(&tp.topic, tp.partition, from, max)
    }

    fn end_offset(&self, tp: &TopicPartition) -> Result<i64, LogError> {
        self.with_partition(tp, PartitionIndex::end_offset)
    }

    fn append_count(&self) -> u64 {
        *self.appends.lock().unwrap()
    }

    fn wait_for_append(&self, seen: u64, timeout: Duration) -> u64 {
        let count = self.appends.lock().unwrap();
        let (count, _) = self.appended.wait_timeout_while(count, timeout, |c| *c == seen).unwrap();
        *count
    }
}

fn now_millis() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}
