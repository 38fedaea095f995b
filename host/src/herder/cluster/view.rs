//! The cluster's connectors as the config topic says they are, built by replaying its
//! records in order: every worker reads the same records, so every worker sees the same view.

use std::collections::BTreeMap;

use wasmconnect_log::ConsumerRecord;

use crate::herder::config_store::{Config, TargetState};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConnectorView {
    pub config: Config,
    pub target: TargetState,
    /// The task configs of the latest `commit-<name>`.
    pub task_configs: Vec<Config>,
    /// Where the latest connector config and the latest task commit are in the topic: task
    /// configs committed before the config changed are stale and must be generated again.
    pub config_offset: i64,
    pub commit_offset: Option<i64>,
}

impl ConnectorView {
    pub fn tasks_are_current(&self) -> bool {
        self.commit_offset.is_some_and(|commit| commit > self.config_offset)
    }
}

/// A restart someone asked for through the REST API, to be carried out by the workers that
/// run the connector or its tasks.
#[derive(Clone, Debug, PartialEq)]
pub enum Restart {
    Connector { name: String, include_tasks: bool, only_failed: bool },
    Task { name: String, id: u32 },
}

#[derive(Default)]
pub struct ClusterView {
    connectors: BTreeMap<String, ConnectorView>,
    /// Target states apart from connectors, since a `target-state-` record may come first.
    targets: BTreeMap<String, TargetState>,
    /// `task-<name>-<n>` records waiting for the `commit-<name>` that makes them current.
    pending_tasks: BTreeMap<String, BTreeMap<u32, Config>>,
}

impl ClusterView {
    pub fn connectors(&self) -> &BTreeMap<String, ConnectorView> {
        &self.connectors
    }

    /// Applies one record of the config topic, its configs opened by `open` (sealed secrets);
    /// a restart request comes back as such.
    pub fn apply(&mut self, record: &ConsumerRecord, open: &dyn Fn(Config) -> Config) -> Option<Restart> {
        let key = std::str::from_utf8(record.key.as_deref()?).ok()?;
        let value = record.value.as_deref().and_then(|v| serde_json::from_slice::<serde_json::Value>(v).ok());
        if let Some(name) = key.strip_prefix("connector-") {
            match value.as_ref().and_then(properties) {
                Some(config) => {
                    let connector = self.connectors.entry(name.to_owned()).or_default();
                    connector.config = open(config);
                    connector.config_offset = record.offset;
                    connector.target = self.targets.get(name).copied().unwrap_or_default();
                }
                None => {
                    self.connectors.remove(name);
                    self.pending_tasks.remove(name);
                }
            }
        } else if let Some(name) = key.strip_prefix("target-state-") {
            let target = value.and_then(|v| serde_json::from_value::<TargetRecord>(v).ok()).map(|t| t.state).unwrap_or_default();
            self.targets.insert(name.to_owned(), target);
            if let Some(connector) = self.connectors.get_mut(name) {
                connector.target = target;
            }
        } else if let Some(name) = key.strip_prefix("commit-") {
            let count = value.as_ref().and_then(|v| v.get("tasks")?.as_u64()).unwrap_or(0) as u32;
            let mut pending = self.pending_tasks.remove(name).unwrap_or_default();
            if let Some(connector) = self.connectors.get_mut(name) {
                connector.task_configs = (0..count).map(|id| pending.remove(&id).unwrap_or_default()).collect();
                connector.commit_offset = Some(record.offset);
            }
        } else if let Some(rest) = key.strip_prefix("task-") {
            let (name, id) = split_id(rest)?;
            let config = value.as_ref().and_then(properties)?;
            self.pending_tasks.entry(name.to_owned()).or_default().insert(id, open(config));
        } else if let Some(name) = key.strip_prefix("restart-connector-") {
            let flag = |key: &str| value.as_ref().and_then(|v| v.get(key)?.as_bool()).unwrap_or(false);
            return Some(Restart::Connector { name: name.to_owned(), include_tasks: flag("include-tasks"), only_failed: flag("only-failed") });
        } else if let Some(rest) = key.strip_prefix("restart-task-") {
            let (name, id) = split_id(rest)?;
            return Some(Restart::Task { name: name.to_owned(), id });
        }
        None
    }
}

/// `<name>-<n>`: the name may contain '-', the id is after the last one.
fn split_id(text: &str) -> Option<(&str, u32)> {
    let (name, id) = text.rsplit_once('-')?;
    Some((name, id.parse().ok()?))
}

#[derive(serde::Deserialize)]
struct TargetRecord {
    state: TargetState,
}

fn properties(value: &serde_json::Value) -> Option<Config> {
    serde_json::from_value(value.get("properties")?.clone()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn as_stored(config: Config) -> Config {
        config
    }

    fn record(offset: i64, key: &str, value: Option<serde_json::Value>) -> ConsumerRecord {
        ConsumerRecord {
            topic: "connect-configs".into(),
            partition: 0,
            offset,
            timestamp: 0,
            key: Some(key.as_bytes().to_vec()),
            value: value.map(|v| v.to_string().into_bytes()),
            headers: Vec::new(),
        }
    }

    #[test]
    fn task_configs_become_current_with_their_commit() {
        let mut view = ClusterView::default();
        view.apply(&record(0, "connector-my-src", Some(serde_json::json!({"properties": {"a": "1"}}))), &as_stored);
        assert!(!view.connectors()["my-src"].tasks_are_current());
        view.apply(&record(1, "task-my-src-0", Some(serde_json::json!({"properties": {"t": "0"}}))), &as_stored);
        view.apply(&record(2, "task-my-src-1", Some(serde_json::json!({"properties": {"t": "1"}}))), &as_stored);
        assert!(view.connectors()["my-src"].task_configs.is_empty(), "not before the commit");
        view.apply(&record(3, "commit-my-src", Some(serde_json::json!({"tasks": 2}))), &as_stored);
        let connector = &view.connectors()["my-src"];
        assert_eq!(connector.task_configs.len(), 2);
        assert_eq!(connector.task_configs[1]["t"], "1");
        assert!(connector.tasks_are_current());
        // A new config makes the committed tasks stale until the next commit.
        view.apply(&record(4, "connector-my-src", Some(serde_json::json!({"properties": {"a": "2"}}))), &as_stored);
        assert!(!view.connectors()["my-src"].tasks_are_current());
    }

    #[test]
    fn target_states_deletes_and_restarts_are_read() {
        let mut view = ClusterView::default();
        view.apply(&record(0, "connector-c", Some(serde_json::json!({"properties": {}}))), &as_stored);
        view.apply(&record(1, "target-state-c", Some(serde_json::json!({"state": "PAUSED"}))), &as_stored);
        assert_eq!(view.connectors()["c"].target, TargetState::Paused);
        let restart = view.apply(&record(2, "restart-connector-c", Some(serde_json::json!({"include-tasks": true, "only-failed": false}))), &as_stored);
        assert_eq!(restart, Some(Restart::Connector { name: "c".into(), include_tasks: true, only_failed: false }));
        assert_eq!(view.apply(&record(3, "restart-task-c-2", Some(serde_json::json!({}))), &as_stored), Some(Restart::Task { name: "c".into(), id: 2 }));
        view.apply(&record(4, "connector-c", None), &as_stored);
        assert!(view.connectors().is_empty());
    }
}
