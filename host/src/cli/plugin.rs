//! `wasmconnect plugin new|build|inspect|test`: a plugin author's tools. `inspect` and `test`
//! load one component (and the manifest beside it) into the same sandbox a worker uses,
//! without a worker.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use serde_json::{Value, json};
use wasmconnect_data::Data;

use crate::runtime::registry::load_plugin;
use crate::runtime::{NoOffsets, Plugin, PluginKind, PluginRegistry, Runtime, SinkRecord, TaskContext, TaskLimits, TransformRecord, WorkerLimits};
use crate::worker::{ChainSpec, Converters, TransformChain, providers};

pub use super::scaffold::Kind;
use super::scaffold;

#[derive(clap::Subcommand)]
pub enum PluginCommand {
    /// Creates a plugin crate that builds to a component as it is: a generating source, a
    /// logging sink, or a redacting transform, its manifest built in code.
    New {
        name: String,
        #[arg(long, value_enum)]
        kind: Kind,
        /// Where to create it; `./NAME` by default.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The wasmconnect-sdk crate to depend on; the SDK of this wasmconnect checkout by default.
        #[arg(long)]
        sdk: Option<PathBuf>,
    },
    /// Builds the plugin crate in DIR for wasm32-wasip2 and puts NAME.wasm into DIR/dist,
    /// ready for the plugin path.
    Build {
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Cargo's target directory; `CARGO_TARGET_DIR` or `DIR/target` by default.
        #[arg(long)]
        target_dir: Option<PathBuf>,
    },
    /// Prints a component's manifest (identity, classes, config keys) and the WIT interfaces
    /// it imports and exports.
    Inspect { plugin: PathBuf },
    /// Runs a plugin in the sandbox and prints what comes out, one JSON record per line: a
    /// source is polled; a sink is given the input records; transforms are applied to them.
    Test {
        plugin: PathBuf,
        /// The connector config: a JSON object of keys, or `{"name": ..., "config": {...}}`
        /// as POST /connectors takes it. For transforms, its `transforms`/`predicates` keys.
        #[arg(long)]
        config: PathBuf,
        /// Records, one JSON object per line: `{"topic": "t", "key": ..., "value": ...}`, key
        /// and value as the connector's converters read them (a schema+payload envelope with
        /// the default JsonConverter; a JSON string is taken as raw text).
        #[arg(long)]
        input: Option<PathBuf>,
        /// How many times to poll a source.
        #[arg(long, default_value_t = 1)]
        polls: u32,
    },
}

pub fn run(command: PluginCommand, tokio: tokio::runtime::Handle, out: &mut dyn Write) -> anyhow::Result<()> {
    match command {
        PluginCommand::New { name, kind, dir, sdk } => {
            let dir = scaffold::new(&name, kind, dir, sdk)?;
            writeln!(out, "created {}; build it with: wasmconnect plugin build {}", dir.display(), dir.display())?;
        }
        PluginCommand::Build { dir, target_dir } => {
            let component = scaffold::build(&dir, target_dir.as_deref())?;
            writeln!(out, "built {0}; put it on the plugin path, or try it: wasmconnect plugin test {0} --config ...", component.display())?;
        }
        PluginCommand::Inspect { plugin } => {
            let (_cache, runtime) = sandbox()?;
            inspect(&runtime, &*load(&runtime, &plugin)?, out)?;
        }
        PluginCommand::Test { plugin, config, input, polls } => {
            let (_cache, runtime) = sandbox()?;
            let plugin = load(&runtime, &plugin)?;
            let tester = Tester { runtime, plugin, config: read_config(&config)?, tokio };
            match tester.plugin.manifest.kind {
                PluginKind::Source => tester.poll(polls, out)?,
                PluginKind::Sink => tester.put(&read_input(input)?, out)?,
                PluginKind::Transforms => tester.transform(&read_input(input)?, out)?,
            }
        }
    }
    Ok(())
}

/// A runtime like a worker's, its compiled components cached in a directory that goes away
/// with the returned guard.
fn sandbox() -> anyhow::Result<(tempfile::TempDir, Runtime)> {
    let cache = tempfile::tempdir()?;
    let runtime = Runtime::new(cache.path().to_owned(), WorkerLimits::with_defaults(TaskLimits::default()))?;
    Ok((cache, runtime))
}

fn load(runtime: &Runtime, path: &Path) -> anyhow::Result<Arc<Plugin>> {
    Ok(Arc::new(load_plugin(path, runtime)?))
}

fn inspect(runtime: &Runtime, plugin: &Plugin, out: &mut dyn Write) -> anyhow::Result<()> {
    let m = &plugin.manifest;
    let (imports, exports) = runtime.interfaces(plugin)?;
    writeln!(out, "{} {} ({})", m.name, m.version, m.kind.as_str())?;
    writeln!(out, "component: {}", plugin.component_path.display())?;
    if !m.class.is_empty() {
        writeln!(out, "class: {}{}", m.class, if m.aliases.is_empty() { String::new() } else { format!(" (aliases: {})", m.aliases.join(", ")) })?;
    }
    let built_against = crate::runtime::contract::versions(imports.iter().chain(&exports).map(String::as_str));
    let built_against: Vec<String> = built_against.into_iter().map(|v| format!("wasmconnect:connector@{v}")).collect();
    writeln!(out, "contract: {} (this host: {})", built_against.join(", "), crate::runtime::contract::VERSION)?;
    writeln!(out, "imports: {}", imports.join(", "))?;
    writeln!(out, "exports: {}", exports.join(", "))?;
    let keys = |keys: &[crate::runtime::registry::ConfigKey]| {
        keys.iter().map(|k| format!("{}{}", k.name, if k.required && k.default.is_none() { " (required)" } else { "" })).collect::<Vec<_>>().join(", ")
    };
    if !m.config.is_empty() {
        writeln!(out, "config: {}", keys(&m.config))?;
    }
    for (what, classes) in [("transform", &m.transforms), ("predicate", &m.predicates)] {
        for class in classes {
            writeln!(out, "{what}: {} [{}]", class.class, keys(&class.config))?;
        }
    }
    Ok(())
}

fn read_config(path: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let json: Value = serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    let config = json.get("config").filter(|c| c.is_object()).unwrap_or(&json);
    let Some(object) = config.as_object() else { bail!("{} holds no JSON object of config keys", path.display()) };
    let mut keys: BTreeMap<String, String> =
        object.iter().map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned))).collect();
    if let Some(name) = json.get("name").and_then(Value::as_str) {
        keys.entry("name".into()).or_insert_with(|| name.to_owned());
    }
    Ok(keys)
}

/// One input record: where it is from and its key and value as JSON.
struct Input {
    topic: String,
    key: Option<Value>,
    value: Option<Value>,
}

fn read_input(path: Option<PathBuf>) -> anyhow::Result<Vec<Input>> {
    let path = path.context("this plugin needs records to work on: give them with --input RECORDS.jsonl")?;
    let file = std::fs::File::open(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut records = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let json: Value = serde_json::from_str(&line).with_context(|| format!("line {} of {} is not JSON", n + 1, path.display()))?;
        let field = |name: &str| json.get(name).filter(|v| !v.is_null()).cloned();
        records.push(Input {
            topic: json.get("topic").and_then(Value::as_str).unwrap_or("test").to_owned(),
            key: field("key"),
            value: field("value"),
        });
    }
    Ok(records)
}

struct Tester {
    runtime: Runtime,
    plugin: Arc<Plugin>,
    config: BTreeMap<String, String>,
    tokio: tokio::runtime::Handle,
}

impl Tester {
    fn name(&self) -> String {
        self.config.get("name").cloned().unwrap_or_else(|| "test".into())
    }

    fn context(&self, config: &BTreeMap<String, String>) -> Result<TaskContext, String> {
        Ok(TaskContext {
            connector: self.name(),
            task: Some(0),
            config: providers::resolve(config)?,
            offsets: Arc::new(NoOffsets),
            pools: Arc::new(wasmconnect_db::Pools::new()),
            tokio: self.tokio.clone(),
            limits: self.runtime.limits_for(config).map_err(|e| e.to_string())?,
        })
    }

    fn converters(&self) -> anyhow::Result<Converters> {
        Ok(Converters::for_connector(&self.config, &BTreeMap::new())?)
    }

    /// Polls the first task of the connector's split, as a worker would start it.
    fn poll(&self, polls: u32, out: &mut dyn Write) -> anyhow::Result<()> {
        let converters = self.converters()?;
        let split = self.runtime.source(&self.plugin, self.context(&self.config).map_err(anyhow::Error::msg)?)?.task_configs(1)?;
        let mut task_config = self.config.clone();
        task_config.extend(split.configs.into_iter().next().unwrap_or_default());
        let mut task = self.runtime.source(&self.plugin, self.context(&task_config).map_err(anyhow::Error::msg)?)?;
        task.start()?;
        for _ in 0..polls {
            let (records, _) = task.poll()?;
            for r in records {
                let line = json!({
                    "topic": r.topic,
                    "partition": r.kafka_partition,
                    "key": render(&converters, &r.topic, r.key, true)?,
                    "value": render(&converters, &r.topic, r.value, false)?,
                    "timestamp": r.timestamp,
                    "source_partition": serde_json::from_str::<Value>(&r.source_partition).unwrap_or(Value::String(r.source_partition)),
                    "source_offset": serde_json::from_str::<Value>(&r.source_offset).unwrap_or(Value::String(r.source_offset)),
                });
                writeln!(out, "{line}")?;
            }
        }
        task.stop()?;
        Ok(())
    }

    fn put(&self, input: &[Input], out: &mut dyn Write) -> anyhow::Result<()> {
        let converters = self.converters()?;
        let records = (0..)
            .zip(input)
            .map(|(offset, r)| {
                let (key, value) = convert(&converters, r).with_context(|| format!("input record {}", offset + 1))?;
                Ok(SinkRecord { topic: r.topic.clone(), partition: 0, offset, key, value, timestamp: None, headers: Vec::new() })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut task = self.runtime.sink(&self.plugin, self.context(&self.config).map_err(anyhow::Error::msg)?)?;
        task.start()?;
        task.put(&records)?;
        task.stop()?;
        writeln!(out, "{}", json!({"put": records.len(), "result": "ok"}))?;
        Ok(())
    }

    fn transform(&self, input: &[Input], out: &mut dyn Write) -> anyhow::Result<()> {
        let converters = self.converters()?;
        let registry = PluginRegistry::of(vec![self.plugin.clone()]);
        let chain = ChainSpec::parse(&self.config, &registry).map_err(|problems| {
            let lines: Vec<String> = problems.iter().map(|p| format!("{}: {}", p.key, p.message)).collect();
            anyhow::anyhow!("the config's transforms are not right:\n{}", lines.join("\n"))
        })?;
        let context = || self.context(&self.config);
        let mut chain = TransformChain::with_runtime(&self.runtime, &chain, &context)
            .map_err(anyhow::Error::msg)?
            .context("the config names no transforms: set \"transforms\" and \"transforms.NAME.type\"")?;
        let records = input
            .iter()
            .enumerate()
            .map(|(offset, r)| {
                let (key, value) = convert(&converters, r).with_context(|| format!("input record {}", offset + 1))?;
                Ok(TransformRecord { topic: r.topic.clone(), kafka_partition: Some(0), kafka_offset: Some(offset as i64), key, value, timestamp: None, headers: Vec::new() })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let metrics = crate::metrics::TaskMetrics::new(Arc::new(crate::metrics::Metrics::default()), &self.name(), 0);
        let transformed = chain.apply(records, &metrics).map_err(anyhow::Error::msg)?;
        for (index, message) in &transformed.failures {
            eprintln!("record {} failed: {message}", index + 1);
        }
        for (_, r) in transformed.records {
            let headers: BTreeMap<String, Value> = r
                .headers
                .into_iter()
                .map(|(name, data)| Ok((name, render(&converters, &r.topic, Some(data), false)?)))
                .collect::<anyhow::Result<_>>()?;
            let line = json!({
                "topic": r.topic,
                "partition": r.kafka_partition,
                "key": render(&converters, &r.topic, r.key, true)?,
                "value": render(&converters, &r.topic, r.value, false)?,
                "timestamp": r.timestamp,
                "headers": headers,
            });
            writeln!(out, "{line}")?;
        }
        Ok(())
    }
}

/// An input record's key and value through the connector's converters: a JSON string is
/// the raw text (for a StringConverter, say), anything else its JSON (for a JsonConverter).
fn convert(converters: &Converters, record: &Input) -> anyhow::Result<(Option<Data>, Option<Data>)> {
    let read = |converter: &dyn wasmconnect_convert::Converter, json: &Option<Value>, what: &str| -> anyhow::Result<Option<Data>> {
        let Some(json) = json else { return Ok(None) };
        let bytes = match json {
            Value::String(s) => s.clone().into_bytes(),
            other => serde_json::to_vec(other)?,
        };
        let data = converter.to_connect_data(&record.topic, Some(&bytes)).with_context(|| format!("the {what} {json}"))?;
        Ok(Some(data))
    };
    Ok((read(converters.key.as_ref(), &record.key, "key")?, read(converters.value.as_ref(), &record.value, "value")?))
}

/// A key or value as the converter writes it, shown as JSON where it is JSON.
fn render(converters: &Converters, topic: &str, data: Option<Data>, key: bool) -> anyhow::Result<Value> {
    let converter = if key { converters.key.as_ref() } else { converters.value.as_ref() };
    let Some(bytes) = converter.from_connect_data(topic, &data.unwrap_or_else(Data::null))? else { return Ok(Value::Null) };
    Ok(serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned())))
}
