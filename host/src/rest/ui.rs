//! `/ui`: the web console. Its page, scripts and style are compiled into the binary, so a
//! worker serves it with nothing else installed and the browser fetches nothing from
//! elsewhere. The console is a client of the REST API like any other, so these routes are
//! not part of the OpenAPI document, which describes Kafka Connect's API.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use super::{ApiError, Path};

/// (file name, content type, content). The page loads the others by relative URLs.
const ASSETS: &[(&str, &str, &str)] = &[
    ("index.html", "text/html; charset=utf-8", include_str!("ui/index.html")),
    ("console.css", "text/css; charset=utf-8", include_str!("ui/console.css")),
    ("console.js", "text/javascript; charset=utf-8", include_str!("ui/console.js")),
    ("api.js", "text/javascript; charset=utf-8", include_str!("ui/api.js")),
    ("connectors.js", "text/javascript; charset=utf-8", include_str!("ui/connectors.js")),
    ("editor.js", "text/javascript; charset=utf-8", include_str!("ui/editor.js")),
    ("topics.js", "text/javascript; charset=utf-8", include_str!("ui/topics.js")),
];

/// Only this worker's own scripts and styles run on the page: the console needs nothing
/// else, and a record value shown in the browser can never become markup that loads or runs
/// anything.
const POLICY: &str = "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        // Relative, so that the page's relative URLs also resolve behind a proxy that
        // serves the worker under a path prefix.
        .route("/ui", get(|| async { Redirect::permanent("ui/") }))
        .route("/ui/", get(|| async { asset("index.html") }))
        .route("/ui/{file}", get(|Path(file): Path<String>| async move { asset(&file) }))
}

fn asset(file: &str) -> Result<Response, ApiError> {
    let (_, content_type, body) = ASSETS
        .iter()
        .find(|(name, _, _)| *name == file)
        .ok_or_else(|| ApiError::NotFound(format!("the console has no file {file}")))?;
    let mut response = (*body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // The files change only with the binary; revalidating is cheap and never shows a stale
    // console after an upgrade.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}
