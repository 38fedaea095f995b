//! JsonConverter: with `schemas.enable=true` (the default) every record is the envelope
//! `{"schema":...,"payload":...}`; without it, plain JSON with no schema.

mod numeric;
mod schema;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value as Json;
use wasmconnect_data::{Data, Schema, Value};

pub(crate) use numeric::java_decimal_text;
pub use schema::{schema_from_json, schema_to_json};
pub use wasmconnect_data::json::{value_from_json, value_to_json};

use crate::{ConvertError, Converter, data_error, property};

/// How many parsed schemas are kept, keyed by their JSON text (`schemas.cache.size`).
const DEFAULT_SCHEMA_CACHE: usize = 1000;

/// How Decimals are written (`decimal.format`); either form is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DecimalFormat {
    /// Base64 of the unscaled value's big-endian two's-complement bytes: exact, but opaque.
    Base64,
    /// A JSON number, readable by people and by consumers that know no Connect schemas.
    Numeric,
}

impl DecimalFormat {
    fn parse(value: &str) -> Result<DecimalFormat, ConvertError> {
        match value.trim().to_ascii_uppercase().as_str() {
            "BASE64" => Ok(DecimalFormat::Base64),
            "NUMERIC" => Ok(DecimalFormat::Numeric),
            _ => Err(ConvertError::Config { key: "decimal.format".into(), value: value.into(), expected: "BASE64 or NUMERIC" }),
        }
    }
}

pub struct JsonConverter {
    schemas_enable: bool,
    decimal_format: DecimalFormat,
    /// Only names the right setting (`key.converter.…` or `value.converter.…`) in messages.
    is_key: bool,
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
            decimal_format: DecimalFormat::Base64,
            is_key: false,
            cache_size: DEFAULT_SCHEMA_CACHE,
            parsed: Mutex::new(HashMap::new()),
            written: Mutex::new(None),
        }
    }

    pub fn configure(props: &[(String, String)], is_key: bool) -> Result<JsonConverter, ConvertError> {
        let mut converter = JsonConverter { is_key, ..JsonConverter::new(true) };
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
        if let Some(v) = property(props, "decimal.format") {
            converter.decimal_format = DecimalFormat::parse(v)?;
        }
        Ok(converter)
    }

    fn numeric_decimals(&self, schema: &Schema) -> bool {
        self.decimal_format == DecimalFormat::Numeric && numeric::contains_decimal(schema)
    }

    fn schema_text(&self, schema: &Arc<Schema>) -> Result<String, ConvertError> {
        let mut written = self.written.lock().unwrap();
        if let Some((last, text)) = written.as_ref()
            && Arc::ptr_eq(last, schema)
        {
            return Ok(text.clone());
        }
        let json = schema_to_json(schema);
        let text = if self.numeric_decimals(schema) {
            let mut out = Vec::new();
            numeric::write_schema(schema, &json, &mut out)?;
            String::from_utf8(out).expect("serde_json writes UTF-8")
        } else {
            json.to_string()
        };
        *written = Some((schema.clone(), text.clone()));
        Ok(text)
    }

    fn write_payload(&self, schema: Option<&Schema>, payload: &Json, out: &mut Vec<u8>) -> Result<(), ConvertError> {
        match schema {
            Some(schema) if self.numeric_decimals(schema) => numeric::write_value(Some(schema), payload, out),
            _ => {
                serde_json::to_writer(out, payload).expect("JSON values always serialize");
                Ok(())
            }
        }
    }

    fn converter_prefix(&self) -> &'static str {
        if self.is_key { "key.converter" } else { "value.converter" }
    }

    fn missing_envelope(&self, topic: &str) -> ConvertError {
        let what = if self.is_key { "key" } else { "value" };
        data_error(format!(
            "the record {what} on topic {topic} is not a JsonConverter envelope. With schemas.enable=true (the default) \
             JsonConverter expects a JSON object with exactly the two fields \"schema\" and \"payload\", shaped \
             {{\"schema\":{{...}},\"payload\":{{...}}}} (for example {{\"schema\":{{\"type\":\"struct\",\"fields\":[...],\"optional\":false}},\"payload\":{{...}}}}). \
             Produce records in that form, or, to read plain JSON without a schema, set {}.schemas.enable=false",
            self.converter_prefix()
        ))
    }

    /// The schema whose JSON text is `text`, parsed once per distinct text.
    fn parse_schema(&self, text: &str) -> Result<Arc<Schema>, ConvertError> {
        if let Some(schema) = self.parsed.lock().unwrap().get(text) {
            return Ok(schema.clone());
        }
        let json: Json = serde_json::from_str(text).map_err(|e| data_error(e.to_string()))?;
        let schema = Arc::new(schema_from_json(&json)?);
        let mut parsed = self.parsed.lock().unwrap();
        if parsed.len() >= self.cache_size {
            parsed.clear();
        }
        if self.cache_size > 0 {
            parsed.insert(text.to_owned(), schema.clone());
        }
        Ok(schema)
    }

    /// Reads an envelope in one pass, leaving its schema as text for the cache: most
    /// records repeat the schema of the one before, so it is not parsed again, and not
    /// rebuilt as a JSON tree only to be looked up. `None` for anything this cannot read
    /// (not JSON, not exactly the two fields), which the general path then explains.
    fn read_envelope(&self, topic: &str, bytes: &[u8]) -> Option<Result<Data, ConvertError>> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Envelope<'a> {
            #[serde(borrow)]
            schema: &'a serde_json::value::RawValue,
            payload: Json,
        }
        // serde would take a two-element array for the struct as well; an envelope is an object.
        if bytes.trim_ascii_start().first() != Some(&b'{') {
            return None;
        }
        let Envelope { schema, payload } = serde_json::from_slice(bytes).ok()?;
        Some(self.envelope_data(topic, schema.get(), &payload))
    }

    fn envelope_data(&self, topic: &str, schema: &str, payload: &Json) -> Result<Data, ConvertError> {
        if schema == "null" {
            return Ok(Data::schemaless(value_from_json(None, payload)?));
        }
        let schema = self.parse_schema(schema).map_err(|e| data_error(format!("invalid schema in a record on topic {topic}: {e}")))?;
        let value = value_from_json(Some(&schema), payload)
            .map_err(|e| data_error(format!("the payload of a record on topic {topic} does not match its schema: {e}")))?;
        Ok(Data { schema: Some(schema), value })
    }
}

impl Converter for JsonConverter {
    fn from_connect_data(&self, topic: &str, data: &Data) -> Result<Option<Vec<u8>>, ConvertError> {
        if data.schema.is_none() && data.value == Value::Null {
            return Ok(None);
        }
        let in_topic = |e: ConvertError| data_error(format!("cannot write a record for topic {topic} as JSON: {e}"));
        let schema = data.schema.as_deref();
        let payload = value_to_json(schema, &data.value).map_err(|e| in_topic(e.into()))?;
        if !self.schemas_enable {
            let mut out = Vec::new();
            self.write_payload(schema, &payload, &mut out).map_err(in_topic)?;
            return Ok(Some(out));
        }
        // {"schema":<schema>,"payload":<payload>}, compact, as Kafka's JsonConverter writes it.
        let schema_text = match &data.schema {
            Some(s) => self.schema_text(s).map_err(in_topic)?,
            None => "null".to_owned(),
        };
        let mut out = Vec::with_capacity(schema_text.len() + 64);
        out.extend_from_slice(b"{\"schema\":");
        out.extend_from_slice(schema_text.as_bytes());
        out.extend_from_slice(b",\"payload\":");
        self.write_payload(schema, &payload, &mut out).map_err(in_topic)?;
        out.push(b'}');
        Ok(Some(out))
    }

    fn to_connect_data(&self, topic: &str, bytes: Option<&[u8]>) -> Result<Data, ConvertError> {
        let Some(bytes) = bytes else { return Ok(Data::null()) };
        if self.schemas_enable
            && let Some(data) = self.read_envelope(topic, bytes)
        {
            return data;
        }
        let json: Json = serde_json::from_slice(bytes).map_err(|e| {
            data_error(format!("the record on topic {topic} is not valid JSON ({e}), so JsonConverter cannot read it"))
        })?;
        if !self.schemas_enable {
            return Ok(Data::schemaless(value_from_json(None, &json)?));
        }
        let (schema, payload) = envelope(&json).ok_or_else(|| self.missing_envelope(topic))?;
        self.envelope_data(topic, &schema.to_string(), payload)
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
