//! Consumer group offsets: a sink's positions are the committed offsets of its consumer
//! group `connect-<name>`, so Kafka's own tools (`kafka-consumer-groups --describe`) show
//! and reset them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::{Offset, TopicPartitionList};

use super::options::KafkaOptions;
use super::read::kafka_error;
use crate::{LogError, TopicPartition};

pub(super) struct GroupClients {
    options: KafkaOptions,
    /// One client per group, made on first use; it never joins the group, it only commits
    /// and fetches offsets for it.
    clients: Mutex<HashMap<String, Arc<BaseConsumer>>>,
}

impl GroupClients {
    pub(super) fn new(options: KafkaOptions) -> GroupClients {
        GroupClients { options, clients: Mutex::new(HashMap::new()) }
    }

    fn client(&self, group: &str) -> Result<Arc<BaseConsumer>, LogError> {
        let mut clients = self.clients.lock().unwrap();
        if let Some(client) = clients.get(group) {
            return Ok(client.clone());
        }
        let client: BaseConsumer = self
            .options
            .group_config(group)
            .create()
            .map_err(|e| kafka_error(&format!("cannot create a client for consumer group {group}"), e))?;
        let client = Arc::new(client);
        clients.insert(group.to_owned(), client.clone());
        Ok(client)
    }

    pub(super) fn committed(&self, group: &str, partitions: &[TopicPartition]) -> Result<Vec<(TopicPartition, i64)>, LogError> {
        if partitions.is_empty() {
            return Ok(Vec::new());
        }
        let mut list = TopicPartitionList::new();
        for tp in partitions {
            list.add_partition(&tp.topic, tp.partition);
        }
        let committed = self
            .client(group)?
            .committed_offsets(list, self.options.request_timeout)
            .map_err(|e| kafka_error(&format!("cannot read the offsets of consumer group {group}"), e))?;
        Ok(committed
            .elements()
            .iter()
            .filter_map(|e| match e.offset() {
                Offset::Offset(o) => Some((TopicPartition { topic: e.topic().to_owned(), partition: e.partition() }, o)),
                _ => None,
            })
            .collect())
    }

    pub(super) fn commit(&self, group: &str, positions: &[(TopicPartition, i64)]) -> Result<(), LogError> {
        if positions.is_empty() {
            return Ok(());
        }
        let mut list = TopicPartitionList::new();
        for (tp, offset) in positions {
            list.add_partition_offset(&tp.topic, tp.partition, Offset::Offset(*offset))
                .map_err(|e| kafka_error("invalid offset", e))?;
        }
        self.client(group)?
            .commit(&list, CommitMode::Sync)
            .map_err(|e| kafka_error(&format!("cannot commit the offsets of consumer group {group}"), e))
    }
}
