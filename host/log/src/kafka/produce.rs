//! Appends: every record of a batch is sent, then the caller waits until the broker has
//! acknowledged all of them (or one failed), through librdkafka's delivery reports.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use rdkafka::ClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header as KafkaHeader, Message, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, ProducerContext, ThreadedProducer};

use crate::{LogError, ProducerRecord};

/// The outcome of one batch, filled in by delivery reports as they arrive.
pub(super) struct Pending {
    state: Mutex<PendingState>,
    done: Condvar,
}

struct PendingState {
    positions: Vec<Option<(i32, i64)>>,
    remaining: usize,
    error: Option<String>,
}

impl Pending {
    fn new(records: usize) -> Arc<Pending> {
        Arc::new(Pending {
            state: Mutex::new(PendingState { positions: vec![None; records], remaining: records, error: None }),
            done: Condvar::new(),
        })
    }

    fn report(&self, index: usize, result: Result<(i32, i64), String>) {
        let mut state = self.state.lock().unwrap();
        match result {
            Ok(position) => state.positions[index] = Some(position),
            Err(e) => {
                state.error.get_or_insert(e);
            }
        }
        state.remaining -= 1;
        if state.remaining == 0 {
            self.done.notify_all();
        }
    }

    /// Whether every record has its report (delivered or failed) within `limit`.
    pub(super) fn reported_within(&self, limit: Duration) -> bool {
        let state = self.state.lock().unwrap();
        let (state, _) = self.done.wait_timeout_while(state, limit, |s| s.remaining > 0).unwrap();
        state.remaining == 0
    }

    /// Waits for every report; librdkafka itself retries until `delivery.timeout.ms`, so
    /// `limit` only guards against a report that never comes.
    pub(super) fn wait(&self, limit: Duration) -> Result<Vec<(i32, i64)>, LogError> {
        let state = self.state.lock().unwrap();
        let (state, timeout) = self.done.wait_timeout_while(state, limit, |s| s.remaining > 0).unwrap();
        if timeout.timed_out() {
            return Err(LogError::Kafka(format!("no delivery report within {limit:?}")));
        }
        if let Some(e) = &state.error {
            return Err(LogError::Kafka(format!("the broker did not take the records: {e}")));
        }
        Ok(state.positions.iter().map(|p| p.expect("every record reported")).collect())
    }
}

pub(super) struct Deliveries;

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = Box<(Arc<Pending>, usize)>;

    fn delivery(&self, result: &DeliveryResult<'_>, opaque: Self::DeliveryOpaque) {
        let (pending, index) = *opaque;
        let outcome = match result {
            Ok(message) => Ok((message.partition(), message.offset())),
            Err((e, _)) => Err(e.to_string()),
        };
        pending.report(index, outcome);
    }
}

pub(super) type Producer = ThreadedProducer<Deliveries>;

/// Hands the batch to librdkafka; the returned reports say when the brokers have it.
pub(super) fn send_all(producer: &Producer, records: &[ProducerRecord]) -> Arc<Pending> {
    let pending = Pending::new(records.len());
    for (index, record) in records.iter().enumerate() {
        let mut message = BaseRecord::<[u8], [u8], _>::with_opaque_to(&record.topic, Box::new((pending.clone(), index)));
        if let Some(partition) = record.partition {
            message = message.partition(partition);
        }
        if let Some(key) = &record.key {
            message = message.key(key.as_slice());
        }
        if let Some(value) = &record.value {
            message = message.payload(value.as_slice());
        }
        if let Some(timestamp) = record.timestamp {
            message = message.timestamp(timestamp);
        }
        if !record.headers.is_empty() {
            let headers = record.headers.iter().fold(OwnedHeaders::new(), |headers, (key, value)| {
                headers.insert(KafkaHeader { key, value: value.as_deref() })
            });
            message = message.headers(headers);
        }
        loop {
            match producer.send(message) {
                Ok(()) => break,
                // The local queue is full: wait for the broker to catch up, as a blocking
                // Java producer would.
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), returned)) => {
                    std::thread::sleep(Duration::from_millis(5));
                    message = returned;
                }
                Err((e, returned)) => {
                    let (pending, index) = *returned.delivery_opaque;
                    pending.report(index, Err(e.to_string()));
                    break;
                }
            }
        }
    }
    pending
}
