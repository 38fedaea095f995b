//! The embedded log's durability, from the worker config: `log.flush.policy` (`every-batch`,
//! the default, or `interval`) and `log.flush.interval.ms` (1000 by default) for `interval`.
//! See `wasmconnect_log::FsyncPolicy` for what each guarantees after a power loss.

use std::collections::BTreeMap;
use std::time::Duration;

use wasmconnect_log::FsyncPolicy;

pub const POLICY_KEY: &str = "log.flush.policy";
pub const INTERVAL_KEY: &str = "log.flush.interval.ms";
const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FlushConfigError {
    #[error("the worker's {POLICY_KEY} must be every-batch (sync every append, the default) or interval (sync every {INTERVAL_KEY}), not {0:?}")]
    Policy(String),
    #[error("the worker's {INTERVAL_KEY} must be a whole number of milliseconds, at least 1, not {0:?}")]
    Interval(String),
    #[error("the worker's {INTERVAL_KEY} applies only with {POLICY_KEY}=interval")]
    IntervalWithoutPolicy,
}

/// The policy the worker config asks for.
pub fn policy(worker: &BTreeMap<String, String>) -> Result<FsyncPolicy, FlushConfigError> {
    let interval = worker.get(INTERVAL_KEY).map(|v| {
        v.trim().parse::<u64>().ok().filter(|ms| *ms >= 1).map(Duration::from_millis).ok_or_else(|| FlushConfigError::Interval(v.clone()))
    });
    match worker.get(POLICY_KEY).map(|v| v.trim()) {
        None | Some("every-batch") if interval.is_some() => Err(FlushConfigError::IntervalWithoutPolicy),
        None | Some("every-batch") => Ok(FsyncPolicy::Always),
        Some("interval") => Ok(FsyncPolicy::Interval(interval.transpose()?.unwrap_or(DEFAULT_INTERVAL))),
        Some(other) => Err(FlushConfigError::Policy(other.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worker(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn every_batch_unless_told_otherwise() {
        assert_eq!(policy(&worker(&[])), Ok(FsyncPolicy::Always));
        assert_eq!(policy(&worker(&[(POLICY_KEY, "every-batch")])), Ok(FsyncPolicy::Always));
        assert_eq!(policy(&worker(&[(POLICY_KEY, "interval")])), Ok(FsyncPolicy::Interval(Duration::from_secs(1))));
        assert_eq!(policy(&worker(&[(POLICY_KEY, "interval"), (INTERVAL_KEY, "250")])), Ok(FsyncPolicy::Interval(Duration::from_millis(250))));
    }

    #[test]
    fn mistakes_are_refused() {
        assert_eq!(policy(&worker(&[(POLICY_KEY, "always")])), Err(FlushConfigError::Policy("always".into())));
        assert_eq!(policy(&worker(&[(POLICY_KEY, "interval"), (INTERVAL_KEY, "0")])), Err(FlushConfigError::Interval("0".into())));
        assert_eq!(policy(&worker(&[(INTERVAL_KEY, "100")])), Err(FlushConfigError::IntervalWithoutPolicy));
        assert!(FlushConfigError::Policy("x".into()).to_string().contains("every-batch"));
    }
}
