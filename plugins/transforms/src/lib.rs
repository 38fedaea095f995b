//! Kafka Connect's built-in single message transforms and predicates
//! (`org.apache.kafka.connect.transforms.*`), over the SDK's data model.
//!
//! Each class takes the configuration keys, defaults and semantics of Apache Kafka 3.x/4.x;
//! the README lists them, `manifest.rs` declares them for the host, and the few
//! deliberate differences are documented where they are made.

mod config;
mod field_path;
mod fields;
mod java;
pub mod manifest;
mod predicates;
mod record;
mod transforms;

#[cfg(test)]
mod manifest_tests;
#[cfg(test)]
mod testing;

use wasmconnect_sdk::{Config, ConnectorError, Predicate, Transform};

use crate::config::Keys;

wasmconnect_sdk::transform_plugin!(transform, predicate, manifest::manifest);

/// The transform of canonical class name `class` (e.g.
/// `org.apache.kafka.connect.transforms.InsertField$Value`), configured by its own keys with
/// the `transforms.NAME.` prefix stripped.
pub fn transform(class: &str, config: &Config) -> Result<Box<dyn Transform>, ConnectorError> {
    let (_, make) = transforms::CLASSES
        .iter()
        .find(|(name, _)| *name == class)
        .ok_or_else(|| ConnectorError::Config(format!("unknown transform class {class}")))?;
    make(&Keys::new(class, config))
}

/// The predicate of canonical class name `class` (e.g.
/// `org.apache.kafka.connect.transforms.predicates.TopicNameMatches`), configured by its own
/// keys with the `predicates.NAME.` prefix stripped. The host applies `negate` itself.
pub fn predicate(class: &str, config: &Config) -> Result<Box<dyn Predicate>, ConnectorError> {
    let (_, make) = predicates::CLASSES
        .iter()
        .find(|(name, _)| *name == class)
        .ok_or_else(|| ConnectorError::Config(format!("unknown predicate class {class}")))?;
    make(&Keys::new(class, config))
}
