//! Where things live in the log directory, and the per-topic metadata file.
//!
//! `<dir>/<topic>.meta` holds the partition count and the `compacted` flag; partition `p`
//! lives in `<dir>/<topic>-<p>/` as Kafka lays it out. Neither name can collide with another
//! topic's or with `commits.log`: partition directories end in `-<digits>`, metadata files
//! in `.meta`, and topic names cannot contain `/`.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{LogError, TopicConfig, validate_topic_name};

const META_EXTENSION: &str = "meta";

pub fn io(context: String) -> impl FnOnce(std::io::Error) -> LogError {
    move |source| LogError::Io { context, source }
}

pub fn partition_dir(dir: &Path, topic: &str, partition: i32) -> PathBuf {
    dir.join(format!("{topic}-{partition}"))
}

fn meta_path(dir: &Path, topic: &str) -> PathBuf {
    dir.join(format!("{topic}.{META_EXTENSION}"))
}

/// Makes entries created or renamed in `dir` survive a power loss, not only their contents.
pub fn sync_dir(dir: &Path) -> Result<(), LogError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(format!("cannot sync the directory {}", dir.display())))
}

/// Writes the metadata atomically (temporary file, fsync, rename) so a crash leaves either
/// no topic or a complete one: the file is written after the partition directories.
pub fn write(dir: &Path, topic: &str, config: TopicConfig) -> Result<(), LogError> {
    let path = meta_path(dir, topic);
    let tmp = path.with_extension("meta.tmp");
    let text = format!("partitions={}\ncompacted={}\n", config.partitions, config.compacted);
    File::create(&tmp)
        .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.sync_all()))
        .map_err(io(format!("cannot write {}", tmp.display())))?;
    std::fs::rename(&tmp, &path).map_err(io(format!("cannot rename {} to {}", tmp.display(), path.display())))?;
    sync_dir(dir)
}

pub fn read(dir: &Path, topic: &str) -> Result<TopicConfig, LogError> {
    let path = meta_path(dir, topic);
    let text = std::fs::read_to_string(&path).map_err(io(format!("cannot read {}", path.display())))?;
    let mut partitions = None;
    let mut compacted = false;
    for line in text.lines() {
        match line.split_once('=') {
            Some(("partitions", v)) => partitions = v.trim().parse().ok(),
            Some(("compacted", v)) => compacted = v.trim() == "true",
            _ => {}
        }
    }
    let partitions = partitions.filter(|&p: &i32| p > 0).ok_or_else(|| LogError::Corrupt {
        path: path.display().to_string(),
        reason: "no valid partition count".into(),
    })?;
    Ok(TopicConfig { partitions, compacted })
}

/// The topics whose metadata file exists, i.e. whose creation completed.
pub fn list_topics(dir: &Path) -> Result<Vec<String>, LogError> {
    let entries = std::fs::read_dir(dir).map_err(io(format!("cannot list {}", dir.display())))?;
    let mut topics = Vec::new();
    for entry in entries {
        let path = entry.map_err(io(format!("cannot list {}", dir.display())))?.path();
        if path.extension().is_some_and(|e| e == META_EXTENSION)
            && let Some(topic) = path.file_stem().and_then(|s| s.to_str())
            && validate_topic_name(topic).is_ok()
        {
            topics.push(topic.to_owned());
        }
    }
    topics.sort();
    Ok(topics)
}
