//! `commits.log`: one marker (transaction id + CRC) per completed append. An append writes
//! and syncs its batches first and this marker last; on open, batches of a transaction
//! after the last intact marker are rolled back, which is what makes an append that spans
//! several partitions atomic.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::meta::{io, sync_dir};
use crate::LogError;

const ENTRY_LEN: usize = 12;
/// Past this many markers the file is rewritten with the last one only: only the last one
/// matters, and without this the file would grow by every append forever.
const COMPACT_AFTER: u64 = 100_000;

pub struct Commits {
    dir: PathBuf,
    path: PathBuf,
    file: File,
    last: u64,
    /// Markers written since the file was last rewritten.
    entries: u64,
    compact_after: u64,
}

fn marker(txn: u64) -> [u8; ENTRY_LEN] {
    let mut entry = [0u8; ENTRY_LEN];
    entry[..8].copy_from_slice(&txn.to_le_bytes());
    entry[8..].copy_from_slice(&crc32fast::hash(&txn.to_le_bytes()).to_le_bytes());
    entry
}

impl Commits {
    /// Opens (or creates) the file and finds the last intact marker; a torn one at the end
    /// (a crash while writing it) is cut off, so its append counts as not committed.
    pub fn open(dir: &Path) -> Result<Commits, LogError> {
        let path = dir.join("commits.log");
        let io = |context: &str| io(format!("{context} {}", path.display()));
        let mut file = OpenOptions::new().read(true).append(true).create(true).open(&path).map_err(io("cannot open"))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io("cannot read"))?;
        let (last, entries) = last_marker(&bytes);
        let valid_len = entries * ENTRY_LEN as u64;
        if valid_len != bytes.len() as u64 {
            tracing::warn!(path = %path.display(), "recovering the log: dropping {} bytes of a torn commit marker", bytes.len() as u64 - valid_len);
            file.set_len(valid_len).map_err(io("cannot truncate"))?;
        }
        Ok(Commits { dir: dir.to_owned(), path, file, last, entries, compact_after: COMPACT_AFTER })
    }

    /// The last transaction that completed.
    pub fn last(&self) -> u64 {
        self.last
    }

    /// Commits `txn`. After an error the marker may or may not be on disk, so the caller
    /// must stop appending: the next open decides.
    pub fn record(&mut self, txn: u64, fsync: bool) -> Result<(), LogError> {
        let written = self.file.write_all(&marker(txn)).and_then(|()| if fsync { self.file.sync_data() } else { Ok(()) });
        written.map_err(io(format!("cannot write {}", self.path.display())))?;
        self.last = txn;
        self.entries += 1;
        if self.entries > self.compact_after {
            if let Err(e) = self.compact() {
                tracing::warn!("cannot shrink {}, trying again later: {e}", self.path.display());
            }
            self.entries = 1;
        }
        Ok(())
    }

    /// Forces the markers written so far to disk.
    pub fn sync(&mut self) -> Result<(), LogError> {
        self.file.sync_data().map_err(io(format!("cannot sync {}", self.path.display())))
    }

    /// Rewrites the file with only the last marker (write, fsync, rename), so there is a
    /// complete file with that marker at every moment.
    fn compact(&mut self) -> Result<(), LogError> {
        let tmp = self.path.with_extension("log.tmp");
        let rewrite = || -> std::io::Result<File> {
            let mut file = File::create(&tmp)?;
            file.write_all(&marker(self.last))?;
            file.sync_all()?;
            std::fs::rename(&tmp, &self.path)?;
            Ok(file)
        };
        // The handle follows the renamed file, so there is no moment without one.
        self.file = rewrite().map_err(io(format!("cannot rewrite {}", self.path.display())))?;
        sync_dir(&self.dir)
    }
}

/// The last transaction of the intact markers at the start of `bytes`, and their count.
fn last_marker(bytes: &[u8]) -> (u64, u64) {
    let mut last = 0;
    let mut valid = 0;
    for entry in bytes.chunks_exact(ENTRY_LEN) {
        let txn = u64::from_le_bytes(entry[..8].try_into().unwrap());
        if entry != marker(txn) || txn < last {
            break;
        }
        last = txn;
        valid += 1;
    }
    (last, valid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_intact_marker_wins_and_a_torn_one_is_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let mut commits = Commits::open(dir.path()).unwrap();
        assert_eq!(commits.last(), 0);
        commits.record(1, true).unwrap();
        commits.record(2, true).unwrap();
        drop(commits);
        let path = dir.path().join("commits.log");
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend_from_slice(&marker(3)[..7]);
        std::fs::write(&path, &bytes).unwrap();

        let mut commits = Commits::open(dir.path()).unwrap();
        assert_eq!(commits.last(), 2);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 2 * ENTRY_LEN as u64);
        commits.record(3, true).unwrap();
        drop(commits);
        assert_eq!(Commits::open(dir.path()).unwrap().last(), 3);
    }

    #[test]
    fn the_file_is_shrunk_to_the_last_marker_and_keeps_working() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("commits.log");
        let mut commits = Commits::open(dir.path()).unwrap();
        commits.compact_after = 3;
        for txn in 1..=4 {
            commits.record(txn, false).unwrap();
        }
        assert_eq!(std::fs::read(&path).unwrap(), marker(4));
        commits.record(5, false).unwrap();
        drop(commits);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 2 * ENTRY_LEN as u64);
        assert_eq!(Commits::open(dir.path()).unwrap().last(), 5);
    }
}
