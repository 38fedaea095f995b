//! The one error type of the REST API, answered as Kafka Connect does:
//! `{"error_code":<HTTP status>,"message":"..."}`.

use axum::Json;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use crate::herder::HerderError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No bearer token, or one the worker does not know (`rest.auth=tenants`).
    #[error("{0}")]
    Unauthorized(String),
    /// A tenant's token on an admin's endpoint.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<HerderError> for ApiError {
    fn from(e: HerderError) -> Self {
        let message = e.to_string();
        match e {
            HerderError::NotFound(_) => ApiError::NotFound(message),
            HerderError::AlreadyExists(_) | HerderError::Rebalancing => ApiError::Conflict(message),
            HerderError::BadRequest(_) | HerderError::InvalidConfig(_) => ApiError::BadRequest(message),
            HerderError::Internal(_) => ApiError::Internal(message),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!("{self}");
        }
        let mut response = (status, Json(ErrorBody { error_code: status.as_u16(), message: self.to_string() })).into_response();
        if status == StatusCode::UNAUTHORIZED {
            // RFC 6750: a 401 says which scheme to use.
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"wasmconnect\""));
        }
        response
    }
}

/// The body of every error answer.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The HTTP status code.
    pub error_code: u16,
    pub message: String,
}

/// Unknown paths answer in the API's error format too, not with an empty body.
pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(format!("{} is not a path of this API; GET /openapi.json lists them", uri.path()))
}

pub async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed(format!("{method} is not allowed on {}; GET /openapi.json lists the methods", uri.path()))
}
