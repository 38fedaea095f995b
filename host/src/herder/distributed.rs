//! The herder in distributed mode. A REST change is written to the config topic and
//! answered once this worker has read it back; what runs where follows from reading that
//! topic (`reconcile`), the same way on every worker.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::cluster::Cluster;
use super::cluster::view::{ConnectorView, Restart};
use super::config_store::{Config, ConfigStore, TargetState};
use super::status::{State, Status};
use super::{Connector, ConnectorInfo, Herder, HerderError, reconfigure};
use crate::runtime::PluginRegistry;
use crate::worker::{WorkerContext, start_task};

/// How long a request waits to read its own change back from the config topic.
const READ_BACK: Duration = Duration::from_secs(30);

impl Herder {
    /// A herder that starts empty: the connectors come from following the config topic.
    pub fn start_in_cluster(ctx: Arc<WorkerContext>, registry: Arc<PluginRegistry>, configs: ConfigStore, cluster: Arc<Cluster>) -> Herder {
        Herder {
            ctx,
            registry: std::sync::RwLock::new(registry),
            configs,
            connectors: Default::default(),
            unresolved: Default::default(),
            changing: Default::default(),
            cluster: Some(cluster),
        }
    }

    pub(super) fn write_to_cluster(&self, cluster: &Cluster, write: impl FnOnce(&ConfigStore) -> anyhow::Result<i64>) -> Result<(), HerderError> {
        if cluster.rebalancing() {
            return Err(HerderError::Rebalancing);
        }
        let offset = write(&self.configs)?;
        if !cluster.await_applied(offset, READ_BACK) {
            return Err(HerderError::Internal(format!(
                "the change is in the config topic, but this worker has not read it back within {READ_BACK:?}; it takes effect when the workers read it"
            )));
        }
        Ok(())
    }

    pub(super) fn create_in_cluster(&self, cluster: &Cluster, name: &str, config: Config, target: TargetState) -> Result<ConnectorInfo, HerderError> {
        if cluster.view().connectors().contains_key(name) {
            return Err(HerderError::AlreadyExists(name.to_owned()));
        }
        self.plugin_for(&config)?;
        let paused_or_stopped = (target != TargetState::Started).then_some(target);
        self.write_to_cluster(cluster, |configs| configs.put_connector_in(name, &config, paused_or_stopped))?;
        self.info(name)
    }

    pub(super) fn put_config_in_cluster(&self, cluster: &Cluster, name: &str, config: Config) -> Result<(ConnectorInfo, bool), HerderError> {
        let created = !cluster.view().connectors().contains_key(name);
        self.write_to_cluster(cluster, |configs| configs.put_connector(name, &config))?;
        Ok((self.info(name)?, created))
    }

    /// Brings what runs on this worker in line with the config topic and the partitions this
    /// worker holds: called after new config records and after every rebalance.
    pub fn reconcile(&self) {
        let Some(cluster) = self.cluster.clone() else { return };
        let _changing = self.changing.lock().unwrap();
        let wanted: BTreeMap<String, ConnectorView> = cluster.view().connectors().clone();
        for name in self.connector_names() {
            if !wanted.contains_key(&name) {
                self.unresolved.lock().unwrap().remove(&name);
                self.remove_connector(&name);
                if cluster.owns_connector(&name) {
                    self.ctx.status.remove(&name);
                }
                tracing::info!(connector = %name, "deleted connector");
            }
        }
        for (name, view) in &wanted {
            self.reconcile_connector(&cluster, name, view);
        }
    }

    fn reconcile_connector(&self, cluster: &Cluster, name: &str, view: &ConnectorView) {
        let owner = cluster.owns_connector(name);
        let reconfigured = self.raw_config(name).as_ref() != Some(&view.config);
        if reconfigured {
            self.remove_connector(name);
            self.unresolved.lock().unwrap().remove(name);
            match self.plugin_for(&view.config) {
                Ok(plugin) => {
                    let connector = Connector {
                        config: view.config.clone(),
                        plugin,
                        target: view.target,
                        task_configs: Vec::new(),
                        tasks: BTreeMap::new(),
                        recheck: None,
                        owned: false,
                    };
                    self.connectors.lock().unwrap().insert(name.to_owned(), connector);
                }
                Err(e) => {
                    if owner {
                        self.ctx.status.connector(name, State::Failed, Some(format!("the connector cannot run on this worker: {e}")));
                    }
                    self.unresolved.lock().unwrap().insert(name.to_owned(), view.config.clone());
                    return;
                }
            }
        }
        if self.unresolved.lock().unwrap().contains_key(name) {
            return;
        }
        let (retargeted, newly_owned, plugin) = {
            let mut connectors = self.connectors.lock().unwrap();
            let Some(connector) = connectors.get_mut(name) else { return };
            let retargeted = connector.target != view.target;
            connector.target = view.target;
            let newly_owned = owner && !connector.owned;
            connector.owned = owner;
            if !owner {
                connector.recheck = None;
            }
            // Tasks whose config changed stop here and start again below.
            if connector.task_configs != view.task_configs {
                let changed: Vec<u32> =
                    connector.tasks.keys().copied().filter(|id| connector.task_configs.get(*id as usize) != view.task_configs.get(*id as usize)).collect();
                for id in changed {
                    if let Some(task) = connector.tasks.remove(&id) {
                        task.stop();
                    }
                }
                if owner {
                    for id in view.task_configs.len() as u32..connector.task_configs.len() as u32 {
                        self.ctx.status.remove_task(name, id);
                    }
                }
                connector.task_configs = view.task_configs.clone();
            }
            (retargeted, newly_owned, connector.plugin.clone())
        };
        if owner {
            self.run_connector(name, view, &plugin, reconfigured || retargeted || newly_owned, newly_owned);
        }
        self.run_tasks(cluster, name, view);
    }

    /// What the connector's owner does: report its state and keep its task configs current.
    fn run_connector(&self, name: &str, view: &ConnectorView, plugin: &Arc<crate::runtime::Plugin>, changed: bool, newly_owned: bool) {
        let state = match view.target {
            TargetState::Started => State::Running,
            TargetState::Paused => State::Paused,
            TargetState::Stopped => State::Stopped,
        };
        if view.target == TargetState::Stopped {
            if !view.task_configs.is_empty()
                && let Err(e) = self.configs.put_tasks(name, &[])
            {
                tracing::warn!(connector = %name, "cannot record the removed task configs: {e:#}");
            }
        } else if newly_owned || !view.tasks_are_current() {
            match self.generate_task_configs(name, &view.config, plugin) {
                Ok((configs, recheck)) => {
                    if let Some(connector) = self.connectors.lock().unwrap().get_mut(name) {
                        connector.recheck = recheck.map(reconfigure::Recheck::new);
                    }
                    if (configs != view.task_configs || !view.tasks_are_current())
                        && let Err(e) = self.configs.put_tasks(name, &configs)
                    {
                        self.ctx.status.connector(name, State::Failed, Some(format!("cannot record the task configs: {e:#}")));
                        return;
                    }
                }
                Err(e) => {
                    self.ctx.status.connector(name, State::Failed, Some(e.to_string()));
                    return;
                }
            }
        } else if !changed {
            return;
        }
        self.ensure_connector_status(name, state);
    }

    /// Starts the tasks this worker holds the partitions of, and stops those it no longer holds.
    fn run_tasks(&self, cluster: &Cluster, name: &str, view: &ConnectorView) {
        let mut connectors = self.connectors.lock().unwrap();
        let Some(connector) = connectors.get_mut(name) else { return };
        let stale: Vec<u32> = connector
            .tasks
            .keys()
            .copied()
            .filter(|id| view.target != TargetState::Started || !cluster.owns_task(name, *id) || *id as usize >= view.task_configs.len())
            .collect();
        for id in stale {
            if let Some(task) = connector.tasks.remove(&id) {
                task.stop();
            }
        }
        for (id, config) in view.task_configs.iter().enumerate() {
            let id = id as u32;
            if !cluster.owns_task(name, id) {
                continue;
            }
            match view.target {
                TargetState::Started if !connector.tasks.contains_key(&id) => {
                    let spec = self.task_spec(name, id, config.clone(), &connector.plugin);
                    connector.tasks.insert(id, start_task(self.ctx.clone(), spec));
                }
                TargetState::Paused => self.ensure_task_status(name, id, State::Paused),
                _ => {}
            }
        }
    }

    fn ensure_connector_status(&self, name: &str, state: State) {
        if !self.reported(self.ctx.status.connector_status(name), state) {
            self.ctx.status.connector(name, state, None);
        }
    }

    fn ensure_task_status(&self, name: &str, id: u32, state: State) {
        let current = self.ctx.status.task_statuses(name).into_iter().find(|(task, _)| *task == id).map(|(_, s)| s);
        if !self.reported(current, state) {
            self.ctx.status.task(name, id, state, None);
        }
    }

    fn reported(&self, status: Option<Status>, state: State) -> bool {
        status.is_some_and(|s| s.state == state && s.worker_id == self.worker_id())
    }

    /// Carries out the part of a restart request that falls to this worker.
    pub fn restart_here(&self, restart: &Restart) {
        let Some(cluster) = self.cluster.clone() else { return };
        let _changing = self.changing.lock().unwrap();
        let failed = |status: Option<Status>| status.is_some_and(|s| s.state == State::Failed);
        match restart {
            Restart::Connector { name, include_tasks, only_failed } => {
                let Some(view) = cluster.view().connectors().get(name).cloned() else { return };
                let plugin = self.connectors.lock().unwrap().get(name).map(|c| c.plugin.clone());
                if let Some(plugin) = plugin
                    && cluster.owns_connector(name)
                    && (!only_failed || failed(self.ctx.status.connector_status(name)))
                {
                    tracing::info!(connector = %name, "restarting the connector");
                    self.run_connector(name, &ConnectorView { commit_offset: None, ..view }, &plugin, true, false);
                }
                if *include_tasks {
                    let tasks: Vec<u32> = self
                        .ctx
                        .status
                        .task_statuses(name)
                        .into_iter()
                        .filter(|(id, status)| cluster.owns_task(name, *id) && (!only_failed || failed(Some(status.clone()))))
                        .map(|(id, _)| id)
                        .collect();
                    for id in tasks {
                        let _ = self.restart_task_locked(name, id);
                    }
                }
            }
            Restart::Task { name, id } if cluster.owns_task(name, *id) => {
                let _ = self.restart_task_locked(name, *id);
            }
            Restart::Task { .. } => {}
        }
    }
}
