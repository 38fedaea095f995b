//! A source that misbehaves on purpose, as `chaos.behaviour` says: the tests use it to show
//! that a panicking, spinning or memory-hungry plugin fails only its own task.

use std::sync::Arc;

use wasmconnect_sdk::{Config, ConnectorError, Data, Field, Schema, SchemaType, Source, SourceBatch, SourceRecord, Value};

pub struct ChaosSource {
    behaviour: String,
    topic: String,
    next: i64,
    schema: Arc<Schema>,
}

impl Source for ChaosSource {
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
            "spin" => loop {
                self.next = std::hint::black_box(self.next.wrapping_add(1));
            },
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

wasmconnect_sdk::source_plugin!(ChaosSource);
