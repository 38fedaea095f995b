//! Connectors whose split of work changes while they run (a JDBC source finds a new table)
//! ask to have `task-configs` called again every so often; when the answer differs, their
//! tasks restart with the new configs, as Kafka Connect does on a task reconfiguration
//! request. Connectors whose split is unchanged are left alone.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use super::{Herder, State, TargetState};

/// How often the monitor looks for connectors that are due.
const TICK: Duration = Duration::from_millis(500);

#[derive(Clone, Copy, Debug)]
pub(super) struct Recheck {
    every: Duration,
    next: Instant,
}

impl Recheck {
    pub(super) fn new(every: Duration) -> Recheck {
        Recheck { every, next: Instant::now() + every }
    }

    fn due(&self, now: Instant) -> bool {
        now >= self.next
    }
}

/// Runs until the herder is dropped.
pub fn spawn_monitor(herder: &Arc<Herder>) {
    let herder: Weak<Herder> = Arc::downgrade(herder);
    std::thread::Builder::new()
        .name("task-reconfiguration".into())
        .spawn(move || {
            loop {
                std::thread::sleep(TICK);
                let Some(herder) = herder.upgrade() else { break };
                herder.reconfigure_due();
            }
        })
        .expect("spawn the task reconfiguration thread");
}

impl Herder {
    /// Asks every due connector for its split again and restarts the tasks of those whose
    /// split changed.
    fn reconfigure_due(&self) {
        let _changing = self.changing.lock().unwrap();
        let now = Instant::now();
        let due: Vec<String> = self
            .connectors
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, c)| c.target == TargetState::Started && c.recheck.is_some_and(|r| r.due(now)))
            .map(|(name, _)| name.clone())
            .collect();
        for name in due {
            self.reconfigure(&name);
        }
    }

    /// The tasks keep running while the plugin is asked; they restart only on a change.
    fn reconfigure(&self, name: &str) {
        let Some((config, plugin)) = self.connectors.lock().unwrap().get(name).map(|c| (c.config.clone(), c.plugin.clone())) else {
            return;
        };
        let generated = self.generate_task_configs(name, &config, &plugin);
        let mut connectors = self.connectors.lock().unwrap();
        let Some(connector) = connectors.get_mut(name) else { return };
        let configs = match generated {
            Ok((configs, recheck)) => {
                connector.recheck = recheck.map(Recheck::new);
                configs
            }
            Err(e) => {
                // The next check tries again.
                tracing::warn!(connector = %name, "cannot regenerate the task configs: {e}");
                if let Some(recheck) = &mut connector.recheck {
                    recheck.next = Instant::now() + recheck.every;
                }
                return;
            }
        };
        if configs == connector.task_configs {
            return;
        }
        tracing::info!(connector = %name, tasks = configs.len(), "the connector's split of work changed; restarting its tasks");
        if self.cluster.is_some() {
            // The workers running the tasks restart them when they read the new configs.
            if let Err(e) = self.configs.put_tasks(name, &configs) {
                tracing::warn!(connector = %name, "cannot record the new task configs: {e:#}");
            }
            return;
        }
        connector.stop_tasks();
        self.ctx.status.remove_tasks(name);
        match self.configs.put_tasks(name, &configs) {
            Ok(_) => {
                connector.task_configs = configs;
                self.start_tasks(name, connector);
            }
            Err(e) => self.ctx.status.connector(name, State::Failed, Some(format!("cannot record the new task configs: {e:#}"))),
        }
    }
}
