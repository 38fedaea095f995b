//! Committed offsets: source offsets in `connect-offsets` (Kafka Connect's key format
//! `["<connector>",{<source partition>}]`, value the source offset), and sink positions in
//! the consumer group `connect-<connector>`: on the embedded log kept in its
//! `__consumer_offsets` topic, on Kafka the group's own committed offsets.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use wasmconnect_log::{KafkaLog, ProducerRecord, TopicLog, TopicPartition};

use crate::runtime::OffsetReader;

pub const CONSUMER_OFFSETS_TOPIC: &str = "__consumer_offsets";

/// Source offsets of every connector, replayed from `connect-offsets` at startup.
pub struct SourceOffsets {
    /// `offset.storage.topic`, `connect-offsets` by default.
    topic: String,
    committed: RwLock<HashMap<String, Vec<(serde_json::Value, serde_json::Value)>>>,
}

impl SourceOffsets {
    pub fn load(log: &dyn TopicLog, topic: String) -> anyhow::Result<SourceOffsets> {
        let offsets = SourceOffsets { topic, committed: RwLock::default() };
        for record in read_all(log, &offsets.topic)? {
            offsets.apply(&record);
        }
        Ok(offsets)
    }

    /// Takes in one record of the offset topic, written by this worker or another.
    pub fn apply(&self, record: &wasmconnect_log::ConsumerRecord) {
        let Some(key) = record.key.as_deref().and_then(|k| serde_json::from_slice::<serde_json::Value>(k).ok()) else {
            return;
        };
        let (Some(connector), Some(partition)) = (key.get(0).and_then(|c| c.as_str()), key.get(1)) else {
            return;
        };
        let offset = record.value.as_deref().and_then(|v| serde_json::from_slice(v).ok());
        self.remember(connector, partition.clone(), offset);
    }

    /// The record that commits `offset` for `partition` (a tombstone for `None`), to append
    /// with the data it covers.
    pub fn record(&self, connector: &str, partition: &serde_json::Value, offset: Option<&serde_json::Value>) -> ProducerRecord {
        let key = serde_json::json!([connector, partition]);
        ProducerRecord {
            topic: self.topic.clone(),
            partition: None,
            key: Some(key.to_string().into_bytes()),
            value: offset.map(|o| o.to_string().into_bytes()),
            timestamp: None,
            headers: Vec::new(),
        }
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Every committed (partition, offset) of a connector.
    pub fn all(&self, connector: &str) -> Vec<(serde_json::Value, serde_json::Value)> {
        self.committed.read().unwrap().get(connector).cloned().unwrap_or_default()
    }

    /// Writes and remembers new offsets (`None` removes one), as `PATCH`/`DELETE .../offsets` ask.
    pub fn alter(&self, log: &dyn TopicLog, connector: &str, offsets: Vec<(serde_json::Value, Option<serde_json::Value>)>) -> anyhow::Result<()> {
        log.append(offsets.iter().map(|(p, o)| self.record(connector, p, o.as_ref())).collect())?;
        for (partition, offset) in offsets {
            self.remember(connector, partition, offset);
        }
        Ok(())
    }

    /// Records an offset once it is durable; `None` forgets the partition.
    pub fn remember(&self, connector: &str, partition: serde_json::Value, offset: Option<serde_json::Value>) {
        let mut committed = self.committed.write().unwrap();
        let entries = committed.entry(connector.to_owned()).or_default();
        entries.retain(|(p, _)| *p != partition);
        if let Some(offset) = offset {
            entries.push((partition, offset));
        }
    }

    pub fn committed(&self, connector: &str, partition: &serde_json::Value) -> Option<serde_json::Value> {
        let committed = self.committed.read().unwrap();
        committed.get(connector)?.iter().find(|(p, _)| p == partition).map(|(_, o)| o.clone())
    }

    /// The view a connector's plugin gets through the `offsets` import.
    pub fn reader(self: &Arc<Self>, connector: &str) -> Arc<dyn OffsetReader> {
        Arc::new(ConnectorOffsets { offsets: self.clone(), connector: connector.to_owned() })
    }
}

struct ConnectorOffsets {
    offsets: Arc<SourceOffsets>,
    connector: String,
}

impl OffsetReader for ConnectorOffsets {
    fn committed(&self, partition: &serde_json::Value) -> Option<serde_json::Value> {
        self.offsets.committed(&self.connector, partition)
    }
}

/// Positions of sink consumer groups (`connect-<connector>`): the next offset to read.
pub trait GroupOffsets: Send + Sync {
    fn position(&self, group: &str, tp: &TopicPartition) -> Option<i64>;
    /// The committed positions among `partitions`.
    fn positions(&self, group: &str, partitions: &[TopicPartition]) -> Vec<(TopicPartition, i64)>;
    /// Sets positions; `None` forgets one, so the group starts that partition from the beginning.
    fn alter(&self, group: &str, positions: &[(TopicPartition, Option<i64>)]) -> anyhow::Result<()>;

    fn commit(&self, group: &str, positions: &[(TopicPartition, i64)]) -> anyhow::Result<()> {
        let positions: Vec<(TopicPartition, Option<i64>)> = positions.iter().map(|(tp, o)| (tp.clone(), Some(*o))).collect();
        self.alter(group, &positions)
    }
}

/// Group positions in the log's own `__consumer_offsets` topic, cached in memory.
pub struct LogGroupOffsets {
    log: Arc<dyn TopicLog>,
    committed: RwLock<HashMap<(String, TopicPartition), i64>>,
}

impl LogGroupOffsets {
    pub fn load(log: Arc<dyn TopicLog>) -> anyhow::Result<LogGroupOffsets> {
        let mut committed = HashMap::new();
        for record in read_all(log.as_ref(), CONSUMER_OFFSETS_TOPIC)? {
            let key: Option<(String, String, i32)> = record.key.and_then(|k| serde_json::from_slice(&k).ok());
            let Some((group, topic, partition)) = key else { continue };
            let entry = (group, TopicPartition { topic, partition });
            let offset = record
                .value
                .and_then(|v| serde_json::from_slice::<serde_json::Value>(&v).ok())
                .and_then(|v| v.get("offset")?.as_i64());
            // A tombstone (a reset) forgets the position.
            match offset {
                Some(offset) => committed.insert(entry, offset),
                None => committed.remove(&entry),
            };
        }
        Ok(LogGroupOffsets { log, committed: RwLock::new(committed) })
    }
}

impl GroupOffsets for LogGroupOffsets {
    fn position(&self, group: &str, tp: &TopicPartition) -> Option<i64> {
        self.committed.read().unwrap().get(&(group.to_owned(), tp.clone())).copied()
    }

    fn positions(&self, group: &str, partitions: &[TopicPartition]) -> Vec<(TopicPartition, i64)> {
        partitions.iter().filter_map(|tp| Some((tp.clone(), self.position(group, tp)?))).collect()
    }

    fn alter(&self, group: &str, positions: &[(TopicPartition, Option<i64>)]) -> anyhow::Result<()> {
        let records = positions
            .iter()
            .map(|(tp, offset)| ProducerRecord {
                topic: CONSUMER_OFFSETS_TOPIC.into(),
                partition: Some(0),
                key: Some(serde_json::json!([group, tp.topic, tp.partition]).to_string().into_bytes()),
                value: offset.map(|o| serde_json::json!({ "offset": o }).to_string().into_bytes()),
                timestamp: None,
                headers: Vec::new(),
            })
            .collect();
        self.log.append(records)?;
        let mut committed = self.committed.write().unwrap();
        for (tp, offset) in positions {
            let key = (group.to_owned(), tp.clone());
            match offset {
                Some(o) => committed.insert(key, *o),
                None => committed.remove(&key),
            };
        }
        Ok(())
    }
}

/// Group positions as the Kafka cluster's consumer groups hold them.
pub struct KafkaGroupOffsets(pub Arc<KafkaLog>);

impl GroupOffsets for KafkaGroupOffsets {
    fn position(&self, group: &str, tp: &TopicPartition) -> Option<i64> {
        match self.0.group_positions(group, std::slice::from_ref(tp)) {
            Ok(positions) => positions.first().map(|(_, o)| *o),
            Err(e) => {
                tracing::warn!(group, "cannot read the group's position, starting from the beginning: {e}");
                None
            }
        }
    }

    fn positions(&self, group: &str, partitions: &[TopicPartition]) -> Vec<(TopicPartition, i64)> {
        self.0.group_positions(group, partitions).unwrap_or_else(|e| {
            tracing::warn!(group, "cannot read the group's positions: {e}");
            Vec::new()
        })
    }

    fn alter(&self, group: &str, positions: &[(TopicPartition, Option<i64>)]) -> anyhow::Result<()> {
        Ok(self.0.commit_group(group, positions)?)
    }
}

/// Every record of every partition of `topic`, oldest first (empty if it does not exist).
pub fn read_all(log: &dyn TopicLog, topic: &str) -> anyhow::Result<Vec<wasmconnect_log::ConsumerRecord>> {
    let mut out = Vec::new();
    for partition in 0..log.partitions(topic).unwrap_or(0) {
        let tp = TopicPartition { topic: topic.to_owned(), partition };
        let mut next = 0;
        loop {
            let batch = log.read(&tp, next, 10_000)?;
            let Some(last) = batch.last() else { break };
            next = last.offset + 1;
            out.extend(batch);
        }
    }
    Ok(out)
}
