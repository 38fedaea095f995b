//! Topic logs: where records live between sources and sinks.
//!
//! `TopicLog` is what the worker needs from a Kafka-like log; `EmbeddedLog` is the durable,
//! file-backed implementation a standalone worker uses, so nothing else has to be installed,
//! and `KafkaLog` keeps the topics on a Kafka cluster.

mod embedded;
mod kafka;
mod partitioner;
#[cfg(any(test, feature = "test-broker"))]
pub mod test_broker;

use std::time::Duration;

pub use embedded::{EmbeddedLog, EmbeddedOptions, FsyncPolicy, Truncation};
pub use kafka::{KafkaLog, KafkaOptions, KafkaTransactions};

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    pub topic: String,
    pub partition: i32,
}

pub type Header = (String, Option<Vec<u8>>);

/// A record to append. Without a partition, keyed records are spread by key hash (as
/// Kafka's default partitioner does) and unkeyed ones go to partition 0.
#[derive(Clone, Debug, PartialEq)]
pub struct ProducerRecord {
    pub topic: String,
    pub partition: Option<i32>,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub timestamp: Option<i64>,
    pub headers: Vec<Header>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ConsumerRecord {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub timestamp: i64,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<Header>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TopicConfig {
    pub partitions: i32,
    /// Recorded for the topic's consumers; the embedded log does not compact (yet).
    pub compacted: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("invalid topic name {name:?}: {reason}")]
    InvalidTopic { name: String, reason: &'static str },
    #[error("topic {0} does not exist")]
    UnknownTopic(String),
    #[error("topic {topic} has no partition {partition} (it has {partitions})")]
    UnknownPartition { topic: String, partition: i32, partitions: i32 },
    #[error("a topic needs at least one partition, not {0}")]
    InvalidPartitionCount(i32),
    #[error("topic {0} exists with {1} partitions")]
    PartitionMismatch(String, i32),
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    #[error("corrupt log data in {path}: {reason}")]
    Corrupt { path: String, reason: String },
    /// A write failed in a way only recovery can clean up, so appends stop until the log is
    /// opened again (which rolls the unfinished append back, or keeps it if it committed).
    #[error("the log refuses appends until it is reopened, after an unrecoverable write error: {0}")]
    Failed(String),
    #[error("Kafka: {0}")]
    Kafka(String),
    /// Another producer took this transactional.id over (KIP-98 fencing): this one is a
    /// zombie, and the brokers refuse everything it still tries to write.
    #[error(
        "the producer with transactional.id {transactional_id} was fenced: a newer instance of this task took over \
         (it is running on this or another worker), so this one stops without writing anything more ({reason})"
    )]
    Fenced { transactional_id: String, reason: String },
}

impl LogError {
    /// A failure that waiting may cure: the Kafka cluster is unreachable or busy. Errors of
    /// the embedded log (bad data, a failed disk) are not.
    pub fn is_retriable(&self) -> bool {
        matches!(self, LogError::Kafka(_))
    }
}

/// An append under way: `wait` gives the (partition, offset) of each record once the log
/// has them; `settled_within` waits a bounded time for that moment without taking them.
pub struct Sent {
    wait: Box<dyn FnOnce() -> Positions + Send>,
    settled_within: Box<dyn Fn(Duration) -> bool + Send>,
}

/// The (partition, offset) of each appended record, in order.
pub type Positions = Result<Vec<(i32, i64)>, LogError>;

impl Sent {
    /// An append that is done already: `wait` returns at once.
    pub fn new(wait: impl FnOnce() -> Positions + Send + 'static) -> Sent {
        Sent::pending(wait, |_| true)
    }

    /// An append whose outcome `settled_within(limit)` waits up to `limit` for.
    pub fn pending(wait: impl FnOnce() -> Positions + Send + 'static, settled_within: impl Fn(Duration) -> bool + Send + 'static) -> Sent {
        Sent { wait: Box::new(wait), settled_within: Box::new(settled_within) }
    }

    pub fn wait(self) -> Positions {
        (self.wait)()
    }

    /// Whether the outcome (success or failure) is known within `limit`; `wait` then
    /// returns without blocking.
    pub fn settled_within(&self, limit: Duration) -> bool {
        (self.settled_within)(limit)
    }
}

/// One producer's writes as transactions (Kafka's KIP-98): the records sent between one
/// commit and the next become visible to `read_committed` readers together, or, when the
/// transaction is aborted, never.
pub trait Transactional: Send {
    /// Sends records in the open transaction, opening one if none is open.
    fn send(&mut self, records: Vec<ProducerRecord>) -> Result<(), LogError>;
    /// Commits the open transaction (nothing to do if none is). When it cannot, it aborts it
    /// and fails: none of its records becomes visible.
    fn commit(&mut self) -> Result<(), LogError>;
    /// Aborts the open transaction, if one is open.
    fn abort(&mut self) -> Result<(), LogError>;
    /// Whether records were sent since the last commit or abort.
    fn is_open(&self) -> bool;
}

pub trait TopicLog: Send + Sync + 'static {
    /// Appends records: on a log with atomic appends (see `atomic_appends`), after a crash at
    /// any point either all of them are visible or none. Missing topics are created. Returns
    /// (partition, offset) per record.
    fn append(&self, records: Vec<ProducerRecord>) -> Result<Vec<(i32, i64)>, LogError>;
    /// Whether one append of records for several topics is all-or-nothing.
    fn atomic_appends(&self) -> bool {
        true
    }
    /// Starts an append and returns before it is done where the log can have several under
    /// way (Kafka); the others append first.
    fn send(&self, records: Vec<ProducerRecord>) -> Result<Sent, LogError> {
        let positions = self.append(records);
        Ok(Sent::new(move || positions))
    }
    /// A transactional producer with this `transactional.id`, for exactly-once sources on a
    /// log whose appends are not atomic (Kafka); starting it fences every older producer with
    /// the same id and aborts what that one left open. `longest` is how long the caller may
    /// keep a transaction open before it commits. `None`: this log's appends are atomic
    /// already (see `atomic_appends`), so a source needs no transactions on it.
    fn transactional(&self, _transactional_id: &str, _longest: Duration) -> Option<Result<Box<dyn Transactional>, LogError>> {
        None
    }
    /// Creates a topic; false if it existed already (with the same partition count).
    fn create_topic(&self, name: &str, config: TopicConfig) -> Result<bool, LogError>;
    /// Creates a topic with Kafka topic settings (KIP-158's `topic.creation.*`): the
    /// replication factor (-1: the broker's default) and settings such as `cleanup.policy`.
    /// A log without replicas or settings keeps the partitions and whether it is compacted.
    fn create_topic_with_settings(
        &self,
        name: &str,
        partitions: i32,
        _replication_factor: i32,
        settings: &std::collections::BTreeMap<String, String>,
    ) -> Result<bool, LogError> {
        let compacted = settings.get("cleanup.policy").is_some_and(|p| p.contains("compact"));
        self.create_topic(name, TopicConfig { partitions, compacted })
    }
    /// Every topic, sorted.
    fn topics(&self) -> Vec<String>;
    fn partitions(&self, topic: &str) -> Option<i32>;
    /// Up to `max` records with offset >= `from`; empty at the end of the partition.
    fn read(&self, tp: &TopicPartition, from: i64, max: usize) -> Result<Vec<ConsumerRecord>, LogError>;
    /// The offset the next record of the partition will get.
    fn end_offset(&self, tp: &TopicPartition) -> Result<i64, LogError>;
    /// How many appends have completed so far; pass it to `wait_for_append`.
    fn append_count(&self) -> u64;
    /// Blocks until an append completes after `seen` was read, or `timeout` passes.
    fn wait_for_append(&self, seen: u64, timeout: Duration) -> u64;
}

/// Kafka's rules: 1 to 249 characters of `[a-zA-Z0-9._-]`, and not `.` or `..`.
pub fn validate_topic_name(name: &str) -> Result<(), LogError> {
    let invalid = |reason| Err(LogError::InvalidTopic { name: name.to_owned(), reason });
    if name.is_empty() {
        return invalid("it is empty");
    }
    if name.len() > 249 {
        return invalid("it is longer than 249 characters");
    }
    if name == "." || name == ".." {
        return invalid("'.' and '..' are not allowed");
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
        return invalid("only ASCII letters, digits, '.', '_' and '-' are allowed");
    }
    Ok(())
}
