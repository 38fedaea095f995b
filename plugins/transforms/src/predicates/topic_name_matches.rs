//! TopicNameMatches: true for records whose whole topic name matches a Java regex.

use wasmconnect_sdk::{ConnectRecord, ConnectorError, Predicate};

use crate::config::Keys;
use crate::java::regex::WholeMatch;

pub struct TopicNameMatches {
    pattern: WholeMatch,
}

impl TopicNameMatches {
    pub fn new(keys: &Keys) -> Result<TopicNameMatches, ConnectorError> {
        let pattern = keys.required_non_empty("pattern", "a regular expression the whole topic name must match")?;
        Ok(TopicNameMatches { pattern: WholeMatch::new(pattern).map_err(|problem| keys.error("pattern", problem))? })
    }
}

impl Predicate for TopicNameMatches {
    fn test(&mut self, record: &ConnectRecord) -> Result<bool, String> {
        Ok(self.pattern.matches(&record.topic))
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;

    fn matches(pattern: &str, topic: &str) -> bool {
        let mut r = value_record(None);
        r.topic = topic.into();
        predicate("TopicNameMatches", &[("pattern", pattern)]).test(&r).unwrap()
    }

    #[test]
    fn the_whole_topic_must_match() {
        assert!(matches("my-prefix-.*", "my-prefix-foo"));
        assert!(!matches("my-prefix-.*", "your-prefix-foo"));
        assert!(!matches("foo", "foobar"));
        assert!(matches("foo|foobar", "foobar"));
        // negate=true: the host inverts, keeping topics that do not match.
        assert!(!matches("my-prefix-.*", "other"));
    }

    #[test]
    fn pattern_must_be_a_valid_non_empty_regex() {
        assert!(predicate_error("TopicNameMatches", &[]).contains("\"pattern\" is missing"));
        assert!(predicate_error("TopicNameMatches", &[("pattern", "")]).contains("\"pattern\" is empty"));
        assert!(
            predicate_error("TopicNameMatches", &[("pattern", "[")]).contains("\"pattern\" is not a valid regular expression")
        );
    }
}
