//! A transforms component as every one built before `packed-transform` existed: it exports
//! the `transform` interface only. Its one class, `wasmconnect.testing.SetTopic`, sends each
//! record to the configured topic; the tests use it to check that the host falls back to
//! `transform.apply` for such components. It is built against the frozen contract
//! `wit/history/1.1.0`, so it is also the tests' plugin of an older minor than the host's.

// Only a component exports; natively (as `cargo test` builds every crate) there is nothing.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;

use wasmconnect_sdk::wit::types::{Config, ConnectorError, RecordBatch};

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
    with: {
        "wasmconnect:connector/types@1.1.0": wasmconnect_sdk::wit::types,
        "wasmconnect:connector/log@1.1.0": wasmconnect_sdk::wit::log,
        "wasmconnect:connector/config@1.1.0": wasmconnect_sdk::wit::config,
        "wasmconnect:connector/offsets@1.1.0": wasmconnect_sdk::wit::offsets,
        "wasmconnect:connector/sql@1.1.0": wasmconnect_sdk::wit::sql,
        "wasmconnect:connector/progress@1.1.0": wasmconnect_sdk::wit::progress,
    },
});

use exports::wasmconnect::connector::transform::{Guest, Step, Transformed};

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

    fn apply(steps: Vec<Step>, batch: RecordBatch) -> Result<Transformed, ConnectorError> {
        let mut records = wasmconnect_sdk::__wire::decode_record_batch(batch)?;
        TOPICS.with_borrow(|topics| {
            for step in &steps {
                let topic = topics.get(step.transform as usize).ok_or_else(|| ConnectorError::Fatal(format!("no transform {}", step.transform)))?;
                for record in &mut records {
                    record.topic.clone_from(topic);
                }
            }
            Ok::<_, ConnectorError>(())
        })?;
        let origins = (0..records.len() as u32).collect();
        Ok(Transformed { batch: wasmconnect_sdk::__wire::encode_record_batch(records), origins, failures: Vec::new() })
    }
}

export!(LegacyTransforms);
