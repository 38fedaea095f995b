//! A chain of three transforms (ValueToKey, ExtractField$Key, MaskField$Value) over
//! `users`-shaped records: in the sandbox, batch by batch as a task runs it, against the
//! same transforms compiled natively and called record by record.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmconnect::runtime::{NoOffsets, PluginRegistry, Runtime, Step, TaskContext, TaskLimits, TransformRecord, WorkerLimits};
use wasmconnect_data::{Data, Field, Schema, SchemaType, Value};
use wasmconnect_sdk::Config;

/// Records per call, as a source batch of batch.max.rows=1000 would bring.
const BATCH: usize = 1000;

const CHAIN: [(&str, &str, &str); 3] = [
    ("org.apache.kafka.connect.transforms.ValueToKey", "fields", "id"),
    ("org.apache.kafka.connect.transforms.ExtractField$Key", "field", "id"),
    ("org.apache.kafka.connect.transforms.MaskField$Value", "fields", "pwd"),
];

pub struct ChainTimes {
    pub native: Duration,
    pub wasm: Duration,
}


fn users_batch(first: usize) -> Vec<TransformRecord> {
    let schema = Arc::new(Schema::structure(vec![
        Field::new("id", Schema::new(SchemaType::Int32)),
        Field::new("user_id", Schema::new(SchemaType::String)),
        Field::new("pwd", Schema::new(SchemaType::String)),
        Field::new("created_at", Schema::timestamp().optional()),
    ]));
    (first..first + BATCH)
        .map(|i| TransformRecord {
            topic: "my_topic_users".into(),
            kafka_partition: None,
            kafka_offset: None,
            key: None,
            value: Some(Data {
                schema: Some(schema.clone()),
                value: Value::Struct(vec![
                    Value::Int32(i as i32),
                    Value::String(format!("user{i}")),
                    Value::String(format!("pw{i}")),
                    Value::Int64(1_700_000_000_000 + i as i64),
                ]),
            }),
            timestamp: None,
            headers: Vec::new(),
        })
        .collect()
}

fn config(key: &str, value: &str) -> BTreeMap<String, String> {
    BTreeMap::from([(key.to_owned(), value.to_owned())])
}

pub fn run(records: usize, plugin_path: &std::path::Path, tokio: tokio::runtime::Handle) -> anyhow::Result<ChainTimes> {
    let batches = records / BATCH;
    let mut native_chain: Vec<Box<dyn wasmconnect_sdk::Transform>> = CHAIN
        .iter()
        .map(|(class, key, value)| connect_transforms::transform(class, &Config::from_pairs([(key.to_string(), value.to_string())])))
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut native = Duration::ZERO;
    let mut check = None;
    for b in 0..batches {
        let batch = users_batch(b * BATCH);
        let started = Instant::now();
        let mut out = Vec::with_capacity(batch.len());
        for mut record in batch {
            for transform in &mut native_chain {
                record = transform.apply(record).map_err(anyhow::Error::msg)?.expect("no transform of the chain drops records");
            }
            out.push(record);
        }
        native += started.elapsed();
        check.get_or_insert(out[0].key.clone());
    }

    let cache = tempfile::tempdir()?;
    let runtime = Runtime::new(cache.path().to_owned(), WorkerLimits::with_defaults(TaskLimits::default()))?;
    let registry = PluginRegistry::scan(&[plugin_path.to_owned()], &runtime)?;
    let plugin = registry.transform(CHAIN[0].0).ok_or_else(|| anyhow::anyhow!("connect-transforms is not in {}", plugin_path.display()))?.plugin;
    let ctx = TaskContext {
        connector: "bench".into(),
        task: Some(0),
        config: BTreeMap::new(),
        offsets: Arc::new(NoOffsets),
        pools: Arc::new(wasmconnect_db::Pools::new()),
        tokio,
        limits: TaskLimits::default(),
    };
    let mut instance = runtime.transforms(&plugin, ctx)?;
    let steps = CHAIN
        .iter()
        .map(|(class, key, value)| Ok(Step { transform: instance.configure_transform(class, &config(key, value))?, predicate: None }))
        .collect::<Result<Vec<_>, wasmconnect::runtime::PluginError>>()?;
    let mut wasm = Duration::ZERO;
    for b in 0..batches {
        let batch = users_batch(b * BATCH);
        let started = Instant::now();
        let out = instance.apply(&steps, &batch)?;
        wasm += started.elapsed();
        anyhow::ensure!(out.records.len() == BATCH && out.failures.is_empty(), "the chain lost records: {:?}", out.failures);
        if b == 0 {
            anyhow::ensure!(Some(out.records[0].1.key.clone()) == check, "the sandbox and native chains disagree");
        }
    }
    Ok(ChainTimes { native, wasm })
}
