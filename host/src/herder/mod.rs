//! The Herder: owns the connectors of this worker, their configs, tasks and statuses, and
//! answers the REST API. Every change goes to `connect-configs` first, so a restart
//! brings back exactly the connectors that existed.

pub mod cluster;
pub mod config_store;
mod distributed;
pub mod hint;
mod plugin_path;
mod reconfigure;

pub use plugin_path::spawn_watcher as spawn_plugin_path_watcher;
pub use reconfigure::spawn_monitor as spawn_reconfiguration_monitor;
pub mod sealing;
mod secrets;
pub mod status;
pub mod validate;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};

use serde_json::json;
use wasmconnect_log::TopicPartition;

use crate::runtime::{Plugin, PluginError, PluginKind, PluginRegistry};
use crate::worker::{ChainSpec, TaskHandle, TaskSpec, WorkerContext, providers, start_task};
use config_store::{Config, ConfigStore, TargetState};
use status::{State, Status};
use validate::ConfigProblem;

#[derive(Debug, thiserror::Error)]
pub enum HerderError {
    #[error("Connector {0} not found")]
    NotFound(String),
    #[error("Connector {0} already exists")]
    AlreadyExists(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("The connector config has {} problem(s):\n{}\nPUT /connector-plugins/{{class}}/config/validate lists them per key", .0.len(), .0.iter().map(|p| format!("{}: {}", p.key, p.message)).collect::<Vec<_>>().join("\n"))]
    InvalidConfig(Vec<ConfigProblem>),
    #[error("{0}")]
    Internal(String),
    #[error("Cannot complete the request right now: the worker group is rebalancing (a worker joined or left). Try again in a moment")]
    Rebalancing,
}

impl From<anyhow::Error> for HerderError {
    fn from(e: anyhow::Error) -> Self {
        HerderError::Internal(format!("{e:#}"))
    }
}

/// What `GET /connectors/{name}` answers.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ConnectorInfo {
    pub name: String,
    pub config: Config,
    pub tasks: Vec<TaskId>,
    /// `source` or `sink`.
    #[serde(rename = "type")]
    pub kind: &'static str,
}

#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct TaskId {
    pub connector: String,
    pub task: u32,
}

#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ConnectorStatus {
    pub name: String,
    pub connector: ConnectorState,
    pub tasks: Vec<TaskStatus>,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// The connector's status, and the version of the plugin it runs (as KIP-891 shows it).
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ConnectorState {
    #[serde(flatten)]
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct TaskStatus {
    pub id: u32,
    #[serde(flatten)]
    pub status: Status,
    /// Beyond Kafka Connect: what the task has done since the worker started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<TaskProgress>,
}

/// A task's progress, from the worker's metrics.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct TaskProgress {
    /// Source: records the plugin produced; sink: records read from the topics.
    pub records_read: u64,
    /// Source: records written to topics, after transforms; sink: records the plugin
    /// accepted.
    pub records_written: u64,
    /// Records not yet processed. Sink: records on the connector's topics not yet committed
    /// by its consumer group `connect-<name>` (shared by its tasks). Source: records the
    /// plugin reports it has still to read, e.g. the rest of an initial snapshot, 0 once
    /// caught up; absent when the plugin does not tell (or the task does not run here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lag: Option<i64>,
}

struct Connector {
    config: Config,
    plugin: Arc<Plugin>,
    target: TargetState,
    task_configs: Vec<Config>,
    tasks: BTreeMap<u32, TaskHandle>,
    /// When to ask the plugin for its split again, if it asked to be asked.
    recheck: Option<reconfigure::Recheck>,
    /// Distributed mode: this worker holds the connector's own partition, so it generates
    /// the task configs and reports the connector's state.
    owned: bool,
}

impl Connector {
    fn stop_tasks(&mut self) {
        for (_, task) in std::mem::take(&mut self.tasks) {
            task.stop();
        }
    }
}

pub struct Herder {
    ctx: Arc<WorkerContext>,
    /// Replaced when the plugin path changes; running tasks keep the plugin they started with.
    registry: RwLock<Arc<PluginRegistry>>,
    configs: ConfigStore,
    connectors: Mutex<BTreeMap<String, Connector>>,
    /// Stored connectors whose plugin is not installed: kept (FAILED, type "unknown") so
    /// they stay visible and deletable instead of vanishing, and come back when it is.
    unresolved: Mutex<BTreeMap<String, Config>>,
    /// Serializes every change, so two requests for one name cannot interleave.
    changing: Mutex<()>,
    /// Distributed mode: the group this worker shares the connectors with.
    cluster: Option<Arc<cluster::Cluster>>,
}

impl Herder {
    /// Restores every connector recorded in `connect-configs`, in its target state.
    pub fn start(ctx: Arc<WorkerContext>, registry: Arc<PluginRegistry>, configs: ConfigStore) -> anyhow::Result<Herder> {
        let stored = configs.load()?;
        let herder = Herder {
            ctx,
            registry: RwLock::new(registry),
            configs,
            connectors: Mutex::new(BTreeMap::new()),
            unresolved: Mutex::new(BTreeMap::new()),
            changing: Mutex::new(()),
            cluster: None,
        };
        for (name, connector) in stored {
            tracing::info!(connector = %name, target = ?connector.target, "restoring connector");
            herder.restore(name, connector);
        }
        Ok(herder)
    }

    /// Starts a stored connector, or keeps it FAILED and visible while its plugin is missing.
    fn restore(&self, name: String, connector: config_store::StoredConnector) {
        match self.plugin_for(&connector.config) {
            Ok(plugin) => {
                self.launch(&name, connector.config, plugin, connector.target);
            }
            Err(e) => {
                self.ctx.status.connector(&name, State::Failed, Some(format!("cannot restore the connector: {e}")));
                self.unresolved.lock().unwrap().insert(name, connector.config);
            }
        }
    }

    /// The plugin path changed: new plugins become available, removed ones are no longer
    /// offered (connectors using them keep running until restarted), and connectors that
    /// waited for a plugin start if it arrived.
    pub fn rescan_plugins(&self, plugin_path: &[std::path::PathBuf]) -> Result<(), crate::runtime::registry::RegistryError> {
        let registry = PluginRegistry::scan(plugin_path, self.ctx.runtime.as_ref())?;
        *self.registry.write().unwrap() = Arc::new(registry);
        let waiting: Vec<String> = std::mem::take(&mut *self.unresolved.lock().unwrap()).into_keys().collect();
        if waiting.is_empty() {
            return Ok(());
        }
        if self.cluster.is_some() {
            self.reconcile();
            return Ok(());
        }
        let _changing = self.changing.lock().unwrap();
        match self.configs.load() {
            Ok(mut stored) => {
                for name in waiting {
                    if let Some(connector) = stored.remove(&name) {
                        self.restore(name, connector);
                    }
                }
            }
            Err(e) => tracing::error!("cannot read the stored connectors again: {e:#}"),
        }
        Ok(())
    }

    /// A config read from the config topic, its sealed secrets opened. One that cannot be
    /// opened (another worker's config key) is kept sealed, and its tasks fail to log in.
    fn open_config(&self, config: Config) -> Config {
        match self.configs.open(config.clone()) {
            Ok(opened) => opened,
            Err(e) => {
                tracing::error!("{e}");
                config
            }
        }
    }

    pub fn worker_id(&self) -> &str {
        self.ctx.status.worker_id()
    }

    /// Where connector configs are stored, secrets as given.
    pub fn config_topic(&self) -> &str {
        self.configs.topic()
    }

    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.ctx.metrics
    }

    pub fn registry(&self) -> Arc<PluginRegistry> {
        self.registry.read().unwrap().clone()
    }

    /// Every problem of a connector config: against its plugin's manifest, and against what
    /// this worker offers (exactly-once delivery of sources).
    pub fn validate(&self, plugin: &Plugin, config: &Config) -> Vec<ConfigProblem> {
        let mut problems = validate::validate(&self.registry(), plugin, config);
        let support = self.ctx.exactly_once;
        if plugin.manifest.kind == PluginKind::Source {
            problems.extend(crate::worker::exactly_once::validate(config, &self.ctx.worker_config, support));
        }
        problems.extend(crate::worker::exactly_once::validate_isolation(config, support));
        problems
    }

    pub fn connector_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.connectors.lock().unwrap().keys().cloned().collect();
        names.extend(self.unresolved.lock().unwrap().keys().cloned());
        names.sort();
        names
    }

    pub fn create(&self, name: &str, mut config: Config, target: TargetState) -> Result<ConnectorInfo, HerderError> {
        check_name(name)?;
        config.insert("name".into(), name.to_owned());
        if let Some(cluster) = &self.cluster {
            return self.create_in_cluster(cluster, name, config, target);
        }
        let _changing = self.changing.lock().unwrap();
        if self.connectors.lock().unwrap().contains_key(name) || self.unresolved.lock().unwrap().contains_key(name) {
            return Err(HerderError::AlreadyExists(name.to_owned()));
        }
        let plugin = self.plugin_for(&config)?;
        self.configs.put_connector(name, &config)?;
        if target != TargetState::Started {
            self.configs.put_target_state(name, target)?;
        }
        Ok(self.launch(name, config, plugin, target))
    }

    /// `PUT /connectors/{name}/config`: creates or reconfigures; true when it created.
    pub fn put_config(&self, name: &str, mut config: Config) -> Result<(ConnectorInfo, bool), HerderError> {
        check_name(name)?;
        if let Some(given) = config.get("name")
            && given != name
        {
            return Err(HerderError::BadRequest(format!(
                "The config names the connector {given}, but the URL names it {name}: they must agree"
            )));
        }
        config.insert("name".into(), name.to_owned());
        // A secret sent back as "[hidden]" (a GET, edited, PUT back) keeps its stored value.
        if let Some(stored) = self.raw_config(name) {
            secrets::unmask(&mut config, &stored);
        }
        let plugin = self.plugin_for(&config)?;
        if let Some(cluster) = &self.cluster {
            return self.put_config_in_cluster(cluster, name, config);
        }
        let _changing = self.changing.lock().unwrap();
        let previous = self.remove_connector(name);
        let was_unresolved = self.unresolved.lock().unwrap().remove(name).is_some();
        let target = previous.as_ref().map_or(TargetState::Started, |c| c.target);
        self.configs.put_connector(name, &config)?;
        Ok((self.launch(name, config, plugin, target), previous.is_none() && !was_unresolved))
    }

    /// `PATCH /connectors/{name}/config`: merges `patch` into the config; `None` removes a key.
    pub fn patch_config(&self, name: &str, patch: BTreeMap<String, Option<String>>) -> Result<ConnectorInfo, HerderError> {
        let mut config = self.raw_config(name).ok_or_else(|| not_found(name))?;
        if patch.get("name").is_some_and(|n| n.as_deref() != Some(name)) {
            return Err(HerderError::BadRequest(format!("the connector name cannot be changed by PATCH (it is {name})")));
        }
        for (key, value) in patch {
            match value {
                Some(value) => config.insert(key, value),
                None => config.remove(&key),
            };
        }
        Ok(self.put_config(name, config)?.0)
    }

    pub fn delete(&self, name: &str) -> Result<(), HerderError> {
        if let Some(cluster) = &self.cluster {
            self.info(name)?;
            return self.write_to_cluster(cluster, |configs| configs.delete(name));
        }
        let _changing = self.changing.lock().unwrap();
        let unresolved = self.unresolved.lock().unwrap().remove(name).is_some();
        if self.remove_connector(name).is_none() && !unresolved {
            return Err(not_found(name));
        }
        self.configs.delete(name)?;
        self.ctx.status.remove(name);
        tracing::info!(connector = %name, "deleted connector");
        Ok(())
    }

    /// Stops the tasks but keeps their configs, so `resume` continues where they were.
    pub fn pause(&self, name: &str) -> Result<(), HerderError> {
        self.change_target(name, TargetState::Paused)
    }

    pub fn resume(&self, name: &str) -> Result<(), HerderError> {
        self.change_target(name, TargetState::Started)
    }

    /// Shuts the tasks down and removes their configs: the connector keeps only its config.
    pub fn stop(&self, name: &str) -> Result<(), HerderError> {
        self.change_target(name, TargetState::Stopped)
    }

    /// Restarts the connector (asks the plugin for task configs again) and, with
    /// `include_tasks`, its tasks; `only_failed` limits both to what has FAILED.
    pub fn restart(&self, name: &str, include_tasks: bool, only_failed: bool) -> Result<(), HerderError> {
        if let Some(cluster) = &self.cluster {
            self.check_resolved(name)?;
            self.info(name)?;
            return self.write_to_cluster(cluster, |configs| configs.put_restart(name, include_tasks, only_failed));
        }
        let _changing = self.changing.lock().unwrap();
        self.check_resolved(name)?;
        let connector_failed = self.ctx.status.connector_status(name).is_some_and(|s| s.state == State::Failed);
        if !self.connectors.lock().unwrap().contains_key(name) {
            return Err(not_found(name));
        }
        if !only_failed || connector_failed {
            let connector = self.remove_connector(name).ok_or_else(|| not_found(name))?;
            self.launch(name, connector.config, connector.plugin, connector.target);
            return Ok(());
        }
        if include_tasks {
            let failed: Vec<u32> = self
                .ctx
                .status
                .task_statuses(name)
                .into_iter()
                .filter(|(_, s)| s.state == State::Failed)
                .map(|(id, _)| id)
                .collect();
            for id in failed {
                self.restart_task_locked(name, id)?;
            }
        }
        Ok(())
    }

    pub fn restart_task(&self, name: &str, id: u32) -> Result<(), HerderError> {
        if let Some(cluster) = &self.cluster {
            self.check_resolved(name)?;
            if self.task_configs(name)?.len() <= id as usize {
                return Err(HerderError::NotFound(format!("Task {name}-{id} not found")));
            }
            return self.write_to_cluster(cluster, |configs| configs.put_task_restart(name, id));
        }
        let _changing = self.changing.lock().unwrap();
        self.check_resolved(name)?;
        self.restart_task_locked(name, id)
    }

    /// The connector's info, secrets masked.
    pub fn info(&self, name: &str) -> Result<ConnectorInfo, HerderError> {
        if let Some(connector) = self.connectors.lock().unwrap().get(name) {
            return Ok(info(name, connector));
        }
        let unresolved = self.unresolved.lock().unwrap();
        let config = unresolved.get(name).ok_or_else(|| not_found(name))?;
        Ok(ConnectorInfo { name: name.to_owned(), config: secrets::mask(config, None), tasks: Vec::new(), kind: "unknown" })
    }

    /// The connector's config, secrets masked.
    pub fn config(&self, name: &str) -> Result<Config, HerderError> {
        Ok(self.info(name)?.config)
    }

    /// The task configs, secrets masked.
    pub fn task_configs(&self, name: &str) -> Result<Vec<Config>, HerderError> {
        if let Some(connector) = self.connectors.lock().unwrap().get(name) {
            return Ok(connector.task_configs.iter().map(|c| secrets::mask(c, Some(&connector.plugin))).collect());
        }
        // A connector without its plugin has no tasks.
        self.info(name).map(|_| Vec::new())
    }

    /// `GET /connectors/{name}/offsets`, in Kafka Connect's shape: source partitions and
    /// offsets as the plugin wrote them; for sinks, topic partitions and consumer positions.
    pub fn offsets(&self, name: &str) -> Result<ConnectorOffsets, HerderError> {
        let info = self.info(name)?;
        let offsets = if info.kind == "sink" {
            self.ctx
                .group_offsets
                .positions(&sink_group(name), &self.sink_partitions(&info.config))
                .into_iter()
                .map(|(tp, offset)| OffsetEntry {
                    partition: json!({"kafka_topic": tp.topic, "kafka_partition": tp.partition}),
                    offset: Some(json!({"kafka_offset": offset})),
                })
                .collect()
        } else {
            self.ctx.source_offsets.all(name).into_iter().map(|(partition, offset)| OffsetEntry { partition, offset: Some(offset) }).collect()
        };
        Ok(ConnectorOffsets { offsets })
    }

    /// `PATCH .../offsets` (`Some`: set these, a null offset removes one) and `DELETE
    /// .../offsets` (`None`: remove all). Only for a STOPPED connector, whose tasks cannot
    /// be committing at the same time.
    pub fn alter_offsets(&self, name: &str, entries: Option<Vec<OffsetEntry>>) -> Result<(), HerderError> {
        let _changing = self.changing.lock().unwrap();
        let info = self.info(name)?;
        let stopped = self.connectors.lock().unwrap().get(name).is_some_and(|c| c.target == TargetState::Stopped);
        if !stopped {
            return Err(HerderError::BadRequest(format!(
                "Connector {name} must be STOPPED before its offsets can change: PUT /connectors/{name}/stop first"
            )));
        }
        let log = self.ctx.log.as_ref();
        if info.kind == "sink" {
            let group = sink_group(name);
            let positions = match entries {
                None => self.sink_partitions(&info.config).into_iter().map(|tp| (tp, None)).collect(),
                Some(entries) => entries.iter().map(sink_position).collect::<Result<Vec<_>, _>>()?,
            };
            self.ctx.group_offsets.alter(&group, &positions)?;
        } else {
            let offsets = match entries {
                None => self.ctx.source_offsets.all(name).into_iter().map(|(p, _)| (p, None)).collect(),
                Some(entries) => entries.into_iter().map(|e| (e.partition, e.offset.filter(|o| !o.is_null()))).collect(),
            };
            self.ctx.source_offsets.alter(log, name, offsets)?;
        }
        Ok(())
    }

    /// The topics the connector has used since its creation or the last reset.
    pub fn active_topics(&self, name: &str) -> Result<Vec<String>, HerderError> {
        self.info(name)?;
        Ok(self.ctx.status.topics(name))
    }

    pub fn reset_topics(&self, name: &str) -> Result<(), HerderError> {
        self.info(name)?;
        self.ctx.status.reset_topics(name);
        Ok(())
    }

    /// The stored config, secrets included: for the herder's own use only.
    fn raw_config(&self, name: &str) -> Option<Config> {
        if let Some(connector) = self.connectors.lock().unwrap().get(name) {
            return Some(connector.config.clone());
        }
        self.unresolved.lock().unwrap().get(name).cloned()
    }

    pub fn status(&self, name: &str) -> Result<ConnectorStatus, HerderError> {
        let info = self.info(name)?;
        let kind = info.kind;
        let lag = (kind == "sink").then(|| self.consumer_lag(name, &info.config));
        let unassigned = || Status { state: State::Unassigned, trace: None, worker_id: self.worker_id().to_owned() };
        let version = self.connectors.lock().unwrap().get(name).map(|c| c.plugin.manifest.version.clone());
        Ok(ConnectorStatus {
            name: name.to_owned(),
            connector: ConnectorState { status: self.ctx.status.connector_status(name).unwrap_or_else(unassigned), version },
            tasks: self
                .ctx
                .status
                .task_statuses(name)
                .into_iter()
                .map(|(id, status)| {
                    let lag = if kind == "source" { self.ctx.metrics.source_remaining(name, id) } else { lag };
                    // A task that has not read anything yet may still have a lag to show.
                    let progress = match (self.ctx.metrics.progress(name, id, kind == "source"), lag) {
                        (Some((records_read, records_written)), lag) => Some(TaskProgress { records_read, records_written, lag }),
                        (None, Some(lag)) => Some(TaskProgress { records_read: 0, records_written: 0, lag: Some(lag) }),
                        (None, None) => None,
                    };
                    TaskStatus { id, status, progress }
                })
                .collect(),
            kind,
        })
    }

    /// Records of a sink's topics that its consumer group has not committed yet.
    fn consumer_lag(&self, name: &str, config: &Config) -> i64 {
        let partitions = self.sink_partitions(config);
        let committed: BTreeMap<TopicPartition, i64> = self.ctx.group_offsets.positions(&sink_group(name), &partitions).into_iter().collect();
        partitions
            .iter()
            .map(|tp| {
                let end = self.ctx.log.end_offset(tp).unwrap_or(0);
                end - committed.get(tp).copied().unwrap_or(0).min(end)
            })
            .sum()
    }

    /// Every partition of the topics a sink's config names.
    fn sink_partitions(&self, config: &Config) -> Vec<TopicPartition> {
        let log = self.ctx.log.as_ref();
        let topics = config.get("topics").map(|t| t.split(',').map(str::trim).filter(|t| !t.is_empty()).collect::<Vec<_>>()).unwrap_or_default();
        topics
            .into_iter()
            .flat_map(|topic| (0..log.partitions(topic).unwrap_or(0)).map(move |partition| TopicPartition { topic: topic.to_owned(), partition }))
            .collect()
    }

    /// Stops every connector, letting each task commit what it finished.
    pub fn shutdown(&self) {
        let _changing = self.changing.lock().unwrap();
        for name in self.connector_names() {
            self.remove_connector(&name);
        }
    }

    fn plugin_for(&self, config: &Config) -> Result<Arc<Plugin>, HerderError> {
        let class = config.get("connector.class").filter(|c| !c.trim().is_empty()).ok_or_else(|| {
            HerderError::BadRequest(
                "The config has no \"connector.class\": set it to the connector to run, e.g. \
                 io.confluent.connect.jdbc.JdbcSourceConnector"
                    .into(),
            )
        })?;
        let registry = self.registry();
        let version = config.get("connector.plugin.version").map(String::as_str);
        let plugin = registry.resolve(class, version).ok_or_else(|| {
            let available: Vec<String> = registry.classes().into_keys().map(|(class, version)| format!("{class} ({version})")).collect();
            let wanted = match version {
                Some(version) if registry.resolve(class, None).is_some() => format!("connector.class {class:?} at connector.plugin.version {version:?}"),
                _ => format!("connector.class {class:?}"),
            };
            HerderError::BadRequest(format!(
                "No installed plugin provides {wanted}: correct the class, or put the plugin's .wasm into a directory of the \
                 worker's plugin.path. Installed connectors: {}",
                if available.is_empty() { "none (is plugin.path right?)".to_owned() } else { available.join(", ") }
            ))
        })?;
        let mut problems = self.validate(&plugin, config);
        if let Err(e) = self.ctx.runtime.limits_for(config) {
            problems.push(validate::problem(e.key, e.to_string()));
        }
        if !problems.is_empty() {
            return Err(HerderError::InvalidConfig(problems));
        }
        Ok(plugin)
    }

    fn change_target(&self, name: &str, target: TargetState) -> Result<(), HerderError> {
        if let Some(cluster) = &self.cluster {
            self.check_resolved(name)?;
            self.info(name)?;
            return self.write_to_cluster(cluster, |configs| configs.put_target_state(name, target));
        }
        let _changing = self.changing.lock().unwrap();
        self.check_resolved(name)?;
        let current = self.connectors.lock().unwrap().get(name).map(|c| c.target).ok_or_else(|| not_found(name))?;
        if current == target {
            return Ok(());
        }
        let connector = self.remove_connector(name).ok_or_else(|| not_found(name))?;
        self.configs.put_target_state(name, target)?;
        if target == TargetState::Paused && !connector.task_configs.is_empty() {
            // Pausing keeps the task configs: the same tasks come back on resume.
            let Connector { config, plugin, task_configs, recheck, .. } = connector;
            let paused = Connector { config, plugin, target, task_configs, tasks: BTreeMap::new(), recheck, owned: true };
            self.ctx.status.connector(name, State::Paused, None);
            for id in 0..paused.task_configs.len() as u32 {
                self.ctx.status.task(name, id, State::Paused, None);
            }
            self.connectors.lock().unwrap().insert(name.to_owned(), paused);
        } else if target == TargetState::Started && connector.target == TargetState::Paused {
            let mut resumed = Connector { target, ..connector };
            self.ctx.status.connector(name, State::Running, None);
            self.start_tasks(name, &mut resumed);
            self.connectors.lock().unwrap().insert(name.to_owned(), resumed);
        } else {
            self.launch(name, connector.config, connector.plugin, target);
        }
        tracing::info!(connector = %name, ?target, "changed target state");
        Ok(())
    }

    /// A connector whose plugin is missing can only be reconfigured or deleted.
    fn check_resolved(&self, name: &str) -> Result<(), HerderError> {
        match self.unresolved.lock().unwrap().get(name) {
            Some(config) => Err(HerderError::BadRequest(format!(
                "Connector {name} cannot run: no installed plugin provides {:?}. Install it and restart the worker, \
                 or change the config with PUT /connectors/{name}/config, or delete the connector",
                config.get("connector.class").map(String::as_str).unwrap_or("")
            ))),
            None => Ok(()),
        }
    }

    fn restart_task_locked(&self, name: &str, id: u32) -> Result<(), HerderError> {
        let mut connectors = self.connectors.lock().unwrap();
        let connector = connectors.get_mut(name).ok_or_else(|| not_found(name))?;
        let config = connector
            .task_configs
            .get(id as usize)
            .cloned()
            .ok_or_else(|| HerderError::NotFound(format!("Task {name}-{id} not found")))?;
        if let Some(task) = connector.tasks.remove(&id) {
            task.stop();
        }
        if connector.target == TargetState::Started {
            let spec = self.task_spec(name, id, config, &connector.plugin);
            connector.tasks.insert(id, start_task(self.ctx.clone(), spec));
        }
        Ok(())
    }

    /// A task's spec with its transform chain resolved. A chain that no longer resolves (its
    /// plugin was removed while the worker was down) fails the task with the reasons.
    fn task_spec(&self, name: &str, id: u32, config: Config, plugin: &Arc<Plugin>) -> TaskSpec {
        let chain = ChainSpec::parse(&config, &self.registry()).map_err(|problems| HerderError::InvalidConfig(problems).to_string());
        TaskSpec { connector: name.to_owned(), id, config, plugin: plugin.clone(), chain: Arc::new(chain) }
    }

    /// Builds the connector in `target` state and registers it.
    fn launch(&self, name: &str, config: Config, plugin: Arc<Plugin>, target: TargetState) -> ConnectorInfo {
        let connector = self.build_connector(name, config, plugin, target);
        let info = info(name, &connector);
        self.connectors.lock().unwrap().insert(name.to_owned(), connector);
        tracing::info!(connector = %name, tasks = info.tasks.len(), ?target, "started connector");
        info
    }

    /// Asks the plugin to split the work, records the task configs and starts the tasks. A
    /// failure here leaves the connector in place, FAILED with the reason, as in Kafka Connect.
    fn build_connector(&self, name: &str, config: Config, plugin: Arc<Plugin>, target: TargetState) -> Connector {
        let mut connector = Connector { config, plugin, target, task_configs: Vec::new(), tasks: BTreeMap::new(), recheck: None, owned: true };
        self.ctx.status.remove_tasks(name);
        if target == TargetState::Stopped {
            if let Err(e) = self.configs.put_tasks(name, &[]) {
                tracing::warn!(connector = %name, "cannot record the removed task configs: {e:#}");
            }
            self.ctx.status.connector(name, State::Stopped, None);
            return connector;
        }
        let task_configs = match self.generate_task_configs(name, &connector.config, &connector.plugin) {
            Ok((task_configs, recheck)) => {
                connector.recheck = recheck.map(reconfigure::Recheck::new);
                task_configs
            }
            Err(e) => {
                self.ctx.status.connector(name, State::Failed, Some(e.to_string()));
                return connector;
            }
        };
        if let Err(e) = self.configs.put_tasks(name, &task_configs) {
            self.ctx.status.connector(name, State::Failed, Some(format!("{e:#}")));
            return connector;
        }
        connector.task_configs = task_configs;
        if target == TargetState::Paused {
            self.ctx.status.connector(name, State::Paused, None);
            for id in 0..connector.task_configs.len() as u32 {
                self.ctx.status.task(name, id, State::Paused, None);
            }
        } else {
            self.ctx.status.connector(name, State::Running, None);
            self.start_tasks(name, &mut connector);
        }
        connector
    }

    fn start_tasks(&self, name: &str, connector: &mut Connector) {
        for (id, config) in connector.task_configs.iter().enumerate() {
            let spec = self.task_spec(name, id as u32, config.clone(), &connector.plugin);
            connector.tasks.insert(id as u32, start_task(self.ctx.clone(), spec));
        }
    }

    /// The task configs, and how often the plugin wants them generated again.
    fn generate_task_configs(&self, name: &str, config: &Config, plugin: &Arc<Plugin>) -> Result<(Vec<Config>, Option<std::time::Duration>), PluginError> {
        let max_tasks = config.get("tasks.max").and_then(|m| m.trim().parse().ok()).unwrap_or(1);
        let ctx = self.ctx.task_context(name, None, config).map_err(PluginError::Config)?;
        let runtime = &self.ctx.runtime;
        let split = match plugin.manifest.kind {
            PluginKind::Source => runtime.source(plugin, ctx)?.task_configs(max_tasks)?,
            PluginKind::Sink => runtime.sink(plugin, ctx)?.task_configs(max_tasks)?,
            PluginKind::Transforms => {
                return Err(PluginError::Config(format!("{} offers transforms; it is not a connector", plugin.manifest.name)));
            }
        };
        // The plugin saw resolved provider references; what it hands back unchanged goes back
        // to the reference, so no resolved secret reaches connect-configs or the REST API.
        let resolved = providers::resolve(config).map_err(PluginError::Config)?;
        // A task always carries the connector's own settings (converters, errors.*) as well.
        let configs = split
            .configs
            .into_iter()
            .map(|task| {
                let mut merged = config.clone();
                merged.extend(task.into_iter().filter(|(k, v)| resolved.get(k) != Some(v)));
                merged
            })
            .collect();
        Ok((configs, split.recheck))
    }

    /// Takes the connector out and stops its tasks (each commits what it finished).
    fn remove_connector(&self, name: &str) -> Option<Connector> {
        let mut connector = self.connectors.lock().unwrap().remove(name)?;
        connector.stop_tasks();
        Some(connector)
    }
}

/// A connector's offsets, as `GET` answers and `PATCH` takes them.
#[derive(Debug, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
pub struct ConnectorOffsets {
    pub offsets: Vec<OffsetEntry>,
}

/// A source partition and its offset (`{"table":"db.users"}` → `{"incrementing":42}`), or for
/// a sink a topic partition and its position (`{"kafka_topic":"t","kafka_partition":0}` →
/// `{"kafka_offset":5}`). A null offset removes the entry.
#[derive(Debug, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
pub struct OffsetEntry {
    #[schema(value_type = Object)]
    pub partition: serde_json::Value,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub offset: Option<serde_json::Value>,
}

fn sink_group(name: &str) -> String {
    format!("connect-{name}")
}

/// A sink offset entry: `{"partition":{"kafka_topic":"t","kafka_partition":0},"offset":{"kafka_offset":5}}`.
fn sink_position(entry: &OffsetEntry) -> Result<(TopicPartition, Option<i64>), HerderError> {
    let bad = || {
        HerderError::BadRequest(format!(
            "a sink offset looks like {{\"partition\":{{\"kafka_topic\":\"t\",\"kafka_partition\":0}},\"offset\":{{\"kafka_offset\":5}}}}, not {}",
            json!({"partition": entry.partition, "offset": entry.offset})
        ))
    };
    let topic = entry.partition.get("kafka_topic").and_then(|t| t.as_str()).ok_or_else(bad)?;
    let partition = entry.partition.get("kafka_partition").and_then(|p| p.as_i64()).and_then(|p| i32::try_from(p).ok()).ok_or_else(bad)?;
    let offset = match &entry.offset {
        None | Some(serde_json::Value::Null) => None,
        Some(o) => Some(o.get("kafka_offset").and_then(|o| o.as_i64()).filter(|o| *o >= 0).ok_or_else(bad)?),
    };
    Ok((TopicPartition { topic: topic.to_owned(), partition }, offset))
}

fn not_found(name: &str) -> HerderError {
    HerderError::NotFound(name.to_owned())
}

fn info(name: &str, connector: &Connector) -> ConnectorInfo {
    ConnectorInfo {
        name: name.to_owned(),
        config: secrets::mask(&connector.config, Some(&connector.plugin)),
        tasks: (0..connector.task_configs.len() as u32).map(|task| TaskId { connector: name.to_owned(), task }).collect(),
        kind: connector.plugin.manifest.kind.as_str(),
    }
}

fn check_name(name: &str) -> Result<(), HerderError> {
    if name.trim().is_empty() {
        return Err(HerderError::BadRequest("Connector name must not be empty: give \"name\" in the request".into()));
    }
    if name.chars().any(|c| c.is_control() || c == '/') {
        return Err(HerderError::BadRequest(format!("Connector name {name:?} must not contain '/' or control characters")));
    }
    Ok(())
}
