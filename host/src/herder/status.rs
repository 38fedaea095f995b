//! Connector and task states, as `GET /connectors/{name}/status` reports them, written to
//! `connect-status` with Kafka Connect's keys (`status-connector-<name>`,
//! `status-task-<name>-<id>`).

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use serde::Serialize;
use wasmconnect_log::{ProducerRecord, TopicLog};

pub const STATUS_TOPIC: &str = "connect-status";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum State {
    Unassigned,
    Running,
    Paused,
    Stopped,
    Failed,
    Restarting,
}

#[derive(Clone, Debug, Serialize)]
pub struct Status {
    pub state: State,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
    pub worker_id: String,
}

pub struct StatusStore {
    log: Arc<dyn TopicLog>,
    worker_id: String,
    connectors: RwLock<BTreeMap<String, Status>>,
    tasks: RwLock<BTreeMap<(String, u32), Status>>,
}

impl StatusStore {
    pub fn new(log: Arc<dyn TopicLog>, worker_id: String) -> StatusStore {
        StatusStore { log, worker_id, connectors: Default::default(), tasks: Default::default() }
    }

    pub fn worker_id(&self) -> &str {
        &self.worker_id
    }

    pub fn connector(&self, name: &str, state: State, trace: Option<String>) {
        if state == State::Failed {
            tracing::error!(connector = name, "connector failed: {}", trace.as_deref().unwrap_or(""));
        }
        let status = self.status(state, trace);
        self.write(format!("status-connector-{name}"), Some(&status));
        self.connectors.write().unwrap().insert(name.to_owned(), status);
    }

    pub fn task(&self, name: &str, id: u32, state: State, trace: Option<String>) {
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
        let record = ProducerRecord {
            topic: STATUS_TOPIC.into(),
            partition: None,
            key: Some(key.into_bytes()),
            value,
            timestamp: None,
            headers: Vec::new(),
        };
        // A lost status update is not worth failing a task over: the state in memory, which
        // the REST API serves, is still right.
        if let Err(e) = self.log.append(vec![record]) {
            tracing::warn!("cannot write to {STATUS_TOPIC}: {e}");
        }
    }
}
