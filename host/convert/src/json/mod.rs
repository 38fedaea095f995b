//! JsonConverter: with `schemas.enable=true` (the default) every record is the envelope
//! `{"schema":...,"payload":...}`; without it, plain JSON with no schema.

mod schema;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value as Json;
use wasmconnect_data::{Data, Schema, Value};

pub use schema::{schema_from_json, schema_to_json};
pub use wasmconnect_data::json::{value_from_json, value_to_json};

use crate::{ConvertError, Converter, data_error, property};

/// How many parsed schemas are kept, keyed by their JSON text (`schemas.cache.size`).
const DEFAULT_SCHEMA_CACHE: usize = 1000;

pub struct JsonConverter {
    schemas_enable: bool,
    cache_size: usize,
    /// Records of a topic share one schema: parse it once, and share one `Arc`, which also
    /// lets the runtime send it to a plugin once per batch.
    parsed: Mutex<HashMap<String, Arc<Schema>>>,
    /// The last schema written and its JSON text: a source's records share one `Arc`, so
    /// its schema is rendered once, not once per record.
    written: Mutex<Option<(Arc<Schema>, String)>>,
}

impl JsonConverter {
    pub fn new(schemas_enable: bool) -> JsonConverter {
        JsonConverter {
            schemas_enable,
            cache_size: DEFAULT_SCHEMA_CACHE,
            parsed: Mutex::new(HashMap::new()),
            written: Mutex::new(None),
        }
    }

    pub fn configure(props: &[(String, String)], _is_key: bool) -> Result<JsonConverter, ConvertError> {
        let mut converter = JsonConverter::new(true);
        if let Some(v) = property(props, "schemas.enable") {
            converter.schemas_enable = parse_bool("schemas.enable", v)?;
        }
        if let Some(v) = property(props, "schemas.cache.size") {
            converter.cache_size = v.trim().parse().map_err(|_| ConvertError::Config {
                key: "schemas.cache.size".into(),
                value: v.into(),
                expected: "a whole number",
            })?;
        }
        if let Some(v) = property(props, "decimal.format")
            && !v.eq_ignore_ascii_case("BASE64")
        {
            return Err(ConvertError::Config {
                key: "decimal.format".into(),
                value: v.into(),
                expected: "BASE64 (NUMERIC is not supported yet)",
            });
        }
        Ok(converter)
    }

    fn schema_text(&self, schema: &Arc<Schema>) -> String {
        let mut written = self.written.lock().unwrap();
        if let Some((last, text)) = written.as_ref()
            && Arc::ptr_eq(last, schema)
        {
            return text.clone();
        }
        let text = schema_to_json(schema).to_string();
        *written = Some((schema.clone(), text.clone()));
        text
    }

    fn parse_schema(&self, json: &Json) -> Result<Arc<Schema>, ConvertError> {
        let key = json.to_string();
        if let Some(schema) = self.parsed.lock().unwrap().get(&key) {
            return Ok(schema.clone());
        }
        let schema = Arc::new(schema_from_json(json)?);
        let mut parsed = self.parsed.lock().unwrap();
        if parsed.len() >= self.cache_size {
            parsed.clear();
        }
        if self.cache_size > 0 {
            parsed.insert(key, schema.clone());
        }
        Ok(schema)
    }
}

impl Converter for JsonConverter {
    fn from_connect_data(&self, topic: &str, data: &Data) -> Result<Option<Vec<u8>>, ConvertError> {
        if data.schema.is_none() && data.value == Value::Null {
            return Ok(None);
        }
        let in_topic = |e: ConvertError| data_error(format!("cannot write a record for topic {topic} as JSON: {e}"));
        let payload = value_to_json(data.schema.as_deref(), &data.value).map_err(|e| in_topic(e.into()))?;
        if !self.schemas_enable {
            return Ok(Some(serde_json::to_vec(&payload).expect("JSON values always serialize")));
        }
        // {"schema":<schema>,"payload":<payload>}, compact, as Kafka's JsonConverter writes it.
        let schema = data.schema.as_ref().map_or_else(|| "null".to_owned(), |s| self.schema_text(s));
        let mut out = Vec::with_capacity(schema.len() + 64);
        out.extend_from_slice(b"{\"schema\":");
        out.extend_from_slice(schema.as_bytes());
        out.extend_from_slice(b",\"payload\":");
        serde_json::to_writer(&mut out, &payload).expect("JSON values always serialize");
        out.push(b'}');
        Ok(Some(out))
    }

    fn to_connect_data(&self, topic: &str, bytes: Option<&[u8]>) -> Result<Data, ConvertError> {
        let Some(bytes) = bytes else { return Ok(Data::null()) };
        let json: Json = serde_json::from_slice(bytes).map_err(|e| {
            data_error(format!("the record on topic {topic} is not valid JSON ({e}), so JsonConverter cannot read it"))
        })?;
        if !self.schemas_enable {
            return Ok(Data::schemaless(value_from_json(None, &json)?));
        }
        let (schema, payload) = envelope(&json).ok_or_else(|| {
            data_error(format!(
                "the record on topic {topic} has no schema. With schemas.enable=true (the default) JsonConverter \
                 expects exactly the envelope {{\"schema\":{{\"type\":\"struct\",\"fields\":[...]}},\"payload\":{{...}}}}. \
                 Produce records in that form, or set value.converter.schemas.enable=false (or \
                 key.converter.schemas.enable=false for keys) to read plain JSON without a schema"
            ))
        })?;
        if schema.is_null() {
            return Ok(Data::schemaless(value_from_json(None, payload)?));
        }
        let schema = self.parse_schema(schema).map_err(|e| data_error(format!("invalid schema in a record on topic {topic}: {e}")))?;
        let value = value_from_json(Some(&schema), payload)
            .map_err(|e| data_error(format!("the payload of a record on topic {topic} does not match its schema: {e}")))?;
        Ok(Data { schema: Some(schema), value })
    }
}

/// The schema and payload of an envelope that has exactly those two fields.
fn envelope(json: &Json) -> Option<(&Json, &Json)> {
    let object = json.as_object()?;
    if object.len() != 2 {
        return None;
    }
    Some((object.get("schema")?, object.get("payload")?))
}

fn parse_bool(key: &str, value: &str) -> Result<bool, ConvertError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ConvertError::Config { key: key.into(), value: value.into(), expected: "true or false" }),
    }
}
