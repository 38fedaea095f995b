use std::io::{BufReader, IsTerminal};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

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
        #[arg(long, default_value = "http://localhost:8083", global = true)]
        url: String,
    },
    /// Connector administration on a running worker (the REST API as commands).
    Connectors {
        #[command(subcommand)]
        command: ConnectorsCommand,
        /// Print the worker's JSON answers instead of tables.
        #[arg(long, global = true)]
        json: bool,
        #[arg(long, default_value = "http://localhost:8083", global = true)]
        url: String,
    },
    /// The plugins of a running worker.
    Plugins {
        #[command(subcommand)]
        command: PluginsCommand,
        #[arg(long, global = true)]
        json: bool,
        #[arg(long, default_value = "http://localhost:8083", global = true)]
        url: String,
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
        #[arg(long, default_value = "http://localhost:8083")]
        url: String,
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
        #[arg(long, default_value = "http://localhost:8083")]
        url: String,
    },
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
    /// A Kafka Connect worker .properties file (converters, plugin.path, rest.port, listeners).
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
    #[arg(long, env = "WASMCONNECT_REST_PORT")]
    rest_port: Option<u16>,
    #[arg(long, default_value = "0.0.0.0")]
    rest_host: IpAddr,
    #[arg(long, env = "WASMCONNECT_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
    /// Directories holding plugin components (`NAME.wasm` with `NAME.toml`), comma separated.
    #[arg(long, env = "WASMCONNECT_PLUGIN_PATH", value_delimiter = ',')]
    plugin_path: Vec<PathBuf>,
    /// Memory one task's plugin instance may use.
    #[arg(long, default_value_t = 256)]
    task_memory_mb: usize,
    /// Time one call into a plugin (a poll, a put) may take.
    #[arg(long, default_value_t = 60)]
    task_call_timeout_secs: u64,
    /// The most memory a connector may give its instances with `wasm.memory.max.bytes`.
    #[arg(long, default_value_t = 1024)]
    task_memory_max_mb: usize,
    /// The longest call deadline a connector may set with `wasm.call.timeout.ms`.
    #[arg(long, default_value_t = 600)]
    task_call_timeout_max_secs: u64,
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
        Command::Topics { command: TopicsCommand::List, url } => {
            for topic in Client::new(&url).topics().await? {
                println!("{topic}");
            }
            Ok(())
        }
        Command::Connectors { command, json, url } => Client::new(&url).connectors(command, json, &mut std::io::stdout().lock()).await,
        // Plugin calls block on the runtime for their SQL, so they run off its workers.
        Command::Plugin { command } => {
            let tokio = tokio::runtime::Handle::current();
            tokio::task::spawn_blocking(move || wasmconnect::cli::plugin::run(command, tokio, &mut std::io::stdout().lock())).await?
        }
        Command::Plugins { command, json, url } => Client::new(&url).plugins(command, json, &mut std::io::stdout().lock()).await,
        Command::Consume { topic, from_beginning, max_messages, print_key, key_separator, url } => {
            let options = ConsumeOptions { from_beginning, max_messages, print_key, key_separator };
            Client::new(&url).consume(&topic, &options, &mut std::io::stdout().lock()).await?;
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
        Command::Produce { topic, key_separator, url } => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                eprintln!("Type one record per line; end with Ctrl-D.");
            }
            let sent = Client::new(&url).produce(&topic, key_separator.as_deref(), BufReader::new(stdin.lock())).await?;
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

async fn run_worker(args: WorkerArgs, properties: WorkerProperties, backend: Backend, loggers: Arc<LogLevels>) -> anyhow::Result<()> {
    // Command-line flags win over the properties file, which wins over the defaults.
    let port = args.rest_port.or(properties.rest_port).unwrap_or(8083);
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
        listen: SocketAddr::new(args.rest_host, port),
        compiled_cache: args.data_dir.join("compiled"),
        data_dir: args.data_dir,
        plugin_path,
        worker_config,
        limits: WorkerLimits {
            default: TaskLimits { memory_bytes: args.task_memory_mb << 20, call_timeout: Duration::from_secs(args.task_call_timeout_secs) },
            max: TaskLimits {
                memory_bytes: args.task_memory_max_mb.max(args.task_memory_mb) << 20,
                call_timeout: Duration::from_secs(args.task_call_timeout_max_secs.max(args.task_call_timeout_secs)),
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
