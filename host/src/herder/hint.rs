//! The first line of a failed connector's or task's trace: what went wrong, in one sentence,
//! and what to do about it; the error as it came follows on the next lines.
//!
//! Failures reach the status as text, from the host, the `sql` import or the plugin.
//! They are told apart by what the host and its SQL layer write into them: the trap
//! message, the connection failure, SQLSTATE codes (the standard's classes, so the same for
//! MySQL and PostgreSQL), the converter's failure.

/// What went wrong, recognised by what a trace contains: the first rule that matches wins.
const RULES: &[(&[&str], &str)] = &[
    (
        &["the plugin trapped"],
        "The plugin crashed (a trap: a panic, or it ran into wasm.call.timeout.ms or wasm.memory.max.bytes): \
         raise the limit the message below names, or report the panic to the plugin's author; then restart the task.",
    ),
    (
        &["SQLSTATE 28000", "SQLSTATE 28P01", "Access denied for user", "password authentication failed"],
        "The database refused the login: check connection.user and connection.password and the user's grants, \
         then restart the task.",
    ),
    (
        &["SQLSTATE 42S02", "SQLSTATE 42P01"],
        "A table the connector uses does not exist: create it or correct the connector's table settings \
         (a sink can create it with auto.create=true), then restart the task.",
    ),
    (
        &["SQLSTATE 42S22", "SQLSTATE 42703"],
        "A column the connector uses does not exist: add it or correct the connector's column settings \
         (a sink can add it with auto.evolve=true), then restart the task.",
    ),
    (
        &["database connection failed", "SQLSTATE 08"],
        "The database cannot be reached: check connection.url and that the database is up and reachable from \
         the worker. The task retries on its own; errors.retry.timeout bounds how long.",
    ),
    (
        &["No space left on device", "File too large", "Disk quota exceeded"],
        "The worker's data directory is out of space (or over a file-size or quota limit): nothing of the batch that \
         failed was written or committed. Free space, then restart the task.",
    ),
    (
        &["cannot convert the"],
        "A record's key or value does not fit the connector's converter: fix the data or key.converter/value.converter \
         (and their schemas.enable), then restart the task.",
    ),
    (
        &["invalid configuration:"],
        "The connector's config does not fit what it works with: do what the message below says (change the config \
         with PUT /connectors/NAME/config, or what it names), then restart the task.",
    ),
    (
        &["cannot instantiate the plugin"],
        "The plugin's component cannot run on this worker: rebuild it against this wasmconnect's WIT contract \
         (wasmconnect plugin build), then restart the task.",
    ),
];

/// The first line of the trace of a task that stopped at a record it could not handle and
/// was not told to tolerate.
pub const RECORD_STOPPED: &str = "A record could not be handled, and the task stopped there so that no record is lost: \
     fix the data or the connector's converter or transform settings, or set errors.tolerance=all (with \
     errors.deadletterqueue.topic.name to keep bad records aside); then restart the task.";

/// The hint for `trace`, if it shows a failure with a known remedy.
pub fn hint(trace: &str) -> Option<&'static str> {
    RULES.iter().find(|(markers, _)| markers.iter().any(|m| trace.contains(m))).map(|(_, hint)| *hint)
}

/// `trace` with its hint as first line, unless it starts with one already.
pub fn explained(trace: String) -> String {
    if RULES.iter().map(|(_, hint)| *hint).chain([RECORD_STOPPED]).any(|hint| trace.starts_with(hint)) {
        return trace;
    }
    match hint(&trace) {
        Some(hint) => format!("{hint}\n{trace}"),
        None => trace,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_failures_start_with_what_to_do() {
        let denied = "poll failed: reading table \"t\": the database rejected a statement (SQLSTATE 28000): Access denied for user 'x'";
        assert!(explained(denied.into()).starts_with("The database refused the login: check connection.user"));
        let table = "writing table \"t\": the database refused (SQLSTATE 42P01): relation \"t\" does not exist";
        assert!(explained(table.into()).starts_with("A table the connector uses does not exist"));
        let column = "the database rejected a statement (SQLSTATE 42S22): Unknown column 'x' in 'field list'";
        assert!(explained(column.into()).starts_with("A column the connector uses does not exist"));
        let trap = "the plugin trapped: wasm trap: interrupt";
        assert!(explained(trap.into()).starts_with("The plugin crashed"));
        let unreachable = "poll kept failing for 2000 ms (9 attempts); the last error: database connection failed: refused";
        let explained_once = explained(unreachable.into());
        assert!(explained_once.starts_with("The database cannot be reached") && explained_once.ends_with(unreachable), "{explained_once}");
        assert_eq!(explained(explained_once.clone()), explained_once, "a hint is added once");
        assert_eq!(hint("the topic log is full"), None);
        let stopped = format!("{RECORD_STOPPED}\ncannot convert the value of the record at topic t partition 0 offset 1: not JSON");
        assert_eq!(explained(stopped.clone()), stopped, "a record failure says what to do already");
    }

    #[test]
    fn a_full_disk_is_recognised() {
        let trace = "cannot write to the topic log: cannot write /data/topics/t-0/00000000000000000000.log: No space left on device (os error 28)";
        assert!(hint(trace).unwrap().starts_with("The worker's data directory is out of space"));
    }

    #[test]
    fn a_trap_wins_over_what_the_plugin_wrote_before_it() {
        let trace = "the plugin trapped: panicked at 'SQLSTATE 42S02 unexpected'";
        assert!(hint(trace).unwrap().starts_with("The plugin crashed"));
    }
}
