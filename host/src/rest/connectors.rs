//! `/connectors`, as in Kafka Connect.

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, AppState, JsonBody, blocking};
use crate::herder::OffsetEntry;
use crate::herder::config_store::{Config, TargetState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/connectors", get(list).post(create))
        .route("/connectors/{name}", get(info).delete(delete))
        .route("/connectors/{name}/config", get(config).put(put_config).patch(patch_config))
        .route("/connectors/{name}/status", get(status))
        .route("/connectors/{name}/tasks", get(tasks))
        .route("/connectors/{name}/tasks/{task}/status", get(task_status))
        .route("/connectors/{name}/tasks-config", get(tasks_config))
        .route("/connectors/{name}/offsets", get(offsets).patch(alter_offsets).delete(reset_offsets))
        .route("/connectors/{name}/topics", get(topics))
        .route("/connectors/{name}/topics/reset", put(reset_topics))
        .route("/connectors/{name}/pause", put(pause))
        .route("/connectors/{name}/resume", put(resume))
        .route("/connectors/{name}/stop", put(stop))
        .route("/connectors/{name}/restart", post(restart))
        .route("/connectors/{name}/tasks/{task}/restart", post(restart_task))
}

#[derive(Deserialize)]
struct CreateRequest {
    name: Option<String>,
    config: Option<Config>,
    initial_state: Option<InitialState>,
}

#[derive(Deserialize)]
#[serde(rename_all = "UPPERCASE")]
enum InitialState {
    Running,
    Paused,
    Stopped,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RestartParams {
    #[serde(default)]
    include_tasks: Option<bool>,
    #[serde(default)]
    only_failed: Option<bool>,
}

/// `GET /connectors`, or with `?expand=status` and/or `?expand=info` a map from each name to
/// the requested details.
async fn list(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Json<Value>, ApiError> {
    let expand: Vec<String> = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .filter(|(k, _)| k == "expand")
        .map(|(_, v)| v.into_owned())
        .collect();
    let names = state.herder.connector_names();
    if expand.is_empty() {
        return Ok(Json(json!(names)));
    }
    let mut expanded = serde_json::Map::new();
    for name in names {
        let mut details = serde_json::Map::new();
        for what in &expand {
            match what.as_str() {
                "status" => details.insert("status".into(), json!(state.herder.status(&name)?)),
                "info" => details.insert("info".into(), json!(state.herder.info(&name)?)),
                other => return Err(ApiError::BadRequest(format!("cannot expand {other:?}: use expand=status or expand=info"))),
            };
        }
        expanded.insert(name, Value::Object(details));
    }
    Ok(Json(Value::Object(expanded)))
}

async fn create(State(state): State<AppState>, JsonBody(request): JsonBody<CreateRequest>) -> Result<Response, ApiError> {
    let config = request.config.ok_or_else(|| {
        ApiError::BadRequest("the request needs \"config\": {\"name\":\"...\",\"config\":{\"connector.class\":\"...\",...}}".into())
    })?;
    let name = request.name.or_else(|| config.get("name").cloned()).unwrap_or_default();
    let target = match request.initial_state {
        None | Some(InitialState::Running) => TargetState::Started,
        Some(InitialState::Paused) => TargetState::Paused,
        Some(InitialState::Stopped) => TargetState::Stopped,
    };
    let info = blocking(move || Ok(state.herder.create(&name, config, target)?)).await?;
    let location = format!("/connectors/{}", url::form_urlencoded::byte_serialize(info.name.as_bytes()).collect::<String>());
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(info)).into_response())
}

async fn info(State(state): State<AppState>, Path(name): Path<String>) -> Result<Response, ApiError> {
    Ok(Json(state.herder.info(&name)?).into_response())
}

async fn config(State(state): State<AppState>, Path(name): Path<String>) -> Result<Json<Config>, ApiError> {
    Ok(Json(state.herder.config(&name)?))
}

async fn put_config(
    State(state): State<AppState>,
    Path(name): Path<String>,
    JsonBody(config): JsonBody<Config>,
) -> Result<Response, ApiError> {
    let (info, created) = blocking(move || Ok(state.herder.put_config(&name, config)?)).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(info)).into_response())
}

async fn patch_config(
    State(state): State<AppState>,
    Path(name): Path<String>,
    JsonBody(patch): JsonBody<BTreeMap<String, Option<String>>>,
) -> Result<Json<crate::herder::ConnectorInfo>, ApiError> {
    Ok(Json(blocking(move || Ok(state.herder.patch_config(&name, patch)?)).await?))
}

async fn status(State(state): State<AppState>, Path(name): Path<String>) -> Result<Response, ApiError> {
    Ok(Json(state.herder.status(&name)?).into_response())
}

async fn tasks(State(state): State<AppState>, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    let tasks = state.herder.task_configs(&name)?;
    let body = tasks
        .into_iter()
        .enumerate()
        .map(|(task, config)| json!({ "id": { "connector": name, "task": task }, "config": config }))
        .collect();
    Ok(Json(Value::Array(body)))
}

async fn task_status(
    State(state): State<AppState>,
    Path((name, task)): Path<(String, u32)>,
) -> Result<Json<Value>, ApiError> {
    let status = state.herder.status(&name)?;
    let task = status
        .tasks
        .into_iter()
        .find(|t| t.id == task)
        .ok_or_else(|| ApiError::NotFound(format!("Task {name}-{task} not found")))?;
    Ok(Json(json!(task)))
}

async fn tasks_config(State(state): State<AppState>, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    let tasks = state.herder.task_configs(&name)?;
    let body: serde_json::Map<String, Value> =
        tasks.into_iter().enumerate().map(|(task, config)| (format!("{name}-{task}"), json!(config))).collect();
    Ok(Json(Value::Object(body)))
}

async fn delete(State(state): State<AppState>, Path(name): Path<String>) -> Result<StatusCode, ApiError> {
    blocking(move || Ok(state.herder.delete(&name)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn pause(State(state): State<AppState>, Path(name): Path<String>) -> Result<StatusCode, ApiError> {
    blocking(move || Ok(state.herder.pause(&name)?)).await?;
    Ok(StatusCode::ACCEPTED)
}

async fn resume(State(state): State<AppState>, Path(name): Path<String>) -> Result<StatusCode, ApiError> {
    blocking(move || Ok(state.herder.resume(&name)?)).await?;
    Ok(StatusCode::ACCEPTED)
}

async fn stop(State(state): State<AppState>, Path(name): Path<String>) -> Result<StatusCode, ApiError> {
    blocking(move || Ok(state.herder.stop(&name)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Plain `POST .../restart` answers 204; with `includeTasks` or `onlyFailed` it answers 202
/// with the status, as Kafka Connect does.
async fn restart(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(params): Query<RestartParams>,
) -> Result<Response, ApiError> {
    let detailed = params.include_tasks.is_some() || params.only_failed.is_some();
    let include_tasks = params.include_tasks.unwrap_or(false);
    let only_failed = params.only_failed.unwrap_or(false);
    let herder = state.herder.clone();
    let restarted = name.clone();
    blocking(move || Ok(herder.restart(&restarted, include_tasks, only_failed)?)).await?;
    if !detailed {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    Ok((StatusCode::ACCEPTED, Json(state.herder.status(&name)?)).into_response())
}

async fn restart_task(
    State(state): State<AppState>,
    Path((name, task)): Path<(String, u32)>,
) -> Result<StatusCode, ApiError> {
    blocking(move || Ok(state.herder.restart_task(&name, task)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn offsets(State(state): State<AppState>, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    Ok(Json(state.herder.offsets(&name)?))
}

#[derive(Deserialize)]
struct OffsetsRequest {
    offsets: Vec<OffsetEntry>,
}

async fn alter_offsets(
    State(state): State<AppState>,
    Path(name): Path<String>,
    JsonBody(request): JsonBody<OffsetsRequest>,
) -> Result<Json<Value>, ApiError> {
    blocking(move || Ok(state.herder.alter_offsets(&name, Some(request.offsets))?)).await?;
    Ok(Json(json!({ "message": "The offsets of the connector have been changed; they apply when it is resumed" })))
}

async fn reset_offsets(State(state): State<AppState>, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    blocking(move || Ok(state.herder.alter_offsets(&name, None)?)).await?;
    Ok(Json(json!({ "message": "The offsets of the connector have been reset; it starts from the beginning when resumed" })))
}

async fn topics(State(state): State<AppState>, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    let topics = state.herder.active_topics(&name)?;
    Ok(Json(json!({ name: { "topics": topics } })))
}

async fn reset_topics(State(state): State<AppState>, Path(name): Path<String>) -> Result<StatusCode, ApiError> {
    state.herder.reset_topics(&name)?;
    Ok(StatusCode::ACCEPTED)
}
