//! The parts of the OpenAPI document that no handler states: title, description, tags.
//! Paths and schemas come from the `#[utoipa::path]` annotations on the handlers.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "wasmconnect REST API",
        description = "Kafka Connect's REST API, served by wasmconnect: connectors, their tasks, \
            status, offsets and topics; installed plugins and config validation; log levels. \
            Every error answers `{\"error_code\": <HTTP status>, \"message\": \"...\"}`. \
            `/topics` is wasmconnect's own, for reading and writing the embedded topic log.",
    ),
    // Query parameter types are not collected from the handlers.
    components(schemas(super::connectors::Expand)),
    tags(
        (name = "worker", description = "The worker itself"),
        (name = "connectors", description = "Connectors and their tasks"),
        (name = "offsets", description = "Connector offsets (the connector must be STOPPED to change them)"),
        (name = "plugins", description = "Installed connector plugins"),
        (name = "admin", description = "Log levels at run time"),
        (name = "topics", description = "The embedded topic log"),
    )
)]
struct Document;

pub fn document() -> utoipa::openapi::OpenApi {
    Document::openapi()
}
