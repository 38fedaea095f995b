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


// Transactions. Neither test broker filters the records of aborted transactions out of a
// read_committed fetch (tansu 0.6 sends no aborted-transaction list; the mock cluster answers
// every fetch with the high watermark as last stable offset and no aborted transactions), so
// these tests check what the brokers do have: commits, the last stable offset that holds
// readers back from an open transaction, fencing, and aborts after a refused record.

fn read_committed(bootstrap_servers: String) -> KafkaLog {
    let mut options = KafkaOptions::new(bootstrap_servers);
    options.request_timeout = Duration::from_secs(10);
    options.read_committed = true;
    KafkaLog::connect(options).unwrap()
}

fn transactions(log: &KafkaLog, id: &str) -> Box<dyn Transactional> {
    log.transactional(id, Duration::from_secs(5)).expect("Kafka has transactions").unwrap()
}

fn values(log: &KafkaLog, topic: &str) -> Vec<String> {
    read_from(log, &tp(topic, 0), 0).into_iter().map(|r| String::from_utf8(r.value.unwrap()).unwrap()).collect()
}

/// The values once there are `count` of them: a reader that saw the end sees what comes
/// after it with its next fetch, not at once.
fn await_values(log: &KafkaLog, topic: &str, count: usize) -> Vec<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let values = values(log, topic);
        if values.len() >= count || std::time::Instant::now() > deadline {
            return values;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_committed_transaction_shows_its_records_and_offsets_together() {
    let broker = Tansu::start();
    let reader = read_committed(broker.bootstrap_servers());
    reader.create_topic("offsets", TopicConfig { partitions: 1, compacted: true }).unwrap();
    let mut producer = transactions(&reader, "connect-cluster-source-0");
    producer.send(vec![record("data", "a", "1"), record("data", "b", "2")]).unwrap();
    producer.send(vec![record("offsets", "p", "o2")]).unwrap();
    assert!(producer.is_open());
    assert!(values(&reader, "data").is_empty(), "nothing is visible to read_committed readers before the commit");
    assert!(values(&reader, "offsets").is_empty());
    producer.commit().unwrap();
    assert!(!producer.is_open());
    assert_eq!(await_values(&reader, "data", 2), ["1", "2"]);
    assert_eq!(await_values(&reader, "offsets", 1), ["o2"]);
    assert_eq!(reader.end_offset(&tp("data", 0)).unwrap(), 3, "the commit marker takes an offset");
    producer.send(vec![record("data", "c", "3")]).unwrap();
    producer.commit().unwrap();
    assert_eq!(await_values(&reader, "data", 3), ["1", "2", "3"]);
}

#[test]
fn a_transaction_left_open_by_a_crashed_producer_does_not_hold_readers_back_after_a_restart() {
    let broker = Tansu::start();
    let reader = read_committed(broker.bootstrap_servers());
    let mut crashed = transactions(&reader, "connect-cluster-source-0");
    crashed.send(vec![record("data", "a", "left open")]).unwrap();
    // Delivered, never committed: readers wait at the open transaction.
    std::thread::sleep(Duration::from_millis(500));
    assert!(values(&reader, "data").is_empty());
    // The successor's producer has the same id: starting it aborts what the crashed one left.
    let mut successor = transactions(&reader, "connect-cluster-source-0");
    successor.send(vec![record("data", "a", "again")]).unwrap();
    successor.commit().unwrap();
    let readable = await_values(&reader, "data", 1);
    assert_eq!(readable.last().map(String::as_str), Some("again"), "the successor's commit is readable");
    drop(crashed);
}

#[test]
fn a_zombie_producer_is_fenced_and_writes_nothing() {
    let broker = Tansu::start();
    let reader = read_committed(broker.bootstrap_servers());
    let mut zombie = transactions(&reader, "connect-cluster-source-0");
    zombie.send(vec![record("data", "a", "before")]).unwrap();
    zombie.commit().unwrap();
    let mut successor = transactions(&reader, "connect-cluster-source-0");
    let fenced = zombie.send(vec![record("data", "z", "zombie")]).and_then(|()| zombie.commit()).unwrap_err();
    assert!(matches!(fenced, LogError::Fenced { .. }), "{fenced}");
    assert!(fenced.to_string().contains("transactional.id connect-cluster-source-0 was fenced"), "{fenced}");
    assert!(!fenced.is_retriable());
    successor.send(vec![record("data", "s", "successor")]).unwrap();
    successor.commit().unwrap();
    assert_eq!(values(&reader, "data"), ["before", "successor"]);
}

#[test]
fn a_transaction_with_a_refused_record_is_aborted_and_the_restarted_task_commits() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("data", 1, 1).unwrap();
    let reader = read_committed(cluster.bootstrap_servers());
    let mut producer = transactions(&reader, "connect-cluster-source-0");
    producer.send(vec![record("data", "a", "kept")]).unwrap();
    producer.commit().unwrap();
    // A produce request the broker refuses for good (not retried by librdkafka).
    cluster.request_errors(rdkafka::types::RDKafkaApiKey::Produce, &[rdkafka::types::RDKafkaRespErr::RD_KAFKA_RESP_ERR_INVALID_RECORD]);
    producer.send(vec![record("data", "b", "refused")]).unwrap();
    let failed = producer.commit().unwrap_err().to_string();
    assert!(failed.contains("the transaction was aborted"), "{failed}");
    assert!(!producer.is_open());
    // The task fails on it; its next instance has a new producer with the same id.
    drop(producer);
    let mut restarted = transactions(&reader, "connect-cluster-source-0");
    restarted.send(vec![record("data", "c", "after")]).unwrap();
    restarted.commit().unwrap();
    assert_eq!(await_values(&reader, "data", 2), ["kept", "after"]);
}
