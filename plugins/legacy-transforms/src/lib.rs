//! A transforms component as every one built before `packed-transform` existed: it exports
//! the `transform` interface only. Its one class, `wasmconnect.testing.SetTopic`, sends each
//! record to the configured topic; the tests use it to check that the host falls back to
//! `transform.apply` for such components. It is built against the frozen contract
//! `wit/history/1.1.0`, so it is also the tests' plugin of an older minor than the host's.

// Only a component exports; natively (as `cargo test` builds every crate) there is nothing.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;

wit_bindgen::generate!({
    path: "../../wit/history/1.1.0",
    inline: "
        package wasmconnect:legacy-test;

        /// The `transforms` world without `packed-transform` (and without `plugin`, so its
        /// manifest is `legacy-transforms.toml`), as components built before those were.
        world transforms-before-packed {
            include wasmconnect:connector/host@1.1.0;
            export wasmconnect:connector/transform@1.1.0;
        }
    ",
    world: "transforms-before-packed",
    generate_all,
});

use exports::wasmconnect::connector::transform::{Guest, Step, Transformed};
// Its own types, of 1.1.0, not the SDK's: the component uses nothing of a newer contract.
use wasmconnect::connector::types::{Config, ConnectorError, RecordBatch};

thread_local! {
    /// The topic of each configured SetTopic, by handle.
    static TOPICS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

struct LegacyTransforms;

impl Guest for LegacyTransforms {
    fn configure_transform(class: String, config: Config) -> Result<u32, ConnectorError> {
        if class != "wasmconnect.testing.SetTopic" {
            return Err(ConnectorError::Config(format!("unknown transform class {class}")));
        }
        let topic = config.into_iter().find(|(k, _)| k == "topic").map(|(_, v)| v);
        let topic = topic.ok_or_else(|| ConnectorError::Config("\"topic\" is missing: where the records go".into()))?;
        TOPICS.with_borrow_mut(|t| {
            t.push(topic);
            Ok(t.len() as u32 - 1)
        })
    }

    fn configure_predicate(class: String, _: Config) -> Result<u32, ConnectorError> {
        Err(ConnectorError::Config(format!("unknown predicate class {class}: this plugin has none")))
    }

    fn apply(steps: Vec<Step>, mut batch: RecordBatch) -> Result<Transformed, ConnectorError> {
        TOPICS.with_borrow(|topics| {
            for step in &steps {
                let topic = topics.get(step.transform as usize).ok_or_else(|| ConnectorError::Fatal(format!("no transform {}", step.transform)))?;
                for record in &mut batch.records {
                    record.topic.clone_from(topic);
                }
            }
            Ok::<_, ConnectorError>(())
        })?;
        let origins = (0..batch.records.len() as u32).collect();
        Ok(Transformed { batch, origins, failures: Vec::new() })
    }
}

export!(LegacyTransforms);
