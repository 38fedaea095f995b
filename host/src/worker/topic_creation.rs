//! Topic creation for sources (KIP-158): with `topic.creation.default.replication.factor`
//! and `topic.creation.default.partitions` set, a source creates the topics it writes to,
//! with the settings of the first group in `topic.creation.groups` whose `include` patterns
//! match the topic (and whose `exclude` patterns do not), else the `default` group's. Any
//! other `topic.creation.<group>.<key>` is a topic setting (`cleanup.policy`,
//! `compression.type`, ...).

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;

use regex::Regex;
use wasmconnect_log::{LogError, TopicLog};

const PREFIX: &str = "topic.creation.";

#[derive(Debug)]
struct Group {
    include: Vec<Regex>,
    exclude: Vec<Regex>,
    partitions: Option<i32>,
    replication_factor: Option<i32>,
    settings: BTreeMap<String, String>,
}

/// How this connector's new topics are made.
#[derive(Debug)]
pub struct TopicCreation {
    /// In `topic.creation.groups` order.
    groups: Vec<Group>,
    default: Group,
    default_partitions: i32,
    default_replication_factor: i32,
}

impl TopicCreation {
    /// The connector's rules; `None` when it does not ask for topic creation. An error names
    /// the key that is wrong.
    pub fn from_config(config: &BTreeMap<String, String>) -> Result<Option<TopicCreation>, (String, String)> {
        let default = group(config, "default")?;
        let (Some(default_partitions), Some(default_replication_factor)) = (default.partitions, default.replication_factor) else {
            if config.keys().any(|k| k.starts_with(PREFIX)) && (default.partitions.is_some() || default.replication_factor.is_some()) {
                return Err((
                    format!("{PREFIX}default.partitions"),
                    "topic creation needs both topic.creation.default.partitions and topic.creation.default.replication.factor".into(),
                ));
            }
            return Ok(None);
        };
        let names = config.get(&format!("{PREFIX}groups")).map(String::as_str).unwrap_or("");
        let groups = names.split(',').map(str::trim).filter(|n| !n.is_empty()).map(|name| group(config, name)).collect::<Result<_, _>>()?;
        Ok(Some(TopicCreation { groups, default, default_partitions, default_replication_factor }))
    }

    /// Partitions, replication factor and topic settings for `topic`.
    fn rules_for(&self, topic: &str) -> (i32, i32, BTreeMap<String, String>) {
        let matched = self.groups.iter().find(|g| g.include.iter().any(|r| r.is_match(topic)) && !g.exclude.iter().any(|r| r.is_match(topic)));
        let mut settings = self.default.settings.clone();
        let (mut partitions, mut replication_factor) = (self.default_partitions, self.default_replication_factor);
        if let Some(group) = matched {
            settings.extend(group.settings.clone());
            partitions = group.partitions.unwrap_or(partitions);
            replication_factor = group.replication_factor.unwrap_or(replication_factor);
        }
        (partitions, replication_factor, settings)
    }
}

fn group(config: &BTreeMap<String, String>, name: &str) -> Result<Group, (String, String)> {
    let prefix = format!("{PREFIX}{name}.");
    let mut group = Group { include: Vec::new(), exclude: Vec::new(), partitions: None, replication_factor: None, settings: BTreeMap::new() };
    for (key, value) in config.iter().filter(|(k, _)| k.starts_with(&prefix)) {
        let setting = &key[prefix.len()..];
        let number = || -> Result<i32, (String, String)> {
            value.trim().parse().map_err(|_| (key.clone(), format!("must be a whole number (-1 for the broker's default), not {value:?}")))
        };
        match setting {
            "include" | "exclude" => {
                let patterns = value
                    .split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(|p| Regex::new(&format!("^(?:{p})$")).map_err(|e| (key.clone(), format!("{p:?} is not a regular expression: {e}"))))
                    .collect::<Result<Vec<_>, _>>()?;
                if setting == "include" { group.include = patterns } else { group.exclude = patterns }
            }
            "partitions" => group.partitions = Some(number()?),
            "replication.factor" => group.replication_factor = Some(number()?),
            _ => {
                group.settings.insert(setting.to_owned(), value.clone());
            }
        }
    }
    Ok(group)
}

/// Creates a source task's topics by its rules the first time it writes to each.
pub struct TopicCreator {
    rules: TopicCreation,
    seen: Mutex<HashSet<String>>,
}

impl TopicCreator {
    pub fn new(rules: TopicCreation) -> TopicCreator {
        TopicCreator { rules, seen: Mutex::new(HashSet::new()) }
    }

    pub fn ensure<'a>(&self, log: &dyn TopicLog, topics: impl IntoIterator<Item = &'a str>) -> Result<(), LogError> {
        for topic in topics {
            if self.seen.lock().unwrap().contains(topic) {
                continue;
            }
            if log.partitions(topic).is_none() {
                let (partitions, replication_factor, settings) = self.rules.rules_for(topic);
                if log.create_topic_with_settings(topic, partitions, replication_factor, &settings)? {
                    tracing::info!(topic, partitions, replication_factor, ?settings, "created topic (topic.creation.*)");
                }
            }
            self.seen.lock().unwrap().insert(topic.to_owned());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_first_matching_group_wins_over_the_default() {
        let rules = TopicCreation::from_config(&config(&[
            ("topic.creation.default.partitions", "3"),
            ("topic.creation.default.replication.factor", "-1"),
            ("topic.creation.default.compression.type", "lz4"),
            ("topic.creation.groups", "compacted, big"),
            ("topic.creation.compacted.include", "status_.*, .*_state"),
            ("topic.creation.compacted.exclude", "status_tmp"),
            ("topic.creation.compacted.cleanup.policy", "compact"),
            ("topic.creation.big.include", ".*"),
            ("topic.creation.big.partitions", "12"),
        ]))
        .unwrap()
        .unwrap();
        let (partitions, rf, settings) = rules.rules_for("status_users");
        assert_eq!((partitions, rf), (3, -1));
        assert_eq!(settings["cleanup.policy"], "compact");
        assert_eq!(settings["compression.type"], "lz4", "default settings carry over");
        assert_eq!(rules.rules_for("status_tmp").0, 12, "excluded from the first group, so the next one matches");
        assert_eq!(rules.rules_for("orders").0, 12);
        assert!(!rules.rules_for("orders").2.contains_key("cleanup.policy"));
    }

    #[test]
    fn without_the_default_settings_nothing_is_created_and_mistakes_name_their_key() {
        assert!(TopicCreation::from_config(&config(&[("topic.prefix", "x")])).unwrap().is_none());
        let half = TopicCreation::from_config(&config(&[("topic.creation.default.partitions", "3")])).unwrap_err();
        assert!(half.1.contains("replication.factor"), "{half:?}");
        let bad = TopicCreation::from_config(&config(&[
            ("topic.creation.default.partitions", "three"),
            ("topic.creation.default.replication.factor", "1"),
        ]))
        .unwrap_err();
        assert_eq!(bad.0, "topic.creation.default.partitions");
        let regex = TopicCreation::from_config(&config(&[
            ("topic.creation.default.partitions", "1"),
            ("topic.creation.default.replication.factor", "1"),
            ("topic.creation.groups", "g"),
            ("topic.creation.g.include", "(unclosed"),
        ]))
        .unwrap_err();
        assert_eq!(regex.0, "topic.creation.g.include");
    }
}
