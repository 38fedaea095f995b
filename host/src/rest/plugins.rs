//! `/connector-plugins`: what is installed, each plugin's config definition, and config
//! validation from the plugin's manifest alone (no instance is started).

use axum::extract::{Path, Query, State};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::{ApiError, AppState, JsonBody};
use crate::herder::config_store::Config;
use crate::herder::validate::validate;
use crate::runtime::registry::ConfigKey;
use crate::runtime::Plugin;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/connector-plugins", get(list))
        .route("/connector-plugins/{plugin}/config", get(definition))
        .route("/connector-plugins/{plugin}/config/validate", put(validate_config))
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListParams {
    connectors_only: Option<bool>,
}

/// With `?connectorsOnly=false` the built-in converters are listed too, as Kafka Connect does.
async fn list(State(state): State<AppState>, Query(params): Query<ListParams>) -> Json<Vec<Value>> {
    let mut plugins: Vec<Value> = state
        .herder
        .registry()
        .classes()
        .into_iter()
        .map(|((class, version), plugin)| json!({ "class": class, "type": plugin.manifest.kind.as_str(), "version": version }))
        .collect();
    if params.connectors_only == Some(false) {
        for class in [wasmconnect_convert::JSON_CONVERTER, wasmconnect_convert::STRING_CONVERTER, wasmconnect_convert::BYTE_ARRAY_CONVERTER] {
            plugins.push(json!({ "class": class, "type": "converter", "version": env!("CARGO_PKG_VERSION") }));
        }
    }
    Json(plugins)
}

fn resolve(state: &AppState, name: &str) -> Result<std::sync::Arc<Plugin>, ApiError> {
    state
        .herder
        .registry()
        .resolve(name, None)
        .ok_or_else(|| ApiError::NotFound(format!("No plugin named {name} is installed; GET /connector-plugins lists them")))
}

async fn definition(State(state): State<AppState>, Path(name): Path<String>) -> Result<Json<Vec<Value>>, ApiError> {
    let plugin = resolve(&state, &name)?;
    Ok(Json(plugin.manifest.config.iter().map(key_definition).collect()))
}

async fn validate_config(
    State(state): State<AppState>,
    Path(name): Path<String>,
    JsonBody(config): JsonBody<Config>,
) -> Result<Json<Value>, ApiError> {
    let plugin = resolve(&state, &name)?;
    let problems = validate(&plugin, &config);
    let configs: Vec<Value> = plugin
        .manifest
        .config
        .iter()
        .map(|key| {
            let errors: Vec<&str> = problems.iter().filter(|p| p.key == key.name).map(|p| p.message.as_str()).collect();
            json!({
                "definition": key_definition(key),
                "value": {
                    "name": key.name,
                    "value": config.get(&key.name).or(key.default.as_ref()),
                    "recommended_values": [],
                    "errors": errors,
                    "visible": true
                }
            })
        })
        .collect();
    let mut groups: Vec<&str> = plugin.manifest.config.iter().filter_map(|k| k.group.as_deref()).collect();
    groups.dedup();
    Ok(Json(json!({
        "name": plugin.manifest.class,
        "error_count": problems.len(),
        "groups": groups,
        "configs": configs,
    })))
}

fn key_definition(key: &ConfigKey) -> Value {
    json!({
        "name": key.name,
        "type": key.kind.as_str(),
        "required": key.required && key.default.is_none(),
        "default_value": key.default,
        "importance": format!("{:?}", key.importance).to_uppercase(),
        "documentation": key.documentation,
        "group": key.group,
        "width": "NONE",
        "display_name": key.name,
        "dependents": [],
        "order": -1
    })
}
