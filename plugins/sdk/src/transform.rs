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
