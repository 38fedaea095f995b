//! Committed source offsets, to resume where the last run stopped.

/// The last committed offset of each source partition (`None` where nothing was committed).
pub fn committed(partitions: &[serde_json::Value]) -> Vec<Option<serde_json::Value>> {
    let texts: Vec<String> = partitions.iter().map(|p| p.to_string()).collect();
    crate::wit::offsets::get(&texts)
        .into_iter()
        .map(|o| o.and_then(|text| serde_json::from_str(&text).ok()))
        .collect()
}
