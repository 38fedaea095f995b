//! TimestampRouter: renames the topic after the original topic and the record's timestamp,
//! e.g. to write one table or index per day.

use wasmconnect_sdk::{ConnectRecord, ConnectorError, Transform};

use crate::config::Keys;
use crate::java::date_format::DateFormat;

pub struct TimestampRouter {
    owner: String,
    topic_format: String,
    timestamp_format: DateFormat,
}

impl TimestampRouter {
    pub fn new(keys: &Keys) -> Result<TimestampRouter, ConnectorError> {
        let pattern = keys.string_or("timestamp.format", "yyyyMMdd");
        Ok(TimestampRouter {
            owner: keys.owner().to_owned(),
            topic_format: keys.string_or("topic.format", "${topic}-${timestamp}").to_owned(),
            timestamp_format: DateFormat::new(pattern).map_err(|problem| keys.error("timestamp.format", problem))?,
        })
    }
}

impl Transform for TimestampRouter {
    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>, String> {
        let timestamp = record
            .timestamp
            .ok_or_else(|| format!("{}: the record from topic {:?} has no timestamp to route by", self.owner, record.topic))?;
        // In this order, as Kafka does: a topic containing "${timestamp}" has it replaced too.
        let topic = self.topic_format.replace("${topic}", &record.topic);
        record.topic = topic.replace("${timestamp}", &self.timestamp_format.format(timestamp));
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;

    /// 2017-02-03T04:05:06.007Z
    const TIMESTAMP: i64 = 1_486_094_706_007;

    fn routed(pairs: &[(&str, &str)], topic: &str) -> String {
        let mut t = transform("TimestampRouter", pairs);
        let mut r = value_record(None);
        r.topic = topic.into();
        r.timestamp = Some(TIMESTAMP);
        apply(&mut t, r).topic
    }

    #[test]
    fn default_format_appends_the_day() {
        assert_eq!(routed(&[], "test"), "test-20170203");
    }

    #[test]
    fn documentation_example_with_custom_formats() {
        let pairs = [("topic.format", "${topic}_${timestamp}"), ("timestamp.format", "yyyy")];
        assert_eq!(routed(&pairs, "orders"), "orders_2017");
        assert_eq!(
            routed(&[("topic.format", "${timestamp}/${topic}"), ("timestamp.format", "yyyy-MM-dd'T'HH")], "t"),
            "2017-02-03T04/t"
        );
    }

    #[test]
    fn errors() {
        assert!(transform_error("TimestampRouter", &[("timestamp.format", "yyyyMMddTHH")]).contains("\"timestamp.format\""));
        let mut t = transform("TimestampRouter", &[]);
        let mut r = value_record(None);
        r.timestamp = None;
        assert!(apply_error(&mut t, r).contains("no timestamp"));
    }
}
