//! Client settings: what every client shares, plus `producer.*` and `consumer.*` passed
//! through to librdkafka exactly as a Kafka Connect worker passes them to its clients.

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::ClientConfig;

#[derive(Clone, Debug)]
pub struct KafkaOptions {
    pub bootstrap_servers: String,
    /// Settings for every client (`security.protocol`, `client.id`, ...).
    pub common: BTreeMap<String, String>,
    /// `producer.*` worker keys, prefix removed; they win over the defaults below.
    pub producer: BTreeMap<String, String>,
    /// `consumer.*` worker keys, prefix removed.
    pub consumer: BTreeMap<String, String>,
    /// For topics this log creates: -1 leaves it to the broker's default.
    pub replication_factor: i32,
    /// Partitions of a data topic created by its first append.
    pub default_partitions: i32,
    /// How long a metadata, admin or offset request may take before it is an error.
    pub request_timeout: Duration,
    /// Readers skip records of open and aborted transactions (`isolation.level=read_committed`,
    /// whatever `consumer.*` says), as a worker with exactly-once sources needs.
    pub read_committed: bool,
}

impl KafkaOptions {
    pub fn new(bootstrap_servers: impl Into<String>) -> KafkaOptions {
        KafkaOptions {
            bootstrap_servers: bootstrap_servers.into(),
            common: BTreeMap::new(),
            producer: BTreeMap::new(),
            consumer: BTreeMap::new(),
            replication_factor: -1,
            default_partitions: 1,
            request_timeout: Duration::from_secs(30),
            read_committed: false,
        }
    }

    /// Splits worker properties the way Kafka Connect does: `producer.X` and `consumer.X`
    /// go to those clients, and the client settings librdkafka knows at the top level
    /// (security and SASL) go to every client.
    pub fn from_worker_config(bootstrap_servers: &str, worker: &BTreeMap<String, String>) -> KafkaOptions {
        let mut options = KafkaOptions::new(bootstrap_servers);
        for (key, value) in worker {
            if let Some(k) = key.strip_prefix("producer.") {
                options.producer.insert(k.to_owned(), value.clone());
            } else if let Some(k) = key.strip_prefix("consumer.") {
                options.consumer.insert(k.to_owned(), value.clone());
            } else if ["security.protocol", "client.id"].contains(&key.as_str())
                || ["sasl.", "ssl."].iter().any(|p| key.starts_with(p))
            {
                options.common.insert(key.clone(), value.clone());
            }
        }
        options
    }

    /// These options with a connector's `producer.override.*` and `consumer.override.*`
    /// settings on top, as Kafka Connect gives a connector its own clients; `None` when the
    /// connector overrides nothing.
    pub fn with_overrides(&self, connector: &BTreeMap<String, String>) -> Option<KafkaOptions> {
        let mut options = self.clone();
        let mut overridden = false;
        for (key, value) in connector {
            if let Some(k) = key.strip_prefix("producer.override.") {
                options.producer.insert(k.to_owned(), value.clone());
                overridden = true;
            } else if let Some(k) = key.strip_prefix("consumer.override.") {
                options.consumer.insert(k.to_owned(), value.clone());
                overridden = true;
            }
        }
        overridden.then_some(options)
    }

    fn base(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.bootstrap_servers);
        for (key, value) in &self.common {
            config.set(key, value);
        }
        config
    }

    /// Kafka Connect's source producer defaults: every record acknowledged by all replicas,
    /// retried without reordering or duplicates, and keyed records partitioned as Java
    /// clients do, so a key lands on the same partition whichever client wrote it. An append
    /// hands over a whole batch and waits for it, so lingering for more records (librdkafka's
    /// default 5 ms) would only add latency; Java's producer did not linger either until 4.0.
    pub(super) fn producer_config(&self) -> ClientConfig {
        let mut config = self.base();
        config
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .set("partitioner", "murmur2_random")
            .set("linger.ms", "0");
        for (key, value) in &self.producer {
            config.set(key, value);
        }
        config
    }

    /// A consumer that reads assigned partitions and never commits by itself.
    pub(super) fn reader_config(&self) -> ClientConfig {
        let mut config = self.base();
        config
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "true")
            .set("auto.offset.reset", "earliest")
            // A reader at the end of a partition sees new records this soon.
            .set("fetch.wait.max.ms", "100")
            // Without a group.id librdkafka refuses to create a consumer; this one never joins.
            .set("group.id", "wasmconnect-reader");
        for (key, value) in &self.consumer {
            config.set(key, value);
        }
        if self.read_committed {
            config.set("isolation.level", "read_committed");
        }
        config
    }

    /// A consumer acting for consumer group `group`: it commits and reads the group's
    /// offsets without joining it, as Kafka Connect's admin client does.
    pub(super) fn group_config(&self, group: &str) -> ClientConfig {
        let mut config = self.base();
        config.set("group.id", group).set("enable.auto.commit", "false");
        config
    }

    pub(super) fn admin_config(&self) -> ClientConfig {
        self.base()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_keys_and_connector_overrides_reach_the_right_clients() {
        let worker: BTreeMap<String, String> = [
            ("producer.linger.ms", "20"),
            ("consumer.fetch.min.bytes", "1024"),
            ("security.protocol", "PLAINTEXT"),
            ("key.converter", "org.apache.kafka.connect.json.JsonConverter"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let options = KafkaOptions::from_worker_config("localhost:9092", &worker);
        assert_eq!(options.producer["linger.ms"], "20");
        assert_eq!(options.consumer["fetch.min.bytes"], "1024");
        assert_eq!(options.common["security.protocol"], "PLAINTEXT");
        assert!(!options.common.contains_key("key.converter"));
        assert_eq!(options.producer_config().get("linger.ms"), Some("20"), "worker keys win over the defaults");

        let connector: BTreeMap<String, String> = [("producer.override.linger.ms", "50"), ("consumer.override.max.poll.records", "10")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let overridden = options.with_overrides(&connector).expect("overrides");
        assert_eq!(overridden.producer_config().get("linger.ms"), Some("50"));
        assert_eq!(overridden.consumer["max.poll.records"], "10");
        assert!(options.with_overrides(&BTreeMap::new()).is_none(), "nothing to override, no new clients");
    }

    #[test]
    fn read_committed_wins_over_a_consumer_setting() {
        let worker = BTreeMap::from([("consumer.isolation.level".to_owned(), "read_uncommitted".to_owned())]);
        let mut options = KafkaOptions::from_worker_config("localhost:9092", &worker);
        assert_eq!(options.reader_config().get("isolation.level"), Some("read_uncommitted"), "without exactly-once the worker's setting holds");
        options.read_committed = true;
        assert_eq!(options.reader_config().get("isolation.level"), Some("read_committed"));
    }
}
