//! `/topics`: the topic log over HTTP, for the `wasmconnect topics|consume|produce` commands.
//! Keys and values travel as UTF-8 text, which is what those commands read and write.

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use wasmconnect_log::{ProducerRecord, TopicPartition};

use super::{ApiError, AppState, JsonBody, blocking};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/topics", get(list))
        .route("/topics/{topic}", get(describe))
        .route("/topics/{topic}/records", get(read).post(produce))
}

async fn list(State(state): State<AppState>) -> Json<Vec<String>> {
    Json(state.log.topics())
}

#[derive(Serialize)]
struct TopicDescription {
    name: String,
    /// The next offset to be written, per partition.
    end_offsets: Vec<i64>,
}

async fn describe(State(state): State<AppState>, Path(topic): Path<String>) -> Result<Json<TopicDescription>, ApiError> {
    let partitions = state.log.partitions(&topic).ok_or_else(|| unknown(&topic))?;
    let end_offsets = (0..partitions)
        .map(|partition| state.log.end_offset(&TopicPartition { topic: topic.clone(), partition }))
        .collect::<Result<_, _>>()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(TopicDescription { name: topic, end_offsets }))
}

#[derive(Deserialize)]
struct ReadParams {
    #[serde(default)]
    partition: i32,
    #[serde(default)]
    offset: i64,
    max: Option<usize>,
}

#[derive(Serialize, Deserialize)]
pub struct TextRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
    pub key: Option<String>,
    pub value: Option<String>,
    /// Header names and values, in order (a dead-letter record's error context, say).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, Option<String>)>,
}

async fn read(
    State(state): State<AppState>,
    Path(topic): Path<String>,
    Query(params): Query<ReadParams>,
) -> Result<Json<Vec<TextRecord>>, ApiError> {
    state.log.partitions(&topic).ok_or_else(|| unknown(&topic))?;
    let tp = TopicPartition { topic, partition: params.partition };
    let max = params.max.unwrap_or(500).min(10_000);
    let records = blocking(move || state.log.read(&tp, params.offset, max).map_err(|e| ApiError::BadRequest(e.to_string()))).await?;
    let text = |b: Option<Vec<u8>>| b.map(|b| String::from_utf8_lossy(&b).into_owned());
    Ok(Json(
        records
            .into_iter()
            .map(|r| TextRecord {
                partition: Some(r.partition),
                offset: Some(r.offset),
                timestamp: Some(r.timestamp),
                key: text(r.key),
                value: text(r.value),
                headers: r.headers.into_iter().map(|(name, value)| (name, text(value))).collect(),
            })
            .collect(),
    ))
}

async fn produce(
    State(state): State<AppState>,
    Path(topic): Path<String>,
    JsonBody(records): JsonBody<Vec<TextRecord>>,
) -> Result<Json<Vec<TextRecord>>, ApiError> {
    let batch: Vec<ProducerRecord> = records
        .into_iter()
        .map(|r| ProducerRecord {
            topic: topic.clone(),
            partition: r.partition,
            key: r.key.map(String::into_bytes),
            value: r.value.map(String::into_bytes),
            timestamp: r.timestamp,
            headers: r.headers.into_iter().map(|(name, value)| (name, value.map(String::into_bytes))).collect(),
        })
        .collect();
    let written = blocking(move || state.log.append(batch).map_err(|e| ApiError::BadRequest(e.to_string()))).await?;
    Ok(Json(
        written
            .into_iter()
            .map(|(partition, offset)| TextRecord { partition: Some(partition), offset: Some(offset), timestamp: None, key: None, value: None, headers: Vec::new() })
            .collect(),
    ))
}

fn unknown(topic: &str) -> ApiError {
    ApiError::NotFound(format!("Topic {topic} does not exist"))
}
