//! Log levels changed at run time (`/admin/loggers`), as Kafka Connect allows: a logger is a
//! tracing target such as `wasmconnect::worker`, and `root` is the default level.

use std::collections::BTreeMap;
use std::sync::Mutex;

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{EnvFilter, Layer, reload};

pub type FilterHandle = reload::Handle<EnvFilter, tracing_subscriber::Registry>;

pub const ROOT: &str = "root";
pub const LEVELS: [&str; 6] = ["OFF", "ERROR", "WARN", "INFO", "DEBUG", "TRACE"];

#[derive(Debug)]
pub struct LogLevels {
    handle: FilterHandle,
    /// Logger → level, `root` always present.
    levels: Mutex<BTreeMap<String, String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum LevelError {
    #[error("unknown log level {0:?}; use one of OFF, ERROR, WARN, INFO, DEBUG, TRACE")]
    UnknownLevel(String),
    #[error("logger names are tracing targets such as wasmconnect::worker, not {0:?}")]
    BadLogger(String),
    #[error("cannot change the log filter: {0}")]
    Reload(String),
}

impl LogLevels {
    /// A reloadable filter layer (to install) and the levels that drive it, starting from
    /// `initial` (a level, or RUST_LOG-style directives) as the root.
    pub fn new(initial: &str) -> (reload::Layer<EnvFilter, tracing_subscriber::Registry>, LogLevels) {
        let root = if LEVELS.contains(&initial.to_ascii_uppercase().as_str()) { initial.to_ascii_uppercase() } else { initial.to_owned() };
        let (layer, handle) = reload::Layer::new(EnvFilter::new(&root));
        let levels = Mutex::new(BTreeMap::from([(ROOT.to_owned(), root)]));
        (layer, LogLevels { handle, levels })
    }

    pub fn levels(&self) -> BTreeMap<String, String> {
        self.levels.lock().unwrap().clone()
    }

    /// Sets a logger's level; returns the loggers whose level changed, as Kafka Connect does.
    pub fn set(&self, logger: &str, level: &str) -> Result<Vec<String>, LevelError> {
        let level = level.trim().to_ascii_uppercase();
        if !LEVELS.contains(&level.as_str()) {
            return Err(LevelError::UnknownLevel(level));
        }
        check_name(logger)?;
        let mut levels = self.levels.lock().unwrap();
        levels.insert(logger.to_owned(), level);
        let directives: Vec<String> = levels
            .iter()
            .map(|(name, level)| if name == ROOT { level.clone() } else { format!("{name}={level}") })
            .collect();
        let filter = EnvFilter::try_new(directives.join(",")).map_err(|e| LevelError::Reload(e.to_string()))?;
        self.handle.reload(filter).map_err(|e| LevelError::Reload(e.to_string()))?;
        Ok(vec![logger.to_owned()])
    }
}

/// The binary's log lines, human ones or (`json`) one JSON object each, written to
/// `writer`. Task threads log inside a `task` span naming the connector and task, which
/// both formats write on every line (`task{connector=my-source task=0}`, or a `span`
/// object), like Kafka Connect's `[my-source|task-0]`.
pub fn output<S, W>(json: bool, writer: W, ansi: bool) -> Box<dyn Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    if json {
        tracing_subscriber::fmt::layer().json().with_writer(writer).boxed()
    } else {
        tracing_subscriber::fmt::layer().with_writer(writer).with_ansi(ansi).boxed()
    }
}

/// Logger names are module paths (`wasmconnect::worker`) or `root`; anything else cannot
/// become a filter directive.
pub fn check_name(logger: &str) -> Result<(), LevelError> {
    if logger.is_empty() || !logger.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '-' | '.')) {
        return Err(LevelError::BadLogger(logger.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_set_checked_and_listed() {
        let (_layer, levels) = LogLevels::new("info");
        assert_eq!(levels.set("wasmconnect::worker", "debug").unwrap(), vec!["wasmconnect::worker"]);
        assert_eq!(levels.levels().get("wasmconnect::worker").map(String::as_str), Some("DEBUG"));
        assert_eq!(levels.levels().get(ROOT).map(String::as_str), Some("INFO"));
        assert!(matches!(levels.set("x", "LOUD"), Err(LevelError::UnknownLevel(_))));
        assert!(matches!(levels.set("a b", "INFO"), Err(LevelError::BadLogger(_))));
    }
}
