//! Membership of the worker group: a consumer in group `group.id` subscribed to the
//! assignment topic, whose partitions Kafka's cooperative-sticky assignor spreads over the
//! live workers. The topic holds no records; only its partitions' owners matter.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use anyhow::Context;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::{ClientConfig, ClientContext, TopicPartitionList};

use super::Cluster;
use crate::herder::Herder;

pub struct MembershipConfig {
    pub bootstrap_servers: String,
    pub group_id: String,
    pub topic: String,
    /// Kafka Connect's worker keys `session.timeout.ms`, `heartbeat.interval.ms` and
    /// `rebalance.timeout.ms`, and the client settings every client gets.
    pub client: BTreeMap<String, String>,
}

/// The running membership; leaves the group when dropped.
pub struct Membership {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Membership {
    pub fn join(config: MembershipConfig, herder: Weak<Herder>, cluster: Arc<Cluster>, worker_id: &str) -> anyhow::Result<Membership> {
        let mut client = ClientConfig::new();
        client
            .set("bootstrap.servers", &config.bootstrap_servers)
            .set("group.id", &config.group_id)
            .set("client.id", worker_id)
            .set("partition.assignment.strategy", "cooperative-sticky")
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "false")
            // Kafka Connect's worker defaults, not librdkafka's 45 s: a dead worker's tasks
            // move within 10 s.
            .set("session.timeout.ms", "10000")
            .set("heartbeat.interval.ms", "3000");
        for (key, value) in &config.client {
            let key = if key == "rebalance.timeout.ms" { "max.poll.interval.ms" } else { key.as_str() };
            client.set(key, value);
        }
        let consumer: BaseConsumer<Assignments> = client
            .create_with_context(Assignments { herder, cluster })
            .with_context(|| format!("cannot join the worker group {}", config.group_id))?;
        consumer.subscribe(&[&config.topic]).with_context(|| format!("cannot subscribe to {}", config.topic))?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::Builder::new()
            .name("group-membership".into())
            .spawn(move || {
                // Polling is what keeps this worker in the group; rebalances run in here.
                while !stopping.load(Ordering::SeqCst) {
                    if let Some(Err(e)) = consumer.poll(Duration::from_millis(100)) {
                        tracing::warn!("worker group: {e}");
                    }
                }
                consumer.unsubscribe();
                // Serve the final revocation, so the others take over at once.
                for _ in 0..20 {
                    let _ = consumer.poll(Duration::from_millis(50));
                }
            })
            .context("cannot start the group membership thread")?;
        Ok(Membership { stop, thread: Some(thread) })
    }

    /// Leaves the group: the tasks this worker ran move to the others now, not after the
    /// session timeout.
    pub fn leave(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        self.leave();
    }
}

struct Assignments {
    herder: Weak<Herder>,
    cluster: Arc<Cluster>,
}

impl Assignments {
    fn partitions(list: &TopicPartitionList) -> Vec<i32> {
        list.elements().iter().map(|e| e.partition()).collect()
    }

    fn reconcile(&self) {
        if let Some(herder) = self.herder.upgrade() {
            herder.reconcile();
        }
    }
}

impl ClientContext for Assignments {}

impl ConsumerContext for Assignments {
    /// Revoked partitions stop here, before Kafka gives them to another worker: a task never
    /// runs on two workers at once.
    fn pre_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        self.cluster.rebalancing.store(true, Ordering::SeqCst);
        if let Rebalance::Revoke(list) = rebalance {
            let revoked = Self::partitions(list);
            tracing::info!(?revoked, "worker group rebalance: giving up partitions");
            self.cluster.owned.write().unwrap().retain(|p| !revoked.contains(p));
            self.reconcile();
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(list) => {
                // Only the ownership matters: nothing is ever read from these partitions.
                if let Err(e) = consumer.pause(list) {
                    tracing::debug!("cannot pause the assignment partitions: {e}");
                }
                let assigned = Self::partitions(list);
                tracing::info!(?assigned, "worker group rebalance: taking partitions");
                self.cluster.owned.write().unwrap().extend(assigned);
                self.cluster.rebalancing.store(false, Ordering::SeqCst);
                self.reconcile();
            }
            Rebalance::Revoke(_) => {}
            Rebalance::Error(e) => tracing::warn!("worker group rebalance failed: {e}"),
        }
    }
}
