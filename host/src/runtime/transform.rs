//! A transforms component bound to one task: it holds the task's configured transform and
//! predicate instances and runs whole chains of them over a batch in one call.

use std::collections::BTreeMap;

use wasmconnect_data::packed::{BatchReader, encode_batch};

use super::bindings::transforms::exports::wasmconnect::connector::packed_transform as wit_packed;
use super::bindings::transforms::exports::wasmconnect::connector::transform as wit_transform;
use super::bindings::types;
use super::instance::{PluginError, Sandbox};
use super::wit_data::{DecodeError, SchemaInterner, decode_data, decode_headers, decode_schemas};

pub use wit_transform::Step;

/// A record on its way through a chain: a source record before its converter, or a sink
/// record after its converter. `kafka_offset` is known for a sink record only; a source
/// record is not written yet.
pub type TransformRecord = wasmconnect_data::ConnectRecord;

/// What came out of a chain: each output record with the index of the input it came from
/// (a record a transform dropped has none), and the inputs some step failed on.
#[derive(Debug, Default)]
pub struct Transformed {
    pub records: Vec<(usize, TransformRecord)>,
    pub failures: Vec<(usize, String)>,
}

pub struct TransformInstance {
    sandbox: Sandbox,
    typed: wit_transform::Guest,
    /// The component's `packed-transform`, when it has one.
    packed: Option<Packed>,
}

/// What the packed calls keep from batch to batch: the buffer batches are packed into, and
/// the schemas of the last answer (so that a chain's output schemas keep their identity).
struct Packed {
    guest: wit_packed::Guest,
    buffer: Vec<u8>,
    reader: BatchReader,
}

impl TransformInstance {
    pub(super) fn new(sandbox: Sandbox, typed: wit_transform::Guest, packed: Option<wit_packed::Guest>) -> Self {
        let packed = packed.map(|guest| Packed { guest, buffer: Vec::new(), reader: BatchReader::default() });
        TransformInstance { sandbox, typed, packed }
    }

    pub fn configure_transform(&mut self, class: &str, config: &BTreeMap<String, String>) -> Result<u32, PluginError> {
        let config = pairs(config);
        let guest = &self.typed;
        Ok(self.sandbox.call(|s| guest.call_configure_transform(s, class, &config))??)
    }

    pub fn configure_predicate(&mut self, class: &str, config: &BTreeMap<String, String>) -> Result<u32, PluginError> {
        let config = pairs(config);
        let guest = &self.typed;
        Ok(self.sandbox.call(|s| guest.call_configure_predicate(s, class, &config))??)
    }

    pub fn memory_bytes(&self) -> usize {
        self.sandbox.memory_bytes()
    }

    /// Whether batches go through `packed-transform` (else through `transform.apply`).
    pub fn is_packed(&self) -> bool {
        self.packed.is_some()
    }

    /// Runs the steps over the batch in one call: packed when the component can take it.
    pub fn apply(&mut self, steps: &[Step], records: &[TransformRecord]) -> Result<Transformed, PluginError> {
        if self.packed.is_some() { self.apply_packed(steps, records) } else { self.apply_typed(steps, records) }
    }

    /// The same as `apply` through `transform.apply`, the call every transforms component
    /// has; public so that both paths can be compared on one component.
    pub fn apply_typed(&mut self, steps: &[Step], records: &[TransformRecord]) -> Result<Transformed, PluginError> {
        let records_in = records.len();
        let batch = encode(records);
        let guest = &self.typed;
        let out = self.sandbox.call(|s| guest.call_apply(s, steps, &batch))??;
        if out.origins.len() != out.batch.records.len() {
            return Err(origins_mismatch(out.batch.records.len(), out.origins.len()));
        }
        let schemas = decode_schemas(&out.batch.schemas)?;
        let records = out
            .origins
            .into_iter()
            .zip(out.batch.records)
            .map(|(from, record)| Ok((origin(from, records_in)?, decode(record, &schemas)?)))
            .collect::<Result<_, DecodeError>>()?;
        let failures = failures(out.failures, records_in)?;
        Ok(Transformed { records, failures })
    }

    fn apply_packed(&mut self, steps: &[Step], records: &[TransformRecord]) -> Result<Transformed, PluginError> {
        let packed = self.packed.as_mut().expect("only called with a packed-transform export");
        encode_batch(records, &mut packed.buffer);
        let (guest, buffer) = (&packed.guest, &packed.buffer);
        let out = self.sandbox.call(|s| guest.call_apply_packed(s, steps, buffer))??;
        let output = packed.reader.decode(&out.batch).map_err(DecodeError::from)?;
        if out.origins.len() != output.len() {
            return Err(origins_mismatch(output.len(), out.origins.len()));
        }
        let records_in = records.len();
        let records = out
            .origins
            .into_iter()
            .zip(output)
            .map(|(from, record)| Ok((origin(from, records_in)?, record)))
            .collect::<Result<_, DecodeError>>()?;
        let failures = failures(out.failures, records_in)?;
        Ok(Transformed { records, failures })
    }
}

fn origins_mismatch(records: usize, origins: usize) -> PluginError {
    PluginError::Malformed(DecodeError::Batch(format!("{records} records came back with {origins} origins")))
}

/// An index the plugin gave, checked against the `len` records it was given.
fn origin(i: u32, len: usize) -> Result<usize, DecodeError> {
    let i = i as usize;
    if i < len { Ok(i) } else { Err(DecodeError::Batch(format!("origin {i} is not a record of the batch"))) }
}

fn failures(failures: Vec<types::RecordError>, len: usize) -> Result<Vec<(usize, String)>, DecodeError> {
    failures.into_iter().map(|f| Ok((origin(f.index, len)?, f.message))).collect()
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
