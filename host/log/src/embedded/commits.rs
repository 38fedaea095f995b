//! `commits.log`: one marker per completed append. An append writes its batches first and
//! this marker last; on open, batches of a transaction without a marker are rolled back,
//! which is what makes an append that spans several partitions atomic.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::LogError;

const ENTRY_LEN: usize = 12;
/// Past this many markers the file is rewritten with the last one only.
const COMPACT_AFTER: u64 = 100_000;

pub struct Commits {
    path: PathBuf,
    file: File,
    last: u64,
    entries: u64,
}

impl Commits {
    pub fn open(dir: &Path) -> Result<Commits, LogError> {
        let path = dir.join("commits.log");
        let io = |context: &str| {
            let context = format!("{context} {}", path.display());
            move |source| LogError::Io { context, source }
        };
        let mut file = OpenOptions::new().read(true).append(true).create(true).open(&path).map_err(io("cannot open"))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io("cannot read"))?;
        let mut last = 0;
        let mut valid = 0;
        for entry in bytes.chunks_exact(ENTRY_LEN) {
            let txn = u64::from_le_bytes(entry[..8].try_into().unwrap());
            let crc = u32::from_le_bytes(entry[8..].try_into().unwrap());
            if crc != crc32fast::hash(&txn.to_le_bytes()) || txn < last {
                break;
            }
            last = txn;
            valid += 1;
        }
        let valid_len = valid * ENTRY_LEN as u64;
        if valid_len != bytes.len() as u64 {
            tracing::warn!(path = %path.display(), "dropping a torn commit marker at byte {valid_len}");
            file.set_len(valid_len).map_err(io("cannot truncate"))?;
        }
        Ok(Commits { path, file, last, entries: valid })
    }

    /// The last transaction that completed.
    pub fn last(&self) -> u64 {
        self.last
    }

    pub fn record(&mut self, txn: u64, fsync: bool) -> Result<(), LogError> {
        let io = |source| LogError::Io { context: format!("cannot write {}", self.path.display()), source };
        let mut entry = [0u8; ENTRY_LEN];
        entry[..8].copy_from_slice(&txn.to_le_bytes());
        entry[8..].copy_from_slice(&crc32fast::hash(&txn.to_le_bytes()).to_le_bytes());
        self.file.write_all(&entry).map_err(io)?;
        if fsync {
            self.file.sync_data().map_err(io)?;
        }
        self.last = txn;
        self.entries += 1;
        if self.entries > COMPACT_AFTER {
            self.compact()?;
        }
        Ok(())
    }

    /// Rewrites the file with only the last marker (write, fsync, rename).
    fn compact(&mut self) -> Result<(), LogError> {
        let io = |source| LogError::Io { context: format!("cannot compact {}", self.path.display()), source };
        let tmp = self.path.with_extension("log.tmp");
        let mut entry = Vec::with_capacity(ENTRY_LEN);
        entry.extend_from_slice(&self.last.to_le_bytes());
        entry.extend_from_slice(&crc32fast::hash(&self.last.to_le_bytes()).to_le_bytes());
        let mut file = File::create(&tmp).map_err(io)?;
        file.write_all(&entry).map_err(io)?;
        file.sync_all().map_err(io)?;
        std::fs::rename(&tmp, &self.path).map_err(io)?;
        self.file = OpenOptions::new().append(true).open(&self.path).map_err(io)?;
        self.entries = 1;
        Ok(())
    }
}
