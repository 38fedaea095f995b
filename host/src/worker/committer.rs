//! A sink task's position commits, on a thread of their own.
//!
//! Committing a consumer group's positions is a write to the topic log (on the embedded log
//! an append with two fsyncs), which took about as long as putting a batch into MariaDB.
//! The task hands positions over only once their batch is put, so nothing committed was
//! not written; the committer writes them while the task puts the next batch. Positions
//! handed over while a commit is under way are merged and written by the next one, so
//! commits stay in order and never fall behind by more than one.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex};

use wasmconnect_log::TopicPartition;


pub struct Committer {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    /// Positions handed over and not taken by a commit yet.
    pending: BTreeMap<TopicPartition, i64>,
    /// A commit is being written.
    writing: bool,
    /// The task is stopping: the thread commits what is pending and ends.
    closed: bool,
    /// Why committing gave up (after `errors.retry.timeout`); the task fails with it.
    failed: Option<String>,
}

impl Committer {
    pub fn new() -> Committer {
        Committer { state: Mutex::default(), changed: Condvar::new() }
    }

    /// Hands over the positions of a batch that was put.
    pub fn submit(&self, positions: BTreeMap<TopicPartition, i64>) -> Result<(), String> {
        let mut state = self.state.lock().unwrap();
        if let Some(failed) = &state.failed {
            return Err(failed.clone());
        }
        state.pending.extend(positions);
        self.changed.notify_all();
        Ok(())
    }

    /// The task's failure, if committing gave up.
    pub fn check(&self) -> Result<(), String> {
        self.state.lock().unwrap().failed.clone().map_or(Ok(()), Err)
    }

    /// Waits until everything handed over is committed.
    pub fn wait_committed(&self) -> Result<(), String> {
        let mut state = self.state.lock().unwrap();
        while state.failed.is_none() && (state.writing || !state.pending.is_empty()) {
            state = self.changed.wait(state).unwrap();
        }
        state.failed.clone().map_or(Ok(()), Err)
    }

    /// Ends the thread, once what is pending is committed, when the guard is dropped.
    pub fn closing(&self) -> Closing<'_> {
        Closing(self)
    }

    /// The thread's loop: writes what is pending with `commit`, until the task is done.
    /// `commit` retries as long as it may; once it gives up, so does the committer.
    pub fn run(&self, mut commit: impl FnMut(&[(TopicPartition, i64)]) -> Result<(), String>) {
        loop {
            let positions: Vec<(TopicPartition, i64)> = {
                let mut state = self.state.lock().unwrap();
                while state.pending.is_empty() && !state.closed {
                    state = self.changed.wait(state).unwrap();
                }
                if state.pending.is_empty() {
                    return;
                }
                state.writing = true;
                std::mem::take(&mut state.pending).into_iter().collect()
            };
            let outcome = commit(&positions);
            let mut state = self.state.lock().unwrap();
            state.writing = false;
            self.changed.notify_all();
            if let Err(failed) = outcome {
                state.failed = Some(failed);
                return;
            }
        }
    }
}

pub struct Closing<'a>(&'a Committer);

impl Drop for Closing<'_> {
    fn drop(&mut self) {
        self.0.state.lock().unwrap().closed = true;
        self.0.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    fn at(partition: i32, offset: i64) -> BTreeMap<TopicPartition, i64> {
        BTreeMap::from([(TopicPartition { topic: "t".into(), partition }, offset)])
    }

    #[test]
    fn positions_handed_over_during_a_commit_are_merged_into_the_next_one_in_order() {
        let committer = Committer::new();
        let (entered, commit_started) = mpsc::channel();
        let (release, released) = mpsc::channel::<()>();
        let committer = &committer;
        let commits = std::thread::scope(|scope| {
            let worker = scope.spawn(move || {
                let mut commits = Vec::new();
                committer.run(|positions| {
                    entered.send(()).unwrap();
                    released.recv().unwrap();
                    commits.push(positions.to_vec());
                    Ok(())
                });
                commits
            });
            let closing = committer.closing();
            committer.submit(at(0, 10)).unwrap();
            commit_started.recv().unwrap();
            // While the first commit is written, two more batches are put.
            committer.submit(at(0, 20)).unwrap();
            committer.submit(at(1, 5)).unwrap();
            release.send(()).unwrap();
            commit_started.recv().unwrap();
            release.send(()).unwrap();
            committer.wait_committed().unwrap();
            drop(closing);
            worker.join().unwrap()
        });
        let tp = |partition| TopicPartition { topic: "t".into(), partition };
        assert_eq!(commits, vec![vec![(tp(0), 10)], vec![(tp(0), 20), (tp(1), 5)]]);
    }

    #[test]
    fn a_commit_that_gives_up_fails_the_task_at_its_next_step() {
        let committer = Committer::new();
        std::thread::scope(|scope| {
            scope.spawn(|| committer.run(|_| Err("the store is gone".into())));
            let _closing = committer.closing();
            committer.submit(at(0, 1)).unwrap();
            assert_eq!(committer.wait_committed(), Err("the store is gone".to_owned()));
            assert_eq!(committer.check(), Err("the store is gone".to_owned()));
            assert_eq!(committer.submit(at(0, 2)), Err("the store is gone".to_owned()));
        });
    }

    #[test]
    fn closing_commits_what_is_pending_before_the_thread_ends() {
        let committer = Committer::new();
        let mut commits = Vec::new();
        std::thread::scope(|scope| {
            let closing = committer.closing();
            committer.submit(at(0, 7)).unwrap();
            drop(closing);
            scope.spawn(|| committer.run(|positions| {
                commits.push(positions.to_vec());
                Ok(())
            }));
        });
        assert_eq!(commits.len(), 1);
    }
}
