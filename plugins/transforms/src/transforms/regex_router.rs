//! RegexRouter: renames topics that match a regular expression, Java `replaceFirst` style.

use wasmconnect_sdk::{ConnectRecord, ConnectorError, Transform};

use crate::config::Keys;
use crate::java::regex::{Replacement, WholeMatch};

pub struct RegexRouter {
    regex: WholeMatch,
    replacement: Replacement,
}

impl RegexRouter {
    pub fn new(keys: &Keys) -> Result<RegexRouter, ConnectorError> {
        let pattern = keys.required("regex", "a regular expression the whole topic name must match")?;
        let regex = WholeMatch::new(pattern).map_err(|problem| keys.error("regex", problem))?;
        let replacement = keys.required("replacement", "the new topic name, with $1… for the regex's groups")?;
        let replacement = regex.replacement(replacement).map_err(|problem| keys.error("replacement", problem))?;
        Ok(RegexRouter { regex, replacement })
    }
}

impl Transform for RegexRouter {
    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>, String> {
        if self.regex.matches(&record.topic) {
            record.topic = self.regex.replace_first(&record.topic, &self.replacement);
        }
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;

    fn routed(regex: &str, replacement: &str, topic: &str) -> String {
        let mut t = transform("RegexRouter", &[("regex", regex), ("replacement", replacement)]);
        let mut r = value_record(None);
        r.topic = topic.into();
        apply(&mut t, r).topic
    }

    #[test]
    fn kafka_examples() {
        assert_eq!(routed("foo", "bar", "foo"), "bar");
        assert_eq!(routed("foo", "bar", "orig"), "orig");
        assert_eq!(routed("(.*)", "$1", "orig"), "orig");
        assert_eq!(routed("(.*)", "prefix-$1", "orig"), "prefix-orig");
        assert_eq!(routed("(.*)", "$1-suffix", "orig"), "orig-suffix");
        assert_eq!(routed("(.*)-(\\d\\d\\d\\d\\d\\d\\d\\d)", "$1", "index-20160117"), "index");
    }

    #[test]
    fn documentation_example_drops_a_prefix() {
        assert_eq!(routed("([^.]+)\\.([^.]+)\\.([^.]+)", "$3", "dbserver1.inventory.customers"), "customers");
        // Only whole-name matches are renamed.
        assert_eq!(routed("inventory", "x", "dbserver1.inventory.customers"), "dbserver1.inventory.customers");
    }

    #[test]
    fn errors() {
        assert!(transform_error("RegexRouter", &[("replacement", "x")]).contains("\"regex\" is missing"));
        assert!(transform_error("RegexRouter", &[("regex", "(.*")]).contains("\"regex\" is not a valid regular expression"));
        assert!(transform_error("RegexRouter", &[("regex", "(.*)")]).contains("\"replacement\" is missing"));
        assert!(
            transform_error("RegexRouter", &[("regex", "(.*)"), ("replacement", "$2")])
                .contains("\"replacement\" refers to group $2")
        );
    }
}
