//! The `kafka` backend: topics live on a Kafka cluster, reached through librdkafka.
//!
//! Appends are acknowledged by the brokers before they return (idempotent producer, acks
//! from all replicas). Unlike the embedded log, a batch spanning several partitions is not
//! atomic here: a failed append may have written some of its records, which at-least-once
//! delivery tolerates. Exactly-once sources write through transactions instead
//! (`transaction.rs`), one transactional producer per source task.

mod groups;
mod options;
mod produce;
mod read;
#[cfg(test)]
mod tests;
mod transaction;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::types::RDKafkaRespErr;

pub use options::KafkaOptions;
use read::{PartitionReader, kafka_error};
pub use transaction::KafkaTransactions;

use crate::{ConsumerRecord, LogError, ProducerRecord, Sent, TopicConfig, TopicLog, TopicPartition, Transactional, validate_topic_name};

/// How often a waiting sink looks at the brokers again: appends by other workers and
/// other clients raise no local signal.
const REMOTE_APPEND_CHECK: Duration = Duration::from_millis(100);
/// librdkafka retries a batch itself until `message.timeout.ms` (5 minutes by default).
const DELIVERY_WAIT: Duration = Duration::from_secs(300);
/// How long a topic's partition count is trusted before the metadata is asked again (new
/// partitions are picked up this late).
const METADATA_MAX_AGE: Duration = Duration::from_secs(1);

pub struct KafkaLog {
    options: KafkaOptions,
    producer: produce::Producer,
    admin: AdminClient<DefaultClientContext>,
    /// For metadata and watermarks.
    meta: BaseConsumer,
    readers: Mutex<HashMap<TopicPartition, Arc<Mutex<PartitionReader>>>>,
    groups: groups::GroupClients,
    /// Partition counts of topics known to exist, and when they were read, so appends and
    /// reads do not ask the brokers every time.
    known: Mutex<HashMap<String, (i32, Instant)>>,
    appended: Arc<Appended>,
}

/// Completed appends, counted for `wait_for_append`; shared with the appends under way.
#[derive(Default)]
struct Appended {
    count: AtomicU64,
    lock: Mutex<()>,
    signal: Condvar,
}

impl KafkaLog {
    /// Connects to the cluster; fails if no broker answers within the request timeout.
    pub fn connect(options: KafkaOptions) -> Result<KafkaLog, LogError> {
        let create = |what: &str, e| kafka_error(&format!("cannot create the {what} for {}", options.bootstrap_servers), e);
        let producer = options.producer_config().create_with_context(produce::Deliveries).map_err(|e| create("producer", e))?;
        let admin = options.admin_config().create().map_err(|e| create("admin client", e))?;
        let meta: BaseConsumer = options.reader_config().create().map_err(|e| create("metadata client", e))?;
        meta.fetch_metadata(None, options.request_timeout)
            .map_err(|e| kafka_error(&format!("no Kafka broker answered at {}", options.bootstrap_servers), e))?;
        Ok(KafkaLog {
            groups: groups::GroupClients::new(options.clone()),
            options,
            producer,
            admin,
            meta,
            readers: Mutex::new(HashMap::new()),
            known: Mutex::new(HashMap::new()),
            appended: Arc::default(),
        })
    }

    /// The committed position of consumer group `group` on each of `partitions` that has one.
    pub fn group_positions(&self, group: &str, partitions: &[TopicPartition]) -> Result<Vec<(TopicPartition, i64)>, LogError> {
        self.groups.committed(group, partitions)
    }

    /// Commits positions for consumer group `group`; `None` moves the partition back to its
    /// first offset, where a new group would start.
    pub fn commit_group(&self, group: &str, positions: &[(TopicPartition, Option<i64>)]) -> Result<(), LogError> {
        let resolved = positions
            .iter()
            .map(|(tp, offset)| match offset {
                Some(o) => Ok((tp.clone(), *o)),
                None => self.watermarks(tp).map(|(low, _)| (tp.clone(), low)),
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.groups.commit(group, &resolved)
    }

    /// Creates a topic with its own replication factor (-1: the broker's default), as the
    /// worker does for its internal topics; false if it existed already.
    pub fn create_topic_with(&self, name: &str, config: TopicConfig, replication_factor: i32) -> Result<bool, LogError> {
        let settings: BTreeMap<String, String> = config.compacted.then(|| ("cleanup.policy".to_owned(), "compact".to_owned())).into_iter().collect();
        self.create(name, config.partitions, replication_factor, &settings)
    }

    fn create(&self, name: &str, partitions: i32, replication_factor: i32, settings: &BTreeMap<String, String>) -> Result<bool, LogError> {
        validate_topic_name(name)?;
        if partitions < 1 {
            return Err(LogError::InvalidPartitionCount(partitions));
        }
        // Existing topics need no admin request (which some clusters refuse to clients).
        if let Some(existing) = self.topic_partitions(name)? {
            return match existing == partitions {
                true => Ok(false),
                false => Err(LogError::PartitionMismatch(name.to_owned(), existing)),
            };
        }
        let mut topic = NewTopic::new(name, partitions, TopicReplication::Fixed(replication_factor));
        for (key, value) in settings {
            topic = topic.set(key, value);
        }
        let options = AdminOptions::new().operation_timeout(Some(self.options.request_timeout));
        let results = futures_executor::block_on(self.admin.create_topics([&topic], &options))
            .map_err(|e| kafka_error(&format!("cannot create topic {name}"), e))?;
        let created = match results.into_iter().next() {
            Some(Ok(_)) => true,
            Some(Err((_, RDKafkaErrorCode::TopicAlreadyExists))) => false,
            Some(Err((_, code))) => return Err(LogError::Kafka(format!("cannot create topic {name}: {code}"))),
            None => return Err(LogError::Kafka(format!("cannot create topic {name}: the broker gave no answer"))),
        };
        let existing = self.await_topic(name)?;
        if !created && existing != partitions {
            return Err(LogError::PartitionMismatch(name.to_owned(), existing));
        }
        Ok(created)
    }


    fn watermarks(&self, tp: &TopicPartition) -> Result<(i64, i64), LogError> {
        self.meta
            .fetch_watermarks(&tp.topic, tp.partition, self.options.request_timeout)
            .map_err(|e| kafka_error(&format!("cannot read the offsets of {}-{}", tp.topic, tp.partition), e))
    }

    /// The topic's partition count from the brokers (None: no such topic), remembered.
    fn topic_partitions(&self, topic: &str) -> Result<Option<i32>, LogError> {
        let metadata = self
            .meta
            .fetch_metadata(Some(topic), self.options.request_timeout)
            .map_err(|e| kafka_error(&format!("cannot read the metadata of {topic}"), e))?;
        let partitions = metadata
            .topics()
            .iter()
            .find(|t| t.name() == topic && t.error().is_none() && !t.partitions().is_empty())
            .map(|t| t.partitions().len() as i32);
        if let Some(count) = partitions {
            self.known.lock().unwrap().insert(topic.to_owned(), (count, Instant::now()));
        }
        Ok(partitions)
    }

    fn cached_partitions(&self, topic: &str, max_age: Duration) -> Option<i32> {
        let known = self.known.lock().unwrap();
        known.get(topic).filter(|(_, read)| read.elapsed() <= max_age).map(|(count, _)| *count)
    }

    /// Creates the topics a batch names that do not exist yet (Kafka Connect's sources rely
    /// on the broker or on topic creation rules; here the first append creates them). While
    /// the brokers cannot be reached it keeps trying, as long as librdkafka would keep trying
    /// to deliver the records themselves.
    fn ensure_topics(&self, records: &[ProducerRecord]) -> Result<(), LogError> {
        let deadline = Instant::now() + DELIVERY_WAIT;
        loop {
            match self.create_missing_topics(records) {
                Err(LogError::Kafka(e)) if Instant::now() < deadline => {
                    tracing::warn!("cannot look up or create the topics to write to, retrying: {e}");
                    std::thread::sleep(Duration::from_secs(1));
                }
                result => return result,
            }
        }
    }

    fn create_missing_topics(&self, records: &[ProducerRecord]) -> Result<(), LogError> {
        let missing: HashSet<&str> = {
            let known = self.known.lock().unwrap();
            records.iter().map(|r| r.topic.as_str()).filter(|t| !known.contains_key(*t)).collect()
        };
        for topic in missing {
            validate_topic_name(topic)?;
            if self.topic_partitions(topic)?.is_none() {
                let config = TopicConfig { partitions: self.options.default_partitions, compacted: false };
                self.create_topic(topic, config)?;
            }
        }
        Ok(())
    }

    /// Waits until the brokers' metadata shows the topic, so reads right after creation work.
    fn await_topic(&self, name: &str) -> Result<i32, LogError> {
        let deadline = Instant::now() + self.options.request_timeout;
        loop {
            if let Some(partitions) = self.topic_partitions(name)? {
                return Ok(partitions);
            }
            if Instant::now() > deadline {
                return Err(LogError::Kafka(format!("topic {name} was created but its metadata did not appear")));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn reader(&self, tp: &TopicPartition) -> Result<Arc<Mutex<PartitionReader>>, LogError> {
        let mut readers = self.readers.lock().unwrap();
        if let Some(reader) = readers.get(tp) {
            return Ok(reader.clone());
        }
        let consumer: BaseConsumer =
            self.options.reader_config().create().map_err(|e| kafka_error("cannot create a consumer", e))?;
        let reader = Arc::new(Mutex::new(PartitionReader::new(consumer, tp.clone())));
        readers.insert(tp.clone(), reader.clone());
        Ok(reader)
    }
}

impl TopicLog for KafkaLog {
    fn append(&self, records: Vec<ProducerRecord>) -> Result<Vec<(i32, i64)>, LogError> {
        self.send(records)?.wait()
    }

    /// Batches to different partitions are separate produce requests, so one may fail while
    /// another lands.
    fn atomic_appends(&self) -> bool {
        false
    }

    fn send(&self, records: Vec<ProducerRecord>) -> Result<Sent, LogError> {
        if records.is_empty() {
            return Ok(Sent::new(|| Ok(Vec::new())));
        }
        self.ensure_topics(&records)?;
        let pending = produce::send_all(&self.producer, &records);
        let appended = self.appended.clone();
        let reports = pending.clone();
        Ok(Sent::pending(
            move || {
                let positions = pending.wait(DELIVERY_WAIT * 2)?;
                appended.count.fetch_add(1, Ordering::SeqCst);
                appended.signal.notify_all();
                Ok(positions)
            },
            move |limit| reports.reported_within(limit),
        ))
    }

    fn transactional(&self, transactional_id: &str, longest: Duration) -> Option<Result<Box<dyn Transactional>, LogError>> {
        Some(KafkaTransactions::start(self.options.clone(), transactional_id, longest).map(|t| Box::new(t) as Box<dyn Transactional>))
    }

    fn create_topic(&self, name: &str, config: TopicConfig) -> Result<bool, LogError> {
        self.create_topic_with(name, config, self.options.replication_factor)
    }

    fn create_topic_with_settings(
        &self,
        name: &str,
        partitions: i32,
        replication_factor: i32,
        settings: &BTreeMap<String, String>,
    ) -> Result<bool, LogError> {
        self.create(name, partitions, replication_factor, settings)
    }

    fn topics(&self) -> Vec<String> {
        let Ok(metadata) = self.meta.fetch_metadata(None, self.options.request_timeout) else {
            return Vec::new();
        };
        let mut topics: Vec<String> = metadata
            .topics()
            .iter()
            .filter(|t| t.error().is_none() || t.error() == Some(RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR))
            .map(|t| t.name().to_owned())
            .collect();
        topics.sort();
        topics
    }

    fn partitions(&self, topic: &str) -> Option<i32> {
        self.cached_partitions(topic, METADATA_MAX_AGE).or_else(|| self.topic_partitions(topic).ok().flatten())
    }

    fn read(&self, tp: &TopicPartition, from: i64, max: usize) -> Result<Vec<ConsumerRecord>, LogError> {
        let known = self.cached_partitions(&tp.topic, Duration::MAX).filter(|p| tp.partition < *p);
        if known.is_none() {
            match self.topic_partitions(&tp.topic)? {
                None => return Err(LogError::UnknownTopic(tp.topic.clone())),
                Some(partitions) if tp.partition >= partitions => {
                    return Err(LogError::UnknownPartition { topic: tp.topic.clone(), partition: tp.partition, partitions });
                }
                Some(_) => {}
            }
        }
        let reader = self.reader(tp)?;
        let mut reader = reader.lock().unwrap();
        reader.read(from.max(0), max, self.options.request_timeout)
    }

    fn end_offset(&self, tp: &TopicPartition) -> Result<i64, LogError> {
        Ok(self.watermarks(tp)?.1)
    }

    fn append_count(&self) -> u64 {
        self.appended.count.load(Ordering::SeqCst)
    }

    fn wait_for_append(&self, seen: u64, timeout: Duration) -> u64 {
        let guard = self.appended.lock.lock().unwrap();
        let wait = timeout.min(REMOTE_APPEND_CHECK);
        let _unused = self.appended.signal.wait_timeout_while(guard, wait, |_| self.append_count() == seen).unwrap();
        self.append_count()
    }
}
