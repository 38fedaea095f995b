//! What readers see of a partition: the committed batches and where they are on disk, so a
//! read seeks straight to the first batch it needs instead of scanning the segments.

use std::fs::File;
use std::path::PathBuf;

use super::batch;
use super::meta::io;
use crate::{ConsumerRecord, LogError};

/// Where one batch is: its offsets and its byte range in its segment file.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchPos {
    pub base_offset: i64,
    pub count: u32,
    pub position: u64,
    pub len: u64,
}

impl BatchPos {
    fn end_offset(&self) -> i64 {
        self.base_offset + i64::from(self.count)
    }
}

pub struct PartitionIndex {
    segments: Vec<PathBuf>,
    /// Each batch with the index of its segment in `segments`, in offset order.
    batches: Vec<(usize, BatchPos)>,
    end_offset: i64,
}

/// The byte ranges a read needs, planned under the lock and read without it: committed
/// bytes never change, so appends can go on meanwhile.
pub struct ReadPlan {
    reads: Vec<(PathBuf, u64, u64)>,
}

impl PartitionIndex {
    pub fn new(start_offset: i64) -> PartitionIndex {
        PartitionIndex { segments: Vec::new(), batches: Vec::new(), end_offset: start_offset }
    }

    pub fn add_segment(&mut self, path: PathBuf) {
        self.segments.push(path);
    }

    /// Makes a batch of the newest segment visible.
    pub fn add_batch(&mut self, batch: BatchPos) {
        let segment = self.segments.len().checked_sub(1).expect("a segment before its batches");
        self.end_offset = batch.end_offset();
        self.batches.push((segment, batch));
    }

    /// The offset the next record will get.
    pub fn end_offset(&self) -> i64 {
        self.end_offset
    }

    /// The batches holding up to `max` records from offset `from` on.
    pub fn plan_read(&self, from: i64, max: usize) -> ReadPlan {
        let first = self.batches.partition_point(|(_, b)| b.end_offset() <= from);
        let mut reads: Vec<(PathBuf, u64, u64)> = Vec::new();
        let mut records = 0;
        for (segment, b) in &self.batches[first..] {
            if records >= max {
                break;
            }
            records += (b.end_offset() - from.max(b.base_offset)) as usize;
            let path = &self.segments[*segment];
            match reads.last_mut() {
                Some((last, _, end)) if last == path && *end == b.position => *end += b.len,
                _ => reads.push((path.clone(), b.position, b.position + b.len)),
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
            let corrupt = |reason| LogError::Corrupt { path: path.display().to_string(), reason };
            let mut file = File::open(&path).map_err(io(format!("cannot open {}", path.display())))?;
            let mut position = start;
            while position < end {
                let (header, payload) = batch::read_at(&mut file, position, end).map_err(corrupt)?;
                let records = batch::decode(topic, partition, &header, &payload).map_err(corrupt)?;
                out.extend(records.into_iter().filter(|r| r.offset >= from));
                position += header.total_len();
            }
        }
        out.truncate(max);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(base_offset: i64, count: u32, position: u64) -> BatchPos {
        BatchPos { base_offset, count, position, len: 10 }
    }

    #[test]
    fn a_read_plan_starts_at_the_batch_holding_the_offset_and_spans_segments() {
        let mut index = PartitionIndex::new(0);
        index.add_segment("a".into());
        index.add_batch(pos(0, 5, 0));
        index.add_batch(pos(5, 5, 10));
        index.add_segment("b".into());
        index.add_batch(pos(10, 5, 0));
        assert_eq!(index.end_offset(), 15);
        let plan = index.plan_read(7, 100);
        assert_eq!(plan.reads, vec![("a".into(), 10, 20), ("b".into(), 0, 10)]);
        // Three records of the second batch are enough for max = 3.
        assert_eq!(index.plan_read(7, 3).reads, vec![("a".into(), 10, 20)]);
        assert!(index.plan_read(15, 10).reads.is_empty());
    }
}
