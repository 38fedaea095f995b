//! Reading a transform's or predicate's keys with Kafka's defaults, and errors that name the
//! class, the key and what it should hold.

use wasmconnect_sdk::{Config, ConnectorError};

/// The configuration of one transform or predicate instance.
pub struct Keys<'a> {
    config: &'a Config,
    /// The class's simple name ("MaskField$Value"), which messages start with.
    owner: &'a str,
}

impl<'a> Keys<'a> {
    pub fn new(class: &'a str, config: &'a Config) -> Keys<'a> {
        Keys { config, owner: class.rsplit('.').next().unwrap_or(class) }
    }

    pub fn owner(&self) -> &'a str {
        self.owner
    }

    pub fn error(&self, key: &str, problem: impl std::fmt::Display) -> ConnectorError {
        ConnectorError::Config(format!("{}: \"{key}\" {problem}", self.owner))
    }

    /// A class-level error that is not about one key.
    pub fn invalid(&self, problem: impl std::fmt::Display) -> ConnectorError {
        ConnectorError::Config(format!("{}: {problem}", self.owner))
    }

    fn get(&self, key: &str) -> Option<&'a str> {
        #[cfg(test)]
        read_keys::record(self.owner, key);
        self.config.get(key)
    }

    /// A key without default; an empty value is a value (Kafka's `NO_DEFAULT_VALUE` string).
    pub fn required(&self, key: &str, expected: &str) -> Result<&'a str, ConnectorError> {
        self.get(key).ok_or_else(|| self.error(key, format_args!("is missing: set it to {expected}")))
    }

    /// A key without default that must not be blank.
    pub fn required_non_empty(&self, key: &str, expected: &str) -> Result<&'a str, ConnectorError> {
        match self.required(key, expected)? {
            v if v.trim().is_empty() => Err(self.error(key, format_args!("is empty: set it to {expected}"))),
            v => Ok(v),
        }
    }

    /// A string key whose default is null.
    pub fn optional(&self, key: &str) -> Option<&'a str> {
        self.get(key)
    }

    pub fn string_or(&self, key: &str, default: &'a str) -> &'a str {
        self.get(key).unwrap_or(default)
    }

    pub fn bool_or(&self, key: &str, default: bool) -> Result<bool, ConnectorError> {
        match self.get(key).map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if v == "true" => Ok(true),
            Some(v) if v == "false" => Ok(false),
            Some(v) => Err(self.error(key, format_args!("is {v:?}: set it to true or false"))),
        }
    }

    /// An `int` key whose default is null.
    pub fn optional_int(&self, key: &str) -> Result<Option<i32>, ConnectorError> {
        self.get(key)
            .map(|v| v.trim().parse().map_err(|_| self.error(key, format_args!("is {v:?}: set it to a whole number"))))
            .transpose()
    }

    /// A comma-separated list (items trimmed, empty items dropped); empty when unset.
    pub fn list(&self, key: &str) -> Vec<String> {
        self.get(key)
            .map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect())
            .unwrap_or_default()
    }

    /// A list without default that needs at least one item.
    pub fn non_empty_list(&self, key: &str, expected: &str) -> Result<Vec<String>, ConnectorError> {
        self.required(key, expected)?;
        let items = self.list(key);
        if items.is_empty() {
            return Err(self.error(key, format_args!("is empty: set it to {expected}")));
        }
        Ok(items)
    }

    /// One of `choices`, compared exactly as Kafka's `ValidString` does.
    pub fn choice(&self, key: &str, choices: &[&'a str], default: Option<&'a str>) -> Result<&'a str, ConnectorError> {
        let expected = format!("one of {}", choices.join(", "));
        let value = match default {
            Some(default) => self.string_or(key, default),
            None => self.required(key, &expected)?,
        };
        choices
            .iter()
            .find(|c| **c == value)
            .copied()
            .ok_or_else(|| self.error(key, format_args!("is {value:?}: set it to {expected}")))
    }
}

/// Which keys each class reads, so the manifest test can check they are all declared.
#[cfg(test)]
pub mod read_keys {
    use std::cell::RefCell;
    use std::collections::BTreeSet;

    thread_local! {
        static READ: RefCell<BTreeSet<(String, String)>> = const { RefCell::new(BTreeSet::new()) };
    }

    pub fn record(owner: &str, key: &str) {
        READ.with(|r| r.borrow_mut().insert((owner.to_owned(), key.to_owned())));
    }

    /// The keys read on this thread by classes of simple name `owner` so far.
    pub fn of(owner: &str) -> BTreeSet<String> {
        READ.with(|r| r.borrow().iter().filter(|(o, _)| o == owner).map(|(_, k)| k.clone()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::config;

    #[test]
    fn errors_name_class_key_and_expectation() {
        let c = config(&[("b", "maybe"), ("n", "x"), ("l", " , "), ("e", "")]);
        let keys = Keys::new("org.apache.kafka.connect.transforms.MaskField$Value", &c);
        let message = |e: ConnectorError| match e {
            ConnectorError::Config(m) => m,
            other => panic!("{other:?}"),
        };
        assert_eq!(message(keys.bool_or("b", true).unwrap_err()), "MaskField$Value: \"b\" is \"maybe\": set it to true or false");
        assert!(message(keys.optional_int("n").unwrap_err()).contains("whole number"));
        assert!(message(keys.non_empty_list("l", "field names").unwrap_err()).contains("\"l\" is empty"));
        assert!(message(keys.non_empty_list("missing", "field names").unwrap_err()).contains("\"missing\" is missing"));
        assert_eq!(keys.required("e", "a name").unwrap(), "");
        assert!(keys.required_non_empty("e", "a name").is_err());
        assert_eq!(keys.choice("c", &["copy", "move"], Some("move")).unwrap(), "move");
        assert!(message(keys.choice("c", &["copy", "move"], None).unwrap_err()).contains("one of copy, move"));
    }
}
