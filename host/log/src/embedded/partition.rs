//! One topic-partition on disk: append-only segment files named after their base offset,
//! and an in-memory index of batch positions so reads seek instead of scanning.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::batch::{self, BatchHeader, HEADER_LEN, StoredRecord};
use crate::{ConsumerRecord, LogError};

struct Segment {
    path: PathBuf,
    len: u64,
}

#[derive(Clone, Copy, Debug)]
struct BatchPos {
    base_offset: i64,
    count: u32,
    segment: usize,
    position: u64,
    len: u64,
}

/// Where to read a run of batches from, taken under the lock and read without it: committed
/// batches never change.
pub struct ReadPlan {
    reads: Vec<(PathBuf, u64, u64)>,
}

/// An append written to disk but not yet visible, undone by `rollback`.
pub struct Pending {
    batch: BatchPos,
    new_segment: bool,
}

pub struct Partition {
    dir: PathBuf,
    segments: Vec<Segment>,
    batches: Vec<BatchPos>,
    end_offset: i64,
    active: Option<File>,
}

fn io(context: String) -> impl FnOnce(std::io::Error) -> LogError {
    move |source| LogError::Io { context, source }
}

impl Partition {
    pub fn create(dir: PathBuf) -> Result<Partition, LogError> {
        std::fs::create_dir_all(&dir).map_err(io(format!("cannot create {}", dir.display())))?;
        Ok(Partition { dir, segments: Vec::new(), batches: Vec::new(), end_offset: 0, active: None })
    }

    /// Opens the partition, truncating whatever follows the last intact batch of a
    /// committed transaction (a torn write, a corrupted batch, or an append whose commit
    /// marker never made it to disk).
    pub fn open(dir: PathBuf, committed_txn: u64) -> Result<Partition, LogError> {
        let mut partition = Partition::create(dir)?;
        let mut paths: Vec<(i64, PathBuf)> = std::fs::read_dir(&partition.dir)
            .map_err(io(format!("cannot list {}", partition.dir.display())))?
            .flatten()
            .filter_map(|e| {
                let path = e.path();
                let base = path.file_stem()?.to_str()?.parse::<i64>().ok()?;
                (path.extension()? == "log").then_some((base, path))
            })
            .collect();
        paths.sort();
        let mut truncated = false;
        for (base_offset, path) in paths {
            if truncated {
                tracing::warn!(path = %path.display(), "removing a segment that follows a truncated one");
                std::fs::remove_file(&path).map_err(io(format!("cannot remove {}", path.display())))?;
                continue;
            }
            if partition.segments.is_empty() {
                partition.end_offset = base_offset;
            }
            truncated = partition.recover_segment(path, committed_txn)?;
        }
        Ok(partition)
    }

    /// Indexes one segment; true if it had to be truncated.
    fn recover_segment(&mut self, path: PathBuf, committed_txn: u64) -> Result<bool, LogError> {
        let mut file = OpenOptions::new().read(true).write(true).open(&path).map_err(io(format!("cannot open {}", path.display())))?;
        let file_len = file.metadata().map_err(io(format!("cannot stat {}", path.display())))?.len();
        let segment = self.segments.len();
        let mut position = 0u64;
        let mut problem = None;
        while position < file_len {
            match read_batch(&mut file, position, file_len) {
                Ok((header, _)) if header.txn > committed_txn => {
                    problem = Some(format!("batch of uncommitted append {} at byte {position}", header.txn));
                }
                Ok((header, _)) if header.base_offset != self.end_offset => {
                    problem = Some(format!("batch at byte {position} starts at offset {} instead of {}", header.base_offset, self.end_offset));
                }
                Ok((header, _)) => {
                    self.batches.push(BatchPos { base_offset: header.base_offset, count: header.count, segment, position, len: header.total_len() });
                    self.end_offset = header.base_offset + i64::from(header.count);
                    position += header.total_len();
                    continue;
                }
                Err(reason) => problem = Some(format!("{reason} at byte {position}")),
            }
            break;
        }
        if let Some(problem) = &problem {
            tracing::warn!(path = %path.display(), "recovering the log: truncating {} bytes: {problem}", file_len - position);
            file.set_len(position).map_err(io(format!("cannot truncate {}", path.display())))?;
            file.sync_all().map_err(io(format!("cannot sync {}", path.display())))?;
        }
        self.segments.push(Segment { path, len: position });
        Ok(problem.is_some())
    }

    pub fn end_offset(&self) -> i64 {
        self.end_offset
    }

    /// Writes one batch for `records` at the end (rolling to a new segment when the active
    /// one is full); invisible until `commit`.
    pub fn write(&mut self, txn: u64, records: &[StoredRecord<'_>], segment_bytes: u64) -> Result<Pending, LogError> {
        let new_segment = self.segments.last().is_none_or(|s| s.len >= segment_bytes);
        if new_segment {
            let path = self.dir.join(format!("{:020}.log", self.end_offset));
            self.segments.push(Segment { path, len: 0 });
            self.active = None;
        }
        let segment = self.segments.len() - 1;
        let bytes = batch::encode(txn, self.end_offset, records);
        let position = self.segments[segment].len;
        let result = self.append_bytes(&bytes);
        if let Err(e) = result {
            self.undo(position, new_segment);
            return Err(e);
        }
        self.segments[segment].len += bytes.len() as u64;
        let batch = BatchPos { base_offset: self.end_offset, count: records.len() as u32, segment, position, len: bytes.len() as u64 };
        Ok(Pending { batch, new_segment })
    }

    fn append_bytes(&mut self, bytes: &[u8]) -> Result<(), LogError> {
        let path = &self.segments.last().expect("a segment to write to").path;
        if self.active.is_none() {
            let file = OpenOptions::new().create(true).append(true).open(path).map_err(io(format!("cannot open {}", path.display())))?;
            self.active = Some(file);
        }
        let file = self.active.as_mut().unwrap();
        file.write_all(bytes).map_err(io(format!("cannot write {}", path.display())))
    }

    pub fn sync(&mut self) -> Result<(), LogError> {
        if let Some(file) = &self.active {
            let path = &self.segments.last().unwrap().path;
            file.sync_data().map_err(io(format!("cannot sync {}", path.display())))?;
        }
        Ok(())
    }

    pub fn commit(&mut self, pending: Pending) {
        self.end_offset = pending.batch.base_offset + i64::from(pending.batch.count);
        self.batches.push(pending.batch);
    }

    pub fn rollback(&mut self, pending: Pending) {
        self.undo(pending.batch.position, pending.new_segment);
    }

    fn undo(&mut self, position: u64, new_segment: bool) {
        self.active = None;
        let result = if new_segment {
            let path = self.segments.pop().expect("the segment written to").path;
            std::fs::remove_file(&path).or_else(|e| if e.kind() == std::io::ErrorKind::NotFound { Ok(()) } else { Err(e) })
        } else {
            let segment = self.segments.last_mut().expect("the segment written to");
            segment.len = position;
            OpenOptions::new().write(true).open(&segment.path).and_then(|f| f.set_len(position))
        };
        if let Err(e) = result {
            // Recovery on the next open removes the uncommitted bytes anyway.
            tracing::warn!(dir = %self.dir.display(), "cannot undo a failed append: {e}");
        }
    }

    /// The batches holding up to `max` records from offset `from` on.
    pub fn plan_read(&self, from: i64, max: usize) -> ReadPlan {
        let first = self.batches.partition_point(|b| b.base_offset + i64::from(b.count) <= from);
        let mut reads = Vec::new();
        let mut records = 0;
        for b in &self.batches[first..] {
            if records >= max {
                break;
            }
            records += b.count as usize;
            let segment = &self.segments[b.segment];
            match reads.last_mut() {
                Some((path, _, end)) if *path == segment.path && *end == b.position => *end += b.len,
                _ => reads.push((segment.path.clone(), b.position, b.position + b.len)),
            }
        }
        ReadPlan { reads }
    }

    #[cfg(test)]
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }
}

impl ReadPlan {
    pub fn execute(self, topic: &str, partition: i32, from: i64, max: usize) -> Result<Vec<ConsumerRecord>, LogError> {
        let mut out = Vec::new();
        for (path, start, end) in self.reads {
            let mut file = File::open(&path).map_err(io(format!("cannot open {}", path.display())))?;
            let mut position = start;
            while position < end {
                let (header, payload) = read_batch(&mut file, position, end)
                    .map_err(|reason| LogError::Corrupt { path: path.display().to_string(), reason })?;
                let records = batch::decode(topic, partition, &header, &payload)
                    .map_err(|reason| LogError::Corrupt { path: path.display().to_string(), reason })?;
                out.extend(records.into_iter().filter(|r| r.offset >= from));
                position += header.total_len();
            }
        }
        out.truncate(max);
        Ok(out)
    }
}

/// Reads and checks the batch at `position`; an error says why it is not a whole, intact batch.
fn read_batch(file: &mut File, position: u64, limit: u64) -> Result<(BatchHeader, Vec<u8>), String> {
    if limit - position < HEADER_LEN as u64 {
        return Err("a torn batch header".into());
    }
    file.seek(SeekFrom::Start(position)).map_err(|e| e.to_string())?;
    let mut header = [0u8; HEADER_LEN];
    file.read_exact(&mut header).map_err(|e| e.to_string())?;
    let header = BatchHeader::parse(&header).ok_or("a batch with an unknown format")?;
    if position + header.total_len() > limit {
        return Err("a torn batch".into());
    }
    let mut payload = vec![0u8; header.payload_len as usize];
    file.read_exact(&mut payload).map_err(|e| e.to_string())?;
    if !header.checksum_ok(&payload) {
        return Err("a batch whose checksum does not match".into());
    }
    Ok((header, payload))
}

pub fn partition_dir(topic_dir: &Path, partition: i32) -> PathBuf {
    topic_dir.join(partition.to_string())
}
