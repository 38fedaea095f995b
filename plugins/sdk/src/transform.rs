//! Single message transforms and predicates, configured as in Kafka Connect
//! (`transforms.NAME.type`, `predicates.NAME.type`, their keys with the prefix stripped).

use crate::data::ConnectRecord;

/// One transform instance of a chain. It lives as long as its task and sees every record
/// the task handles, in order, so it may cache (e.g. schemas it derived).
pub trait Transform: 'static {
    /// Transforms one record; `Ok(None)` drops it (as `Filter` does). An `Err` is this
    /// record's failure, with a message for the user: the host fails the task or, with
    /// `errors.tolerance=all`, sends the record to the dead-letter queue.
    fn apply(&mut self, record: ConnectRecord) -> Result<Option<ConnectRecord>, String>;
}

/// A condition on records that decides whether a transform applies.
pub trait Predicate: 'static {
    fn test(&mut self, record: &ConnectRecord) -> Result<bool, String>;
}

/// The instances a task configured and the chain runner behind [`transform_plugin!`].
#[cfg(feature = "transform")]
#[doc(hidden)]
pub mod __chain {
    use std::cell::RefCell;

    use wasmconnect_data::packed::{BatchReader, encode_batch};

    use super::{Predicate, Transform};
    use crate::transform_bindings::exports::wasmconnect::connector::packed_transform::PackedTransformed;
    use crate::transform_bindings::exports::wasmconnect::connector::transform::{Step, Transformed};
    use crate::wire::{decode_record_batch, encode_record_batch};
    use crate::wit::types::{RecordBatch, RecordError};
    use crate::{Config, ConnectRecord, ConnectorError};

    pub type TransformFactory = fn(&str, &Config) -> Result<Box<dyn Transform>, ConnectorError>;
    pub type PredicateFactory = fn(&str, &Config) -> Result<Box<dyn Predicate>, ConnectorError>;

    /// Instances with their class names, which failures are reported under.
    #[derive(Default)]
    struct Instances {
        transforms: Vec<(String, Box<dyn Transform>)>,
        predicates: Vec<(String, Box<dyn Predicate>)>,
    }

    thread_local! {
        static INSTANCES: RefCell<Instances> = RefCell::default();
        /// Keeps the last batch's schemas, so that batch after batch the transforms see the
        /// same schema objects and their caches hit by pointer.
        static READER: RefCell<BatchReader> = RefCell::default();
    }

    pub fn configure_transform(factory: TransformFactory, class: String, config: Vec<(String, String)>) -> Result<u32, ConnectorError> {
        let transform = factory(&class, &Config::from_pairs(config))?;
        INSTANCES.with_borrow_mut(|i| {
            i.transforms.push((class, transform));
            Ok(i.transforms.len() as u32 - 1)
        })
    }

    pub fn configure_predicate(factory: PredicateFactory, class: String, config: Vec<(String, String)>) -> Result<u32, ConnectorError> {
        let predicate = factory(&class, &Config::from_pairs(config))?;
        INSTANCES.with_borrow_mut(|i| {
            i.predicates.push((class, predicate));
            Ok(i.predicates.len() as u32 - 1)
        })
    }

    pub fn apply(steps: Vec<Step>, batch: RecordBatch) -> Result<Transformed, ConnectorError> {
        let (out, origins, failures) = run_batch(&steps, decode_record_batch(batch)?)?;
        Ok(Transformed { batch: encode_record_batch(out), origins, failures })
    }

    pub fn apply_packed(steps: Vec<Step>, batch: Vec<u8>) -> Result<PackedTransformed, ConnectorError> {
        let records = READER
            .with_borrow_mut(|reader| reader.decode(&batch))
            .map_err(|e| ConnectorError::Fatal(format!("the host sent a malformed batch: {e}")))?;
        // The answer is usually about as long as the question.
        let mut packed = Vec::with_capacity(batch.len());
        drop(batch);
        let (out, origins, failures) = run_batch(&steps, records)?;
        encode_batch(&out, &mut packed);
        Ok(PackedTransformed { batch: packed, origins, failures })
    }

    type Ran = (Vec<ConnectRecord>, Vec<u32>, Vec<RecordError>);

    /// Every record through the chain: what came out, where each came from, what failed.
    fn run_batch(steps: &[Step], records: Vec<ConnectRecord>) -> Result<Ran, ConnectorError> {
        INSTANCES.with_borrow_mut(|instances| {
            check_handles(steps, instances)?;
            let mut out = Vec::with_capacity(records.len());
            let mut origins = Vec::with_capacity(records.len());
            let mut failures = Vec::new();
            for (index, record) in (0u32..).zip(records) {
                match run(steps, instances, record) {
                    Ok(Some(record)) => {
                        out.push(record);
                        origins.push(index);
                    }
                    Ok(None) => {}
                    Err(message) => failures.push(RecordError { index, message }),
                }
            }
            Ok((out, origins, failures))
        })
    }

    fn check_handles(steps: &[Step], instances: &Instances) -> Result<(), ConnectorError> {
        for step in steps {
            let predicate_ok = step.predicate.is_none_or(|(p, _)| (p as usize) < instances.predicates.len());
            if step.transform as usize >= instances.transforms.len() || !predicate_ok {
                return Err(ConnectorError::Fatal(format!("the host asked for a transform or predicate that was never configured: {step:?}")));
            }
        }
        Ok(())
    }

    /// One record through the chain: `None` when a step dropped it.
    fn run(steps: &[Step], instances: &mut Instances, mut record: ConnectRecord) -> Result<Option<ConnectRecord>, String> {
        for step in steps {
            if let Some((p, negate)) = step.predicate {
                let (class, predicate) = &mut instances.predicates[p as usize];
                let matches = predicate.test(&record).map_err(|e| format!("{class}: {e}"))?;
                if matches == negate {
                    continue;
                }
            }
            let (class, transform) = &mut instances.transforms[step.transform as usize];
            match transform.apply(record).map_err(|e| format!("{class}: {e}"))? {
                Some(next) => record = next,
                None => return Ok(None),
            }
        }
        Ok(Some(record))
    }
}
