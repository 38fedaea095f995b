//! Follows the internal topics: the config topic into the cluster view (then the herder
//! reconciles), the status and offset topics into the worker's stores, so every worker
//! answers for connectors that run elsewhere.

use std::sync::{Arc, Weak};
use std::time::Duration;

use wasmconnect_log::{ConsumerRecord, TopicLog, TopicPartition};

use super::Cluster;
use crate::herder::Herder;

const IDLE: Duration = Duration::from_millis(50);

/// Positions in one topic's partitions.
struct Follower {
    topic: String,
    next: Vec<i64>,
}

impl Follower {
    fn new(topic: &str) -> Follower {
        Follower { topic: topic.to_owned(), next: Vec::new() }
    }

    /// Records appended since the last call, oldest first per partition.
    fn poll(&mut self, log: &dyn TopicLog) -> anyhow::Result<Vec<ConsumerRecord>> {
        let partitions = log.partitions(&self.topic).unwrap_or(0).max(0) as usize;
        self.next.resize(partitions.max(self.next.len()), 0);
        let mut records = Vec::new();
        for (partition, next) in self.next.iter_mut().enumerate() {
            let tp = TopicPartition { topic: self.topic.clone(), partition: partition as i32 };
            let batch = log.read(&tp, *next, 10_000)?;
            if let Some(last) = batch.last() {
                *next = last.offset + 1;
            }
            records.extend(batch);
        }
        Ok(records)
    }
}

pub struct Topics {
    pub config: String,
    pub status: String,
    pub offsets: String,
}

/// Reads every internal topic to its end (the herder does nothing until then), then follows
/// them until the herder is gone.
pub fn spawn(herder: Weak<Herder>, cluster: Arc<Cluster>, log: Arc<dyn TopicLog>, topics: Topics) -> anyhow::Result<()> {
    let mut config = Follower::new(&topics.config);
    let mut status = Follower::new(&topics.status);
    let mut offsets = Follower::new(&topics.offsets);
    // Some(true): it read something; None: the herder is gone.
    let mut follow = move || -> anyhow::Result<Option<bool>> {
        let Some(herder) = herder.upgrade() else { return Ok(None) };
        let mut busy = false;
        for record in status.poll(log.as_ref())? {
            busy = true;
            herder.ctx.status.apply(&record);
        }
        for record in offsets.poll(log.as_ref())? {
            busy = true;
            herder.ctx.source_offsets.apply(&record);
        }
        let records = config.poll(log.as_ref())?;
        if let Some(last) = records.last().map(|r| r.offset) {
            busy = true;
            let restarts: Vec<_> = {
                let mut view = cluster.view();
                records.iter().filter_map(|r| view.apply(r, &|config| herder.open_config(config))).collect()
            };
            herder.reconcile();
            for restart in restarts {
                herder.restart_here(&restart);
            }
            cluster.set_applied(last + 1);
        }
        Ok(Some(busy))
    };
    // Catch up first, so the first reconcile sees the whole history.
    while follow()? == Some(true) {}
    std::thread::Builder::new().name("internal-topics".into()).spawn(move || {
        loop {
            match follow() {
                Ok(None) => break,
                Ok(Some(true)) => {}
                Ok(Some(false)) => std::thread::sleep(IDLE),
                Err(e) => {
                    tracing::warn!("cannot read the internal topics, retrying: {e:#}");
                    std::thread::sleep(Duration::from_secs(1));
                }
            }
        }
    })?;
    Ok(())
}
