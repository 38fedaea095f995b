//! Opening a partition after any kind of stop: everything after the last intact batch of a
//! committed append is cut off (a torn write, a batch failing its CRC, or the batches of an
//! append whose commit marker never reached `commits.log`), and the index is rebuilt.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use super::batch;
use super::index::{BatchPos, PartitionIndex};
use super::meta::io;
use super::segment::{SegmentWriter, segment_base_offset};
use crate::LogError;

/// What recovery cut off the end of a partition: from `offset` on, `bytes` bytes, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Cut {
    pub offset: i64,
    pub bytes: u64,
    pub reason: String,
}

/// Recovers the partition in `dir`; appends of transactions after `committed_txn` are
/// rolled back.
pub fn recover_partition(dir: &Path, committed_txn: u64) -> Result<(SegmentWriter, PartitionIndex, Option<Cut>), LogError> {
    std::fs::create_dir_all(dir).map_err(io(format!("cannot create {}", dir.display())))?;
    let segments = list_segments(dir)?;
    let mut index = PartitionIndex::new(segments.first().map_or(0, |(base, _)| *base));
    let mut last = None;
    let mut cut = None;
    let mut segments = segments.into_iter();
    for (_, path) in segments.by_ref() {
        index.add_segment(path.clone());
        let (len, truncated) = recover_segment(&path, committed_txn, &mut index)?;
        last = Some((path, len));
        if truncated.is_some() {
            cut = truncated;
            break;
        }
    }
    // Segments after a truncated one hold nothing that may stay.
    for (_, path) in segments {
        tracing::warn!(path = %path.display(), "recovering the log: removing a segment that follows a truncated one");
        let len = std::fs::metadata(&path).map_or(0, |m| m.len());
        std::fs::remove_file(&path).map_err(io(format!("cannot remove {}", path.display())))?;
        if let Some(cut) = cut.as_mut() {
            cut.bytes += len;
        }
    }
    let end_offset = index.end_offset();
    Ok((SegmentWriter::new(dir.to_owned(), last, end_offset), index, cut))
}

fn list_segments(dir: &Path) -> Result<Vec<(i64, PathBuf)>, LogError> {
    let entries = std::fs::read_dir(dir).map_err(io(format!("cannot list {}", dir.display())))?;
    let mut segments = Vec::new();
    for entry in entries {
        let path = entry.map_err(io(format!("cannot list {}", dir.display())))?.path();
        if let Some(base) = segment_base_offset(&path) {
            segments.push((base, path));
        }
    }
    segments.sort();
    Ok(segments)
}

/// Indexes the intact, committed batches of one segment and truncates whatever follows
/// them; returns the remaining length and what was cut off.
fn recover_segment(path: &Path, committed_txn: u64, index: &mut PartitionIndex) -> Result<(u64, Option<Cut>), LogError> {
    let mut file = OpenOptions::new().read(true).write(true).open(path).map_err(io(format!("cannot open {}", path.display())))?;
    let file_len = file.metadata().map_err(io(format!("cannot stat {}", path.display())))?.len();
    let mut position = 0;
    let problem = loop {
        if position == file_len {
            break None;
        }
        match check_batch(&mut file, position, file_len, committed_txn, index.end_offset()) {
            Ok(batch) => {
                index.add_batch(batch);
                position += batch.len;
            }
            Err(problem) => break Some(problem),
        }
    };
    let Some(reason) = problem else { return Ok((position, None)) };
    let cut = Cut { offset: index.end_offset(), bytes: file_len - position, reason };
    tracing::warn!(
        path = %path.display(),
        "recovering the log: truncating {} bytes at byte {position} (offset {}): {}",
        cut.bytes,
        cut.offset,
        cut.reason
    );
    file.set_len(position).map_err(io(format!("cannot truncate {}", path.display())))?;
    file.sync_all().map_err(io(format!("cannot sync {}", path.display())))?;
    Ok((position, Some(cut)))
}

/// The batch at `position` if it is intact, committed and continues the offsets.
fn check_batch(file: &mut File, position: u64, file_len: u64, committed_txn: u64, next_offset: i64) -> Result<BatchPos, String> {
    let (header, _) = batch::read_at(file, position, file_len)?;
    if header.txn > committed_txn {
        return Err(format!("a batch of append {} which never committed (the last commit is {committed_txn})", header.txn));
    }
    if header.base_offset != next_offset {
        return Err(format!("a batch starting at offset {} instead of {next_offset}", header.base_offset));
    }
    Ok(BatchPos { base_offset: header.base_offset, count: header.count, position, len: header.total_len() })
}
