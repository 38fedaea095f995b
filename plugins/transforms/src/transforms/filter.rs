//! Filter: drops every record it sees; with a predicate it drops the records that match.

use wasmconnect_sdk::{ConnectRecord, Transform};

pub struct Filter;

impl Transform for Filter {
    fn apply(&mut self, _record: ConnectRecord) -> Result<Option<ConnectRecord>, String> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;

    #[test]
    fn drops_every_record() {
        let mut t = transform("Filter", &[]);
        assert_eq!(t.apply(value_record(None)), Ok(None));
        assert_eq!(t.apply(record(schemaless(string("k")), schemaless(string("v")))), Ok(None));
    }

    /// Kafka's documentation example: `transforms.Filter.predicate=IsFoo` with
    /// `predicates.IsFoo.type=...TopicNameMatches`, `pattern=foo`; the host runs the
    /// transform only where the predicate (negated with `negate=true`) holds.
    #[test]
    fn documentation_example_with_a_predicate() {
        let mut filter = transform("Filter", &[]);
        let mut is_foo = predicate("TopicNameMatches", &[("pattern", "foo")]);
        let mut chain = |topic: &str, negate: bool| {
            let mut r = value_record(None);
            r.topic = topic.into();
            if is_foo.test(&r).unwrap() != negate { filter.apply(r).unwrap() } else { Some(r) }
        };
        assert_eq!(chain("foo", false), None);
        assert_eq!(chain("bar", false).map(|r| r.topic), Some("bar".into()));
        assert_eq!(chain("foo", true).map(|r| r.topic), Some("foo".into()));
        assert_eq!(chain("bar", true), None);
    }
}
