//! How much work the task still has, shown by the host in the task status (`progress.lag`)
//! and as the `source_record_remaining` metric.

/// Tells the host how many records the task has still to read right now: the rest of an
/// initial snapshot, say, summed over everything the task reads; `Some(0)` once it has
/// caught up, `None` when it cannot tell. The host keeps the last value, so report again
/// when it changes (after each poll, say).
pub fn report_remaining(records: Option<u64>) {
    crate::wit::progress::report_remaining(records);
}
