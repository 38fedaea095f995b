//! Retriable failures (a database that is down, a lock timeout): retried with growing
//! pauses, shown in the task's status while they last, and given up after
//! `errors.retry.timeout` milliseconds when the connector sets one. Unlike Kafka Connect,
//! whose default 0 would fail a task at the first blip, wasmconnect retries for ever unless
//! told otherwise (`-1`, or no setting). The pause doubles from 100 ms up to
//! `errors.retry.delay.max.ms` (Kafka Connect's, 60000 by default).

use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

use super::{TaskSpec, WorkerContext};
use crate::herder::status::State;

pub const TIMEOUT_KEY: &str = "errors.retry.timeout";
pub const DELAY_MAX_KEY: &str = "errors.retry.delay.max.ms";
/// Kafka Connect's default `errors.retry.delay.max.ms`.
const DEFAULT_DELAY_MAX: Duration = Duration::from_secs(60);
/// The first pause, as Kafka Connect's.
const FIRST_DELAY: Duration = Duration::from_millis(100);

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

/// `errors.retry.delay.max.ms`: the longest pause between two tries, at least 1 ms.
pub fn delay_max(config: &std::collections::BTreeMap<String, String>) -> Result<Duration, String> {
    match config.get(DELAY_MAX_KEY).map(|v| v.trim()) {
        None => Ok(DEFAULT_DELAY_MAX),
        Some(v) => v
            .parse::<u64>()
            .ok()
            .filter(|ms| *ms >= 1)
            .map(Duration::from_millis)
            .ok_or_else(|| format!("must be a whole number of milliseconds, at least 1, not {v:?}")),
    }
}

/// The consecutive retriable failures of one kind of call of a task.
pub struct Retries<'a> {
    ctx: &'a WorkerContext,
    spec: &'a TaskSpec,
    /// The call, for messages: "start", "poll", "put".
    call: &'static str,
    timeout: Option<Duration>,
    delay_max: Duration,
    since: Option<Instant>,
    attempts: u32,
}

impl<'a> Retries<'a> {
    pub fn new(ctx: &'a WorkerContext, spec: &'a TaskSpec, call: &'static str) -> Retries<'a> {
        // The config was checked when the connector was created.
        let timeout = timeout(&spec.config).unwrap_or(None);
        let delay_max = delay_max(&spec.config).unwrap_or(DEFAULT_DELAY_MAX);
        Retries { ctx, spec, call, timeout, delay_max, since: None, attempts: 0 }
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
        Ok(backoff(self.attempts, self.delay_max, random()))
    }

    /// The call worked: a retry note in the status goes away.
    pub fn succeeded(&mut self) {
        if self.since.take().is_some() {
            self.attempts = 0;
            self.ctx.status.task(&self.spec.connector, self.spec.id, State::Running, None);
        }
    }
}

/// How long to wait before retrying after the `attempt`-th retriable error in a row: 100 ms,
/// doubling, up to `max`. Once there, somewhere from half of `max` to `max` (by `random`), so
/// the tasks of a worker that lost their database together do not all retry at one instant.
fn backoff(attempt: u32, max: Duration, random: u64) -> Duration {
    let grown = FIRST_DELAY.saturating_mul(1 << (attempt.max(1) - 1).min(30));
    if grown < max {
        return grown;
    }
    let max = max.as_millis() as u64;
    let least = max - max / 2;
    Duration::from_millis(least + random % (max - least + 1))
}

/// A random number, from the random keys the standard library gives each `RandomState`:
/// enough to spread retries, without a dependency.
fn random() -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(value: &str) -> std::collections::BTreeMap<String, String> {
        [(DELAY_MAX_KEY.to_owned(), value.to_owned())].into()
    }

    #[test]
    fn the_pause_doubles_up_to_errors_retry_delay_max_ms() {
        let max = Duration::from_millis(1000);
        let pauses: Vec<u128> = (1..=4).map(|attempt| backoff(attempt, max, 0).as_millis()).collect();
        assert_eq!(pauses, [100, 200, 400, 800]);
        for random in [0, 1, 499, 500, 501, u64::MAX] {
            let pause = backoff(5, max, random);
            assert!((Duration::from_millis(500)..=max).contains(&pause), "{pause:?} for {random}");
        }
        assert_eq!(backoff(5, max, 0), Duration::from_millis(500));
        assert_eq!(backoff(5, max, 500), max);
        assert_eq!(backoff(u32::MAX, Duration::from_millis(1), 7), Duration::from_millis(1), "never below 1 ms, never overflows");
        assert!(backoff(40, DEFAULT_DELAY_MAX, 3) <= DEFAULT_DELAY_MAX, "Kafka Connect's 60 s bound by default");
    }

    #[test]
    fn errors_retry_delay_max_ms_is_a_positive_number_of_milliseconds() {
        assert_eq!(delay_max(&Default::default()), Ok(Duration::from_secs(60)));
        assert_eq!(delay_max(&config(" 250 ")), Ok(Duration::from_millis(250)));
        for bad in ["0", "-5", "soon"] {
            assert!(delay_max(&config(bad)).unwrap_err().contains("at least 1"), "{bad}");
        }
    }
}
