//! A worker in one process: the topic log, the plugin runtime, the herder and the REST API.
//! Standalone it keeps everything in the embedded log; in distributed mode (`Backend::Kafka`)
//! the topics are on a Kafka cluster and the herder shares the connectors with the other
//! workers of its group. (The names say "standalone" from before distributed mode.)

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::oneshot;
use wasmconnect_log::{EmbeddedLog, EmbeddedOptions, KafkaLog, KafkaOptions, TopicConfig, TopicLog};

use crate::herder::Herder;
use crate::herder::cluster::{Cluster, Membership, MembershipConfig, TailTopics, spawn_tail};
use crate::herder::config_store::ConfigStore;
use crate::herder::sealing::{self, Sealer};
use crate::herder::status::StatusStore;
use crate::rest::{AppState, router};
use crate::runtime::{PluginRegistry, Runtime, WorkerLimits};
use crate::tenancy::Tenants;
use crate::worker::WorkerContext;
use crate::worker::exactly_once::WorkerSupport;
use crate::worker::offsets::{GroupOffsets, KafkaGroupOffsets, LogGroupOffsets, SourceOffsets};

#[derive(Clone, Debug)]
pub struct StandaloneConfig {
    pub listen: SocketAddr,
    /// HTTPS for the REST API; plain HTTP without it.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    pub data_dir: PathBuf,
    pub plugin_path: Vec<PathBuf>,
    /// Where compiled plugins are cached; several workers may share it.
    pub compiled_cache: PathBuf,
    /// Worker properties such as `key.converter` and `value.converter.schemas.enable`.
    pub worker_config: BTreeMap<String, String>,
    pub limits: WorkerLimits,
    /// Run-time log levels for `/admin/loggers`, when the program installed them.
    pub loggers: Option<Arc<crate::loggers::LogLevels>>,
    /// Where the topics live.
    pub backend: Backend,
    /// `rest.auth=tenants`: every REST call needs a token of these tenants or an admin's.
    /// Without it anyone who reaches the port may do anything, as in Kafka Connect.
    pub tenants: Option<Arc<Tenants>>,
}

// Made once per worker, so the size of the Kafka variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, Default)]
pub enum Backend {
    /// The durable embedded log in `<data_dir>/topics`: nothing else to run.
    #[default]
    Embedded,
    /// A Kafka cluster, as a Kafka Connect distributed worker uses it.
    Kafka(KafkaBackend),
}

#[derive(Clone, Debug)]
pub struct KafkaBackend {
    pub options: KafkaOptions,
    pub topics: InternalTopics,
    /// Workers with the same `group.id` form one cluster.
    pub group_id: String,
}

/// Where configs, source offsets and statuses live, with Kafka Connect's defaults.
#[derive(Clone, Debug)]
pub struct InternalTopics {
    pub config: InternalTopic,
    pub offsets: InternalTopic,
    pub status: InternalTopic,
    /// Distributed mode only: the topic whose partitions the worker group divides among its
    /// members, each partition standing for the connectors and tasks that hash to it. It
    /// holds no records; its partition count is the most workers a group can use.
    pub assignment: InternalTopic,
}

#[derive(Clone, Debug)]
pub struct InternalTopic {
    pub name: String,
    pub partitions: i32,
    /// -1: the broker's default.
    pub replication_factor: i32,
}

impl InternalTopics {
    /// `config.storage.topic`, `offset.storage.topic`, `status.storage.topic` with their
    /// `.partitions` and `.replication.factor` (the config topic always has one partition,
    /// since its records are ordered).
    pub fn from_worker_config(worker: &BTreeMap<String, String>) -> anyhow::Result<InternalTopics> {
        let topic = |prefix: &str, name: &str, partitions: i32| -> anyhow::Result<InternalTopic> {
            let number = |key: String, default: i32| -> anyhow::Result<i32> {
                worker.get(&key).map_or(Ok(default), |v| v.trim().parse().with_context(|| format!("{key}={v} is not a number")))
            };
            Ok(InternalTopic {
                name: worker.get(&format!("{prefix}.topic")).cloned().unwrap_or_else(|| name.to_owned()),
                partitions: if prefix == "config.storage" { 1 } else { number(format!("{prefix}.partitions"), partitions)? },
                replication_factor: number(format!("{prefix}.replication.factor"), -1)?,
            })
        };
        Ok(InternalTopics {
            config: topic("config.storage", "connect-configs", 1)?,
            offsets: topic("offset.storage", "connect-offsets", 25)?,
            status: topic("status.storage", "connect-status", 5)?,
            assignment: topic("assignment.storage", "connect-assignments", 32)?,
        })
    }
}

impl Default for InternalTopics {
    fn default() -> InternalTopics {
        let topic = |name: &str| InternalTopic { name: name.to_owned(), partitions: 1, replication_factor: -1 };
        InternalTopics {
            config: topic("connect-configs"),
            offsets: topic("connect-offsets"),
            status: topic("connect-status"),
            assignment: InternalTopic { partitions: 32, ..topic("connect-assignments") },
        }
    }
}

/// What the worker's stores are built on.
struct Storage {
    log: Arc<dyn TopicLog>,
    group_offsets: Arc<dyn GroupOffsets>,
    topics: InternalTopics,
    /// What opening the embedded log cut off (torn writes, CRC mismatches), for the metrics.
    recovered: Vec<wasmconnect_log::Truncation>,
}

impl Storage {
    /// Opens the backend and creates the internal topics that are missing, compacted.
    fn open(config: &StandaloneConfig) -> anyhow::Result<Storage> {
        match &config.backend {
            Backend::Embedded => {
                let fsync = crate::log_flush::policy(&config.worker_config)?;
                let embedded = Arc::new(
                    EmbeddedLog::open(&config.data_dir.join("topics"), EmbeddedOptions { fsync, ..EmbeddedOptions::default() })
                        .with_context(|| format!("cannot open the topic log in {}", config.data_dir.display()))?,
                );
                EmbeddedLog::start_flusher(&embedded).context("cannot start the topic log's flusher thread")?;
                let recovered = embedded.recovered().to_vec();
                let log: Arc<dyn TopicLog> = embedded;
                let topics = InternalTopics::default();
                for topic in [&topics.config, &topics.offsets, &topics.status] {
                    log.create_topic(&topic.name, TopicConfig { partitions: topic.partitions, compacted: true })?;
                }
                Ok(Storage { group_offsets: Arc::new(LogGroupOffsets::load(log.clone())?), log, topics, recovered })
            }
            Backend::Kafka(kafka) => {
                let log = Arc::new(KafkaLog::connect(kafka.options.clone())?);
                let topics = &kafka.topics;
                for topic in [&topics.config, &topics.offsets, &topics.status, &topics.assignment] {
                    let compacted = topic.name != topics.assignment.name;
                    let config = TopicConfig { partitions: topic.partitions, compacted };
                    match log.create_topic_with(&topic.name, config, topic.replication_factor) {
                        Ok(true) => tracing::info!(topic = %topic.name, partitions = topic.partitions, "created internal topic"),
                        Ok(false) => {}
                        // As Kafka Connect does, an existing topic is used as it is.
                        Err(wasmconnect_log::LogError::PartitionMismatch(name, partitions)) => {
                            tracing::warn!(topic = %name, partitions, configured = topic.partitions, "the internal topic exists with another partition count; using it as it is")
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                Ok(Storage { group_offsets: Arc::new(KafkaGroupOffsets(log.clone())), log, topics: kafka.topics.clone(), recovered: Vec::new() })
            }
        }
    }
}

/// What a Kafka Connect worker `.properties` file says that matters here: `rest.port` (or
/// the port of the first of `listeners`), the host and protocol of that listener,
/// `plugin.path`, `rest.auth` with `rest.auth.tenants.file`, and everything else (converters,
/// the `ssl.*` keystore and the like) as worker config.
#[derive(Debug, Default, PartialEq)]
pub struct WorkerProperties {
    pub rest_port: Option<u16>,
    /// The host of the first listener, when it names one.
    pub rest_host: Option<String>,
    /// The first listener is `https://`.
    pub rest_https: bool,
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
        // Only the first of several listeners is served.
        let listener = worker_config.remove("listeners").and_then(|l| l.split(',').next().map(|l| l.trim().to_owned()));
        let (scheme, address) = listener.as_deref().and_then(|l| l.split_once("://")).unwrap_or(("http", ""));
        let (host, port) = address.rsplit_once(':').unwrap_or((address, ""));
        let rest_port = worker_config.remove("rest.port").and_then(|p| p.trim().parse().ok()).or_else(|| port.trim().parse().ok());
        let rest_host = Some(host.trim().to_owned()).filter(|h| !h.is_empty());
        let rest_https = scheme.trim().eq_ignore_ascii_case("https");
        let plugin_path = worker_config
            .remove("plugin.path")
            .map(|p| p.split(',').map(|p| PathBuf::from(p.trim())).filter(|p| !p.as_os_str().is_empty()).collect())
            .unwrap_or_default();
        let rest_auth = worker_config.remove("rest.auth").map(|a| a.trim().to_owned());
        let tenants_file = worker_config.remove("rest.auth.tenants.file").map(|f| PathBuf::from(f.trim()));
        WorkerProperties { rest_port, rest_host, rest_https, plugin_path, rest_auth, tenants_file, worker_config }
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
    /// Distributed mode: this worker's place in the worker group.
    membership: Option<Membership>,
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
        let tls = config.tls.clone();
        let https = tls.is_some();
        let loggers = config.loggers.clone();
        let tenants = config.tenants.clone();
        let plugin_path = config.plugin_path.clone();
        let (herder, log, membership) = tokio::task::spawn_blocking(move || start_herder(config, addr, tokio)).await??;
        crate::herder::spawn_reconfiguration_monitor(&herder);
        crate::herder::spawn_plugin_path_watcher(&herder, plugin_path);
        let (stop_server, stopped) = oneshot::channel();
        let app = router(AppState { herder: herder.clone(), log: log.clone(), loggers, tenants });
        let stopped = async { stopped.await.ok(); };
        let server = match tls {
            Some(tls) => {
                let listener = crate::rest::tls::TlsListener::new(listener, tls)?;
                tokio::spawn(async move { axum::serve(listener, app).with_graceful_shutdown(stopped).await })
            }
            None => tokio::spawn(async move { axum::serve(listener, app).with_graceful_shutdown(stopped).await }),
        };
        let protocol = if https { "https" } else { "http" };
        tracing::info!(%addr, protocol, "REST API listening");
        Ok(Standalone { addr, herder, log, stop_server, server, membership })
    }

    pub fn rest_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn log(&self) -> &Arc<dyn TopicLog> {
        &self.log
    }

    /// Stops serving, leaves the worker group (its tasks stop, committing what they finished,
    /// and move to the other workers at once), then stops everything else.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.stop_server.send(());
        self.server.await??;
        let (herder, membership) = (self.herder, self.membership);
        tokio::task::spawn_blocking(move || {
            drop(membership);
            herder.shutdown();
        })
        .await?;
        Ok(())
    }
}

type Started = (Arc<Herder>, Arc<dyn TopicLog>, Option<Membership>);

/// The config key that seals secrets in `connect-configs`: the worker's
/// `config.storage.encryption.key.file`, or for the embedded log one of its own in the data
/// dir. Workers of a distributed group must share one, so there is none unless it is named.
fn config_sealer(data_dir: &Path, backend: &Backend, worker: &BTreeMap<String, String>) -> anyhow::Result<Option<Arc<Sealer>>> {
    let path = match (worker.get(sealing::KEY_FILE), backend) {
        (Some(path), _) => PathBuf::from(path),
        (None, Backend::Embedded) => data_dir.join("config.key"),
        (None, Backend::Kafka(_)) => {
            tracing::warn!(
                "passwords in connector configs are stored in the config topic as given: set {} to a file holding the \
                 same 32-byte key (openssl rand -hex 32) on every worker to seal them",
                sealing::KEY_FILE
            );
            return Ok(None);
        }
    };
    let create = worker.get(sealing::KEY_FILE).is_none();
    Ok(Some(Arc::new(Sealer::from_file(&path, create)?)))
}

fn start_herder(mut config: StandaloneConfig, addr: SocketAddr, tokio: tokio::runtime::Handle) -> anyhow::Result<Started> {
    let exactly_once = WorkerSupport::from_worker_config(&config.worker_config).map_err(anyhow::Error::msg)?;
    if let Backend::Kafka(kafka) = &mut config.backend {
        // Sinks and the worker's own reads of the internal topics never see aborted records.
        kafka.options.read_committed = exactly_once.read_committed();
    }
    let Storage { log, group_offsets, topics, recovered } = Storage::open(&config)?;
    let metrics = Arc::new(crate::metrics::Metrics::default());
    for cut in &recovered {
        metrics.log_recovered(cut);
    }
    let backend = config.backend.clone();
    let group_settings: BTreeMap<String, String> = ["session.timeout.ms", "heartbeat.interval.ms", "rebalance.timeout.ms"]
        .into_iter()
        .filter_map(|key| Some((key.to_owned(), config.worker_config.get(key)?.clone())))
        .collect();
    let runtime = Arc::new(Runtime::new(config.compiled_cache, config.limits)?);
    // Loading compiles every plugin (or reads it from the cache), so the first connector
    // starts at once and a broken component shows up now rather than at first use.
    let registry = Arc::new(PluginRegistry::scan(&config.plugin_path, runtime.as_ref())?);
    if registry.plugins().is_empty() {
        tracing::warn!(plugin_path = ?config.plugin_path, "no plugins found: connectors cannot be created until the plugin path has some");
    }
    let worker_id = format!("{}:{}", hostname(addr, &config.worker_config), addr.port());
    let ctx = Arc::new(WorkerContext {
        source_offsets: Arc::new(SourceOffsets::load(log.as_ref(), topics.offsets.name.clone())?),
        group_offsets,
        status: Arc::new(StatusStore::load(log.clone(), topics.status.name.clone(), worker_id.clone())?),
        pools: Arc::new(wasmconnect_db::Pools::new()),
        log: log.clone(),
        runtime,
        tokio,
        graceful_timeout: crate::worker::graceful_timeout(&config.worker_config).map_err(anyhow::Error::msg)?,
        offset_flush_timeout: crate::worker::offset_flush_timeout(&config.worker_config).map_err(anyhow::Error::msg)?,
        worker_config: config.worker_config,
        metrics,
        tenants: config.tenants,
        kafka: match &backend {
            Backend::Kafka(kafka) => Some(kafka.options.clone()),
            Backend::Embedded => None,
        },
        exactly_once,
        group_id: match &backend {
            Backend::Kafka(kafka) => Some(kafka.group_id.clone()),
            Backend::Embedded => None,
        },
    });
    let configs = ConfigStore::new(log.clone(), topics.config.name.clone(), config_sealer(&config.data_dir, &backend, &ctx.worker_config)?);
    let Backend::Kafka(kafka) = backend else {
        return Ok((Arc::new(Herder::start(ctx, registry, configs)?), log, None));
    };
    let cluster = Arc::new(Cluster::new(topics.assignment.partitions));
    let herder = Arc::new(Herder::start_in_cluster(ctx, registry, configs, cluster.clone()));
    let tail_topics = TailTopics { config: topics.config.name, status: topics.status.name, offsets: topics.offsets.name };
    spawn_tail(Arc::downgrade(&herder), cluster.clone(), log.clone(), tail_topics)?;
    let mut client = kafka.options.common.clone();
    client.extend(group_settings);
    let membership = MembershipConfig {
        bootstrap_servers: kafka.options.bootstrap_servers.clone(),
        group_id: kafka.group_id.clone(),
        topic: topics.assignment.name,
        client,
    };
    let membership = Membership::join(membership, Arc::downgrade(&herder), cluster.clone(), herder.worker_id())?;
    // REST answers 409 until the first assignment; most groups assign within seconds.
    if cluster.await_joined(Duration::from_secs(60)) {
        tracing::info!(group = %kafka.group_id, "joined the worker group");
    } else {
        tracing::warn!(group = %kafka.group_id, "no assignment from the worker group yet; changes get 409 until there is one");
    }
    Ok((herder, log, Some(membership)))
}

/// The host other workers and clients know this worker by: Kafka Connect's
/// `rest.advertised.host.name`, else the listen address, else (listening on every address)
/// the machine's host name, so workers on different machines have different ids.
fn hostname(addr: SocketAddr, worker: &BTreeMap<String, String>) -> String {
    if let Some(host) = worker.get("rest.advertised.host.name") {
        return host.clone();
    }
    if !addr.ip().is_unspecified() {
        return addr.ip().to_string();
    }
    std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|h| h.trim().to_owned()).filter(|h| !h.is_empty()).unwrap_or_else(|| "localhost".into())
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
        assert_eq!((properties.rest_host, properties.rest_https), (None, false));
        let rest_port = WorkerProperties::from_map([("rest.port".to_owned(), "8084".to_owned())].into());
        assert_eq!(rest_port.rest_port, Some(8084));
        let https = WorkerProperties::from_map([("listeners".to_owned(), "https://127.0.0.1:8443,http://0.0.0.0:8083".to_owned())].into());
        assert_eq!((https.rest_port, https.rest_host.as_deref(), https.rest_https), (Some(8443), Some("127.0.0.1"), true));
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
