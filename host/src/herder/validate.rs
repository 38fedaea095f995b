//! Checks a connector config against its plugin's manifest before anything is started,
//! so a mistake is reported at `POST /connectors` with every problem at once.

use crate::runtime::registry::ConfigType;
use crate::runtime::{Plugin, PluginRegistry};
use crate::worker::{ChainSpec, retry};

use super::config_store::Config;

/// One problem with one key.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigProblem {
    pub key: String,
    pub message: String,
}

/// The connector's own keys against its manifest, and its transforms and predicates against
/// theirs.
pub fn validate(registry: &PluginRegistry, plugin: &Plugin, config: &Config) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    if let Some(max) = config.get("tasks.max")
        && max.trim().parse::<u32>().map_or(true, |n| n == 0)
    {
        problems.push(problem("tasks.max", format!("must be a whole number of at least 1, not {max:?}")));
    }
    for key in &plugin.manifest.config {
        match config.get(&key.name) {
            None if key.required && key.default.is_none() => problems.push(problem(
                &key.name,
                format!("missing required configuration \"{}\", which has no default value", key.name),
            )),
            Some(value) => {
                if let Some(message) = type_mismatch(key.kind, value) {
                    problems.push(problem(&key.name, message));
                }
            }
            None => {}
        }
    }
    if let Err(message) = crate::worker::source::batch_cap(config) {
        problems.push(problem(crate::worker::source::BATCH_KEY, message));
    }
    if let Err((key, message)) = crate::worker::topic_creation::TopicCreation::from_config(config) {
        problems.push(problem(&key, message));
    }
    if let Err(message) = retry::timeout(config) {
        problems.push(problem(retry::TIMEOUT_KEY, message));
    }
    problems.extend(ChainSpec::parse(config, registry).err().unwrap_or_default());
    problems
}

pub fn type_mismatch(kind: ConfigType, value: &str) -> Option<String> {
    let v = value.trim();
    let ok = match kind {
        ConfigType::Int => v.parse::<i32>().is_ok(),
        ConfigType::Long => v.parse::<i64>().is_ok(),
        ConfigType::Double => v.parse::<f64>().is_ok(),
        ConfigType::Boolean => v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("false"),
        ConfigType::String | ConfigType::List | ConfigType::Password | ConfigType::Class => true,
    };
    (!ok).then(|| format!("invalid value {value:?}: expected type {}", kind.as_str()))
}

pub fn problem(key: &str, message: String) -> ConfigProblem {
    ConfigProblem { key: key.to_owned(), message }
}
