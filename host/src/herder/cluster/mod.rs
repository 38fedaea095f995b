//! Distributed mode: workers that share a `group.id` split the connectors and tasks among
//! themselves. Kafka does all the coordinating:
//!
//! - every change is a record in the config topic, which every worker reads in the same
//!   order (`view`, `tail`), so all of them agree on what should run;
//! - the workers are members of the consumer group `group.id` over the assignment topic, and
//!   Kafka's cooperative-sticky assignment gives each of them some of its partitions
//!   (`membership`); a connector, and each of its tasks, belongs to one partition by a
//!   hash of its name, and runs on the worker that holds that partition.
//!
//! When a worker joins or leaves, Kafka moves only the partitions it must, so unaffected
//! tasks keep running; the partitions of a worker that died move once its session times out.

mod membership;
mod tail;
pub mod view;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, RwLock};
use std::time::{Duration, Instant};

pub use membership::{Membership, MembershipConfig};
pub use tail::{Topics as TailTopics, spawn as spawn_tail};
use view::ClusterView;

pub struct Cluster {
    /// Partitions of the assignment topic: the units of assignment.
    slots: i32,
    owned: RwLock<BTreeSet<i32>>,
    /// Until the first assignment, and while a rebalance is under way, this worker cannot
    /// tell what it runs: changes get 409, as in Kafka Connect.
    rebalancing: AtomicBool,
    view: Mutex<ClusterView>,
    /// The next config-topic offset to apply, and a signal when it moves.
    applied: (Mutex<i64>, Condvar),
}

impl Cluster {
    pub fn new(slots: i32) -> Cluster {
        Cluster {
            slots,
            owned: RwLock::new(BTreeSet::new()),
            rebalancing: AtomicBool::new(true),
            view: Mutex::new(ClusterView::default()),
            applied: (Mutex::new(0), Condvar::new()),
        }
    }

    /// A stable hash of the name (crc32: the same on every worker and every version), then
    /// the connector's tasks on the partitions after its own, so they spread.
    fn slot(&self, connector: &str, task: Option<u32>) -> i32 {
        let hash = crc32fast::hash(connector.as_bytes()) as i64;
        ((hash + task.map_or(0, |t| t as i64 + 1)) % self.slots as i64) as i32
    }

    pub fn owns_connector(&self, name: &str) -> bool {
        self.owned.read().unwrap().contains(&self.slot(name, None))
    }

    pub fn owns_task(&self, name: &str, id: u32) -> bool {
        self.owned.read().unwrap().contains(&self.slot(name, Some(id)))
    }

    pub fn rebalancing(&self) -> bool {
        self.rebalancing.load(Ordering::SeqCst)
    }

    pub fn view(&self) -> std::sync::MutexGuard<'_, ClusterView> {
        self.view.lock().unwrap()
    }

    /// Waits for this worker's first assignment; false if it did not come within `limit`.
    pub fn await_joined(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while self.rebalancing() {
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        true
    }

    fn set_applied(&self, next: i64) {
        *self.applied.0.lock().unwrap() = next;
        self.applied.1.notify_all();
    }

    /// Waits until this worker has applied the config record at `offset` (its own write),
    /// so a request's answer reflects the change it made.
    pub fn await_applied(&self, offset: i64, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let mut applied = self.applied.0.lock().unwrap();
        while *applied <= offset {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            applied = self.applied.1.wait_timeout(applied, left).unwrap().0;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connector_and_its_tasks_take_consecutive_partitions_by_a_stable_hash() {
        let cluster = Cluster::new(32);
        // Workers of different versions must agree, so the hash may never change.
        assert_eq!(cluster.slot("my-source-connect", None), (crc32fast::hash(b"my-source-connect") % 32) as i32);
        let connector = cluster.slot("my-source-connect", None);
        for task in 0..40 {
            assert_eq!(cluster.slot("my-source-connect", Some(task)), (connector + 1 + task as i32) % 32);
        }
    }

    #[test]
    fn ownership_follows_the_assigned_partitions_and_changes_wait_for_the_first_assignment() {
        let cluster = Cluster::new(8);
        assert!(cluster.rebalancing(), "no assignment yet");
        assert!(!cluster.await_joined(Duration::from_millis(50)));
        let slot = cluster.slot("c", None);
        cluster.owned.write().unwrap().insert(slot);
        cluster.rebalancing.store(false, Ordering::SeqCst);
        assert!(cluster.await_joined(Duration::from_millis(50)));
        assert!(cluster.owns_connector("c"));
        assert!(!cluster.owns_task("c", 0), "task 0 is on the next partition");
        cluster.set_applied(5);
        assert!(cluster.await_applied(4, Duration::ZERO));
        assert!(!cluster.await_applied(5, Duration::from_millis(20)), "offset 5 is not applied yet");
    }
}
