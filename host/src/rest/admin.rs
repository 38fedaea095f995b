//! `/admin/loggers`: log levels at run time, as in Kafka Connect.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ErrorBody;
use super::auth::AdminOnly;
use super::{ApiError, AppState, JsonBody, Path};
use crate::loggers::{LEVELS, LogLevels, ROOT, check_name};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(level, set_level))
}

#[derive(Serialize, Deserialize, ToSchema)]
struct Level {
    #[schema(schema_with = level_schema)]
    level: String,
}

fn level_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(LEVELS.iter().copied()))
        .description(Some("A log level (any case)"))
        .build()
}


fn levels(state: &AppState) -> Result<&Arc<LogLevels>, ApiError> {
    state
        .loggers
        .as_ref()
        .ok_or_else(|| ApiError::NotFound("this worker's log levels are managed by the program that embeds it".into()))
}

#[utoipa::path(get, path = "/admin/loggers", tag = "admin", summary = "Loggers that have a level of their own",
    responses((status = 200, body = BTreeMap<String, Level>), (status = 404, body = ErrorBody)))]
async fn list(_: AdminOnly, State(state): State<AppState>) -> Result<Json<BTreeMap<String, Level>>, ApiError> {
    let levels = levels(&state)?.levels();
    Ok(Json(levels.into_iter().map(|(logger, level)| (logger, Level { level })).collect()))
}

/// A logger without a level of its own has the root level.
#[utoipa::path(get, path = "/admin/loggers/{logger}", tag = "admin", summary = "A logger's level",
    params(("logger" = String, Path, pattern = "^[A-Za-z0-9_:.-]+$", description = "A module path such as `wasmconnect::worker`, or `root`")),
    responses((status = 200, body = Level), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn level(_: AdminOnly, State(state): State<AppState>, Path(logger): Path<String>) -> Result<Json<Level>, ApiError> {
    check_name(&logger).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let levels = levels(&state)?.levels();
    let level = levels.get(&logger).or_else(|| levels.get(ROOT)).cloned().unwrap_or_default();
    Ok(Json(Level { level }))
}

#[utoipa::path(put, path = "/admin/loggers/{logger}", tag = "admin", summary = "Set a logger's level",
    params(("logger" = String, Path, pattern = "^[A-Za-z0-9_:.-]+$", description = "A module path such as `wasmconnect::worker`, or `root`")),
    request_body = Level,
    responses(
        (status = 200, description = "The loggers whose level changed", body = Vec<String>),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
async fn set_level(
    _: AdminOnly,
    State(state): State<AppState>,
    Path(logger): Path<String>,
    JsonBody(request): JsonBody<Level>,
) -> Result<Json<Vec<String>>, ApiError> {
    let changed = levels(&state)?.set(&logger, &request.level).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(Json(changed))
}
