//! Transactions for exactly-once sources (KIP-618 on top of KIP-98): each source task has a
//! producer of its own whose `transactional.id` names the task, so a newer instance of the
//! task fences an older one, and the records of a poll go out with their source offsets in
//! one transaction.

use std::sync::Arc;
use std::time::Duration;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::Producer as _;

use super::produce::{self, Pending};
use super::{DELIVERY_WAIT, KafkaLog, KafkaOptions};
use crate::{LogError, ProducerRecord, Transactional};

/// What the brokers give a transaction beyond the longest the caller keeps one open, so a
/// commit that waits for a slow broker is not aborted by the transaction timeout meanwhile.
const TIMEOUT_MARGIN: Duration = Duration::from_secs(60);

pub struct KafkaTransactions {
    /// The clients of this producer alone (its producer is transactional); its metadata
    /// client creates the topics a record names, as for any append.
    log: KafkaLog,
    transactional_id: String,
    /// Delivery reports of what the open transaction sent, batch by batch.
    open: Vec<Arc<Pending>>,
}

impl KafkaTransactions {
    /// Connects a producer with `transactional.id` and registers it with its transaction
    /// coordinator, which fences every older producer with the id and aborts the
    /// transaction that one left open.
    pub fn start(mut options: KafkaOptions, transactional_id: &str, longest: Duration) -> Result<KafkaTransactions, LogError> {
        options.producer.insert("transactional.id".to_owned(), transactional_id.to_owned());
        // A `producer.transaction.timeout.ms` of the worker's or the connector's wins.
        options.producer.entry("transaction.timeout.ms".to_owned()).or_insert_with(|| (longest + TIMEOUT_MARGIN).as_millis().to_string());
        let log = KafkaLog::connect(options)?;
        let timeout = log.options.request_timeout;
        log.producer
            .init_transactions(timeout)
            .map_err(|e| transaction_error(transactional_id, "cannot register the transactional producer", e))?;
        Ok(KafkaTransactions { log, transactional_id: transactional_id.to_owned(), open: Vec::new() })
    }

    fn failed(&self, what: &str, e: KafkaError) -> LogError {
        transaction_error(&self.transactional_id, what, e)
    }

    /// Waits until every record sent in the transaction is acknowledged; the first that was
    /// not is the error. A record librdkafka refused locally never reaches the broker, and a
    /// commit without it would commit its offset, so this is checked before committing. (The
    /// delivery reports, not the producer's `flush`: rust-rdkafka's flush polls for up to
    /// 100 ms more, which the producer's own polling thread makes it wait out every time.)
    fn delivered(&self) -> Result<(), LogError> {
        self.open.iter().try_for_each(|pending| pending.wait(DELIVERY_WAIT * 2).map(drop))
    }

    /// Aborts after `cause`; a producer fenced meanwhile is reported as fenced.
    fn abort_after(&mut self, cause: LogError) -> LogError {
        match self.abort() {
            Ok(()) => LogError::Kafka(format!("{cause}; the transaction was aborted, so none of its records is visible to read_committed readers")),
            Err(fenced @ LogError::Fenced { .. }) => fenced,
            Err(e) => LogError::Kafka(format!("{cause}; aborting the transaction failed too: {e}")),
        }
    }
}

impl Transactional for KafkaTransactions {
    fn send(&mut self, records: Vec<ProducerRecord>) -> Result<(), LogError> {
        if records.is_empty() {
            return Ok(());
        }
        self.log.ensure_topics(&records)?;
        if self.open.is_empty() {
            self.log.producer.begin_transaction().map_err(|e| self.failed("cannot begin a transaction", e))?;
        }
        self.open.push(produce::send_all(&self.log.producer, &records));
        Ok(())
    }

    fn commit(&mut self) -> Result<(), LogError> {
        if self.open.is_empty() {
            return Ok(());
        }
        if let Err(e) = self.delivered() {
            return Err(self.abort_after(e));
        }
        loop {
            match self.log.producer.commit_transaction(self.log.options.request_timeout) {
                Ok(()) => {
                    self.open.clear();
                    return Ok(());
                }
                // librdkafka's advice: a retriable failure (a coordinator that moved, a
                // timeout) may be retried, and the commit either happened or happens now.
                Err(KafkaError::Transaction(e)) if e.is_retriable() => {
                    tracing::warn!(transactional_id = %self.transactional_id, "committing the transaction failed, retrying: {e}");
                }
                Err(e) => {
                    let cause = self.failed("cannot commit the transaction", e);
                    return Err(match cause {
                        LogError::Fenced { .. } => cause,
                        _ => self.abort_after(cause),
                    });
                }
            }
        }
    }

    fn abort(&mut self) -> Result<(), LogError> {
        if self.open.is_empty() {
            return Ok(());
        }
        self.open.clear();
        self.log.producer.abort_transaction(self.log.options.request_timeout).map_err(|e| self.failed("cannot abort the transaction", e))
    }

    fn is_open(&self) -> bool {
        !self.open.is_empty()
    }
}

/// A fenced producer (or one whose epoch the coordinator no longer knows) is a zombie: it is
/// told so, never retried.
fn transaction_error(transactional_id: &str, what: &str, e: KafkaError) -> LogError {
    let fenced = matches!(
        e.rdkafka_error_code(),
        Some(RDKafkaErrorCode::ProducerFenced | RDKafkaErrorCode::InvalidProducerEpoch | RDKafkaErrorCode::Fenced)
    );
    match fenced {
        true => LogError::Fenced { transactional_id: transactional_id.to_owned(), reason: e.to_string() },
        false => LogError::Kafka(format!("{what} (transactional.id {transactional_id}): {e}")),
    }
}
