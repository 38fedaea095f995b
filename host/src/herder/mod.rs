//! The Herder: owns the connectors of this worker, their configs, tasks and statuses, and
//! answers the REST API. Every change goes to `connect-configs` first, so a restart
//! brings back exactly the connectors that existed.

pub mod config_store;
pub mod status;
pub mod validate;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::runtime::{Plugin, PluginError, PluginKind, PluginRegistry};
use crate::worker::{TaskHandle, TaskSpec, WorkerContext, start_task};
use config_store::{Config, ConfigStore};
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
    #[error("Connector configuration is invalid and contains the following {} error(s):\n{}\nThe same list is available from PUT /connector-plugins/{{class}}/config/validate", .0.len(), .0.iter().map(|p| format!("{}: {}", p.key, p.message)).collect::<Vec<_>>().join("\n"))]
    InvalidConfig(Vec<ConfigProblem>),
    #[error("{0}")]
    Internal(String),
}

impl From<anyhow::Error> for HerderError {
    fn from(e: anyhow::Error) -> Self {
        HerderError::Internal(format!("{e:#}"))
    }
}

/// What `GET /connectors/{name}` answers.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ConnectorInfo {
    pub name: String,
    pub config: Config,
    pub tasks: Vec<TaskId>,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct TaskId {
    pub connector: String,
    pub task: u32,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct ConnectorStatus {
    pub name: String,
    pub connector: Status,
    pub tasks: Vec<TaskStatus>,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct TaskStatus {
    pub id: u32,
    #[serde(flatten)]
    pub status: Status,
}

struct Connector {
    config: Config,
    plugin: Arc<Plugin>,
    task_configs: Vec<Config>,
    tasks: Vec<TaskHandle>,
}

pub struct Herder {
    ctx: Arc<WorkerContext>,
    registry: Arc<PluginRegistry>,
    configs: ConfigStore,
    connectors: Mutex<BTreeMap<String, Connector>>,
    /// Serializes create/update/delete, so two requests for one name cannot interleave.
    changing: Mutex<()>,
}

impl Herder {
    /// Restores and starts every connector recorded in `connect-configs`.
    pub fn start(ctx: Arc<WorkerContext>, registry: Arc<PluginRegistry>) -> anyhow::Result<Herder> {
        let configs = ConfigStore::new(ctx.log.clone());
        let stored = configs.load()?;
        let herder = Herder { ctx, registry, configs, connectors: Mutex::new(BTreeMap::new()), changing: Mutex::new(()) };
        for (name, config) in stored {
            tracing::info!(connector = %name, "restoring connector");
            if let Err(e) = herder.start_connector(&name, config) {
                tracing::error!(connector = %name, "cannot restore connector: {e}");
            }
        }
        Ok(herder)
    }

    pub fn worker_id(&self) -> &str {
        self.ctx.status.worker_id()
    }

    pub fn registry(&self) -> &PluginRegistry {
        &self.registry
    }

    pub fn connector_names(&self) -> Vec<String> {
        self.connectors.lock().unwrap().keys().cloned().collect()
    }

    pub fn create(&self, name: &str, mut config: Config) -> Result<ConnectorInfo, HerderError> {
        check_name(name)?;
        config.insert("name".into(), name.to_owned());
        let _changing = self.changing.lock().unwrap();
        if self.connectors.lock().unwrap().contains_key(name) {
            return Err(HerderError::AlreadyExists(name.to_owned()));
        }
        let plugin = self.plugin_for(&config)?;
        self.configs.put_connector(name, &config)?;
        self.launch(name, config, plugin)
    }

    /// `PUT /connectors/{name}/config`: creates or reconfigures; true when it created.
    pub fn put_config(&self, name: &str, mut config: Config) -> Result<(ConnectorInfo, bool), HerderError> {
        check_name(name)?;
        if let Some(given) = config.get("name")
            && given != name
        {
            return Err(HerderError::BadRequest(format!(
                "Connector name configuration ({given}) doesn't match connector name in the URL ({name})"
            )));
        }
        config.insert("name".into(), name.to_owned());
        let plugin = self.plugin_for(&config)?;
        let _changing = self.changing.lock().unwrap();
        let existed = self.stop_connector(name).is_some();
        self.configs.put_connector(name, &config)?;
        Ok((self.launch(name, config, plugin)?, !existed))
    }

    pub fn delete(&self, name: &str) -> Result<(), HerderError> {
        let _changing = self.changing.lock().unwrap();
        self.stop_connector(name).ok_or_else(|| HerderError::NotFound(name.to_owned()))?;
        self.configs.delete(name)?;
        self.ctx.status.remove(name);
        tracing::info!(connector = %name, "deleted connector");
        Ok(())
    }

    pub fn info(&self, name: &str) -> Result<ConnectorInfo, HerderError> {
        let connectors = self.connectors.lock().unwrap();
        let connector = connectors.get(name).ok_or_else(|| HerderError::NotFound(name.to_owned()))?;
        Ok(info(name, connector))
    }

    pub fn config(&self, name: &str) -> Result<Config, HerderError> {
        Ok(self.info(name)?.config)
    }

    pub fn task_configs(&self, name: &str) -> Result<Vec<Config>, HerderError> {
        let connectors = self.connectors.lock().unwrap();
        let connector = connectors.get(name).ok_or_else(|| HerderError::NotFound(name.to_owned()))?;
        Ok(connector.task_configs.clone())
    }

    pub fn status(&self, name: &str) -> Result<ConnectorStatus, HerderError> {
        let kind = self.info(name)?.kind;
        let unassigned = || Status { state: State::Unassigned, trace: None, worker_id: self.worker_id().to_owned() };
        Ok(ConnectorStatus {
            name: name.to_owned(),
            connector: self.ctx.status.connector_status(name).unwrap_or_else(unassigned),
            tasks: self
                .ctx
                .status
                .task_statuses(name)
                .into_iter()
                .map(|(id, status)| TaskStatus { id, status })
                .collect(),
            kind,
        })
    }

    /// Stops every connector, letting each task commit what it finished.
    pub fn shutdown(&self) {
        let names = self.connector_names();
        for name in names {
            self.stop_connector(&name);
        }
    }

    fn plugin_for(&self, config: &Config) -> Result<Arc<Plugin>, HerderError> {
        let class = config.get("connector.class").filter(|c| !c.trim().is_empty()).ok_or_else(|| {
            HerderError::BadRequest(
                "Connector config contains no connector type: set \"connector.class\", e.g. \
                 io.confluent.connect.jdbc.JdbcSourceConnector"
                    .into(),
            )
        })?;
        let plugin = self.registry.resolve(class, config.get("connector.plugin.version").map(String::as_str)).ok_or_else(|| {
            let available: Vec<String> = self.registry.classes().into_keys().map(|(class, version)| format!("{class} ({version})")).collect();
            HerderError::BadRequest(format!(
                "Failed to find any plugin for connector.class {class:?}. Available connectors are: {}",
                if available.is_empty() { "none (is the plugin path right?)".to_owned() } else { available.join(", ") }
            ))
        })?;
        let problems = validate::validate(&plugin, config);
        if !problems.is_empty() {
            return Err(HerderError::InvalidConfig(problems));
        }
        Ok(plugin)
    }

    fn launch(&self, name: &str, config: Config, plugin: Arc<Plugin>) -> Result<ConnectorInfo, HerderError> {
        let connector = self.build_connector(name, config, plugin);
        let info = info(name, &connector);
        self.connectors.lock().unwrap().insert(name.to_owned(), connector);
        tracing::info!(connector = %name, tasks = info.tasks.len(), "started connector");
        Ok(info)
    }

    fn start_connector(&self, name: &str, config: Config) -> Result<(), HerderError> {
        let plugin = self.plugin_for(&config)?;
        self.launch(name, config, plugin).map(|_| ())
    }

    /// Asks the plugin to split the work, records the task configs and starts the tasks. A
    /// failure here leaves the connector in place, FAILED with the reason, as in Kafka Connect.
    fn build_connector(&self, name: &str, config: Config, plugin: Arc<Plugin>) -> Connector {
        let mut connector = Connector { config, plugin, task_configs: Vec::new(), tasks: Vec::new() };
        match self.generate_task_configs(name, &connector) {
            Ok(task_configs) => {
                if let Err(e) = self.configs.put_tasks(name, &task_configs) {
                    self.ctx.status.connector(name, State::Failed, Some(format!("{e:#}")));
                    return connector;
                }
                self.ctx.status.connector(name, State::Running, None);
                connector.tasks = task_configs
                    .iter()
                    .enumerate()
                    .map(|(id, config)| {
                        let spec = TaskSpec {
                            connector: name.to_owned(),
                            id: id as u32,
                            config: config.clone(),
                            plugin: connector.plugin.clone(),
                        };
                        start_task(self.ctx.clone(), spec)
                    })
                    .collect();
                connector.task_configs = task_configs;
            }
            Err(e) => self.ctx.status.connector(name, State::Failed, Some(e.to_string())),
        }
        connector
    }

    fn generate_task_configs(&self, name: &str, connector: &Connector) -> Result<Vec<Config>, PluginError> {
        let max_tasks = connector.config.get("tasks.max").and_then(|m| m.trim().parse().ok()).unwrap_or(1);
        let ctx = self.ctx.task_context(name, None, connector.config.clone());
        let runtime = &self.ctx.runtime;
        let configs = match connector.plugin.manifest.kind {
            PluginKind::Source => runtime.source(&connector.plugin, ctx)?.task_configs(max_tasks)?,
            PluginKind::Sink => runtime.sink(&connector.plugin, ctx)?.task_configs(max_tasks)?,
        };
        // A task always carries the connector's own settings (converters, errors.*) as well.
        Ok(configs
            .into_iter()
            .map(|task| {
                let mut merged = connector.config.clone();
                merged.extend(task);
                merged
            })
            .collect())
    }

    fn stop_connector(&self, name: &str) -> Option<()> {
        let connector = self.connectors.lock().unwrap().remove(name)?;
        for task in connector.tasks {
            task.stop();
        }
        Some(())
    }
}

fn info(name: &str, connector: &Connector) -> ConnectorInfo {
    ConnectorInfo {
        name: name.to_owned(),
        config: connector.config.clone(),
        tasks: (0..connector.task_configs.len() as u32).map(|task| TaskId { connector: name.to_owned(), task }).collect(),
        kind: connector.plugin.manifest.kind.as_str(),
    }
}

fn check_name(name: &str) -> Result<(), HerderError> {
    if name.trim().is_empty() {
        return Err(HerderError::BadRequest("Connector name must not be empty: give \"name\" in the request".into()));
    }
    if name.chars().any(char::is_control) {
        return Err(HerderError::BadRequest(format!("Connector name {name:?} must not contain control characters")));
    }
    Ok(())
}
