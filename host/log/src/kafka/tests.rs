//! The Kafka backend against a real broker process (tansu), and against librdkafka's
//! in-process mock cluster where a broker has to fail on cue.

use std::time::Duration;

use rdkafka::mocking::MockCluster;

use super::*;
use crate::test_broker::Tansu;

fn connect(bootstrap_servers: String) -> KafkaLog {
    let mut options = KafkaOptions::new(bootstrap_servers);
    options.request_timeout = Duration::from_secs(10);
    KafkaLog::connect(options).unwrap()
}

fn record(topic: &str, key: &str, value: &str) -> ProducerRecord {
    ProducerRecord {
        topic: topic.to_owned(),
        partition: Some(0),
        key: Some(key.as_bytes().to_vec()),
        value: Some(value.as_bytes().to_vec()),
        timestamp: Some(1_700_000_000_000),
        headers: vec![("h".to_owned(), Some(b"v".to_vec())), ("empty".to_owned(), None)],
    }
}

/// Everything from `from` to the end: a read may return fewer records than there are.
fn read_from(log: &KafkaLog, tp: &TopicPartition, from: i64) -> Vec<ConsumerRecord> {
    let mut records: Vec<ConsumerRecord> = Vec::new();
    loop {
        let next = records.last().map_or(from, |r| r.offset + 1);
        let batch = log.read(tp, next, 10).unwrap();
        if batch.is_empty() {
            return records;
        }
        records.extend(batch);
    }
}

fn tp(topic: &str, partition: i32) -> TopicPartition {
    TopicPartition { topic: topic.to_owned(), partition }
}

#[test]
fn appended_records_are_read_back_with_keys_headers_and_timestamps() {
    let broker = Tansu::start();
    let log = connect(broker.bootstrap_servers());
    let positions = log.append(vec![record("orders", "a", "1"), record("orders", "b", "2")]).unwrap();
    assert_eq!(positions, vec![(0, 0), (0, 1)]);
    assert_eq!(log.partitions("orders"), Some(1), "the first append creates the topic");
    assert!(log.topics().contains(&"orders".to_owned()));

    let records = read_from(&log, &tp("orders", 0), 0);
    assert_eq!(records.len(), 2);
    assert_eq!(records[1].offset, 1);
    assert_eq!(records[1].key.as_deref(), Some(&b"b"[..]));
    assert_eq!(records[1].value.as_deref(), Some(&b"2"[..]));
    assert_eq!(records[1].timestamp, 1_700_000_000_000);
    assert_eq!(records[1].headers, vec![("h".to_owned(), Some(b"v".to_vec())), ("empty".to_owned(), None)]);

    // Reading on, from the middle, and past the end.
    assert_eq!(read_from(&log, &tp("orders", 0), 1).len(), 1);
    assert!(log.read(&tp("orders", 0), 2, 10).unwrap().is_empty());
    assert!(log.read(&tp("orders", 0), 2, 10).unwrap().is_empty(), "the end is remembered");
    log.append(vec![record("orders", "c", "3")]).unwrap();
    // A reader at the end sees new records with its next fetch, not at once.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let more = loop {
        let more = read_from(&log, &tp("orders", 0), 2);
        if !more.is_empty() || std::time::Instant::now() > deadline {
            break more;
        }
    };
    assert_eq!(more.iter().map(|r| r.offset).collect::<Vec<_>>(), vec![2]);
    assert_eq!(log.read(&tp("orders", 0), 0, 1).unwrap().len(), 1, "max is honoured");
}

#[test]
fn topics_are_created_with_their_partitions_and_unknown_ones_are_errors() {
    let broker = Tansu::start();
    let log = connect(broker.bootstrap_servers());
    assert!(log.create_topic("connect-configs", TopicConfig { partitions: 1, compacted: true }).unwrap());
    assert!(!log.create_topic("connect-configs", TopicConfig { partitions: 1, compacted: true }).unwrap());
    assert!(log.create_topic("wide", TopicConfig { partitions: 3, compacted: false }).unwrap());
    assert_eq!(log.partitions("wide"), Some(3));
    assert!(matches!(log.create_topic("wide", TopicConfig { partitions: 2, compacted: false }), Err(LogError::PartitionMismatch(_, 3))));
    assert!(matches!(log.read(&tp("missing", 0), 0, 1), Err(LogError::UnknownTopic(_))));
    assert!(matches!(log.read(&tp("wide", 5), 0, 1), Err(LogError::UnknownPartition { partitions: 3, .. })));
    assert!(matches!(log.create_topic("bad topic", TopicConfig { partitions: 1, compacted: false }), Err(LogError::InvalidTopic { .. })));
}

#[test]
fn keyed_records_without_a_partition_land_where_java_clients_put_them() {
    let broker = Tansu::start();
    let log = connect(broker.bootstrap_servers());
    log.create_topic("keyed", TopicConfig { partitions: 4, compacted: false }).unwrap();
    let mut records: Vec<ProducerRecord> = ["alice", "bob", "carol"].iter().map(|k| record("keyed", k, "x")).collect();
    for r in &mut records {
        r.partition = None;
    }
    let positions = log.append(records).unwrap();
    // Kafka's default partitioner: murmur2(key) & 0x7fffffff % partitions.
    let expected: Vec<i32> = ["alice", "bob", "carol"].iter().map(|k| crate::partitioner::partition_for_key(k.as_bytes(), 4)).collect();
    assert_eq!(positions.iter().map(|(p, _)| *p).collect::<Vec<_>>(), expected);
}

#[test]
fn consumer_group_positions_are_committed_and_reset() {
    let broker = Tansu::start();
    let log = connect(broker.bootstrap_servers());
    log.append(vec![record("t", "a", "1"), record("t", "b", "2")]).unwrap();
    let group = "connect-my-sink";
    assert!(log.group_positions(group, &[tp("t", 0)]).unwrap().is_empty(), "a new group has no position");
    log.commit_group(group, &[(tp("t", 0), Some(2))]).unwrap();
    assert_eq!(log.group_positions(group, &[tp("t", 0)]).unwrap(), vec![(tp("t", 0), 2)]);
    log.commit_group(group, &[(tp("t", 0), None)]).unwrap();
    assert_eq!(log.group_positions(group, &[tp("t", 0)]).unwrap(), vec![(tp("t", 0), 0)]);
}

#[test]
fn an_append_waits_out_a_broker_outage_and_loses_nothing() {
    let cluster = MockCluster::new(1).unwrap();
    // The mock cluster cannot create topics through the admin API.
    cluster.create_topic("outage", 1, 1).unwrap();
    let log = connect(cluster.bootstrap_servers());
    log.append(vec![record("outage", "a", "before")]).unwrap();
    cluster.broker_down(1).unwrap();
    let log = std::sync::Arc::new(log);
    let appending = {
        let log = log.clone();
        std::thread::spawn(move || log.append(vec![record("outage", "b", "during")]))
    };
    std::thread::sleep(Duration::from_secs(2));
    assert!(!appending.is_finished(), "the append waits for the broker");
    cluster.broker_up(1).unwrap();
    appending.join().unwrap().unwrap();
    let values: Vec<_> = read_from(&log, &tp("outage", 0), 0).into_iter().map(|r| r.value.unwrap()).collect();
    assert_eq!(values, vec![b"before".to_vec(), b"during".to_vec()]);
    assert_eq!(log.end_offset(&tp("outage", 0)).unwrap(), 2);
}
