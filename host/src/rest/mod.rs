//! The Kafka Connect REST API (plus `/topics`, which the `wasmconnect` CLI uses to list,
//! consume and produce without a Kafka client).

mod admin;
mod connectors;
mod error;
mod plugins;
pub mod topics;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::routing::get;
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use wasmconnect_log::TopicLog;

use crate::herder::Herder;
pub use error::ApiError;

#[derive(Clone)]
pub struct AppState {
    pub herder: Arc<Herder>,
    pub log: Arc<dyn TopicLog>,
    /// Run-time log levels; absent when the embedding program manages logging itself.
    pub loggers: Option<Arc<crate::loggers::LogLevels>>,
}

/// Request bodies above this are refused with 413: a connector config is a few KiB.
pub const MAX_BODY_BYTES: usize = 2 << 20;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(root))
        .route("/health", get(health))
        .merge(connectors::routes())
        .merge(plugins::routes())
        .merge(admin::routes())
        .merge(topics::routes())
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

async fn root() -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "commit": option_env!("WASMCONNECT_COMMIT").unwrap_or("unknown"),
        "kafka_cluster_id": "wasmconnect-embedded",
    }))
}

/// The worker answers only once the herder has restored its connectors, so a running
/// server is a ready one.
async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "status": "healthy",
        "message": "The worker has restored its connectors and serves requests."
    }))
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

/// Runs blocking herder work (which may wait for tasks to stop) off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(format!("request handler failed: {e}")))?
}
