//! The Kafka Connect REST API (plus `/topics`, which the `wasmconnect` CLI uses to list,
//! consume and produce without a Kafka client), and the web console at `/ui`.

mod admin;
mod auth;
mod connectors;
mod error;
mod openapi;
mod plugins;
pub mod tls;
pub mod topics;
mod ui;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wasmconnect_log::TopicLog;

use crate::herder::Herder;
pub use error::ApiError;

#[derive(Clone)]
pub struct AppState {
    pub herder: Arc<Herder>,
    pub log: Arc<dyn TopicLog>,
    /// Run-time log levels; absent when the embedding program manages logging itself.
    pub loggers: Option<Arc<crate::loggers::LogLevels>>,
    /// With `rest.auth=tenants`, whose tokens are accepted.
    pub tenants: Option<Arc<crate::tenancy::Tenants>>,
}

/// Request bodies above this are refused with 413: a connector config is a few KiB.
pub const MAX_BODY_BYTES: usize = 2 << 20;

/// The API, and its OpenAPI document at `/openapi.json`, generated from the same handlers;
/// the console is added after the document is taken, so it stays out of it.
pub fn router(state: AppState) -> Router {
    let (router, api) = OpenApiRouter::with_openapi(openapi::document())
        .routes(routes!(root))
        .routes(routes!(health))
        .routes(routes!(metrics))
        .merge(connectors::routes())
        .merge(plugins::routes())
        .merge(admin::routes())
        .merge(topics::routes())
        .split_for_parts();
    let spec = Arc::new(api);
    router
        .route("/openapi.json", axum::routing::get(move || async move { Json(spec.as_ref().clone()) }))
        .merge(ui::routes())
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::authenticate))
        .with_state(state)
}

/// What `GET /` answers.
#[derive(serde::Serialize, utoipa::ToSchema)]
struct ServerInfo {
    version: &'static str,
    commit: &'static str,
    kafka_cluster_id: &'static str,
}

#[utoipa::path(get, path = "/", tag = "worker", summary = "The worker's version",
    responses((status = 200, body = ServerInfo)))]
async fn root() -> Json<ServerInfo> {
    Json(ServerInfo {
        version: env!("CARGO_PKG_VERSION"),
        commit: option_env!("WASMCONNECT_COMMIT").unwrap_or("unknown"),
        kafka_cluster_id: "wasmconnect-embedded",
    })
}

#[derive(serde::Serialize, utoipa::ToSchema)]
struct Health {
    status: &'static str,
    message: &'static str,
}

/// The worker answers only once the herder has restored its connectors, so a running
/// server is a ready one.
#[utoipa::path(get, path = "/health", tag = "worker", summary = "Whether the worker is ready",
    responses((status = 200, body = Health)))]
async fn health() -> Json<Health> {
    Json(Health { status: "healthy", message: "The worker has restored its connectors and serves requests." })
}

/// Prometheus scrapes this: the OpenMetrics text format.
#[utoipa::path(get, path = "/metrics", tag = "worker", summary = "Task and plugin metrics for Prometheus",
    responses((status = 200, content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8", body = String)))]
async fn metrics(_: auth::AdminOnly, axum::extract::State(state): axum::extract::State<AppState>) -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
        state.herder.metrics().encode(),
    )
}

/// A JSON request body whose parse errors come back in the Kafka Connect error format
/// (axum's own `Json` answers in plain text). The Content-Type is not insisted on.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let too_large = || ApiError::PayloadTooLarge(format!("the request body is larger than the limit of {MAX_BODY_BYTES} bytes"));
        // Refuse a declared oversize body before reading any of it.
        let declared = req.headers().get(axum::http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
        if declared.is_some_and(|len| len > MAX_BODY_BYTES) {
            return Err(too_large());
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                ApiError::BadRequest(format!("cannot read the request body: {e}"))
            }
        })?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::BadRequest(format!("the request body is not valid JSON for this endpoint: {e}")))
    }
}

/// Path parameters; one that does not parse (a task id of `-1`) names nothing, so 404 in the
/// API's error format rather than axum's plain-text 400.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(t)| Path(t))
            .map_err(|e| ApiError::NotFound(format!("{} names nothing here: {}", parts.uri.path(), e.body_text())))
    }
}

/// Query parameters, with a bad one answered in the API's error format.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(t)| Query(t))
            .map_err(|e| ApiError::BadRequest(e.body_text()))
    }
}

/// Runs blocking herder work (which may wait for tasks to stop) off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(format!("request handler failed: {e}")))?
}
