//! Connector and task configurations in `connect-configs`, with Kafka Connect's keys and
//! values: `connector-<name>` → `{"properties":{...}}`, `task-<name>-<n>` →
//! `{"properties":{...}}`, `commit-<name>` → `{"tasks":N}`; a deleted connector is a
//! tombstone on `connector-<name>`.

use std::collections::BTreeMap;
use std::sync::Arc;

use wasmconnect_log::{ProducerRecord, TopicLog};

use crate::worker::offsets::read_all;

pub const CONFIG_TOPIC: &str = "connect-configs";

pub type Config = BTreeMap<String, String>;

pub struct ConfigStore {
    log: Arc<dyn TopicLog>,
}

impl ConfigStore {
    pub fn new(log: Arc<dyn TopicLog>) -> ConfigStore {
        ConfigStore { log }
    }

    /// The connectors that exist, replayed from the topic (latest record per key wins).
    pub fn load(&self) -> anyhow::Result<BTreeMap<String, Config>> {
        let mut connectors = BTreeMap::new();
        for record in read_all(self.log.as_ref(), CONFIG_TOPIC)? {
            let Some(name) = record.key.as_deref().and_then(|k| std::str::from_utf8(k).ok()?.strip_prefix("connector-").map(String::from)) else {
                continue;
            };
            match record.value.as_deref().map(properties) {
                Some(Ok(config)) => {
                    connectors.insert(name, config);
                }
                Some(Err(e)) => tracing::warn!(connector = %name, "ignoring an unreadable config record: {e}"),
                None => {
                    connectors.remove(&name);
                }
            }
        }
        Ok(connectors)
    }

    pub fn put_connector(&self, name: &str, config: &Config) -> anyhow::Result<()> {
        self.append(vec![record(format!("connector-{name}"), Some(serde_json::json!({ "properties": config })))])
    }

    /// Writes the task configs and the commit record that makes them current, in one append.
    pub fn put_tasks(&self, name: &str, tasks: &[Config]) -> anyhow::Result<()> {
        let mut records: Vec<ProducerRecord> = tasks
            .iter()
            .enumerate()
            .map(|(i, config)| record(format!("task-{name}-{i}"), Some(serde_json::json!({ "properties": config }))))
            .collect();
        records.push(record(format!("commit-{name}"), Some(serde_json::json!({ "tasks": tasks.len() }))));
        self.append(records)
    }

    pub fn delete(&self, name: &str) -> anyhow::Result<()> {
        self.append(vec![
            record(format!("connector-{name}"), None),
            record(format!("target-state-{name}"), None),
        ])
    }

    fn append(&self, records: Vec<ProducerRecord>) -> anyhow::Result<()> {
        self.log.append(records)?;
        Ok(())
    }
}

fn record(key: String, value: Option<serde_json::Value>) -> ProducerRecord {
    ProducerRecord {
        topic: CONFIG_TOPIC.into(),
        partition: Some(0),
        key: Some(key.into_bytes()),
        value: value.map(|v| v.to_string().into_bytes()),
        timestamp: None,
        headers: Vec::new(),
    }
}

fn properties(value: &[u8]) -> anyhow::Result<Config> {
    #[derive(serde::Deserialize)]
    struct Stored {
        properties: Config,
    }
    Ok(serde_json::from_slice::<Stored>(value)?.properties)
}
