//! The dead-letter queue of a connector, source or sink: with `errors.tolerance=all`, a record
//! the converter, a transform or (for a sink) the plugin cannot handle is set aside on
//! `errors.deadletterqueue.topic.name`, with Kafka Connect's `__connect.errors.*` context
//! headers when `errors.deadletterqueue.context.headers.enable=true`, and the task carries on.

use std::collections::BTreeMap;

use wasmconnect_convert::{Converter, JsonConverter};
use wasmconnect_data::Data;
use wasmconnect_log::ProducerRecord;

use crate::herder::validate::{ConfigProblem, problem};
use crate::runtime::PolledRecord;

pub const TOLERANCE_KEY: &str = "errors.tolerance";
pub const TOPIC_KEY: &str = "errors.deadletterqueue.topic.name";
pub const CONTEXT_HEADERS_KEY: &str = "errors.deadletterqueue.context.headers.enable";

/// Where in a task a record failed, by Kafka Connect's names (its `Stage` enum).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    KeyConverter,
    ValueConverter,
    HeaderConverter,
    Transformation,
    TaskPut,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::KeyConverter => "KEY_CONVERTER",
            Stage::ValueConverter => "VALUE_CONVERTER",
            Stage::HeaderConverter => "HEADER_CONVERTER",
            Stage::Transformation => "TRANSFORMATION",
            Stage::TaskPut => "TASK_PUT",
        }
    }

    /// The Java exception Kafka Connect reports for a failure at this stage, so tools that
    /// read dead-letter headers written by Kafka Connect read ours the same way.
    fn exception_class(self) -> &'static str {
        match self {
            Stage::TaskPut => "org.apache.kafka.connect.errors.ConnectException",
            _ => "org.apache.kafka.connect.errors.DataException",
        }
    }
}

/// Why one record was set aside.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    pub stage: Stage,
    /// The converter, transform or connector class that failed, when one is known.
    pub class: Option<String>,
    pub message: String,
}

impl Failure {
    pub fn new(stage: Stage, class: Option<&str>, message: impl Into<String>) -> Failure {
        Failure { stage, class: class.map(str::to_owned), message: message.into() }
    }
}

/// A connector's error settings.
#[derive(Clone, Debug, Default)]
pub struct DeadLetters {
    tolerate_all: bool,
    topic: Option<String>,
    context_headers: bool,
}

impl DeadLetters {
    /// The settings as stored; they were checked by `validate` when the connector was created.
    pub fn from_config(config: &BTreeMap<String, String>) -> DeadLetters {
        DeadLetters {
            tolerate_all: config.get(TOLERANCE_KEY).is_some_and(|t| t.trim().eq_ignore_ascii_case("all")),
            topic: config.get(TOPIC_KEY).map(|t| t.trim()).filter(|t| !t.is_empty()).map(str::to_owned),
            context_headers: config.get(CONTEXT_HEADERS_KEY).is_some_and(|v| v.trim().eq_ignore_ascii_case("true")),
        }
    }

    pub fn tolerates_all(&self) -> bool {
        self.tolerate_all
    }

    /// The topic bad records go to; only with `errors.tolerance=all`, as in Kafka Connect.
    pub fn topic(&self) -> Option<&str> {
        self.topic.as_deref().filter(|_| self.tolerate_all)
    }

    /// The dead-letter record for a bad one, or `None` without a dead-letter topic.
    /// `record` holds what describes the original (its key, value and headers as bytes);
    /// `context` the headers that say where it came from (topic, partition, offset...),
    /// written before the connector's, the task's and the failure's.
    pub fn letter(&self, record: Original, context: &[(&str, String)], connector: &str, task: u32, failure: &Failure) -> Option<ProducerRecord> {
        let topic = self.topic()?.to_owned();
        let mut headers = record.headers;
        if self.context_headers {
            let mut add = |name: &str, value: String| headers.push((format!("__connect.errors.{name}"), Some(value.into_bytes())));
            for (name, value) in context {
                add(name, value.clone());
            }
            add("connector.name", connector.to_owned());
            add("task.id", task.to_string());
            add("stage", failure.stage.as_str().to_owned());
            if let Some(class) = &failure.class {
                add("class.name", class.clone());
            }
            add("exception.class.name", failure.stage.exception_class().to_owned());
            add("exception.message", failure.message.clone());
        }
        Some(ProducerRecord { topic, partition: None, key: record.key, value: record.value, timestamp: record.timestamp, headers })
    }
}

/// What a dead-letter record keeps of the record that failed.
pub struct Original {
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub timestamp: Option<i64>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

/// A source task's bad records (beyond Kafka Connect, which has a dead-letter queue for
/// sinks only). A record has no bytes before its converter ran, and the connector's converter
/// may be what failed, so the letter holds the record as the plugin polled it, before the
/// transforms, written by the JsonConverter with schemas: its key and value as
/// `{"schema":...,"payload":...}`, and each header's value the same way.
pub struct SourceErrors {
    settings: DeadLetters,
    key: JsonConverter,
    value: JsonConverter,
}

impl SourceErrors {
    pub fn new(settings: DeadLetters) -> SourceErrors {
        // The defaults: schemas enabled, decimals as base64, as Kafka's JsonConverter.
        let json = |is_key| JsonConverter::configure(&[], is_key).expect("the JsonConverter's defaults are valid");
        SourceErrors { settings, key: json(true), value: json(false) }
    }

    /// Whether a batch must keep its records as polled, for the letters of those that fail.
    pub fn keeps_originals(&self) -> bool {
        self.settings.topic().is_some()
    }

    /// A record that failed: the task's error without `errors.tolerance=all`; otherwise the
    /// record is skipped (its source offset still commits), with a letter when the connector
    /// has a dead-letter topic and `original` (the record as polled) was kept.
    pub fn set_aside(&self, original: Option<&PolledRecord>, connector: &str, task: u32, failure: &Failure) -> Result<Option<ProducerRecord>, String> {
        let message = &failure.message;
        if !self.settings.tolerates_all() {
            return Err(format!("{}\n{message}", crate::herder::hint::RECORD_STOPPED));
        }
        tracing::warn!(connector = %connector, stage = failure.stage.as_str(), "skipping a record the source cannot write: {message}");
        let Some(polled) = original else { return Ok(None) };
        let mut context = vec![("topic", polled.topic.clone())];
        context.extend(polled.kafka_partition.map(|p| ("partition", p.to_string())));
        context.push(("source.partition", polled.source_partition.clone()));
        context.push(("source.offset", polled.source_offset.clone()));
        Ok(self.settings.letter(self.original(polled, connector), &context, connector, task, failure))
    }

    fn original(&self, polled: &PolledRecord, connector: &str) -> Original {
        let write = |converter: &JsonConverter, data: Option<&Data>, what: &str| {
            let null = Data::null();
            converter.from_connect_data(&polled.topic, data.unwrap_or(&null)).unwrap_or_else(|e| {
                // Only Connect data that contradicts its own schema gets here; the letter
                // still carries the failure and the context.
                tracing::warn!(connector = %connector, "the dead-letter record has no {what}: it cannot be written as JSON either: {e}");
                None
            })
        };
        Original {
            key: write(&self.key, polled.key.as_ref(), "key"),
            value: write(&self.value, polled.value.as_ref(), "value"),
            timestamp: polled.timestamp,
            headers: polled.headers.iter().map(|(name, data)| (name.clone(), write(&self.value, Some(data), "header"))).collect(),
        }
    }
}

/// The error settings' problems, for `POST /connectors`. `topics` are what a sink reads: its
/// dead-letter topic may not be one of them, or a bad record would come back for ever.
pub fn validate(config: &BTreeMap<String, String>) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    // Case-insensitive, as Kafka Connect's validator.
    if let Some(v) = config.get(TOLERANCE_KEY).filter(|v| !["none", "all"].iter().any(|t| v.trim().eq_ignore_ascii_case(t))) {
        problems.push(problem(TOLERANCE_KEY, format!("must be none (fail the task on a bad record) or all (skip it), not {v:?}")));
    }
    if let Some(v) = config.get(CONTEXT_HEADERS_KEY).filter(|v| !(v.trim().eq_ignore_ascii_case("true") || v.trim().eq_ignore_ascii_case("false"))) {
        problems.push(problem(CONTEXT_HEADERS_KEY, format!("must be true or false, not {v:?}")));
    }
    let Some(topic) = config.get(TOPIC_KEY).map(|t| t.trim()).filter(|t| !t.is_empty()) else { return problems };
    if let Err(e) = wasmconnect_log::validate_topic_name(topic) {
        problems.push(problem(TOPIC_KEY, e.to_string()));
    }
    if config.get("topics").into_iter().flat_map(|t| t.split(',')).any(|t| t.trim() == topic) {
        problems.push(problem(TOPIC_KEY, format!("{topic:?} is also in \"topics\": a sink may not read its own dead-letter queue")));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn original() -> Original {
        Original { key: Some(b"k".to_vec()), value: Some(b"v".to_vec()), timestamp: Some(7), headers: vec![("own".into(), Some(b"h".to_vec()))] }
    }

    #[test]
    fn a_letter_carries_the_original_and_kafka_connects_context_headers() {
        let letters = DeadLetters::from_config(&config(&[(TOLERANCE_KEY, "all"), (TOPIC_KEY, "dlq"), (CONTEXT_HEADERS_KEY, "true")]));
        let failure = Failure::new(Stage::ValueConverter, Some("org.apache.kafka.connect.converters.ByteArrayConverter"), "holds a struct");
        let letter = letters.letter(original(), &[("topic", "users".into())], "src", 2, &failure).unwrap();
        assert_eq!((letter.topic.as_str(), letter.key.as_deref(), letter.value.as_deref(), letter.timestamp), ("dlq", Some(&b"k"[..]), Some(&b"v"[..]), Some(7)));
        let headers: Vec<(&str, &str)> =
            letter.headers.iter().map(|(k, v)| (k.as_str(), std::str::from_utf8(v.as_deref().unwrap()).unwrap())).collect();
        assert_eq!(
            headers,
            [
                ("own", "h"),
                ("__connect.errors.topic", "users"),
                ("__connect.errors.connector.name", "src"),
                ("__connect.errors.task.id", "2"),
                ("__connect.errors.stage", "VALUE_CONVERTER"),
                ("__connect.errors.class.name", "org.apache.kafka.connect.converters.ByteArrayConverter"),
                ("__connect.errors.exception.class.name", "org.apache.kafka.connect.errors.DataException"),
                ("__connect.errors.exception.message", "holds a struct"),
            ]
        );
    }

    #[test]
    fn no_letter_without_a_topic_or_without_tolerance_and_no_context_unless_asked() {
        let failure = Failure::new(Stage::Transformation, None, "bad");
        assert!(DeadLetters::from_config(&config(&[(TOLERANCE_KEY, "all")])).letter(original(), &[], "c", 0, &failure).is_none());
        assert!(DeadLetters::from_config(&config(&[(TOPIC_KEY, "dlq")])).letter(original(), &[], "c", 0, &failure).is_none());
        let plain = DeadLetters::from_config(&config(&[(TOLERANCE_KEY, "all"), (TOPIC_KEY, "dlq")]));
        assert_eq!(plain.letter(original(), &[("topic", "t".into())], "c", 0, &failure).unwrap().headers.len(), 1, "only the record's own header");
    }

    #[test]
    fn bad_settings_are_reported_under_their_keys() {
        let bad = config(&[(TOLERANCE_KEY, "some"), (CONTEXT_HEADERS_KEY, "yes"), (TOPIC_KEY, "dead letters"), ("topics", "a")]);
        let keys: Vec<String> = validate(&bad).into_iter().map(|p| p.key).collect();
        assert_eq!(keys, [TOLERANCE_KEY, CONTEXT_HEADERS_KEY, TOPIC_KEY]);
        let looping = validate(&config(&[(TOPIC_KEY, "a"), ("topics", "b, a")]));
        assert!(looping[0].message.contains("may not read its own dead-letter queue"), "{looping:?}");
        assert_eq!(validate(&config(&[(TOLERANCE_KEY, "ALL"), (TOPIC_KEY, "dlq"), (CONTEXT_HEADERS_KEY, "TRUE")])), vec![]);
        assert!(DeadLetters::from_config(&config(&[(TOLERANCE_KEY, "All")])).tolerates_all());
    }
}
