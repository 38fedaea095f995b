//! A source built against the frozen contract `wit/history/1.0.0` with wit-bindgen alone (no
//! SDK), as a plugin compiled before contract 1.1.0 would be. The tests load it into the
//! current host to show that plugins of older minor versions keep working. Each poll makes
//! one record, the text `tick N`, and resumes after the last committed N.

wit_bindgen::generate!({
    path: "../../wit/history/1.0.0",
    world: "wasmconnect:connector/source@1.0.0",
});

use exports::wasmconnect::connector::{connector, source_task};
use wasmconnect::connector::types::{ConnectorError, Data, Schema, SchemaType, SourceBatch, SourceRecord, ValueNode};
use wasmconnect::connector::{config, offsets};

struct CompatSource;

const PARTITION: &str = r#"{"ticks":"compat"}"#;

thread_local! {
    static NEXT: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

impl connector::Guest for CompatSource {
    fn task_configs(_max_tasks: u32) -> Result<Vec<Vec<(String, String)>>, ConnectorError> {
        Ok(vec![config::all()])
    }

    fn reconfigure_interval_ms() -> Option<u32> {
        None
    }
}

impl source_task::Guest for CompatSource {
    fn start() -> Result<(), ConnectorError> {
        // The committed offset is {"n":N}; a hand-rolled read keeps the plugin free of serde.
        let committed = offsets::get(&[PARTITION.to_owned()]).pop().flatten();
        let last = committed.and_then(|o| o.trim_start_matches("{\"n\":").trim_end_matches('}').parse::<u64>().ok());
        NEXT.set(last.map_or(0, |n| n + 1));
        config::get("topic").map(drop).ok_or_else(|| ConnectorError::Config("missing required configuration \"topic\"".into()))
    }

    fn poll() -> Result<SourceBatch, ConnectorError> {
        let n = NEXT.get();
        NEXT.set(n + 1);
        let text = Schema {
            type_: SchemaType::String,
            optional: false,
            name: None,
            version: None,
            doc: None,
            parameters: Vec::new(),
            default_json: None,
            fields: Vec::new(),
            key_schema: None,
            value_schema: None,
        };
        let record = SourceRecord {
            source_partition: PARTITION.to_owned(),
            source_offset: format!("{{\"n\":{n}}}"),
            topic: config::get("topic").unwrap_or_default(),
            kafka_partition: None,
            key: None,
            value: Some(Data { schema: Some(0), nodes: vec![ValueNode::String(format!("tick {n}"))] }),
            timestamp: None,
            headers: Vec::new(),
        };
        Ok(SourceBatch { schemas: vec![text], records: vec![record], wait_ms: 100 })
    }

    fn stop() {}
}

export!(CompatSource);
