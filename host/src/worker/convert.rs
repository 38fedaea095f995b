//! The key and value converters of a connector: its own `key.converter`/`value.converter`
//! settings, falling back to the worker's, as in Kafka Connect.

use std::collections::BTreeMap;

use wasmconnect_convert::{ConvertError, Converter, converter_for};

pub const DEFAULT_CONVERTER: &str = "org.apache.kafka.connect.json.JsonConverter";

pub struct Converters {
    pub key: Box<dyn Converter>,
    pub value: Box<dyn Converter>,
    /// The classes as configured, for the dead-letter queue's `__connect.errors.class.name`.
    pub key_class: String,
    pub value_class: String,
}

impl Converters {
    pub fn for_connector(
        connector: &BTreeMap<String, String>,
        worker: &BTreeMap<String, String>,
    ) -> Result<Converters, ConvertError> {
        let (key, key_class) = build("key.converter", connector, worker, true)?;
        let (value, value_class) = build("value.converter", connector, worker, false)?;
        Ok(Converters { key, value, key_class, value_class })
    }
}

fn build(
    prefix: &str,
    connector: &BTreeMap<String, String>,
    worker: &BTreeMap<String, String>,
    is_key: bool,
) -> Result<(Box<dyn Converter>, String), ConvertError> {
    // The connector's setting replaces the worker's as a whole, properties included.
    let source = if connector.contains_key(prefix) { connector } else { worker };
    let class = source.get(prefix).map(String::as_str).unwrap_or(DEFAULT_CONVERTER);
    let dotted = format!("{prefix}.");
    let mut props: Vec<(String, String)> = worker
        .iter()
        .chain(connector.iter())
        .filter_map(|(k, v)| k.strip_prefix(&dotted).map(|k| (k.to_owned(), v.clone())))
        .collect();
    // Later (connector) settings win over earlier (worker) ones.
    props.reverse();
    let mut seen = std::collections::HashSet::new();
    props.retain(|(k, _)| seen.insert(k.clone()));
    Ok((converter_for(class, &props, is_key)?, class.trim().to_owned()))
}
