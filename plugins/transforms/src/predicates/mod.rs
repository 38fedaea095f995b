//! The predicates, one per file, and the class names they answer to. The host applies
//! `negate` to their results.

mod has_header_key;
mod record_is_tombstone;
mod topic_name_matches;

use wasmconnect_sdk::{ConnectorError, Predicate};

use crate::config::Keys;

type Make = fn(&Keys) -> Result<Box<dyn Predicate>, ConnectorError>;

/// Every predicate class this plugin provides, with its constructor.
pub const CLASSES: &[(&str, Make)] = &[
    ("org.apache.kafka.connect.transforms.predicates.HasHeaderKey", |k| Ok(Box::new(has_header_key::HasHeaderKey::new(k)?))),
    ("org.apache.kafka.connect.transforms.predicates.RecordIsTombstone", |_| {
        Ok(Box::new(record_is_tombstone::RecordIsTombstone))
    }),
    ("org.apache.kafka.connect.transforms.predicates.TopicNameMatches", |k| {
        Ok(Box::new(topic_name_matches::TopicNameMatches::new(k)?))
    }),
];
