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
use crate::runtime::{PluginRegistry, Runtime, WorkerLimits};
use crate::tenancy::Tenants;
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
    pub limits: WorkerLimits,
    /// Run-time log levels for `/admin/loggers`, when the program installed them.
    pub loggers: Option<Arc<crate::loggers::LogLevels>>,
    /// `rest.auth=tenants`: every REST call needs a token of these tenants or an admin's.
    /// Without it anyone who reaches the port may do anything, as in Kafka Connect.
    pub tenants: Option<Arc<Tenants>>,
}

/// What a Kafka Connect worker `.properties` file says that matters here: `rest.port` (or
/// the port of the first of `listeners`), `plugin.path`, `rest.auth` with
/// `rest.auth.tenants.file`, and everything else (converters and the like) as worker config.
#[derive(Debug, Default, PartialEq)]
pub struct WorkerProperties {
    pub rest_port: Option<u16>,
    pub plugin_path: Vec<PathBuf>,
    rest_auth: Option<String>,
    tenants_file: Option<PathBuf>,
    pub worker_config: BTreeMap<String, String>,
}

impl WorkerProperties {
    pub fn read(path: &std::path::Path) -> anyhow::Result<WorkerProperties> {
        let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let properties = java_properties::read(std::io::BufReader::new(file)).with_context(|| format!("cannot parse {}", path.display()))?;
        Ok(WorkerProperties::from_map(properties.into_iter().collect()))
    }

    fn from_map(mut worker_config: BTreeMap<String, String>) -> WorkerProperties {
        let listener_port = |listeners: &str| listeners.split(',').next()?.rsplit(':').next()?.trim().parse().ok();
        let rest_port = worker_config
            .remove("rest.port")
            .and_then(|p| p.trim().parse().ok())
            .or_else(|| worker_config.remove("listeners").and_then(|l| listener_port(&l)));
        let plugin_path = worker_config
            .remove("plugin.path")
            .map(|p| p.split(',').map(|p| PathBuf::from(p.trim())).filter(|p| !p.as_os_str().is_empty()).collect())
            .unwrap_or_default();
        let rest_auth = worker_config.remove("rest.auth").map(|a| a.trim().to_owned());
        let tenants_file = worker_config.remove("rest.auth.tenants.file").map(|f| PathBuf::from(f.trim()));
        WorkerProperties { rest_port, plugin_path, rest_auth, tenants_file, worker_config }
    }

    /// The tenants file when REST authentication is on: `rest.auth=tenants` needs one, from
    /// `rest.auth.tenants.file` or the `--tenants-file` flag (which wins, and turns it on).
    pub fn tenants_file(&self, flag: Option<PathBuf>) -> anyhow::Result<Option<PathBuf>> {
        let file = flag.clone().or_else(|| self.tenants_file.clone());
        match (self.rest_auth.as_deref(), file) {
            (None | Some("tenants"), Some(file)) => Ok(Some(file)),
            (Some("none"), Some(file)) if flag.is_some() => Ok(Some(file)),
            (None | Some("none"), None) => Ok(None),
            (Some("none"), Some(_)) => anyhow::bail!("rest.auth=none contradicts rest.auth.tenants.file: remove one of them"),
            (Some("tenants"), None) => {
                anyhow::bail!("rest.auth=tenants needs a tenants file: set rest.auth.tenants.file or pass --tenants-file")
            }
            (Some(other), _) => anyhow::bail!("rest.auth={other} is not known: use tenants (bearer tokens from a tenants file) or none"),
        }
    }
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
        if config.tenants.is_none() && !addr.ip().is_loopback() {
            tracing::warn!(
                %addr,
                "the REST API has no authentication (rest.auth is not set) and listens beyond this machine: anyone who \
                 reaches the port can create connectors and read topics. Set rest.auth=tenants with a tenants file, \
                 or listen on 127.0.0.1 (--rest-host)"
            );
        }
        let tokio = tokio::runtime::Handle::current();
        let loggers = config.loggers.clone();
        let tenants = config.tenants.clone();
        let herder = tokio::task::spawn_blocking(move || start_herder(config, addr, tokio)).await??;
        let log = herder.1;
        let herder = Arc::new(herder.0);
        crate::herder::spawn_reconfiguration_monitor(&herder);
        let (stop_server, stopped) = oneshot::channel();
        let app = router(AppState { herder: herder.clone(), log: log.clone(), loggers, tenants });
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
        status: Arc::new(StatusStore::load(log.clone(), worker_id)?),
        pools: Arc::new(wasmconnect_db::Pools::new()),
        log: log.clone(),
        runtime,
        tokio,
        worker_config: config.worker_config,
        metrics: Arc::new(crate::metrics::Metrics::default()),
        tenants: config.tenants,
    });
    Ok((Herder::start(ctx, registry)?, log))
}

fn hostname(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() { "localhost".to_owned() } else { addr.ip().to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kafka_connect_worker_properties_file_is_understood() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("worker.properties");
        std::fs::write(
            &path,
            "# a Kafka Connect standalone worker\nbootstrap.servers=localhost:9092\nlisteners=http://:9083\n\
             key.converter=org.apache.kafka.connect.storage.StringConverter\nvalue.converter.schemas.enable=false\n\
             plugin.path=/opt/plugins, /usr/share/plugins\n",
        )
        .unwrap();
        let properties = WorkerProperties::read(&path).unwrap();
        assert_eq!(properties.rest_port, Some(9083));
        assert_eq!(properties.plugin_path, vec![PathBuf::from("/opt/plugins"), PathBuf::from("/usr/share/plugins")]);
        assert_eq!(properties.worker_config["value.converter.schemas.enable"], "false");
        assert_eq!(properties.worker_config["key.converter"], "org.apache.kafka.connect.storage.StringConverter");
        assert!(!properties.worker_config.contains_key("listeners"));
        let rest_port = WorkerProperties::from_map([("rest.port".to_owned(), "8084".to_owned())].into());
        assert_eq!(rest_port.rest_port, Some(8084));
    }

    #[test]
    fn rest_auth_takes_a_tenants_file_from_the_properties_or_the_flag() {
        let properties = |pairs: &[(&str, &str)]| WorkerProperties::from_map(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
        let flag = Some(PathBuf::from("/flag.toml"));
        assert_eq!(properties(&[]).tenants_file(None).unwrap(), None);
        assert_eq!(properties(&[]).tenants_file(flag.clone()).unwrap(), flag);
        let file = properties(&[("rest.auth", "tenants"), ("rest.auth.tenants.file", "/etc/t.toml")]);
        assert_eq!(file.tenants_file(None).unwrap(), Some(PathBuf::from("/etc/t.toml")));
        assert_eq!(file.tenants_file(flag.clone()).unwrap(), flag);
        assert!(!file.worker_config.contains_key("rest.auth"));
        assert!(properties(&[("rest.auth", "tenants")]).tenants_file(None).is_err());
        assert!(properties(&[("rest.auth", "basic")]).tenants_file(flag).is_err());
    }
}
