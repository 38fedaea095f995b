//! Connector and task states, as `GET /connectors/{name}/status` reports them, written to
//! `connect-status` with Kafka Connect's keys (`status-connector-<name>`,
//! `status-task-<name>-<id>`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, RwLock};

use serde::Serialize;
use wasmconnect_log::{ProducerRecord, TopicLog};

use crate::worker::offsets::read_all;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum State {
    Unassigned,
    Running,
    Paused,
    Stopped,
    Failed,
    Restarting,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Status {
    pub state: State,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
    pub worker_id: String,
}

pub struct StatusStore {
    log: Arc<dyn TopicLog>,
    /// `status.storage.topic`, `connect-status` by default.
    topic: String,
    worker_id: String,
    connectors: RwLock<BTreeMap<String, Status>>,
    tasks: RwLock<BTreeMap<(String, u32), Status>>,
    /// Topics each connector has used (KIP-558), kept as `topic-<topic>-<connector>`.
    topics: RwLock<BTreeMap<String, BTreeSet<String>>>,
}

impl StatusStore {
    /// Connector and task states start afresh with each worker; the active topics are
    /// replayed from `connect-status`.
    pub fn load(log: Arc<dyn TopicLog>, topic: String, worker_id: String) -> anyhow::Result<StatusStore> {
        let mut topics: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for record in read_all(log.as_ref(), &topic)? {
            let Some(key) = record.key.as_deref().and_then(|k| std::str::from_utf8(k).ok()) else { continue };
            if !key.starts_with("topic-") {
                continue;
            }
            let Some(value) = record.value.as_deref().and_then(|v| serde_json::from_slice::<serde_json::Value>(v).ok()) else {
                // A tombstone: names may contain '-', so match the whole key.
                for (connector, used) in topics.iter_mut() {
                    used.retain(|topic| key != format!("topic-{topic}-{connector}"));
                }
                continue;
            };
            let (Some(topic), Some(connector)) = (value["topic"]["name"].as_str(), value["topic"]["connector"].as_str()) else { continue };
            topics.entry(connector.to_owned()).or_default().insert(topic.to_owned());
        }
        Ok(StatusStore { log, topic, worker_id, connectors: Default::default(), tasks: Default::default(), topics: RwLock::new(topics) })
    }

    /// Records that a task of `connector` used `topic`; cheap when it is already known.
    pub fn topic_used(&self, connector: &str, topic: &str, task: u32) {
        if self.topics.read().unwrap().get(connector).is_some_and(|t| t.contains(topic)) {
            return;
        }
        self.topics.write().unwrap().entry(connector.to_owned()).or_default().insert(topic.to_owned());
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
        let value = serde_json::json!({"topic": {"name": topic, "connector": connector, "task": task, "discoverTimestamp": now}});
        self.append(format!("topic-{topic}-{connector}"), Some(value.to_string().into_bytes()));
    }

    pub fn topics(&self, connector: &str) -> Vec<String> {
        self.topics.read().unwrap().get(connector).map(|t| t.iter().cloned().collect()).unwrap_or_default()
    }

    /// Forgets the topics a connector used (`PUT .../topics/reset`, or its deletion).
    pub fn reset_topics(&self, connector: &str) {
        let Some(topics) = self.topics.write().unwrap().remove(connector) else { return };
        for topic in topics {
            self.append(format!("topic-{topic}-{connector}"), None);
        }
    }

    pub fn worker_id(&self) -> &str {
        &self.worker_id
    }

    /// A FAILED state's trace starts with what to do about it (see `hint`).
    pub fn connector(&self, name: &str, state: State, trace: Option<String>) {
        let trace = if state == State::Failed { trace.map(super::hint::explained) } else { trace };
        if state == State::Failed {
            tracing::error!(connector = name, "connector failed: {}", trace.as_deref().unwrap_or(""));
        }
        let status = self.status(state, trace);
        self.write(format!("status-connector-{name}"), Some(&status));
        self.connectors.write().unwrap().insert(name.to_owned(), status);
    }

    pub fn task(&self, name: &str, id: u32, state: State, trace: Option<String>) {
        let trace = if state == State::Failed { trace.map(super::hint::explained) } else { trace };
        if state == State::Failed {
            tracing::error!(connector = name, task = id, "task failed: {}", trace.as_deref().unwrap_or(""));
        }
        let status = self.status(state, trace);
        self.write(format!("status-task-{name}-{id}"), Some(&status));
        self.tasks.write().unwrap().insert((name.to_owned(), id), status);
    }

    pub fn connector_status(&self, name: &str) -> Option<Status> {
        self.connectors.read().unwrap().get(name).cloned()
    }

    pub fn task_statuses(&self, name: &str) -> Vec<(u32, Status)> {
        let tasks = self.tasks.read().unwrap();
        tasks.iter().filter(|((n, _), _)| n == name).map(|((_, id), s)| (*id, s.clone())).collect()
    }

    /// Forgets a deleted connector, with tombstones so its statuses do not come back.
    pub fn remove(&self, name: &str) {
        self.write(format!("status-connector-{name}"), None);
        self.connectors.write().unwrap().remove(name);
        self.remove_tasks(name);
        self.reset_topics(name);
    }

    /// Takes in a status record another worker (or this one) wrote: in distributed mode every
    /// worker reports the states of every connector.
    pub fn apply(&self, record: &wasmconnect_log::ConsumerRecord) {
        let Some(key) = record.key.as_deref().and_then(|k| std::str::from_utf8(k).ok()) else { return };
        let value = record.value.as_deref().and_then(|v| serde_json::from_slice::<serde_json::Value>(v).ok());
        let status = value.as_ref().and_then(|v| {
            Some(Status {
                state: serde_json::from_value(v.get("state")?.clone()).ok()?,
                trace: v.get("trace").and_then(|t| t.as_str()).map(str::to_owned),
                worker_id: v.get("worker_id")?.as_str()?.to_owned(),
            })
        });
        if let Some(name) = key.strip_prefix("status-connector-") {
            let mut connectors = self.connectors.write().unwrap();
            match status {
                Some(status) => connectors.insert(name.to_owned(), status),
                None => connectors.remove(name),
            };
        } else if let Some((name, id)) = key.strip_prefix("status-task-").and_then(|r| r.rsplit_once('-')) {
            let Ok(id) = id.parse() else { return };
            let mut tasks = self.tasks.write().unwrap();
            match status {
                Some(status) => tasks.insert((name.to_owned(), id), status),
                None => tasks.remove(&(name.to_owned(), id)),
            };
        } else if let (Some(_), Some(value)) = (key.strip_prefix("topic-"), &value)
            && let (Some(topic), Some(connector)) = (value["topic"]["name"].as_str(), value["topic"]["connector"].as_str())
        {
            self.topics.write().unwrap().entry(connector.to_owned()).or_default().insert(topic.to_owned());
        }
    }

    /// Forgets the status of a task that no longer exists.
    pub fn remove_task(&self, name: &str, id: u32) {
        if self.tasks.write().unwrap().remove(&(name.to_owned(), id)).is_some() {
            self.write(format!("status-task-{name}-{id}"), None);
        }
    }

    /// Forgets the task statuses of a connector that has no tasks any more.
    pub fn remove_tasks(&self, name: &str) {
        let ids: Vec<u32> = self.task_statuses(name).into_iter().map(|(id, _)| id).collect();
        for id in ids {
            self.write(format!("status-task-{name}-{id}"), None);
            self.tasks.write().unwrap().remove(&(name.to_owned(), id));
        }
    }

    fn status(&self, state: State, trace: Option<String>) -> Status {
        Status { state, trace, worker_id: self.worker_id.clone() }
    }

    fn write(&self, key: String, status: Option<&Status>) {
        let value = status.map(|s| {
            serde_json::json!({"state": s.state, "trace": s.trace, "worker_id": s.worker_id, "generation": 0})
                .to_string()
                .into_bytes()
        });
        self.append(key, value);
    }

    fn append(&self, key: String, value: Option<Vec<u8>>) {
        let record = ProducerRecord {
            topic: self.topic.clone(),
            partition: None,
            key: Some(key.into_bytes()),
            value,
            timestamp: None,
            headers: Vec::new(),
        };
        // A lost status update is not worth failing a task over: the state in memory, which
        // the REST API serves, is still right.
        if let Err(e) = self.log.append(vec![record]) {
            tracing::warn!("cannot write to {}: {e}", self.topic);
        }
    }
}
