//! The plugin path is watched: a plugin dropped into it, replaced or removed is picked up
//! without a restart. Running tasks keep the plugin they started with until they restart.

use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::Duration;

use super::Herder;
use crate::runtime::registry::fingerprint;

const CHECK_EVERY: Duration = Duration::from_secs(1);

/// Runs until the herder is dropped.
pub fn spawn_watcher(herder: &Arc<Herder>, plugin_path: Vec<PathBuf>) {
    let herder: Weak<Herder> = Arc::downgrade(herder);
    let mut seen = fingerprint(&plugin_path);
    std::thread::Builder::new()
        .name("plugin-path".into())
        .spawn(move || {
            loop {
                std::thread::sleep(CHECK_EVERY);
                let Some(herder) = herder.upgrade() else { break };
                let now = fingerprint(&plugin_path);
                if now == seen {
                    continue;
                }
                seen = now;
                tracing::info!("the plugin path changed; scanning it again");
                if let Err(e) = herder.rescan_plugins(&plugin_path) {
                    tracing::error!("cannot scan the plugin path: {e}");
                }
            }
        })
        .expect("spawn the plugin path watcher");
}
