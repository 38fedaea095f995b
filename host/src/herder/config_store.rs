//! Connector and task configurations in `connect-configs`, with Kafka Connect's keys and
//! values: `connector-<name>` → `{"properties":{...}}`, `task-<name>-<n>` →
//! `{"properties":{...}}`, `commit-<name>` → `{"tasks":N}`; a deleted connector is a
//! tombstone on `connector-<name>`.

use std::collections::BTreeMap;
use std::sync::Arc;

use wasmconnect_log::{ProducerRecord, TopicLog};

use crate::worker::offsets::read_all;

use super::sealing::Sealer;


pub type Config = BTreeMap<String, String>;

/// What the user asked a connector to be: running, paused or stopped (no tasks at all).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TargetState {
    #[default]
    Started,
    Paused,
    Stopped,
}

pub struct StoredConnector {
    pub config: Config,
    pub target: TargetState,
}

pub struct ConfigStore {
    log: Arc<dyn TopicLog>,
    topic: String,
    /// Seals the secrets of every config written, and opens them when read back.
    sealer: Option<Arc<Sealer>>,
}

impl ConfigStore {
    /// The store in `topic` (`config.storage.topic`, `connect-configs` by default).
    pub fn new(log: Arc<dyn TopicLog>, topic: String, sealer: Option<Arc<Sealer>>) -> ConfigStore {
        ConfigStore { log, topic, sealer }
    }

    /// A config as read from the topic, its sealed secrets opened.
    pub fn open(&self, config: Config) -> Result<Config, super::sealing::SealError> {
        match &self.sealer {
            Some(sealer) => sealer.open(config),
            None => Ok(config),
        }
    }

    fn seal(&self, config: &Config) -> Config {
        match &self.sealer {
            Some(sealer) => sealer.seal(config),
            None => config.clone(),
        }
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The connectors that exist, replayed from the topic (latest record per key wins). A
    /// sealed secret that cannot be opened (another config key) is an error: nothing starts
    /// with a password it cannot use.
    pub fn load(&self) -> anyhow::Result<BTreeMap<String, StoredConnector>> {
        let mut configs = BTreeMap::new();
        let mut targets = BTreeMap::new();
        for record in read_all(self.log.as_ref(), &self.topic)? {
            let Some(key) = record.key.as_deref().and_then(|k| std::str::from_utf8(k).ok()) else { continue };
            if let Some(name) = key.strip_prefix("connector-") {
                match record.value.as_deref().map(properties) {
                    Some(Ok(config)) => {
                        let config = self.open(config).map_err(|e| anyhow::anyhow!("connector {name}: {e}"))?;
                        configs.insert(name.to_owned(), config);
                    }
                    Some(Err(e)) => tracing::warn!(connector = %name, "ignoring an unreadable config record: {e}"),
                    None => {
                        configs.remove(name);
                    }
                }
            } else if let Some(name) = key.strip_prefix("target-state-") {
                let target = record.value.as_deref().and_then(|v| serde_json::from_slice::<TargetRecord>(v).ok());
                targets.insert(name.to_owned(), target.map(|t| t.state).unwrap_or_default());
            }
        }
        Ok(configs
            .into_iter()
            .map(|(name, config)| {
                let target = targets.get(&name).copied().unwrap_or_default();
                (name, StoredConnector { config, target })
            })
            .collect())
    }

    pub fn put_target_state(&self, name: &str, target: TargetState) -> anyhow::Result<i64> {
        self.append(vec![self.record(format!("target-state-{name}"), Some(serde_json::json!({ "state": target })))])
    }

    pub fn put_connector(&self, name: &str, config: &Config) -> anyhow::Result<i64> {
        self.put_connector_in(name, config, None)
    }

    /// The connector's config, after its target state when it is not to start running.
    pub fn put_connector_in(&self, name: &str, config: &Config, target: Option<TargetState>) -> anyhow::Result<i64> {
        let mut records = Vec::new();
        if let Some(target) = target {
            records.push(self.record(format!("target-state-{name}"), Some(serde_json::json!({ "state": target }))));
        }
        records.push(self.record(format!("connector-{name}"), Some(serde_json::json!({ "properties": self.seal(config) }))));
        self.append(records)
    }

    /// A restart request for the workers running the connector (KIP-745's record).
    pub fn put_restart(&self, name: &str, include_tasks: bool, only_failed: bool) -> anyhow::Result<i64> {
        let value = serde_json::json!({ "include-tasks": include_tasks, "only-failed": only_failed });
        self.append(vec![self.record(format!("restart-connector-{name}"), Some(value))])
    }

    /// A restart request for the worker running one task.
    pub fn put_task_restart(&self, name: &str, id: u32) -> anyhow::Result<i64> {
        self.append(vec![self.record(format!("restart-task-{name}-{id}"), Some(serde_json::json!({})))])
    }

    /// Writes the task configs and the commit record that makes them current, in one append.
    pub fn put_tasks(&self, name: &str, tasks: &[Config]) -> anyhow::Result<i64> {
        let mut records: Vec<ProducerRecord> = tasks
            .iter()
            .enumerate()
            .map(|(i, config)| self.record(format!("task-{name}-{i}"), Some(serde_json::json!({ "properties": self.seal(config) }))))
            .collect();
        records.push(self.record(format!("commit-{name}"), Some(serde_json::json!({ "tasks": tasks.len() }))));
        self.append(records)
    }

    pub fn delete(&self, name: &str) -> anyhow::Result<i64> {
        self.append(vec![
            self.record(format!("connector-{name}"), None),
            self.record(format!("target-state-{name}"), None),
        ])
    }

    /// Appends in order; the offset of the last record, to wait for it to be read back.
    fn append(&self, records: Vec<ProducerRecord>) -> anyhow::Result<i64> {
        let positions = self.log.append(records)?;
        Ok(positions.last().map_or(-1, |(_, offset)| *offset))
    }

    fn record(&self, key: String, value: Option<serde_json::Value>) -> ProducerRecord {
        ProducerRecord {
            topic: self.topic.clone(),
            partition: Some(0),
            key: Some(key.into_bytes()),
            value: value.map(|v| v.to_string().into_bytes()),
            timestamp: None,
            headers: Vec::new(),
        }
    }
}

#[derive(serde::Deserialize)]
struct TargetRecord {
    state: TargetState,
}

fn properties(value: &[u8]) -> anyhow::Result<Config> {
    #[derive(serde::Deserialize)]
    struct Stored {
        properties: Config,
    }
    Ok(serde_json::from_slice::<Stored>(value)?.properties)
}
