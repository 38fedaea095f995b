//! `/admin/loggers`: log levels at run time, as in Kafka Connect.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, AppState, JsonBody};
use crate::loggers::{LogLevels, ROOT};

pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/loggers", get(list)).route("/admin/loggers/{logger}", get(level).put(set_level))
}

fn levels(state: &AppState) -> Result<&Arc<LogLevels>, ApiError> {
    state
        .loggers
        .as_ref()
        .ok_or_else(|| ApiError::NotFound("this worker's log levels are managed by the program that embeds it".into()))
}

async fn list(State(state): State<AppState>) -> Result<Json<BTreeMap<String, Value>>, ApiError> {
    let levels = levels(&state)?.levels();
    Ok(Json(levels.into_iter().map(|(logger, level)| (logger, json!({ "level": level }))).collect()))
}

/// A logger without a level of its own has the root level.
async fn level(State(state): State<AppState>, Path(logger): Path<String>) -> Result<Json<Value>, ApiError> {
    let levels = levels(&state)?.levels();
    let level = levels.get(&logger).or_else(|| levels.get(ROOT)).cloned().unwrap_or_default();
    Ok(Json(json!({ "level": level })))
}

#[derive(Deserialize)]
struct LevelRequest {
    level: String,
}

async fn set_level(
    State(state): State<AppState>,
    Path(logger): Path<String>,
    JsonBody(request): JsonBody<LevelRequest>,
) -> Result<Json<Vec<String>>, ApiError> {
    let changed = levels(&state)?.set(&logger, &request.level).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(Json(changed))
}
