//! Retriable failures (a database that is down, a lock timeout): retried with growing
//! pauses, shown in the task's status while they last, and given up after
//! `errors.retry.timeout` milliseconds when the connector sets one. Unlike Kafka Connect,
//! whose default 0 would fail a task at the first blip, wasmconnect retries for ever unless
//! told otherwise (`-1`, or no setting).

use std::time::{Duration, Instant};

use super::{TaskSpec, WorkerContext};
use crate::herder::status::State;

pub const TIMEOUT_KEY: &str = "errors.retry.timeout";

/// `errors.retry.timeout` as a bound: `None` retries for ever.
pub fn timeout(config: &std::collections::BTreeMap<String, String>) -> Result<Option<Duration>, String> {
    match config.get(TIMEOUT_KEY).map(|v| v.trim()) {
        None | Some("-1") => Ok(None),
        Some(v) => v
            .parse::<u64>()
            .map(|ms| Some(Duration::from_millis(ms)))
            .map_err(|_| format!("must be a number of milliseconds, or -1 to retry for ever, not {v:?}")),
    }
}

/// The consecutive retriable failures of one kind of call of a task.
pub struct Retries<'a> {
    ctx: &'a WorkerContext,
    spec: &'a TaskSpec,
    /// The call, for messages: "start", "poll", "put".
    call: &'static str,
    timeout: Option<Duration>,
    since: Option<Instant>,
    attempts: u32,
}

impl<'a> Retries<'a> {
    pub fn new(ctx: &'a WorkerContext, spec: &'a TaskSpec, call: &'static str) -> Retries<'a> {
        // The config was checked when the connector was created.
        let timeout = timeout(&spec.config).unwrap_or(None);
        Retries { ctx, spec, call, timeout, since: None, attempts: 0 }
    }

    /// Another failure: the pause before the next try, or the task's failure once
    /// `errors.retry.timeout` has passed since the first.
    pub fn failed(&mut self, message: &str) -> Result<Duration, String> {
        let since = *self.since.get_or_insert_with(Instant::now);
        self.attempts += 1;
        let failing = since.elapsed();
        if self.timeout.is_some_and(|timeout| failing >= timeout) {
            return Err(format!(
                "{} kept failing for {} ms ({} attempts), longer than {TIMEOUT_KEY} allows; the last error: {message}",
                self.call,
                failing.as_millis(),
                self.attempts
            ));
        }
        tracing::warn!(attempt = self.attempts, "{} failed, retrying: {message}", self.call);
        let note = format!("retrying {} (attempt {}, failing for {} s): {message}", self.call, self.attempts, failing.as_secs());
        self.ctx.status.task(&self.spec.connector, self.spec.id, State::Running, Some(note));
        Ok(backoff(self.attempts))
    }

    /// The call worked: a retry note in the status goes away.
    pub fn succeeded(&mut self) {
        if self.since.take().is_some() {
            self.attempts = 0;
            self.ctx.status.task(&self.spec.connector, self.spec.id, State::Running, None);
        }
    }
}

/// How long to wait before retrying after the `attempt`-th retriable error in a row.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(100u64.saturating_mul(1 << attempt.min(8)).min(10_000))
}
