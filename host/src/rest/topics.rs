//! `/topics`: the topic log over HTTP, for the `wasmconnect topics|consume|produce` commands.
//! Keys and values travel as UTF-8 text, which is what those commands read and write.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wasmconnect_log::{ProducerRecord, TopicPartition};

use super::error::ErrorBody;
use super::{ApiError, AppState, JsonBody, Path, Query, blocking};
use crate::tenancy::Caller;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(describe)).routes(routes!(read, produce))
}

#[utoipa::path(get, path = "/topics", tag = "topics", summary = "Topic names",
    responses((status = 200, body = Vec<String>)))]
async fn list(State(state): State<AppState>, caller: Caller) -> Json<Vec<String>> {
    Json(state.log.topics().into_iter().filter(|topic| caller.sees_topic(topic)).collect())
}

#[derive(Serialize, ToSchema)]
struct TopicDescription {
    name: String,
    /// The next offset to be written, per partition.
    end_offsets: Vec<i64>,
}

#[utoipa::path(get, path = "/topics/{topic}", tag = "topics", summary = "A topic's partitions and end offsets",
    params(("topic" = String, Path)),
    responses((status = 200, body = TopicDescription), (status = 404, body = ErrorBody)))]
async fn describe(State(state): State<AppState>, caller: Caller, Path(topic): Path<String>) -> Result<Json<TopicDescription>, ApiError> {
    let partitions = partitions(&state, &caller, &topic)?;
    let end_offsets = (0..partitions)
        .map(|partition| state.log.end_offset(&TopicPartition { topic: topic.clone(), partition }))
        .collect::<Result<_, _>>()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(TopicDescription { name: topic, end_offsets }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ReadParams {
    /// The partition to read; 0 when absent.
    #[serde(default)]
    #[param(minimum = 0)]
    partition: i32,
    /// The first offset to read; 0 when absent.
    #[serde(default)]
    #[param(minimum = 0)]
    offset: i64,
    /// The most records to answer (500 when absent, at most 10000).
    max: Option<usize>,
}

#[derive(Serialize, Deserialize, ToSchema)]
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
    #[schema(schema_with = header_pairs)]
    pub headers: Vec<(String, Option<String>)>,
}

/// `[name, value]` pairs; a value may be null.
fn header_pairs() -> utoipa::openapi::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaType, Type};
    let pair = ArrayBuilder::new()
        .prefix_items([ObjectBuilder::new().schema_type(Type::String), ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null]))])
        .min_items(Some(2))
        .max_items(Some(2));
    ArrayBuilder::new().items(pair).build()
}

#[utoipa::path(get, path = "/topics/{topic}/records", tag = "topics", summary = "Read records, keys and values as text",
    params(("topic" = String, Path), ReadParams),
    responses((status = 200, body = Vec<TextRecord>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path(topic): Path<String>,
    Query(params): Query<ReadParams>,
) -> Result<Json<Vec<TextRecord>>, ApiError> {
    let partitions = partitions(&state, &caller, &topic)?;
    if topic == state.herder.config_topic() {
        return Err(ApiError::Forbidden(format!(
            "{topic} holds the connectors' configs with their passwords as given, so its records are not shown here; \
             GET /connectors/{{name}}/config shows a config with its passwords hidden"
        )));
    }
    if params.partition < 0 || params.offset < 0 {
        return Err(ApiError::BadRequest(format!("partition and offset cannot be negative, not {} and {}", params.partition, params.offset)));
    }
    if params.partition >= partitions {
        return Err(ApiError::NotFound(format!("Topic {topic} has no partition {} (it has {partitions})", params.partition)));
    }
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

#[utoipa::path(post, path = "/topics/{topic}/records", tag = "topics",
    summary = "Append records; the answer gives each one's partition and offset",
    params(("topic" = String, Path)),
    request_body = Vec<TextRecord>,
    responses((status = 200, body = Vec<TextRecord>), (status = 400, body = ErrorBody)))]
async fn produce(
    State(state): State<AppState>,
    caller: Caller,
    Path(topic): Path<String>,
    JsonBody(records): JsonBody<Vec<TextRecord>>,
) -> Result<Json<Vec<TextRecord>>, ApiError> {
    // Refused whether or not the topic exists, so this says nothing about other tenants.
    if let Caller::Tenant(tenant) = &caller
        && !tenant.allows_topic(&topic)
    {
        return Err(ApiError::BadRequest(format!(
            "tenant {} may write only to topics starting with {:?}, not to {topic}",
            tenant.name, tenant.topic_prefix
        )));
    }
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

/// The topic's partition count; a topic the caller may not see answers as a missing one.
fn partitions(state: &AppState, caller: &Caller, topic: &str) -> Result<i32, ApiError> {
    state
        .log
        .partitions(topic)
        .filter(|_| caller.sees_topic(topic))
        .ok_or_else(|| ApiError::NotFound(format!("Topic {topic} does not exist")))
}
