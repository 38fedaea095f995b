use std::io::{BufReader, IsTerminal};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use wasmconnect::loggers::LogLevels;
use wasmconnect::cli::{Client, ConnectorsCommand, ConsumeOptions, PluginsCommand};
use wasmconnect::runtime::{TaskLimits, WorkerLimits};
use wasmconnect::standalone::{Backend, InternalTopics, KafkaBackend, Standalone, StandaloneConfig, WorkerProperties};
use wasmconnect_log::KafkaOptions;
use wasmconnect::tenancy::Tenants;

/// A Kafka-Connect-compatible connector host whose connectors run as WebAssembly components.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// How log lines are written to standard error: for people, or one JSON object per line
    /// for log collectors.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Human)]
    log_format: LogFormat,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Runs a standalone worker: embedded topic log, plugins, REST API.
    Standalone(StandaloneArgs),
    /// Runs a distributed worker: topics, configs, offsets and statuses on a Kafka cluster.
    Distributed(DistributedArgs),
    /// Topic administration on a running worker.
    Topics {
        #[command(subcommand)]
        command: TopicsCommand,
        #[command(flatten)]
        worker: RemoteWorker,
    },
    /// Connector administration on a running worker (the REST API as commands).
    Connectors {
        #[command(subcommand)]
        command: ConnectorsCommand,
        /// Print the worker's JSON answers instead of tables.
        #[arg(long, global = true)]
        json: bool,
        #[command(flatten)]
        worker: RemoteWorker,
    },
    /// The plugins of a running worker.
    Plugins {
        #[command(subcommand)]
        command: PluginsCommand,
        #[arg(long, global = true)]
        json: bool,
        #[command(flatten)]
        worker: RemoteWorker,
    },
    /// Prints the values of a topic, one per line, like kafka-console-consumer.
    Consume {
        topic: String,
        #[arg(long)]
        from_beginning: bool,
        #[arg(long)]
        max_messages: Option<usize>,
        /// Prints `key<separator>value`.
        #[arg(long)]
        print_key: bool,
        #[arg(long, default_value = "\t")]
        key_separator: String,
        #[command(flatten)]
        worker: RemoteWorker,
    },
    /// A plugin author's tools: inspect a component, run it in the sandbox.
    Plugin {
        #[command(subcommand)]
        command: wasmconnect::cli::plugin::PluginCommand,
    },
    /// Tenants of a worker with `rest.auth=tenants`.
    Tenants {
        #[command(subcommand)]
        command: TenantsCommand,
    },
    /// Sends one record per line of standard input, like kafka-console-producer.
    Produce {
        topic: String,
        /// Splits each line at the first separator into key and value.
        #[arg(long)]
        key_separator: Option<String>,
        #[command(flatten)]
        worker: RemoteWorker,
    },
}

/// The worker a client command talks to (with `rest.auth=tenants`, the token comes from
/// `WASMCONNECT_TOKEN`).
#[derive(clap::Args)]
struct RemoteWorker {
    /// The worker's REST API: http://HOST:PORT, or https://HOST:PORT for a worker with TLS.
    #[arg(long, default_value = "http://localhost:8083", global = true)]
    url: String,
    /// A PEM file of certificates to trust for an https:// worker (besides the system's), e.g.
    /// the worker's own self-signed certificate.
    #[arg(long, env = "WASMCONNECT_CACERT", global = true)]
    cacert: Option<PathBuf>,
}

impl RemoteWorker {
    fn client(&self) -> anyhow::Result<Client> {
        let client = Client::new(&self.url);
        match &self.cacert {
            Some(file) => client.trusting(file),
            None => Ok(client),
        }
    }
}

#[derive(Subcommand)]
enum TopicsCommand {
    /// Lists every topic, internal ones included.
    List,
}

#[derive(Subcommand)]
enum TenantsCommand {
    /// Reads a token on standard input and prints the `sha256:...` line the tenants file
    /// stores instead of it (as `printf %s TOKEN | sha256sum` would, with the prefix).
    HashToken,
}

#[derive(clap::Args)]
struct StandaloneArgs {
    /// A Kafka Connect worker .properties file (converters, plugin.path, rest.port, listeners,
    /// and for listeners=https://... the PEM keystore of listeners.https.ssl.* or ssl.*).
    worker_properties: Option<PathBuf>,
    #[command(flatten)]
    worker: WorkerArgs,
}

#[derive(clap::Args)]
struct DistributedArgs {
    /// A Kafka Connect distributed worker .properties file: bootstrap.servers, group.id,
    /// the *.storage.topic keys, converters, plugin.path, listeners, producer.*, consumer.*.
    worker_properties: PathBuf,
    /// Overrides `bootstrap.servers`.
    #[arg(long)]
    bootstrap_servers: Option<String>,
    /// Overrides `group.id`.
    #[arg(long)]
    group_id: Option<String>,
    #[command(flatten)]
    worker: WorkerArgs,
}

/// What every kind of worker takes.
#[derive(clap::Args)]
struct WorkerArgs {
    /// The REST API's port; else `rest.port` or the port of `listeners` in the properties, else 8083.
    #[arg(long, env = "WASMCONNECT_REST_PORT")]
    rest_port: Option<u16>,
    /// The address the REST API listens on; else the host of `listeners`, else 0.0.0.0.
    #[arg(long)]
    rest_host: Option<IpAddr>,
    /// Serves the REST API over HTTPS with this PEM certificate chain (server certificate
    /// first); needs --tls-key. Without the flags, `listeners=https://...` in the properties
    /// takes the PEM keystore of `listeners.https.ssl.*` (or `ssl.*`).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert (unencrypted; it may be the same file).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    #[arg(long, env = "WASMCONNECT_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
    /// Directories holding plugin components (`NAME.wasm` with `NAME.toml`), comma separated.
    #[arg(long, env = "WASMCONNECT_PLUGIN_PATH", value_delimiter = ',')]
    plugin_path: Vec<PathBuf>,
    /// Memory one task's plugin instance may use.
    #[arg(long, default_value_t = 256)]
    task_memory_mb: usize,
    /// Wall-clock time one call into a plugin (a poll, a put) may take, waiting for a database
    /// included; a connector may set less or more with `wasm.call.timeout.ms`.
    #[arg(long, default_value_t = 60)]
    task_call_timeout_secs: u64,
    /// CPU time one call into a plugin may use on its thread; time spent waiting (for a
    /// database, for a CPU) does not count. A plugin that uses more is interrupted and its
    /// task FAILED, as with the call timeout; a connector may set its own with
    /// `wasm.cpu.slice.ms`.
    #[arg(long, default_value_t = 30_000)]
    task_cpu_slice_ms: u64,
    /// The most memory a connector may give its instances with `wasm.memory.max.bytes`.
    #[arg(long, default_value_t = 1024)]
    task_memory_max_mb: usize,
    /// The longest call deadline a connector may set with `wasm.call.timeout.ms`.
    #[arg(long, default_value_t = 600)]
    task_call_timeout_max_secs: u64,
    /// The largest CPU slice a connector may set with `wasm.cpu.slice.ms`.
    #[arg(long, default_value_t = 600_000)]
    task_cpu_slice_max_ms: u64,
    /// Turns on `rest.auth=tenants` with this tenants file (TOML): every REST call then needs
    /// a tenant's or an admin's bearer token.
    #[arg(long, env = "WASMCONNECT_TENANTS_FILE")]
    tenants_file: Option<PathBuf>,
}

fn main() -> std::process::ExitCode {
    match run_main() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // The whole chain of causes on one line; no backtrace for a user's mistake.
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Ctrl-C, or SIGTERM as sent by service managers and container runtimes.
async fn shutdown_signal() -> anyhow::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result?,
        _ = terminate.recv() => {}
    }
    Ok(())
}

fn run_main() -> anyhow::Result<()> {
    // RUST_LOG sets the starting level; /admin/loggers changes levels while running.
    let cli = Cli::parse();
    let (filter, loggers) = LogLevels::new(&std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()));
    let json = cli.log_format == LogFormat::Json;
    tracing_subscriber::registry()
        .with(filter)
        .with(wasmconnect::loggers::output(json, std::io::stderr, std::io::stderr().is_terminal()))
        .init();
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(run(cli.command, Arc::new(loggers)))
}

async fn run(command: Command, loggers: Arc<LogLevels>) -> anyhow::Result<()> {
    match command {
        Command::Standalone(args) => {
            let properties = match &args.worker_properties {
                Some(path) => WorkerProperties::read(path)?,
                None => WorkerProperties::default(),
            };
            run_worker(args.worker, properties, Backend::Embedded, loggers).await
        }
        Command::Distributed(args) => {
            let mut properties = WorkerProperties::read(&args.worker_properties)?;
            let backend = kafka_backend(&args, &mut properties)?;
            run_worker(args.worker, properties, backend, loggers).await
        }
        Command::Topics { command: TopicsCommand::List, worker } => {
            for topic in worker.client()?.topics().await? {
                println!("{topic}");
            }
            Ok(())
        }
        Command::Connectors { command, json, worker } => worker.client()?.connectors(command, json, &mut std::io::stdout().lock()).await,
        // Plugin calls block on the runtime for their SQL, so they run off its workers.
        Command::Plugin { command } => {
            let tokio = tokio::runtime::Handle::current();
            tokio::task::spawn_blocking(move || wasmconnect::cli::plugin::run(command, tokio, &mut std::io::stdout().lock())).await?
        }
        Command::Plugins { command, json, worker } => worker.client()?.plugins(command, json, &mut std::io::stdout().lock()).await,
        Command::Consume { topic, from_beginning, max_messages, print_key, key_separator, worker } => {
            let options = ConsumeOptions { from_beginning, max_messages, print_key, key_separator };
            worker.client()?.consume(&topic, &options, &mut std::io::stdout().lock()).await?;
            Ok(())
        }
        Command::Tenants { command: TenantsCommand::HashToken } => {
            let mut token = String::new();
            std::io::stdin().read_line(&mut token)?;
            // A line typed or piped with echo ends in a newline that is not part of the token.
            let token = token.strip_suffix('\n').unwrap_or(&token);
            let token = token.strip_suffix('\r').unwrap_or(token);
            anyhow::ensure!(!token.is_empty(), "no token on standard input: printf %s \"$TOKEN\" | wasmconnect tenants hash-token");
            println!("{}", wasmconnect::tenancy::hash_token(token));
            Ok(())
        }
        Command::Produce { topic, key_separator, worker } => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                eprintln!("Type one record per line; end with Ctrl-D.");
            }
            let sent = worker.client()?.produce(&topic, key_separator.as_deref(), BufReader::new(stdin.lock())).await?;
            eprintln!("{sent} record(s) sent to {topic}");
            Ok(())
        }
    }
}

/// The Kafka cluster and internal topics a distributed worker's properties name.
fn kafka_backend(args: &DistributedArgs, properties: &mut WorkerProperties) -> anyhow::Result<Backend> {
    let worker = &mut properties.worker_config;
    let bootstrap_servers = args.bootstrap_servers.clone().or_else(|| worker.remove("bootstrap.servers")).ok_or_else(|| {
        anyhow::anyhow!("no Kafka cluster: set bootstrap.servers in {} or pass --bootstrap-servers", args.worker_properties.display())
    })?;
    let group_id = args.group_id.clone().or_else(|| worker.remove("group.id")).ok_or_else(|| {
        anyhow::anyhow!(
            "no group.id in {}: workers with the same group.id form one Connect cluster, so set one (e.g. group.id=connect-cluster)",
            args.worker_properties.display()
        )
    })?;
    Ok(Backend::Kafka(KafkaBackend {
        options: KafkaOptions::from_worker_config(&bootstrap_servers, worker),
        topics: InternalTopics::from_worker_config(worker)?,
        group_id,
    }))
}

/// The address the host of `listeners` names: an IP address or a name to resolve.
fn listener_host(name: &str, port: u16) -> anyhow::Result<IpAddr> {
    if let Ok(ip) = name.trim_matches(['[', ']']).parse() {
        return Ok(ip);
    }
    let mut addrs = std::net::ToSocketAddrs::to_socket_addrs(&(name, port)).with_context(|| format!("cannot resolve the listeners host {name}"))?;
    addrs.next().map(|a| a.ip()).with_context(|| format!("the listeners host {name} has no address"))
}

async fn run_worker(args: WorkerArgs, properties: WorkerProperties, backend: Backend, loggers: Arc<LogLevels>) -> anyhow::Result<()> {
    // Command-line flags win over the properties file, which wins over the defaults.
    let port = args.rest_port.or(properties.rest_port).unwrap_or(8083);
    let host = match (args.rest_host, &properties.rest_host) {
        (Some(host), _) => host,
        (None, Some(name)) => listener_host(name, port)?,
        (None, None) => IpAddr::from([0, 0, 0, 0]),
    };
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(wasmconnect::rest::tls::from_files(cert, key)?),
        _ if properties.rest_https => Some(wasmconnect::rest::tls::from_worker_config(&properties.worker_config)?),
        _ => None,
    };
    let tenants = match properties.tenants_file(args.tenants_file)? {
        Some(file) => {
            let tenants = Tenants::load(&file)?;
            tracing::info!(file = %file.display(), "rest.auth=tenants: every REST call needs a bearer token");
            Some(Arc::new(tenants))
        }
        None => None,
    };
    let mut plugin_path = args.plugin_path;
    plugin_path.extend(properties.plugin_path);
    let worker_config = properties.worker_config;
    if plugin_path.is_empty() {
        anyhow::bail!("no plugin path: pass --plugin-path DIR (e.g. dist/plugins) or set plugin.path in the worker properties");
    }
    let config = StandaloneConfig {
        listen: SocketAddr::new(host, port),
        tls,
        compiled_cache: args.data_dir.join("compiled"),
        data_dir: args.data_dir,
        plugin_path,
        worker_config,
        limits: WorkerLimits {
            default: TaskLimits {
                memory_bytes: args.task_memory_mb << 20,
                call_timeout: Duration::from_secs(args.task_call_timeout_secs),
                cpu_slice: Duration::from_millis(args.task_cpu_slice_ms),
            },
            max: TaskLimits {
                memory_bytes: args.task_memory_max_mb.max(args.task_memory_mb) << 20,
                call_timeout: Duration::from_secs(args.task_call_timeout_max_secs.max(args.task_call_timeout_secs)),
                cpu_slice: Duration::from_millis(args.task_cpu_slice_max_ms.max(args.task_cpu_slice_ms)),
            },
        },
        loggers: Some(loggers),
        backend,
        tenants,
    };
    let worker = Standalone::start(config).await?;
    tracing::info!("worker started; stop it with Ctrl-C (or SIGTERM)");
    shutdown_signal().await?;
    tracing::info!("stopping: letting every task commit its work");
    worker.shutdown().await
}
