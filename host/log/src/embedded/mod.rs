//! The embedded topic log: one directory per topic, one per partition, append-only segment
//! files of CRC-checked batches, and `commits.log`, whose markers make every append atomic
//! across partitions (see `commits`). Opening the log recovers from any crash point.

mod batch;
mod commits;
mod partition;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, RwLock};
use std::time::Duration;

use crate::partitioner::partition_for_key;
use crate::{ConsumerRecord, LogError, ProducerRecord, TopicConfig, TopicLog, TopicPartition, validate_topic_name};
use batch::StoredRecord;
use commits::Commits;
use partition::{Partition, Pending, partition_dir};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// Data and commit marker reach the disk before an append returns.
    Always,
    /// Leave it to the operating system: faster, but a power loss may lose recent appends
    /// (a process crash does not).
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

/// The batches one append wrote, by (topic, partition), not yet visible.
type Written = Vec<((String, i32), Pending)>;

struct Topic {
    config: TopicConfig,
    partitions: Vec<Partition>,
}

struct Inner {
    topics: BTreeMap<String, Topic>,
    commits: Commits,
}

pub struct EmbeddedLog {
    dir: PathBuf,
    options: EmbeddedOptions,
    inner: RwLock<Inner>,
    appends: Mutex<u64>,
    appended: Condvar,
    #[cfg(test)]
    crash_before_commit: std::sync::atomic::AtomicBool,
}

const TOPIC_META: &str = "topic.meta";

fn io(context: String) -> impl FnOnce(std::io::Error) -> LogError {
    move |source| LogError::Io { context, source }
}

impl EmbeddedLog {
    pub fn open(dir: &Path, options: EmbeddedOptions) -> Result<EmbeddedLog, LogError> {
        std::fs::create_dir_all(dir).map_err(io(format!("cannot create {}", dir.display())))?;
        let commits = Commits::open(dir)?;
        let mut topics = BTreeMap::new();
        for entry in std::fs::read_dir(dir).map_err(io(format!("cannot list {}", dir.display())))?.flatten() {
            let topic_dir = entry.path();
            let Some(name) = topic_dir.file_name().and_then(|n| n.to_str()).map(String::from) else { continue };
            if !topic_dir.join(TOPIC_META).exists() {
                continue;
            }
            let config = read_meta(&topic_dir)?;
            let partitions = (0..config.partitions)
                .map(|p| Partition::open(partition_dir(&topic_dir, p), commits.last()))
                .collect::<Result<_, _>>()?;
            topics.insert(name, Topic { config, partitions });
        }
        Ok(EmbeddedLog {
            dir: dir.to_owned(),
            options,
            inner: RwLock::new(Inner { topics, commits }),
            appends: Mutex::new(0),
            appended: Condvar::new(),
            #[cfg(test)]
            crash_before_commit: Default::default(),
        })
    }

    fn ensure_topic<'a>(&self, inner: &'a mut Inner, name: &str, config: TopicConfig) -> Result<&'a mut Topic, LogError> {
        if !inner.topics.contains_key(name) {
            validate_topic_name(name)?;
            if config.partitions < 1 {
                return Err(LogError::InvalidTopic { name: name.to_owned(), reason: "it needs at least one partition" });
            }
            let topic_dir = self.dir.join(name);
            let partitions = (0..config.partitions)
                .map(|p| Partition::create(partition_dir(&topic_dir, p)))
                .collect::<Result<_, _>>()?;
            write_meta(&topic_dir, config)?;
            tracing::debug!(topic = name, partitions = config.partitions, "created topic");
            inner.topics.insert(name.to_owned(), Topic { config, partitions });
        }
        Ok(inner.topics.get_mut(name).unwrap())
    }

    /// Writes the batches of one append; on error nothing of it stays.
    fn write_batches(
        &self,
        inner: &mut Inner,
        txn: u64,
        groups: &BTreeMap<(String, i32), Vec<usize>>,
        records: &[ProducerRecord],
        now: i64,
    ) -> Result<Written, LogError> {
        let mut written: Written = Vec::new();
        let mut result = Ok(());
        for ((topic, p), indices) in groups {
            let stored: Vec<StoredRecord<'_>> = indices
                .iter()
                .map(|&i| {
                    let r = &records[i];
                    StoredRecord { timestamp: r.timestamp.unwrap_or(now), key: r.key.as_deref(), value: r.value.as_deref(), headers: &r.headers }
                })
                .collect();
            let partition = &mut inner.topics.get_mut(topic).unwrap().partitions[*p as usize];
            match partition.write(txn, &stored, self.options.segment_bytes) {
                Ok(pending) => written.push(((topic.clone(), *p), pending)),
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        if result.is_ok() && self.options.fsync == FsyncPolicy::Always {
            result = written.iter().try_for_each(|((t, p), _)| inner.topics.get_mut(t).unwrap().partitions[*p as usize].sync());
        }
        if let Err(e) = result {
            for ((t, p), pending) in written {
                inner.topics.get_mut(&t).unwrap().partitions[p as usize].rollback(pending);
            }
            return Err(e);
        }
        Ok(written)
    }

    fn notify_append(&self) {
        *self.appends.lock().unwrap() += 1;
        self.appended.notify_all();
    }
}

impl TopicLog for EmbeddedLog {
    fn append(&self, records: Vec<ProducerRecord>) -> Result<Vec<(i32, i64)>, LogError> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let mut inner = self.inner.write().unwrap();
        let default = TopicConfig { partitions: self.options.default_partitions, compacted: false };
        // Partition every record, grouping them into one batch per partition, in order.
        let mut groups: BTreeMap<(String, i32), Vec<usize>> = BTreeMap::new();
        let mut targets = Vec::with_capacity(records.len());
        for (i, record) in records.iter().enumerate() {
            let topic = self.ensure_topic(&mut inner, &record.topic, default)?;
            let count = topic.config.partitions;
            let partition = match (record.partition, &record.key) {
                (Some(p), _) if !(0..count).contains(&p) => {
                    return Err(LogError::UnknownPartition { topic: record.topic.clone(), partition: p, partitions: count });
                }
                (Some(p), _) => p,
                (None, Some(key)) => partition_for_key(key, count),
                (None, None) => 0,
            };
            groups.entry((record.topic.clone(), partition)).or_default().push(i);
            targets.push((record.topic.clone(), partition));
        }
        let txn = inner.commits.last() + 1;
        let now = now_millis();
        let written = self.write_batches(&mut inner, txn, &groups, &records, now)?;
        #[cfg(test)]
        if self.crash_before_commit.load(std::sync::atomic::Ordering::Relaxed) {
            // Simulates a crash between the batches and the marker: nothing becomes visible.
            return Err(LogError::Corrupt { path: "test".into(), reason: "simulated crash".into() });
        }
        if let Err(e) = inner.commits.record(txn, self.options.fsync == FsyncPolicy::Always) {
            for ((t, p), pending) in written {
                inner.topics.get_mut(&t).unwrap().partitions[p as usize].rollback(pending);
            }
            return Err(e);
        }
        // Offsets: each record's position within its partition's batch.
        let mut next: BTreeMap<(String, i32), i64> = BTreeMap::new();
        for ((t, p), pending) in written {
            let partition = &mut inner.topics.get_mut(&t).unwrap().partitions[p as usize];
            next.insert((t, p), partition.end_offset());
            partition.commit(pending);
        }
        let offsets = targets
            .into_iter()
            .map(|key| {
                let offset = next.get_mut(&key).unwrap();
                *offset += 1;
                (key.1, *offset - 1)
            })
            .collect();
        drop(inner);
        self.notify_append();
        Ok(offsets)
    }

    fn create_topic(&self, name: &str, config: TopicConfig) -> Result<bool, LogError> {
        let mut inner = self.inner.write().unwrap();
        if let Some(existing) = inner.topics.get(name) {
            if existing.config.partitions != config.partitions {
                return Err(LogError::PartitionMismatch(name.to_owned(), existing.config.partitions));
            }
            return Ok(false);
        }
        self.ensure_topic(&mut inner, name, config)?;
        Ok(true)
    }

    fn topics(&self) -> Vec<String> {
        self.inner.read().unwrap().topics.keys().cloned().collect()
    }

    fn partitions(&self, topic: &str) -> Option<i32> {
        self.inner.read().unwrap().topics.get(topic).map(|t| t.config.partitions)
    }

    fn read(&self, tp: &TopicPartition, from: i64, max: usize) -> Result<Vec<ConsumerRecord>, LogError> {
        let plan = {
            let inner = self.inner.read().unwrap();
            partition(&inner, tp)?.plan_read(from, max)
        };
        plan.execute(&tp.topic, tp.partition, from, max)
    }

    fn end_offset(&self, tp: &TopicPartition) -> Result<i64, LogError> {
        let inner = self.inner.read().unwrap();
        Ok(partition(&inner, tp)?.end_offset())
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

fn partition<'a>(inner: &'a Inner, tp: &TopicPartition) -> Result<&'a Partition, LogError> {
    let topic = inner.topics.get(&tp.topic).ok_or_else(|| LogError::UnknownTopic(tp.topic.clone()))?;
    topic.partitions.get(tp.partition as usize).filter(|_| tp.partition >= 0).ok_or(LogError::UnknownPartition {
        topic: tp.topic.clone(),
        partition: tp.partition,
        partitions: topic.config.partitions,
    })
}

fn write_meta(topic_dir: &Path, config: TopicConfig) -> Result<(), LogError> {
    let text = format!("partitions={}\ncompacted={}\n", config.partitions, config.compacted);
    let tmp = topic_dir.join("topic.meta.tmp");
    std::fs::write(&tmp, text).map_err(io(format!("cannot write {}", tmp.display())))?;
    std::fs::rename(&tmp, topic_dir.join(TOPIC_META)).map_err(io(format!("cannot write the metadata of {}", topic_dir.display())))
}

fn read_meta(topic_dir: &Path) -> Result<TopicConfig, LogError> {
    let path = topic_dir.join(TOPIC_META);
    let text = std::fs::read_to_string(&path).map_err(io(format!("cannot read {}", path.display())))?;
    let corrupt = |reason: &str| LogError::Corrupt { path: path.display().to_string(), reason: reason.to_owned() };
    let mut partitions = None;
    let mut compacted = false;
    for line in text.lines() {
        match line.split_once('=') {
            Some(("partitions", v)) => partitions = v.parse().ok(),
            Some(("compacted", v)) => compacted = v == "true",
            _ => {}
        }
    }
    let partitions = partitions.filter(|&p: &i32| p > 0).ok_or_else(|| corrupt("no valid partition count"))?;
    Ok(TopicConfig { partitions, compacted })
}

fn now_millis() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}
