//! Exactly-once sources as KIP-618 configures them: the worker's
//! `exactly.once.source.support`, and a source connector's `exactly.once.support`,
//! `transaction.boundary` and `transaction.boundary.interval.ms`.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::herder::validate::{ConfigProblem, problem};

pub const WORKER_KEY: &str = "exactly.once.source.support";
pub const SUPPORT_KEY: &str = "exactly.once.support";
pub const BOUNDARY_KEY: &str = "transaction.boundary";
pub const INTERVAL_KEY: &str = "transaction.boundary.interval.ms";
/// Kafka Connect's default `offset.flush.interval.ms`, the default interval.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);
/// Brokers refuse a transaction timeout above their `transaction.max.timeout.ms` (15 minutes
/// by default), and a producer's timeout is the interval plus a margin.
const MAX_INTERVAL: Duration = Duration::from_secs(14 * 60);

/// The worker's `exactly.once.source.support`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum WorkerSupport {
    /// Sources deliver at least once on Kafka (the default, as in Kafka Connect).
    #[default]
    Disabled,
    /// Sources still deliver at least once, but the worker reads topics `read_committed`, so
    /// a cluster can turn `enabled` on one worker after the other.
    Preparing,
    /// Each source task writes its records and their offsets in Kafka transactions.
    Enabled,
}

impl WorkerSupport {
    pub fn from_worker_config(worker: &BTreeMap<String, String>) -> Result<WorkerSupport, String> {
        let Some(value) = worker.get(WORKER_KEY) else { return Ok(WorkerSupport::Disabled) };
        let support = match value.trim().to_ascii_lowercase().as_str() {
            "disabled" => WorkerSupport::Disabled,
            "preparing" => WorkerSupport::Preparing,
            "enabled" => WorkerSupport::Enabled,
            _ => return Err(format!("the worker's {WORKER_KEY} must be disabled, preparing or enabled, not {value:?}")),
        };
        // Exactly-once needs readers that skip aborted transactions; refusing beats ignoring.
        if support != WorkerSupport::Disabled
            && let Some(level) = worker.get("consumer.isolation.level").filter(|l| !l.trim().eq_ignore_ascii_case("read_committed"))
        {
            return Err(format!(
                "the worker's consumer.isolation.level={level} contradicts {WORKER_KEY}={value}: readers must skip aborted \
                 transactions, so remove consumer.isolation.level or set it to read_committed"
            ));
        }
        Ok(support)
    }

    /// Whether readers must skip records of open and aborted transactions.
    pub fn read_committed(self) -> bool {
        self != WorkerSupport::Disabled
    }
}

/// When a source task commits its transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Boundary {
    /// After every poll's batch (the default).
    Poll,
    /// Once the transaction has been open this long (`transaction.boundary=interval`).
    Interval(Duration),
}

impl Boundary {
    /// The connector's `transaction.boundary`; the interval defaults to the worker's
    /// `offset.flush.interval.ms`.
    pub fn from_config(config: &BTreeMap<String, String>, worker: &BTreeMap<String, String>) -> Result<Boundary, (&'static str, String)> {
        let boundary = config.get(BOUNDARY_KEY).map_or("poll".to_owned(), |b| b.trim().to_ascii_lowercase());
        match boundary.as_str() {
            "poll" => Ok(Boundary::Poll),
            "interval" => {
                let (key, value) = match (config.get(INTERVAL_KEY), worker.get("offset.flush.interval.ms")) {
                    (Some(v), _) => (INTERVAL_KEY, v),
                    (None, Some(v)) => ("offset.flush.interval.ms", v),
                    (None, None) => return Ok(Boundary::Interval(DEFAULT_INTERVAL)),
                };
                let interval = value.trim().parse::<u64>().ok().map(Duration::from_millis).filter(|i| !i.is_zero() && *i <= MAX_INTERVAL);
                interval.map(Boundary::Interval).ok_or_else(|| {
                    (INTERVAL_KEY, format!("{key} must be a number of milliseconds from 1 to {}, not {value:?}", MAX_INTERVAL.as_millis()))
                })
            }
            "connector" => Err((
                BOUNDARY_KEY,
                "transaction.boundary=connector is not supported: the plugin contract (WIT) has no way for a connector to \
                 define its own transactions. Use poll (one transaction per poll) or interval"
                    .to_owned(),
            )),
            _ => Err((BOUNDARY_KEY, format!("must be poll, interval or connector, not {:?}", config[BOUNDARY_KEY]))),
        }
    }

    /// The longest a transaction stays open before its commit.
    pub fn longest(self) -> Duration {
        match self {
            Boundary::Poll => Duration::ZERO,
            Boundary::Interval(interval) => interval,
        }
    }
}

/// `exactly.once.support=required` asks for a guarantee only an `enabled` worker gives.
/// Every source plugin can have it here, because the host, not the plugin, writes a poll's
/// records and commits their offsets: the plugin only returns records with offsets.
pub fn validate(config: &BTreeMap<String, String>, worker: &BTreeMap<String, String>, support: WorkerSupport) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    match config.get(SUPPORT_KEY).map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        None | Some("requested") => {}
        Some("required") if support == WorkerSupport::Enabled => {}
        Some("required") => problems.push(problem(
            SUPPORT_KEY,
            format!(
                "exactly.once.support=required, but this worker's {WORKER_KEY} is {}: set {WORKER_KEY}=enabled on every \
                 worker, or set exactly.once.support=requested to accept at-least-once delivery",
                match support {
                    WorkerSupport::Preparing => "preparing",
                    _ => "disabled",
                }
            ),
        )),
        Some(_) => problems.push(problem(SUPPORT_KEY, format!("must be requested or required, not {:?}", config[SUPPORT_KEY]))),
    }
    if let Err((key, message)) = Boundary::from_config(config, worker) {
        problems.push(problem(key, message));
    }
    if config.contains_key("offsets.storage.topic") {
        problems.push(problem(
            "offsets.storage.topic",
            "a connector-specific offsets topic is not supported: every connector's source offsets are in the worker's \
             offset.storage.topic. Remove this setting"
                .to_owned(),
        ));
    }
    problems
}

/// A connector of any kind reads `read_committed` while the worker's exactly-once support is
/// on, so an override that says otherwise would be ignored; it is refused instead.
pub fn validate_isolation(config: &BTreeMap<String, String>, support: WorkerSupport) -> Option<ConfigProblem> {
    let level = config.get("consumer.override.isolation.level").filter(|l| !l.trim().eq_ignore_ascii_case("read_committed"))?;
    support.read_committed().then(|| {
        problem(
            "consumer.override.isolation.level",
            format!(
                "{level} is not allowed while the worker's {WORKER_KEY} is on: its readers read read_committed, so records of \
                 aborted transactions are never delivered. Remove the setting"
            ),
        )
    })
}

/// KIP-618's `transactional.id` of a source task: `<group.id>-<connector>-<task>`.
pub fn transactional_id(group: &str, connector: &str, task: u32) -> String {
    format!("{group}-{connector}-{task}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_worker_setting_is_one_of_three_and_needs_read_committed_readers() {
        assert_eq!(WorkerSupport::from_worker_config(&map(&[])), Ok(WorkerSupport::Disabled));
        assert_eq!(WorkerSupport::from_worker_config(&map(&[(WORKER_KEY, "Enabled")])), Ok(WorkerSupport::Enabled));
        assert_eq!(WorkerSupport::from_worker_config(&map(&[(WORKER_KEY, "preparing")])), Ok(WorkerSupport::Preparing));
        let bad = WorkerSupport::from_worker_config(&map(&[(WORKER_KEY, "on")])).unwrap_err();
        assert_eq!(bad, "the worker's exactly.once.source.support must be disabled, preparing or enabled, not \"on\"");
        let contradiction = map(&[(WORKER_KEY, "enabled"), ("consumer.isolation.level", "read_uncommitted")]);
        assert!(WorkerSupport::from_worker_config(&contradiction).unwrap_err().contains("set it to read_committed"));
        let at_least_once = map(&[("consumer.isolation.level", "read_uncommitted")]);
        assert_eq!(WorkerSupport::from_worker_config(&at_least_once), Ok(WorkerSupport::Disabled));
        assert!(!WorkerSupport::Disabled.read_committed() && WorkerSupport::Preparing.read_committed());
    }

    #[test]
    fn boundaries_default_to_poll_and_intervals_to_the_offset_flush_interval() {
        let worker = map(&[("offset.flush.interval.ms", "250")]);
        assert_eq!(Boundary::from_config(&map(&[]), &worker), Ok(Boundary::Poll));
        let interval = map(&[(BOUNDARY_KEY, "interval")]);
        assert_eq!(Boundary::from_config(&interval, &worker), Ok(Boundary::Interval(Duration::from_millis(250))));
        assert_eq!(Boundary::from_config(&interval, &map(&[])), Ok(Boundary::Interval(Duration::from_secs(60))));
        let own = map(&[(BOUNDARY_KEY, "interval"), (INTERVAL_KEY, "1000")]);
        assert_eq!(Boundary::from_config(&own, &worker), Ok(Boundary::Interval(Duration::from_secs(1))));
        let (key, message) = Boundary::from_config(&map(&[(BOUNDARY_KEY, "interval"), (INTERVAL_KEY, "0")]), &worker).unwrap_err();
        assert_eq!((key, message.as_str()), (INTERVAL_KEY, "transaction.boundary.interval.ms must be a number of milliseconds from 1 to 840000, not \"0\""));
        let (key, message) = Boundary::from_config(&map(&[(BOUNDARY_KEY, "connector")]), &worker).unwrap_err();
        assert_eq!(key, BOUNDARY_KEY);
        assert!(message.contains("no way for a connector to define its own transactions"), "{message}");
        let (_, message) = Boundary::from_config(&map(&[(BOUNDARY_KEY, "batch")]), &worker).unwrap_err();
        assert_eq!(message, "must be poll, interval or connector, not \"batch\"");
    }

    #[test]
    fn required_exactly_once_needs_an_enabled_worker() {
        let required = map(&[(SUPPORT_KEY, "required")]);
        assert!(validate(&required, &map(&[]), WorkerSupport::Enabled).is_empty());
        for support in [WorkerSupport::Disabled, WorkerSupport::Preparing] {
            let problems = validate(&required, &map(&[]), support);
            assert_eq!(problems.len(), 1);
            assert_eq!(problems[0].key, SUPPORT_KEY);
            assert!(problems[0].message.contains("set exactly.once.source.support=enabled on every worker"), "{}", problems[0].message);
        }
        assert!(validate(&map(&[(SUPPORT_KEY, "requested")]), &map(&[]), WorkerSupport::Disabled).is_empty());
        let wrong = validate(&map(&[(SUPPORT_KEY, "always")]), &map(&[]), WorkerSupport::Enabled);
        assert_eq!(wrong[0].message, "must be requested or required, not \"always\"");
    }

    #[test]
    fn a_connector_offsets_topic_and_uncommitted_reads_are_refused() {
        let own_topic = validate(&map(&[("offsets.storage.topic", "my-offsets")]), &map(&[]), WorkerSupport::Enabled);
        assert_eq!(own_topic[0].key, "offsets.storage.topic");
        assert!(own_topic[0].message.contains("not supported"));
        let uncommitted = map(&[("consumer.override.isolation.level", "read_uncommitted")]);
        assert_eq!(validate_isolation(&uncommitted, WorkerSupport::Preparing).unwrap().key, "consumer.override.isolation.level");
        assert!(validate_isolation(&uncommitted, WorkerSupport::Disabled).is_none());
        assert!(validate_isolation(&map(&[("consumer.override.isolation.level", "read_committed")]), WorkerSupport::Enabled).is_none());
    }

    #[test]
    fn the_transactional_id_is_kip_618s() {
        assert_eq!(transactional_id("connect-cluster", "my-source", 2), "connect-cluster-my-source-2");
    }
}
