//! The write side of a partition: appends batches to its newest segment file
//! (`<base offset, 20 digits>.log`), rolls to a new file when that one is full, and undoes a
//! write whose append failed before its commit marker.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::batch::{self, StoredRecord};
use super::index::BatchPos;
use super::meta::{io, sync_dir};
use crate::LogError;

pub fn segment_path(partition_dir: &Path, base_offset: i64) -> PathBuf {
    partition_dir.join(format!("{base_offset:020}.log"))
}

/// The base offset a segment file's name says, if it is one.
pub fn segment_base_offset(path: &Path) -> Option<i64> {
    if path.extension()? != "log" {
        return None;
    }
    path.file_stem()?.to_str()?.parse().ok()
}

struct Active {
    path: PathBuf,
    len: u64,
    /// Opened on the first write, in append mode.
    file: Option<File>,
}

/// A batch written but not committed yet: what the index needs to show it, and what undoing
/// it needs.
pub struct Pending {
    pub batch: BatchPos,
    /// Set when this write started a new segment: the previous active segment and its length.
    rolled_from: Option<Option<(PathBuf, u64)>>,
    new_segment: Option<PathBuf>,
}

impl Pending {
    /// The segment this write created, which the index learns about with the batch.
    pub fn new_segment(&self) -> Option<&Path> {
        self.new_segment.as_deref()
    }
}

pub struct FailedWrite {
    pub error: LogError,
    pub pending: Pending,
}

pub struct SegmentWriter {
    dir: PathBuf,
    active: Option<Active>,
    end_offset: i64,
    /// A segment file was created since the last sync, so the directory needs one too.
    dir_dirty: bool,
    /// Bytes were written since the last sync.
    dirty: bool,
    /// Segments rolled away from with bytes not synced yet (only without a sync per
    /// append): the next `sync` covers them too.
    rolled_unsynced: Vec<(PathBuf, File)>,
}

impl SegmentWriter {
    /// A writer continuing `last_segment` (path and valid length), if there is one.
    pub fn new(dir: PathBuf, last_segment: Option<(PathBuf, u64)>, end_offset: i64) -> SegmentWriter {
        let active = last_segment.map(|(path, len)| Active { path, len, file: None });
        SegmentWriter { dir, active, end_offset, dir_dirty: false, dirty: false, rolled_unsynced: Vec::new() }
    }

    /// Writes one batch of `records` at the end; readers do not see it until the index
    /// gets it, after the commit marker. A failed write returns what to `undo`, because part
    /// of the batch may be on disk.
    pub fn write(&mut self, txn: u64, records: &[StoredRecord<'_>], segment_bytes: u64) -> Result<Pending, Box<FailedWrite>> {
        let rolled_from = self.roll_if_full(segment_bytes);
        let new_segment = rolled_from.as_ref().map(|_| self.active_mut().path.clone());
        let base_offset = self.end_offset;
        let bytes = batch::encode(txn, base_offset, records);
        let position = self.active_mut().len;
        let batch = BatchPos { base_offset, count: records.len() as u32, position, len: bytes.len() as u64 };
        let pending = Pending { batch, rolled_from, new_segment };
        match self.append_bytes(&bytes) {
            Ok(()) => {
                self.end_offset += i64::from(batch.count);
                Ok(pending)
            }
            Err(error) => Err(Box::new(FailedWrite { error, pending })),
        }
    }

    /// Starts a new segment if there is none or the active one reached `segment_bytes`;
    /// returns the one it replaced.
    fn roll_if_full(&mut self, segment_bytes: u64) -> Option<Option<(PathBuf, u64)>> {
        if self.active.as_ref().is_some_and(|a| a.len < segment_bytes) {
            return None;
        }
        let path = segment_path(&self.dir, self.end_offset);
        let previous = self.active.replace(Active { path, len: 0, file: None });
        Some(previous.map(|a| {
            if let (true, Some(file)) = (self.dirty, a.file) {
                self.rolled_unsynced.push((a.path.clone(), file));
            }
            (a.path, a.len)
        }))
    }

    fn active_mut(&mut self) -> &mut Active {
        self.active.as_mut().expect("an active segment after rolling")
    }

    fn append_bytes(&mut self, bytes: &[u8]) -> Result<(), LogError> {
        let active = self.active.as_mut().expect("an active segment after rolling");
        if active.file.is_none() {
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&active.path)
                .map_err(io(format!("cannot open {}", active.path.display())))?;
            active.file = Some(file);
            self.dir_dirty |= active.len == 0;
        }
        let file = active.file.as_mut().expect("opened above");
        self.dirty = true;
        file.write_all(bytes).map_err(io(format!("cannot write {}", active.path.display())))?;
        active.len += bytes.len() as u64;
        Ok(())
    }

    /// Forces what was written to disk (and the entry of a new segment file).
    pub fn sync(&mut self) -> Result<(), LogError> {
        for (path, file) in &self.rolled_unsynced {
            file.sync_data().map_err(io(format!("cannot sync {}", path.display())))?;
        }
        self.rolled_unsynced.clear();
        if let Some(Active { path, file: Some(file), .. }) = &self.active {
            file.sync_data().map_err(io(format!("cannot sync {}", path.display())))?;
        }
        if self.dir_dirty {
            sync_dir(&self.dir)?;
            self.dir_dirty = false;
        }
        self.dirty = false;
        Ok(())
    }

    /// Whether something was written since the last `sync`.
    pub fn dirty(&self) -> bool {
        self.dirty
    }

    /// Removes a written batch again: truncates the segment, or deletes the segment the
    /// write created. An error leaves uncommitted bytes that only recovery can remove.
    pub fn undo(&mut self, pending: Pending) -> Result<(), LogError> {
        self.end_offset = pending.batch.base_offset;
        match pending.rolled_from {
            Some(previous) => {
                let created = self.active.take().expect("the segment written to");
                self.active = previous.map(|(path, len)| Active { path, len, file: None });
                match std::fs::remove_file(&created.path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        Err(io(format!("cannot remove {}", created.path.display()))(e))
                    }
                    _ => Ok(()),
                }
            }
            None => {
                let active = self.active_mut();
                active.len = pending.batch.position;
                let result = match &active.file {
                    Some(file) => file.set_len(active.len),
                    None => OpenOptions::new().write(true).open(&active.path).and_then(|f| f.set_len(active.len)),
                };
                result.map_err(io(format!("cannot truncate {}", active.path.display())))
            }
        }
    }
}
