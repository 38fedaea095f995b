//! `rest.auth=tenants`: every request but `GET /`, `GET /health` and the console's files carries
//! `Authorization: Bearer TOKEN`. The middleware finds whose token it is; handlers take the
//! [`Caller`] (or [`AdminOnly`]) as an extractor and show a tenant only what is its own.
//! Without `rest.auth` every caller is an admin, which is Kafka Connect's behaviour.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState};
use crate::herder::{Herder, HerderError};
use crate::tenancy::Caller;

/// What anyone may call: the version, and the readiness probe of load balancers.
const OPEN_PATHS: &[&str] = &["/", "/health"];

const NO_TOKEN: &str = "this worker needs a token: send the header Authorization: Bearer TOKEN";

pub async fn authenticate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let caller = match &state.tenants {
        None => Some(Caller::Admin),
        Some(tenants) => match bearer_token(&request) {
            Some(token) => match tenants.authenticate(token) {
                Some(caller) => Some(caller),
                None => return ApiError::Unauthorized("the bearer token is not one this worker knows".into()).into_response(),
            },
            None if is_open(request.uri().path()) => None,
            None => return ApiError::Unauthorized(NO_TOKEN.into()).into_response(),
        },
    };
    if let Some(caller) = caller {
        request.extensions_mut().insert(caller);
    }
    next.run(request).await
}

/// The console's static files are open too: they hold no data, and the console then asks
/// for a token for its API calls.
fn is_open(path: &str) -> bool {
    OPEN_PATHS.contains(&path) || path == "/ui" || path.starts_with("/ui/")
}

fn bearer_token(request: &Request) -> Option<&str> {
    let value = request.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| ApiError::Unauthorized(NO_TOKEN.into()))
    }
}

/// For the worker's own endpoints (log levels, metrics of every connector): admins only.
pub struct AdminOnly;

impl<S: Send + Sync> FromRequestParts<S> for AdminOnly {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Caller::from_request_parts(parts, state).await? {
            Caller::Admin => Ok(AdminOnly),
            Caller::Tenant(tenant) => {
                Err(ApiError::Forbidden(format!("{} concerns the whole worker: tenant {}'s token cannot use it", parts.uri.path(), tenant.name)))
            }
        }
    }
}

/// Whether the caller may see connector `name`. Another tenant's connector answers exactly
/// as a missing one does, so that tenants cannot learn each other's connector names.
pub fn check_owner(herder: &Herder, caller: &Caller, name: &str) -> Result<(), ApiError> {
    if matches!(caller, Caller::Admin) || caller.owns(&herder.config(name)?) {
        Ok(())
    } else {
        Err(HerderError::NotFound(name.to_owned()).into())
    }
}
