//! Checks a connector config against its plugin's manifest before anything is started,
//! so a mistake is reported at `POST /connectors` with every problem at once.

use crate::runtime::registry::{ConfigKey, ConfigType};
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
                if let Some(message) = type_mismatch(key.kind, value).or_else(|| not_allowed(key, value)) {
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
    if let Err(message) = retry::delay_max(config) {
        problems.push(problem(retry::DELAY_MAX_KEY, message));
    }
    problems.extend(crate::worker::dead_letter::validate(config));
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

/// A value of the right type that the key's validators refuse: not one of its valid values,
/// or out of its range.
fn not_allowed(key: &ConfigKey, value: &str) -> Option<String> {
    if !key.valid_values.is_empty() {
        let valid = |v: &str| key.valid_values.iter().any(|allowed| allowed.eq_ignore_ascii_case(v.trim()));
        let all_valid = match key.kind {
            ConfigType::List => value.split(',').filter(|item| !item.trim().is_empty()).all(valid),
            _ => valid(value),
        };
        if !all_valid {
            let each = if key.kind == ConfigType::List { "each item " } else { "" };
            return Some(format!("invalid value {value:?}: {each}must be one of {}", key.valid_values.join(", ")));
        }
    }
    let number: f64 = match key.kind {
        ConfigType::Int | ConfigType::Long | ConfigType::Double => value.trim().parse().ok()?,
        _ => return None,
    };
    match (key.min, key.max) {
        (Some(min), Some(max)) if !(min..=max).contains(&number) => Some(format!("invalid value {value:?}: must be between {min} and {max}")),
        (Some(min), None) if number < min => Some(format!("invalid value {value:?}: must be at least {min}")),
        (None, Some(max)) if number > max => Some(format!("invalid value {value:?}: must be at most {max}")),
        _ => None,
    }
}

pub fn problem(key: &str, message: String) -> ConfigProblem {
    ConfigProblem { key: key.to_owned(), message }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kind: ConfigType, valid: &[&str], min: Option<f64>, max: Option<f64>) -> ConfigKey {
        let manifest = format!("name = \"k\"\ntype = \"{}\"", kind.as_str().to_lowercase());
        let mut key: ConfigKey = toml::from_str(&manifest).unwrap();
        key.valid_values = valid.iter().map(|v| v.to_string()).collect();
        (key.min, key.max) = (min, max);
        key
    }

    #[test]
    fn valid_values_are_matched_without_case_and_per_list_item() {
        let mode = key(ConfigType::String, &["bulk", "incrementing"], None, None);
        assert_eq!(not_allowed(&mode, "Incrementing"), None);
        assert_eq!(not_allowed(&mode, "increment").as_deref(), Some("invalid value \"increment\": must be one of bulk, incrementing"));
        let types = key(ConfigType::List, &["TABLE", "VIEW"], None, None);
        assert_eq!(not_allowed(&types, "TABLE, view"), None);
        assert!(not_allowed(&types, "TABLE,SYNONYM").unwrap().contains("each item must be one of TABLE, VIEW"));
    }

    #[test]
    fn numbers_are_held_to_their_range() {
        let backoff = key(ConfigType::Int, &[], Some(0.0), Some(30000.0));
        assert_eq!(not_allowed(&backoff, "30000"), None);
        assert_eq!(not_allowed(&backoff, "30001").as_deref(), Some("invalid value \"30001\": must be between 0 and 30000"));
        let rows = key(ConfigType::Int, &[], Some(1.0), None);
        assert_eq!(not_allowed(&rows, "0").as_deref(), Some("invalid value \"0\": must be at least 1"));
        assert_eq!(not_allowed(&rows, "many"), None, "a type mismatch is reported by type_mismatch");
    }
}
