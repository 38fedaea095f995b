//! A transforms component bound to one task: it holds the task's configured transform and
//! predicate instances and runs whole chains of them over a batch in one call.

use std::collections::BTreeMap;

use wasmconnect_data::Data;

use super::bindings::transforms::TransformChain as Transforms;
use super::bindings::transforms::exports::wasmconnect::connector::transform as wit_transform;
use super::bindings::types;
use super::instance::{PluginError, Sandbox};
use super::wit_data::{DecodeError, SchemaInterner, decode_data, decode_headers, decode_schemas};

pub use wit_transform::Step;

/// A record on its way through a chain: a source record before its converter, or a sink
/// record after its converter.
#[derive(Clone, Debug, PartialEq)]
pub struct TransformRecord {
    pub topic: String,
    pub kafka_partition: Option<i32>,
    /// Known for a sink record; a source record is not written yet.
    pub kafka_offset: Option<i64>,
    pub key: Option<Data>,
    pub value: Option<Data>,
    pub timestamp: Option<i64>,
    pub headers: Vec<(String, Data)>,
}

/// What came out of a chain: each output record with the index of the input it came from
/// (a record a transform dropped has none), and the inputs some step failed on.
#[derive(Debug, Default)]
pub struct Transformed {
    pub records: Vec<(usize, TransformRecord)>,
    pub failures: Vec<(usize, String)>,
}

pub struct TransformInstance {
    sandbox: Sandbox,
    bindings: Transforms,
}

impl TransformInstance {
    pub(super) fn new(sandbox: Sandbox, bindings: Transforms) -> Self {
        TransformInstance { sandbox, bindings }
    }

    pub fn configure_transform(&mut self, class: &str, config: &BTreeMap<String, String>) -> Result<u32, PluginError> {
        let guest = self.bindings.wasmconnect_connector_transform();
        let config = pairs(config);
        Ok(self.sandbox.call(|s| guest.call_configure_transform(s, class, &config))??)
    }

    pub fn configure_predicate(&mut self, class: &str, config: &BTreeMap<String, String>) -> Result<u32, PluginError> {
        let guest = self.bindings.wasmconnect_connector_transform();
        let config = pairs(config);
        Ok(self.sandbox.call(|s| guest.call_configure_predicate(s, class, &config))??)
    }

    pub fn memory_bytes(&self) -> usize {
        self.sandbox.memory_bytes()
    }

    pub fn apply(&mut self, steps: &[Step], records: &[TransformRecord]) -> Result<Transformed, PluginError> {
        let batch = encode(records);
        let guest = self.bindings.wasmconnect_connector_transform();
        let out = self.sandbox.call(|s| guest.call_apply(s, steps, &batch))??;
        if out.origins.len() != out.batch.records.len() {
            return Err(PluginError::Malformed(DecodeError::Batch(format!(
                "{} records came back with {} origins",
                out.batch.records.len(),
                out.origins.len()
            ))));
        }
        let origin = |i: u32| {
            let i = i as usize;
            if i < records.len() { Ok(i) } else { Err(DecodeError::Batch(format!("origin {i} is not a record of the batch"))) }
        };
        let schemas = decode_schemas(&out.batch.schemas)?;
        let records = out
            .origins
            .into_iter()
            .zip(out.batch.records)
            .map(|(from, record)| Ok((origin(from)?, decode(record, &schemas)?)))
            .collect::<Result<_, DecodeError>>()?;
        let failures = out.failures.into_iter().map(|f| Ok((origin(f.index)?, f.message))).collect::<Result<_, DecodeError>>()?;
        Ok(Transformed { records, failures })
    }
}

fn pairs(config: &BTreeMap<String, String>) -> Vec<(String, String)> {
    config.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn encode(records: &[TransformRecord]) -> types::RecordBatch {
    let mut interner = SchemaInterner::default();
    let records = records
        .iter()
        .map(|r| types::ConnectRecord {
            topic: r.topic.clone(),
            kafka_partition: r.kafka_partition,
            kafka_offset: r.kafka_offset,
            key: r.key.as_ref().map(|d| interner.encode(d)),
            value: r.value.as_ref().map(|d| interner.encode(d)),
            timestamp: r.timestamp,
            headers: interner.encode_headers(&r.headers),
        })
        .collect();
    types::RecordBatch { schemas: interner.into_table(), records }
}

fn decode(r: types::ConnectRecord, schemas: &[std::sync::Arc<wasmconnect_data::Schema>]) -> Result<TransformRecord, DecodeError> {
    let data = |d: Option<types::Data>| d.map(|d| decode_data(d, schemas)).transpose();
    Ok(TransformRecord {
        topic: r.topic,
        kafka_partition: r.kafka_partition,
        kafka_offset: r.kafka_offset,
        key: data(r.key)?,
        value: data(r.value)?,
        timestamp: r.timestamp,
        headers: decode_headers(r.headers, schemas)?,
    })
}
