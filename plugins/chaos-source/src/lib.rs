//! A source that misbehaves on purpose, as `chaos.behaviour` says: the tests use it to show
//! that a panicking, spinning, recursing, memory-hungry, flooding or out-of-bounds plugin
//! fails only its own task, and that one trying to reach files, the network or the environment gets nothing.

use std::sync::Arc;

use wasmconnect_sdk::{Config, ConfigKey, ConnectorError, Data, Field, Importance, Manifest, Schema, SchemaType, Source, SourceBatch, SourceRecord, Value};

pub struct ChaosSource {
    behaviour: String,
    topic: String,
    next: i64,
    schema: Arc<Schema>,
}

impl Source for ChaosSource {
    fn manifest() -> Manifest {
        Manifest::source("chaos-source", env!("CARGO_PKG_VERSION"), "wasmconnect.testing.ChaosSource")
            .alias("ChaosSource")
            .define(ConfigKey::string("chaos.behaviour").required().importance(Importance::High).doc(
                "What poll does: records (one record per poll, well behaved), mismatch (a value that does not fit its schema), \
                 panic, spin (never returns), allocate (until memory runs out), recurse (without end), flood (200,000 records \
                 in one poll), out-of-bounds (reads outside its memory) or escape (tries files, sockets and the environment).",
            ))
            .define(ConfigKey::string("topic").required().importance(Importance::High).doc("Where the records go."))
    }

    fn start(config: Config) -> Result<Self, ConnectorError> {
        Ok(ChaosSource {
            behaviour: config.required("chaos.behaviour")?.to_owned(),
            topic: config.required("topic")?.to_owned(),
            next: 0,
            schema: Arc::new(Schema::structure(vec![Field::new("n", Schema::new(SchemaType::Int64))]).named("tick")),
        })
    }

    fn poll(&mut self) -> Result<SourceBatch, ConnectorError> {
        match self.behaviour.as_str() {
            "panic" => panic!("chaos: a deliberate panic"),
            // A load far past the end of linear memory: the engine traps, as it must for any
            // stray pointer in a plugin's unsafe code.
            "out-of-bounds" => {
                let address = std::hint::black_box(0xffff_fff0usize) as *const u64;
                // SAFETY: none; reading outside the instance's memory is the point.
                let value = unsafe { std::ptr::read_volatile(address) };
                Ok(SourceBatch::new().wait(value as u32))
            }
            "spin" => loop {
                self.next = std::hint::black_box(self.next.wrapping_add(1));
            },
            "recurse" => Ok(SourceBatch::new().wait(recurse(self.next as u64 + 1) as u32)),
            // Far more records in one poll than a worker takes.
            "flood" => {
                let mut batch = SourceBatch::new();
                for n in 0..200_000 {
                    batch.push(self.record(n));
                }
                Ok(batch)
            }
            // What a plugin gets when it reaches for the machine: one record saying so.
            "escape" => {
                let mut batch = SourceBatch::new();
                if self.next == 0 {
                    let file = std::fs::read_to_string("/etc/hostname").map(|_| "read".to_owned()).unwrap_or_else(|e| format!("denied: {e}"));
                    let socket = std::net::TcpStream::connect("127.0.0.1:3306").map(|_| "connected".to_owned()).unwrap_or_else(|e| format!("denied: {e}"));
                    let env = std::env::vars().count();
                    let report = serde_json::json!({ "file": file, "socket": socket, "env": env }).to_string();
                    batch.push(SourceRecord {
                        source_partition: serde_json::json!({ "chaos": "main" }),
                        source_offset: serde_json::json!({ "n": 0 }),
                        topic: self.topic.clone(),
                        kafka_partition: None,
                        key: None,
                        value: Some(Data { schema: Some(Arc::new(Schema::new(SchemaType::String))), value: Value::String(report) }),
                        timestamp: None,
                    });
                    self.next = 1;
                }
                Ok(batch.wait(1000))
            }
            "allocate" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            // A value that does not match its schema: the host's converter refuses it.
            "mismatch" => {
                let mut batch = SourceBatch::new();
                batch.push(SourceRecord {
                    source_partition: serde_json::json!({ "chaos": "main" }),
                    source_offset: serde_json::json!({ "n": self.next }),
                    topic: self.topic.clone(),
                    kafka_partition: None,
                    key: None,
                    value: Some(Data { schema: Some(self.schema.clone()), value: Value::Struct(vec![Value::String("not a number".into())]) }),
                    timestamp: None,
                });
                Ok(batch.wait(50))
            }
            _ => {
                let mut batch = SourceBatch::new();
                batch.push(SourceRecord {
                    source_partition: serde_json::json!({ "chaos": "main" }),
                    source_offset: serde_json::json!({ "n": self.next }),
                    topic: self.topic.clone(),
                    kafka_partition: None,
                    key: None,
                    value: Some(Data { schema: Some(self.schema.clone()), value: Value::Struct(vec![Value::Int64(self.next)]) }),
                    timestamp: None,
                });
                self.next += 1;
                Ok(batch.wait(50))
            }
        }
    }
}

impl ChaosSource {
    fn record(&self, n: i64) -> SourceRecord {
        SourceRecord {
            source_partition: serde_json::json!({ "chaos": "main" }),
            source_offset: serde_json::json!({ "n": n }),
            topic: self.topic.clone(),
            kafka_partition: None,
            key: None,
            value: Some(Data { schema: Some(self.schema.clone()), value: Value::Struct(vec![Value::Int64(n)]) }),
            timestamp: None,
        }
    }
}

/// Recursion without end, which the optimiser cannot turn into a loop: on purpose.
#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    let frame = std::hint::black_box([depth; 64]);
    recurse(depth + 1).wrapping_add(frame[(depth % 64) as usize])
}

wasmconnect_sdk::source_plugin!(ChaosSource);
