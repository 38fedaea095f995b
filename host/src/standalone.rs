//! A standalone worker: the embedded topic log, the plugin runtime, the herder and the REST
//! API in one process.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use tokio::sync::oneshot;
use wasmconnect_log::{EmbeddedLog, EmbeddedOptions, TopicConfig, TopicLog};

use crate::herder::Herder;
use crate::herder::config_store::CONFIG_TOPIC;
use crate::herder::status::{STATUS_TOPIC, StatusStore};
use crate::rest::{AppState, router};
use crate::runtime::{PluginRegistry, Runtime, TaskLimits};
use crate::worker::WorkerContext;
use crate::worker::offsets::{GroupOffsets, OFFSETS_TOPIC, SourceOffsets};

#[derive(Clone, Debug)]
pub struct StandaloneConfig {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub plugin_path: Vec<PathBuf>,
    /// Where compiled plugins are cached; several workers may share it.
    pub compiled_cache: PathBuf,
    /// Worker properties such as `key.converter` and `value.converter.schemas.enable`.
    pub worker_config: BTreeMap<String, String>,
    pub limits: TaskLimits,
}

pub struct Standalone {
    addr: SocketAddr,
    herder: Arc<Herder>,
    log: Arc<dyn TopicLog>,
    stop_server: oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Standalone {
    pub async fn start(config: StandaloneConfig) -> anyhow::Result<Standalone> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create the data directory {}", config.data_dir.display()))?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {} (is another worker running? use --rest-port)", config.listen))?;
        let addr = listener.local_addr()?;
        let tokio = tokio::runtime::Handle::current();
        let herder = tokio::task::spawn_blocking(move || start_herder(config, addr, tokio)).await??;
        let log = herder.1;
        let herder = Arc::new(herder.0);
        let (stop_server, stopped) = oneshot::channel();
        let app = router(AppState { herder: herder.clone(), log: log.clone() });
        let server = tokio::spawn(async move {
            axum::serve(listener, app).with_graceful_shutdown(async { stopped.await.ok(); }).await
        });
        tracing::info!(%addr, "REST API listening");
        Ok(Standalone { addr, herder, log, stop_server, server })
    }

    pub fn rest_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn log(&self) -> &Arc<dyn TopicLog> {
        &self.log
    }

    /// Stops serving, then stops every task so each commits what it finished.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.stop_server.send(());
        self.server.await??;
        let herder = self.herder;
        tokio::task::spawn_blocking(move || herder.shutdown()).await?;
        Ok(())
    }
}

fn start_herder(
    config: StandaloneConfig,
    addr: SocketAddr,
    tokio: tokio::runtime::Handle,
) -> anyhow::Result<(Herder, Arc<dyn TopicLog>)> {
    let log: Arc<dyn TopicLog> = Arc::new(
        EmbeddedLog::open(&config.data_dir.join("topics"), EmbeddedOptions::default())
            .with_context(|| format!("cannot open the topic log in {}", config.data_dir.display()))?,
    );
    for topic in [CONFIG_TOPIC, OFFSETS_TOPIC, STATUS_TOPIC] {
        log.create_topic(topic, TopicConfig { partitions: 1, compacted: true })?;
    }
    let registry = Arc::new(PluginRegistry::scan(&config.plugin_path)?);
    if registry.plugins().is_empty() {
        tracing::warn!(plugin_path = ?config.plugin_path, "no plugins found: connectors cannot be created until the plugin path has some");
    }
    let runtime = Arc::new(Runtime::new(config.compiled_cache, config.limits)?);
    runtime.precompile(&registry);
    let worker_id = format!("{}:{}", hostname(addr), addr.port());
    let ctx = Arc::new(WorkerContext {
        source_offsets: Arc::new(SourceOffsets::load(log.as_ref())?),
        group_offsets: Arc::new(GroupOffsets::load(log.as_ref())?),
        status: Arc::new(StatusStore::new(log.clone(), worker_id)),
        pools: Arc::new(wasmconnect_db::Pools::new()),
        log: log.clone(),
        runtime,
        tokio,
        worker_config: config.worker_config,
    });
    Ok((Herder::start(ctx, registry)?, log))
}

fn hostname(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() { "localhost".to_owned() } else { addr.ip().to_string() }
}
