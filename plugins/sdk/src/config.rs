//! The task's configuration, with typed getters whose errors name the key.

use std::collections::BTreeMap;

use crate::ConnectorError;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Config {
    values: BTreeMap<String, String>,
}

impl Config {
    /// The configuration the host gives this connector or task.
    pub fn load() -> Config {
        Config::from_pairs(crate::wit::config::all())
    }

    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Config {
        Config { values: pairs.into_iter().collect() }
    }

    pub fn to_pairs(&self) -> Vec<(String, String)> {
        self.values.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.values.insert(key.into(), value.into());
    }

    pub fn required(&self, key: &str) -> Result<&str, ConnectorError> {
        self.get(key)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| ConnectorError::Config(format!("missing required configuration \"{key}\"")))
    }

    pub fn string_or<'a>(&'a self, key: &str, default: &'a str) -> &'a str {
        self.get(key).unwrap_or(default)
    }

    pub fn int_or(&self, key: &str, default: i64) -> Result<i64, ConnectorError> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v.trim().parse().map_err(|_| invalid(key, v, "a whole number")),
        }
    }

    pub fn bool_or(&self, key: &str, default: bool) -> Result<bool, ConnectorError> {
        match self.get(key).map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if v == "true" => Ok(true),
            Some(v) if v == "false" => Ok(false),
            Some(v) => Err(invalid(key, &v, "true or false")),
        }
    }

    /// A comma-separated list, trimmed, without empty items.
    pub fn list(&self, key: &str) -> Vec<String> {
        self.get(key)
            .map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect())
            .unwrap_or_default()
    }
}

fn invalid(key: &str, value: &str, expected: &str) -> ConnectorError {
    ConnectorError::Config(format!("invalid value {value:?} for \"{key}\": expected {expected}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_getters_name_the_key_in_errors() {
        let c = Config::from_pairs([
            ("n".to_owned(), "12".to_owned()),
            ("b".to_owned(), "TRUE".to_owned()),
            ("l".to_owned(), " a, ,b ".to_owned()),
            ("bad".to_owned(), "x".to_owned()),
        ]);
        assert_eq!(c.int_or("n", 0).unwrap(), 12);
        assert_eq!(c.int_or("missing", 7).unwrap(), 7);
        assert!(c.bool_or("b", false).unwrap());
        assert_eq!(c.list("l"), vec!["a", "b"]);
        let err = c.int_or("bad", 0).unwrap_err();
        assert!(matches!(&err, ConnectorError::Config(m) if m.contains("\"bad\"")), "{err:?}");
        assert!(matches!(c.required("missing"), Err(ConnectorError::Config(m)) if m.contains("missing")));
    }
}
