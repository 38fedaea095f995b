use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::*;

fn record(topic: &str, key: Option<&str>, value: &str) -> ProducerRecord {
    ProducerRecord {
        topic: topic.into(),
        partition: None,
        key: key.map(|k| k.as_bytes().to_vec()),
        value: Some(value.as_bytes().to_vec()),
        timestamp: Some(42),
        headers: Vec::new(),
    }
}

fn tp(topic: &str, partition: i32) -> TopicPartition {
    TopicPartition { topic: topic.into(), partition }
}

fn values(log: &EmbeddedLog, topic: &str, partition: i32) -> Vec<String> {
    log.read(&tp(topic, partition), 0, 10_000)
        .unwrap()
        .into_iter()
        .map(|r| String::from_utf8(r.value.unwrap()).unwrap())
        .collect()
}

fn open(dir: &Path) -> EmbeddedLog {
    EmbeddedLog::open(dir, EmbeddedOptions::default()).unwrap()
}

fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "log")).collect();
    files.sort();
    files
}

#[test]
fn append_and_read_back_with_headers_nulls_and_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let mut with_headers = record("t", Some("k"), "v1");
    with_headers.headers = vec![("h".into(), Some(b"x".to_vec())), ("none".into(), None)];
    let tombstone = ProducerRecord { value: None, key: None, ..record("t", None, "") };
    assert_eq!(log.append(vec![with_headers.clone(), tombstone]).unwrap(), vec![(0, 0), (0, 1)]);
    assert_eq!(log.append(vec![record("t", None, "v3")]).unwrap(), vec![(0, 2)]);

    let read = log.read(&tp("t", 0), 0, 100).unwrap();
    assert_eq!(read.len(), 3);
    assert_eq!(read[0].headers, with_headers.headers);
    assert_eq!(read[0].key.as_deref(), Some(&b"k"[..]));
    assert_eq!(read[0].timestamp, 42);
    assert_eq!((read[1].key.clone(), read[1].value.clone()), (None, None));
    assert_eq!(read.iter().map(|r| r.offset).collect::<Vec<_>>(), vec![0, 1, 2]);
    // Reading from the middle of a batch, and with a limit.
    assert_eq!(log.read(&tp("t", 0), 1, 1).unwrap()[0].offset, 1);
    assert!(log.read(&tp("t", 0), 3, 10).unwrap().is_empty());
    assert_eq!(log.end_offset(&tp("t", 0)).unwrap(), 3);
    assert_eq!(log.topics(), vec!["t".to_owned()]);
    assert!(matches!(log.read(&tp("missing", 0), 0, 1), Err(LogError::UnknownTopic(_))));
}

#[test]
fn topics_are_created_on_first_write_and_names_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    assert_eq!(log.partitions("new"), None);
    log.append(vec![record("new", None, "x")]).unwrap();
    assert_eq!(log.partitions("new"), Some(1));
    assert!(log.create_topic("multi", TopicConfig { partitions: 3, compacted: true }).unwrap());
    assert!(!log.create_topic("multi", TopicConfig { partitions: 3, compacted: true }).unwrap());
    assert!(matches!(log.create_topic("multi", TopicConfig { partitions: 2, compacted: false }), Err(LogError::PartitionMismatch(..))));
    for bad in ["", ".", "..", "a/b", "spaces here", &"x".repeat(250)] {
        assert!(matches!(log.append(vec![record(bad, None, "x")]), Err(LogError::InvalidTopic { .. })), "{bad:?}");
    }
    assert_eq!(log.topics(), vec!["multi".to_owned(), "new".to_owned()]);
}

#[test]
fn reopening_restores_topics_offsets_and_keyed_partitioning() {
    let dir = tempfile::tempdir().unwrap();
    let placed = {
        let log = open(dir.path());
        log.create_topic("keyed", TopicConfig { partitions: 4, compacted: false }).unwrap();
        let placed = log.append(vec![record("keyed", Some("alice"), "1"), record("keyed", Some("bob"), "2")]).unwrap();
        log.append(vec![record("plain", None, "a"), record("plain", None, "b")]).unwrap();
        placed
    };
    let log = open(dir.path());
    assert_eq!(log.partitions("keyed"), Some(4));
    assert_eq!(values(&log, "plain", 0), vec!["a", "b"]);
    assert_eq!(log.append(vec![record("plain", None, "c")]).unwrap(), vec![(0, 2)]);
    // The same key lands on the same partition after a restart.
    let again = log.append(vec![record("keyed", Some("alice"), "3"), record("keyed", Some("bob"), "4")]).unwrap();
    assert_eq!(placed[0].0, again[0].0);
    assert_eq!(placed[1].0, again[1].0);
}

#[test]
fn a_torn_tail_is_truncated_on_open_and_appends_continue() {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = open(dir.path());
        log.append(vec![record("t", None, "kept")]).unwrap();
        log.append(vec![record("t", None, "torn-away")]).unwrap();
    }
    let segment = segment_files(&dir.path().join("t-0")).pop().unwrap();
    let len = std::fs::metadata(&segment).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&segment).unwrap().set_len(len - 3).unwrap();

    let log = open(dir.path());
    assert_eq!(values(&log, "t", 0), vec!["kept"]);
    let cut = log.recovered();
    assert_eq!(cut.len(), 1, "{cut:?}");
    assert_eq!((cut[0].topic.as_str(), cut[0].partition, cut[0].offset, cut[0].reason.as_str()), ("t", 0, 1, "a torn batch"));
    assert_eq!(cut[0].bytes, len - 3 - std::fs::metadata(&segment).unwrap().len());
    assert_eq!(log.append(vec![record("t", None, "next")]).unwrap(), vec![(0, 1)]);
    drop(log);
    let log = open(dir.path());
    assert_eq!(values(&log, "t", 0), vec!["kept", "next"]);
    assert_eq!(log.recovered(), &[], "nothing to cut the second time");
}

#[test]
fn a_corrupted_batch_and_everything_after_it_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = open(dir.path());
        for v in ["one", "two", "three"] {
            log.append(vec![record("t", None, v)]).unwrap();
        }
    }
    let segment = segment_files(&dir.path().join("t-0")).pop().unwrap();
    let mut bytes = std::fs::read(&segment).unwrap();
    // Flip the last byte of the second batch's payload ("two").
    let second_end = bytes.windows(3).position(|w| w == b"two").unwrap() + 2;
    bytes[second_end] ^= 0x20;
    std::fs::write(&segment, bytes).unwrap();

    let log = open(dir.path());
    assert_eq!(values(&log, "t", 0), vec!["one"]);
    assert_eq!(log.end_offset(&tp("t", 0)).unwrap(), 1);
    assert_eq!(log.recovered()[0].reason, "a batch whose checksum does not match");
}

#[test]
fn an_append_without_its_commit_marker_is_rolled_back_in_every_partition() {
    let dir = tempfile::tempdir().unwrap();
    let spread = |v: &str| {
        let mut records: Vec<ProducerRecord> = (0..3).map(|p| ProducerRecord { partition: Some(p), ..record("data", None, v) }).collect();
        records.push(record("offsets", None, v));
        records
    };
    {
        let log = open(dir.path());
        log.create_topic("data", TopicConfig { partitions: 3, compacted: false }).unwrap();
        log.append(spread("committed")).unwrap();
        log.crash_before_commit.store(true, Ordering::Relaxed);
        assert!(matches!(log.append(spread("lost")), Err(LogError::Failed(_))));
        // A "dead" log takes nothing more, or a later marker would cover the lost batches.
        log.crash_before_commit.store(false, Ordering::Relaxed);
        assert!(matches!(log.append(vec![record("other", None, "x")]), Err(LogError::Failed(_))));
    }
    for partition_dir in ["data-0", "data-1", "data-2", "offsets-0"] {
        let on_disk = std::fs::read(&segment_files(&dir.path().join(partition_dir))[0]).unwrap();
        assert!(on_disk.windows(4).any(|w| w == b"lost"), "the uncommitted batch was written to {partition_dir}");
    }

    let log = open(dir.path());
    for p in 0..3 {
        assert_eq!(values(&log, "data", p), vec!["committed"], "partition {p}");
        assert_eq!(log.end_offset(&tp("data", p)).unwrap(), 1);
    }
    assert_eq!(values(&log, "offsets", 0), vec!["committed"]);
    assert_eq!(log.append(spread("after")).unwrap(), vec![(0, 1), (1, 1), (2, 1), (0, 1)]);
    drop(log);
    let log = open(dir.path());
    for p in 0..3 {
        assert_eq!(values(&log, "data", p), vec!["committed", "after"], "partition {p}");
    }
    assert_eq!(values(&log, "offsets", 0), vec!["committed", "after"]);
}

#[test]
fn an_uncommitted_append_that_rolled_a_segment_is_rolled_back() {
    let dir = tempfile::tempdir().unwrap();
    let options = EmbeddedOptions { segment_bytes: 1, ..EmbeddedOptions::default() };
    {
        let log = EmbeddedLog::open(dir.path(), options.clone()).unwrap();
        log.append(vec![record("t", None, "first")]).unwrap();
        log.crash_before_commit.store(true, Ordering::Relaxed);
        log.append(vec![record("t", None, "lost")]).unwrap_err();
    }
    assert_eq!(segment_files(&dir.path().join("t-0")).len(), 2);
    let log = EmbeddedLog::open(dir.path(), options.clone()).unwrap();
    assert_eq!(values(&log, "t", 0), vec!["first"]);
    assert_eq!(log.append(vec![record("t", None, "second")]).unwrap(), vec![(0, 1)]);
    drop(log);
    let log = EmbeddedLog::open(dir.path(), options).unwrap();
    assert_eq!(values(&log, "t", 0), vec!["first", "second"]);
}

#[test]
fn segments_roll_and_reads_span_them() {
    let dir = tempfile::tempdir().unwrap();
    let options = EmbeddedOptions { segment_bytes: 200, ..EmbeddedOptions::default() };
    let expected: Vec<String> = (0..30).map(|i| format!("value-{i:03}")).collect();
    {
        let log = EmbeddedLog::open(dir.path(), options.clone()).unwrap();
        for v in &expected {
            log.append(vec![record("t", None, v)]).unwrap();
        }
        let index = log.index.read().unwrap();
        assert!(index["t"].partitions[0].segment_count() > 3);
        drop(index);
        assert_eq!(segment_files(&dir.path().join("t-0")).len(), log.index.read().unwrap()["t"].partitions[0].segment_count());
    }
    let log = EmbeddedLog::open(dir.path(), options).unwrap();
    assert_eq!(values(&log, "t", 0), expected);
    let middle = log.read(&tp("t", 0), 17, 5).unwrap();
    assert_eq!(middle.iter().map(|r| r.offset).collect::<Vec<_>>(), vec![17, 18, 19, 20, 21]);
}

#[test]
fn wait_for_append_wakes_on_append_and_times_out_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(open(dir.path()));
    let seen = log.append_count();
    assert_eq!(log.wait_for_append(seen, Duration::from_millis(50)), seen, "nothing appended");
    let writer = {
        let log = log.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            log.append(vec![record("t", None, "x")]).unwrap();
        })
    };
    assert_eq!(log.wait_for_append(seen, Duration::from_secs(30)), seen + 1);
    writer.join().unwrap();
}

#[test]
fn an_explicit_partition_out_of_range_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let mut bad = record("t", None, "x");
    bad.partition = Some(5);
    assert!(matches!(log.append(vec![bad]), Err(LogError::UnknownPartition { partition: 5, .. })));
}

#[test]
fn files_are_laid_out_per_topic_partition_and_no_topic_name_collides() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    // Names that look like the log's own files or like another topic's partition directory.
    for topic in ["commits.log", "commits", "a", "a-0", "x.meta"] {
        log.append(vec![record(topic, None, topic)]).unwrap();
    }
    drop(log);
    assert!(dir.path().join("a-0").join(format!("{:020}.log", 0)).is_file());
    assert!(dir.path().join("a.meta").is_file());
    assert!(dir.path().join("a-0-0").is_dir());
    let log = open(dir.path());
    assert_eq!(log.topics(), vec!["a", "a-0", "commits", "commits.log", "x.meta"]);
    for topic in log.topics() {
        assert_eq!(values(&log, &topic, 0), vec![topic.clone()]);
    }
}

#[test]
fn reads_do_not_wait_for_an_append_in_progress() {
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(open(dir.path()));
    log.append(vec![record("t", None, "x")]).unwrap();
    // Holding the writer is what an append does while it writes and syncs.
    let writing = log.writer.lock().unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    let reader = {
        let log = log.clone();
        std::thread::spawn(move || sender.send((values(&log, "t", 0), log.end_offset(&tp("t", 0)).unwrap())).unwrap())
    };
    let read = receiver.recv_timeout(Duration::from_secs(60)).expect("the read finished while the writer was busy");
    assert_eq!(read, (vec!["x".to_owned()], 1));
    drop(writing);
    reader.join().unwrap();
}

#[test]
fn a_record_without_timestamp_gets_the_append_time_and_bad_configs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let before = now_millis();
    log.append(vec![ProducerRecord { timestamp: None, ..record("t", None, "x") }]).unwrap();
    let stamped = log.read(&tp("t", 0), 0, 1).unwrap()[0].timestamp;
    assert!(stamped >= before && stamped <= now_millis(), "{stamped}");
    assert!(matches!(log.create_topic("zero", TopicConfig { partitions: 0, compacted: false }), Err(LogError::InvalidPartitionCount(0))));
    assert_eq!(log.partitions("zero"), None);
    let options = EmbeddedOptions { default_partitions: 0, ..EmbeddedOptions::default() };
    assert!(matches!(EmbeddedLog::open(dir.path(), options), Err(LogError::InvalidPartitionCount(0))));
}

#[test]
fn topics_keep_their_config_and_take_the_default_partition_count() {
    let dir = tempfile::tempdir().unwrap();
    let options = EmbeddedOptions { default_partitions: 3, fsync: FsyncPolicy::Never, ..EmbeddedOptions::default() };
    {
        let log = EmbeddedLog::open(dir.path(), options.clone()).unwrap();
        log.create_topic("compacted", TopicConfig { partitions: 2, compacted: true }).unwrap();
        log.append(vec![record("auto", Some("k"), "v")]).unwrap();
    }
    let log = EmbeddedLog::open(dir.path(), options).unwrap();
    assert_eq!(log.partitions("auto"), Some(3));
    assert_eq!(log.partitions("compacted"), Some(2));
    assert!(std::fs::read_to_string(dir.path().join("compacted.meta")).unwrap().contains("compacted=true"));
}

#[test]
fn with_an_interval_policy_appends_are_synced_by_the_next_append_or_the_flusher() {
    let dir = tempfile::tempdir().unwrap();
    let every = Duration::from_millis(100);
    let log = Arc::new(EmbeddedLog::open(dir.path(), EmbeddedOptions { fsync: FsyncPolicy::Interval(every), ..EmbeddedOptions::default() }).unwrap());
    let unsynced = |log: &EmbeddedLog| log.writer.lock().unwrap().topics.values().any(|t| t.partitions.iter().any(SegmentWriter::dirty));
    log.append(vec![record("t", None, "a")]).unwrap();
    assert!(unsynced(&log), "not synced within the interval");
    std::thread::sleep(every);
    log.append(vec![record("t", None, "b")]).unwrap();
    assert!(!unsynced(&log), "the first append after the interval syncs everything");
    log.append(vec![record("t", None, "c")]).unwrap();
    EmbeddedLog::start_flusher(&log).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while unsynced(&log) {
        assert!(std::time::Instant::now() < deadline, "the flusher synced the last append");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(values(&log, "t", 0), vec!["a", "b", "c"]);
}
