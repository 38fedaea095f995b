//! Reads of one partition from an offset: a consumer assigned to that partition, kept
//! between calls so a reader that continues where it stopped needs no new fetch setup.

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};

use crate::{ConsumerRecord, LogError, TopicPartition};

/// How long one poll waits for the next event.
const POLL: Duration = Duration::from_millis(100);

pub(super) struct PartitionReader {
    consumer: BaseConsumer,
    tp: TopicPartition,
    /// The offset the consumer will return next, when it is positioned.
    next: Option<i64>,
    /// The consumer reported the end of the partition at `next` and has returned nothing
    /// since. librdkafka reports the end once per arrival there, so this is remembered.
    at_end: bool,
}

impl PartitionReader {
    pub(super) fn new(consumer: BaseConsumer, tp: TopicPartition) -> PartitionReader {
        PartitionReader { consumer, tp, next: None, at_end: false }
    }

    /// Up to `max` records from `from`; empty when `from` is the end of the partition. The
    /// end is known from the consumer's end-of-partition event (not from the broker's
    /// ListOffsets answer, which some Kafka-compatible brokers get wrong), so a reader waits up
    /// to `limit` for either records or that event, then fails rather than answer empty,
    /// since callers take "empty" to mean "nothing more".
    pub(super) fn read(&mut self, from: i64, max: usize, limit: Duration) -> Result<Vec<ConsumerRecord>, LogError> {
        if self.next != Some(from) {
            let mut assignment = TopicPartitionList::new();
            assignment
                .add_partition_offset(&self.tp.topic, self.tp.partition, Offset::Offset(from))
                .map_err(|e| kafka_error("cannot position the reader", e))?;
            self.consumer.assign(&assignment).map_err(|e| kafka_error("cannot position the reader", e))?;
            self.next = Some(from);
            self.at_end = false;
        }
        let deadline = Instant::now() + limit;
        let mut records = Vec::new();
        while records.len() < max {
            // Once something is in hand, or the end was seen, take only what is already
            // fetched; otherwise wait for the fetch.
            let wait = if records.is_empty() && !self.at_end { POLL } else { Duration::ZERO };
            match self.consumer.poll(wait) {
                Some(Ok(message)) => {
                    // A fetch made before a re-assignment can still deliver older records.
                    if message.offset() < from {
                        continue;
                    }
                    self.next = Some(message.offset() + 1);
                    self.at_end = false;
                    records.push(to_record(&message));
                }
                Some(Err(KafkaError::PartitionEOF(_))) => {
                    self.at_end = true;
                    break;
                }
                Some(Err(e)) => {
                    if Instant::now() > deadline {
                        return Err(kafka_error(&format!("cannot read {}-{}", self.tp.topic, self.tp.partition), e));
                    }
                    tracing::debug!(topic = %self.tp.topic, partition = self.tp.partition, "read error, retrying: {e}");
                }
                None if !records.is_empty() || self.at_end => break,
                None if Instant::now() > deadline => {
                    return Err(LogError::Kafka(format!(
                        "{}-{}: neither records from offset {from} nor the end of the partition arrived within {limit:?}",
                        self.tp.topic, self.tp.partition
                    )));
                }
                None => {}
            }
        }
        Ok(records)
    }
}

fn to_record(message: &rdkafka::message::BorrowedMessage<'_>) -> ConsumerRecord {
    let headers = message
        .headers()
        .map(|headers| headers.iter().map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec))).collect())
        .unwrap_or_default();
    ConsumerRecord {
        topic: message.topic().to_owned(),
        partition: message.partition(),
        offset: message.offset(),
        timestamp: message.timestamp().to_millis().unwrap_or(-1),
        key: message.key().map(<[u8]>::to_vec),
        value: message.payload().map(<[u8]>::to_vec),
        headers,
    }
}

pub(super) fn kafka_error(context: &str, e: KafkaError) -> LogError {
    LogError::Kafka(format!("{context}: {e}"))
}
