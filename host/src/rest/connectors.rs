//! `/connectors`, as in Kafka Connect.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::check_owner;
use super::error::ErrorBody;
use super::{ApiError, AppState, JsonBody, Path, Query, blocking};
use crate::tenancy::{Caller, OWNER_KEY, admit};
use crate::herder::config_store::{Config, TargetState};
use crate::herder::{ConnectorInfo, ConnectorOffsets, ConnectorStatus, TaskId, TaskStatus};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(info, delete))
        .routes(routes!(config, put_config, patch_config))
        .routes(routes!(status))
        .routes(routes!(tasks))
        .routes(routes!(task_status))
        .routes(routes!(tasks_config))
        .routes(routes!(offsets, alter_offsets, reset_offsets))
        .routes(routes!(topics))
        .routes(routes!(reset_topics))
        .routes(routes!(pause))
        .routes(routes!(resume))
        .routes(routes!(stop))
        .routes(routes!(restart))
        .routes(routes!(restart_task))
}

#[derive(Deserialize, ToSchema)]
struct CreateRequest {
    /// The connector's name, taken from `config.name` when absent: no `/`, no control
    /// characters, not empty.
    #[schema(pattern = "^[^/\\x00-\\x1f\\x7f]+$")]
    name: Option<String>,
    /// Optional here only so that its absence gets a helpful message.
    #[schema(required = true, value_type = Config)]
    config: Option<Config>,
    /// The state the connector starts in; RUNNING when absent.
    initial_state: Option<InitialState>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
enum InitialState {
    Running,
    Paused,
    Stopped,
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
struct RestartParams {
    /// Restart the tasks too.
    #[serde(default)]
    include_tasks: Option<bool>,
    /// Restart only what has FAILED.
    #[serde(default)]
    only_failed: Option<bool>,
}

/// What `?expand=` can ask for.
#[derive(Clone, Copy, PartialEq, ToSchema)]
#[schema(rename_all = "lowercase")]
pub(super) enum Expand {
    Status,
    Info,
}

impl Expand {
    fn parse(value: &str) -> Result<Expand, ApiError> {
        match value {
            "status" => Ok(Expand::Status),
            "info" => Ok(Expand::Info),
            other => Err(ApiError::BadRequest(format!("cannot expand {other:?}: use expand=status or expand=info"))),
        }
    }
}

/// `GET /connectors`: the names, or with `?expand=` a map from each name to its details.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
enum ConnectorList {
    Names(Vec<String>),
    Expanded(BTreeMap<String, ConnectorDetails>),
}

#[derive(Serialize, ToSchema)]
struct ConnectorDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<ConnectorStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    info: Option<ConnectorInfo>,
}

/// One task and its configuration.
#[derive(Serialize, ToSchema)]
struct TaskInfo {
    id: TaskId,
    config: Config,
}

#[derive(Serialize, ToSchema)]
struct Message {
    message: &'static str,
}

/// The topics a connector has used since it was created or its topics were reset.
#[derive(Serialize, ToSchema)]
struct ActiveTopics {
    topics: Vec<String>,
}

/// `GET /connectors`, or with `?expand=status` and/or `?expand=info` a map from each name to
/// the requested details. (`expand` repeats, which axum's `Query` cannot parse.)
#[utoipa::path(get, path = "/connectors", tag = "connectors", summary = "List connectors",
    params(("expand" = Option<Vec<Expand>>, Query, description = "Add each connector's status and/or info", explode)),
    responses((status = 200, body = ConnectorList), (status = 400, body = ErrorBody)))]
async fn list(State(state): State<AppState>, caller: Caller, RawQuery(query): RawQuery) -> Result<Json<ConnectorList>, ApiError> {
    let expand = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .filter(|(k, _)| k == "expand")
        .map(|(_, v)| Expand::parse(&v))
        .collect::<Result<Vec<_>, _>>()?;
    let mut names = state.herder.connector_names();
    names.retain(|name| check_owner(&state.herder, &caller, name).is_ok());
    if expand.is_empty() {
        return Ok(Json(ConnectorList::Names(names)));
    }
    let mut expanded = BTreeMap::new();
    for name in names {
        let status = if expand.contains(&Expand::Status) { Some(state.herder.status(&name)?) } else { None };
        let info = if expand.contains(&Expand::Info) { Some(state.herder.info(&name)?) } else { None };
        expanded.insert(name, ConnectorDetails { status, info });
    }
    Ok(Json(ConnectorList::Expanded(expanded)))
}

#[utoipa::path(post, path = "/connectors", tag = "connectors", summary = "Create a connector",
    request_body = CreateRequest,
    responses(
        (status = 201, body = ConnectorInfo, headers(("Location" = String, description = "The new connector's path"))),
        (status = 400, description = "Invalid name or config", body = ErrorBody),
        (status = 409, description = "A connector of that name exists", body = ErrorBody),
    ))]
async fn create(State(state): State<AppState>, caller: Caller, JsonBody(request): JsonBody<CreateRequest>) -> Result<Response, ApiError> {
    let config = request.config.ok_or_else(|| {
        ApiError::BadRequest("the request needs \"config\": {\"name\":\"...\",\"config\":{\"connector.class\":\"...\",...}}".into())
    })?;
    let name = request.name.or_else(|| config.get("name").cloned()).unwrap_or_default();
    let target = match request.initial_state {
        None | Some(InitialState::Running) => TargetState::Started,
        Some(InitialState::Paused) => TargetState::Paused,
        Some(InitialState::Stopped) => TargetState::Stopped,
    };
    let _changing = caller.changing().await;
    let config = admit(&state.herder, &caller, &name, config)?;
    let info = blocking(move || Ok(state.herder.create(&name, config, target)?)).await?;
    let location = format!("/connectors/{}", url::form_urlencoded::byte_serialize(info.name.as_bytes()).collect::<String>());
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(info)).into_response())
}

#[utoipa::path(get, path = "/connectors/{name}", tag = "connectors", summary = "A connector's config and tasks",
    params(("name" = String, Path)),
    responses((status = 200, body = ConnectorInfo), (status = 404, body = ErrorBody)))]
async fn info(State(state): State<AppState>, caller: Caller, Path(name): Path<String>) -> Result<Json<ConnectorInfo>, ApiError> {
    check_owner(&state.herder, &caller, &name)?;
    Ok(Json(state.herder.info(&name)?))
}

#[utoipa::path(get, path = "/connectors/{name}/config", tag = "connectors", summary = "A connector's config",
    params(("name" = String, Path)),
    responses((status = 200, body = Config), (status = 404, body = ErrorBody)))]
async fn config(State(state): State<AppState>, caller: Caller, Path(name): Path<String>) -> Result<Json<Config>, ApiError> {
    check_owner(&state.herder, &caller, &name)?;
    Ok(Json(state.herder.config(&name)?))
}

#[utoipa::path(put, path = "/connectors/{name}/config", tag = "connectors", summary = "Create or replace a connector's config",
    params(("name" = String, Path)),
    request_body = Config,
    responses(
        (status = 200, description = "Updated", body = ConnectorInfo),
        (status = 201, description = "Created", body = ConnectorInfo),
        (status = 400, body = ErrorBody),
    ))]
async fn put_config(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    JsonBody(config): JsonBody<Config>,
) -> Result<Response, ApiError> {
    let _changing = caller.changing().await;
    let config = admit(&state.herder, &caller, &name, config)?;
    let (info, created) = blocking(move || Ok(state.herder.put_config(&name, config)?)).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(info)).into_response())
}

#[utoipa::path(patch, path = "/connectors/{name}/config", tag = "connectors",
    summary = "Change some keys of a connector's config; a null value removes the key",
    params(("name" = String, Path)),
    request_body = BTreeMap<String, Option<String>>,
    responses((status = 200, body = ConnectorInfo), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn patch_config(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    JsonBody(mut patch): JsonBody<BTreeMap<String, Option<String>>>,
) -> Result<Json<ConnectorInfo>, ApiError> {
    check_owner(&state.herder, &caller, &name)?;
    let _changing = caller.changing().await;
    if let Caller::Tenant(tenant) = &caller {
        // A tenant's connector stays its own: the patched config is checked like a new one.
        let mut patched = state.herder.config(&name)?;
        for (key, value) in &patch {
            match value {
                Some(value) => patched.insert(key.clone(), value.clone()),
                None => patched.remove(key),
            };
        }
        admit(&state.herder, &caller, &name, patched)?;
        patch.insert(OWNER_KEY.to_owned(), Some(tenant.name.clone()));
    }
    Ok(Json(blocking(move || Ok(state.herder.patch_config(&name, patch)?)).await?))
}

#[utoipa::path(get, path = "/connectors/{name}/status", tag = "connectors", summary = "The state of a connector and its tasks",
    params(("name" = String, Path)),
    responses((status = 200, body = ConnectorStatus), (status = 404, body = ErrorBody)))]
async fn status(State(state): State<AppState>, caller: Caller, Path(name): Path<String>) -> Result<Json<ConnectorStatus>, ApiError> {
    check_owner(&state.herder, &caller, &name)?;
    Ok(Json(state.herder.status(&name)?))
}

#[utoipa::path(get, path = "/connectors/{name}/tasks", tag = "connectors", summary = "A connector's tasks and their configs",
    params(("name" = String, Path)),
    responses((status = 200, body = Vec<TaskInfo>), (status = 404, body = ErrorBody)))]
async fn tasks(State(state): State<AppState>, caller: Caller, Path(name): Path<String>) -> Result<Json<Vec<TaskInfo>>, ApiError> {
    check_owner(&state.herder, &caller, &name)?;
    let tasks = state.herder.task_configs(&name)?;
    Ok(Json(
        (0..)
            .zip(tasks)
            .map(|(task, config)| TaskInfo { id: TaskId { connector: name.clone(), task }, config })
            .collect(),
    ))
}

#[utoipa::path(get, path = "/connectors/{name}/tasks/{task}/status", tag = "connectors", summary = "The state of one task",
    params(("name" = String, Path), ("task" = u32, Path, minimum = 0)),
    responses((status = 200, body = TaskStatus), (status = 404, body = ErrorBody)))]
async fn task_status(
    State(state): State<AppState>,
    caller: Caller,
    Path((name, task)): Path<(String, u32)>,
) -> Result<Json<TaskStatus>, ApiError> {
    check_owner(&state.herder, &caller, &name)?;
    let status = state.herder.status(&name)?;
    let task = status
        .tasks
        .into_iter()
        .find(|t| t.id == task)
        .ok_or_else(|| ApiError::NotFound(format!("Task {name}-{task} not found")))?;
    Ok(Json(task))
}

#[utoipa::path(get, path = "/connectors/{name}/tasks-config", tag = "connectors",
    summary = "Each task's config, keyed by `<name>-<task>`",
    params(("name" = String, Path)),
    responses((status = 200, body = BTreeMap<String, Config>), (status = 404, body = ErrorBody)))]
async fn tasks_config(State(state): State<AppState>, caller: Caller, Path(name): Path<String>) -> Result<Json<BTreeMap<String, Config>>, ApiError> {
    check_owner(&state.herder, &caller, &name)?;
    let tasks = state.herder.task_configs(&name)?;
    Ok(Json(tasks.into_iter().enumerate().map(|(task, config)| (format!("{name}-{task}"), config)).collect()))
}

#[utoipa::path(delete, path = "/connectors/{name}", tag = "connectors", summary = "Stop and delete a connector",
    params(("name" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody)))]
async fn delete(State(state): State<AppState>, caller: Caller, Path(name): Path<String>) -> Result<StatusCode, ApiError> {
    check_owner(&state.herder, &caller, &name)?;
    blocking(move || Ok(state.herder.delete(&name)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/connectors/{name}/pause", tag = "connectors", summary = "Pause a connector and its tasks",
    params(("name" = String, Path)),
    responses((status = 202, description = "Pausing"), (status = 404, body = ErrorBody)))]
async fn pause(State(state): State<AppState>, caller: Caller, Path(name): Path<String>) -> Result<StatusCode, ApiError> {
    check_owner(&state.herder, &caller, &name)?;
    blocking(move || Ok(state.herder.pause(&name)?)).await?;
    Ok(StatusCode::ACCEPTED)
}

#[utoipa::path(put, path = "/connectors/{name}/resume", tag = "connectors", summary = "Resume a paused or stopped connector",
    params(("name" = String, Path)),
    responses((status = 202, description = "Resuming"), (status = 404, body = ErrorBody)))]
async fn resume(State(state): State<AppState>, caller: Caller, Path(name): Path<String>) -> Result<StatusCode, ApiError> {
    check_owner(&state.herder, &caller, &name)?;
    blocking(move || Ok(state.herder.resume(&name)?)).await?;
    Ok(StatusCode::ACCEPTED)
}

#[utoipa::path(put, path = "/connectors/{name}/stop", tag = "connectors",
    summary = "Stop a connector: its tasks are shut down, and its offsets may then be changed",
    params(("name" = String, Path)),
    responses((status = 204, description = "Stopped"), (status = 404, body = ErrorBody)))]
async fn stop(State(state): State<AppState>, caller: Caller, Path(name): Path<String>) -> Result<StatusCode, ApiError> {
    check_owner(&state.herder, &caller, &name)?;
    blocking(move || Ok(state.herder.stop(&name)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Plain `POST .../restart` answers 204; with `includeTasks` or `onlyFailed` it answers 202
/// with the status, as Kafka Connect does.
#[utoipa::path(post, path = "/connectors/{name}/restart", tag = "connectors", summary = "Restart a connector",
    params(("name" = String, Path), RestartParams),
    responses(
        (status = 204, description = "Restarted the connector"),
        (status = 202, description = "Restarting; with includeTasks or onlyFailed", body = ConnectorStatus),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
async fn restart(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Query(params): Query<RestartParams>,
) -> Result<Response, ApiError> {
    check_owner(&state.herder, &caller, &name)?;
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

#[utoipa::path(post, path = "/connectors/{name}/tasks/{task}/restart", tag = "connectors", summary = "Restart one task",
    params(("name" = String, Path), ("task" = u32, Path, minimum = 0)),
    responses((status = 204, description = "Restarted"), (status = 404, body = ErrorBody)))]
async fn restart_task(
    State(state): State<AppState>,
    caller: Caller,
    Path((name, task)): Path<(String, u32)>,
) -> Result<StatusCode, ApiError> {
    check_owner(&state.herder, &caller, &name)?;
    blocking(move || Ok(state.herder.restart_task(&name, task)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/connectors/{name}/offsets", tag = "offsets", summary = "A connector's committed offsets",
    params(("name" = String, Path)),
    responses((status = 200, body = ConnectorOffsets), (status = 404, body = ErrorBody)))]
async fn offsets(State(state): State<AppState>, caller: Caller, Path(name): Path<String>) -> Result<Json<ConnectorOffsets>, ApiError> {
    check_owner(&state.herder, &caller, &name)?;
    Ok(Json(state.herder.offsets(&name)?))
}

#[utoipa::path(patch, path = "/connectors/{name}/offsets", tag = "offsets", summary = "Change a STOPPED connector's offsets",
    params(("name" = String, Path)),
    request_body = ConnectorOffsets,
    responses(
        (status = 200, body = Message),
        (status = 400, description = "Not STOPPED, or offsets of the wrong shape", body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
async fn alter_offsets(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    JsonBody(request): JsonBody<ConnectorOffsets>,
) -> Result<Json<Message>, ApiError> {
    check_owner(&state.herder, &caller, &name)?;
    blocking(move || Ok(state.herder.alter_offsets(&name, Some(request.offsets))?)).await?;
    Ok(Json(Message { message: "The offsets of the connector have been changed; they apply when it is resumed" }))
}

#[utoipa::path(delete, path = "/connectors/{name}/offsets", tag = "offsets", summary = "Reset a STOPPED connector's offsets",
    params(("name" = String, Path)),
    responses((status = 200, body = Message), (status = 400, description = "Not STOPPED", body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn reset_offsets(State(state): State<AppState>, caller: Caller, Path(name): Path<String>) -> Result<Json<Message>, ApiError> {
    check_owner(&state.herder, &caller, &name)?;
    blocking(move || Ok(state.herder.alter_offsets(&name, None)?)).await?;
    Ok(Json(Message { message: "The offsets of the connector have been reset; it starts from the beginning when resumed" }))
}

#[utoipa::path(get, path = "/connectors/{name}/topics", tag = "connectors", summary = "The topics a connector has used",
    params(("name" = String, Path)),
    responses((status = 200, body = BTreeMap<String, ActiveTopics>), (status = 404, body = ErrorBody)))]
async fn topics(State(state): State<AppState>, caller: Caller, Path(name): Path<String>) -> Result<Json<BTreeMap<String, ActiveTopics>>, ApiError> {
    check_owner(&state.herder, &caller, &name)?;
    let topics = state.herder.active_topics(&name)?;
    Ok(Json(BTreeMap::from([(name, ActiveTopics { topics })])))
}

#[utoipa::path(put, path = "/connectors/{name}/topics/reset", tag = "connectors", summary = "Forget the topics a connector has used",
    params(("name" = String, Path)),
    responses((status = 202, description = "Reset"), (status = 404, body = ErrorBody)))]
async fn reset_topics(State(state): State<AppState>, caller: Caller, Path(name): Path<String>) -> Result<StatusCode, ApiError> {
    check_owner(&state.herder, &caller, &name)?;
    state.herder.reset_topics(&name)?;
    Ok(StatusCode::ACCEPTED)
}
