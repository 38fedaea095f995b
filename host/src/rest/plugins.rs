//! `/connector-plugins`: what is installed, each plugin's config definition, and config
//! validation from the plugin's manifest alone (no instance is started).

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ErrorBody;
use super::{ApiError, AppState, JsonBody, Path, Query};
use crate::herder::config_store::Config;
use crate::runtime::Plugin;
use crate::runtime::registry::ConfigKey;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(failures))
        .routes(routes!(definition))
        .routes(routes!(validate_config))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
struct ListParams {
    /// `false` lists the converters, transforms and predicates too.
    connectors_only: Option<bool>,
}

#[derive(Serialize, ToSchema)]
struct PluginInfo {
    class: String,
    /// `source`, `sink`, `converter`, `transformation` or `predicate`.
    #[serde(rename = "type")]
    kind: &'static str,
    version: String,
}

/// A config key's definition, as Kafka Connect's `ConfigKeyInfo`.
#[derive(Serialize, ToSchema)]
struct ConfigKeyInfo {
    name: String,
    #[serde(rename = "type")]
    kind: &'static str,
    required: bool,
    default_value: Option<String>,
    importance: &'static str,
    documentation: String,
    group: Option<String>,
    width: &'static str,
    display_name: String,
    dependents: Vec<String>,
    order: i32,
}

impl ConfigKeyInfo {
    /// A key outside the connector's own definition, such as `transforms.mask.fields`.
    fn undeclared(name: &str) -> ConfigKeyInfo {
        ConfigKeyInfo {
            name: name.to_owned(),
            kind: "STRING",
            required: false,
            default_value: None,
            importance: "HIGH",
            documentation: String::new(),
            group: None,
            width: "NONE",
            display_name: name.to_owned(),
            dependents: Vec::new(),
            order: -1,
        }
    }

    fn new(key: &ConfigKey) -> ConfigKeyInfo {
        ConfigKeyInfo {
            name: key.name.clone(),
            kind: key.kind.as_str(),
            required: key.required && key.default.is_none(),
            default_value: key.default.clone(),
            importance: key.importance.as_str(),
            documentation: key.documentation.clone(),
            group: key.group.clone(),
            width: "NONE",
            display_name: key.name.clone(),
            dependents: Vec::new(),
            order: -1,
        }
    }
}

/// The validation result, as Kafka Connect's `ConfigInfos`.
#[derive(Serialize, ToSchema)]
struct ConfigInfos {
    name: String,
    error_count: usize,
    groups: Vec<String>,
    configs: Vec<ConfigInfo>,
}

#[derive(Serialize, ToSchema)]
struct ConfigInfo {
    definition: ConfigKeyInfo,
    value: ConfigValueInfo,
}

#[derive(Serialize, ToSchema)]
struct ConfigValueInfo {
    name: String,
    value: Option<String>,
    recommended_values: Vec<String>,
    errors: Vec<String>,
    visible: bool,
}

/// With `?connectorsOnly=false` the converters, transforms and predicates are listed too, as
/// Kafka Connect does.
#[utoipa::path(get, path = "/connector-plugins", tag = "plugins", summary = "Installed plugins",
    params(ListParams),
    responses((status = 200, body = Vec<PluginInfo>), (status = 400, body = ErrorBody)))]
async fn list(State(state): State<AppState>, Query(params): Query<ListParams>) -> Json<Vec<PluginInfo>> {
    let mut plugins: Vec<PluginInfo> = state
        .herder
        .registry()
        .classes()
        .into_iter()
        .map(|((class, version), plugin)| PluginInfo { class, kind: plugin.manifest.kind.as_str(), version })
        .collect();
    if params.connectors_only == Some(false) {
        for class in [wasmconnect_convert::JSON_CONVERTER, wasmconnect_convert::STRING_CONVERTER, wasmconnect_convert::BYTE_ARRAY_CONVERTER] {
            plugins.push(PluginInfo { class: class.into(), kind: "converter", version: env!("CARGO_PKG_VERSION").into() });
        }
        for (kind, class, version) in state.herder.registry().transform_classes() {
            plugins.push(PluginInfo { class, kind, version });
        }
    }
    Json(plugins)
}

/// A component of the plugin path that could not be loaded.
#[derive(Serialize, ToSchema)]
struct PluginFailure {
    /// The component's file.
    path: String,
    /// Why: not a component, no manifest or a bad one, another world than its manifest says,
    /// or a contract this host does not run.
    error: String,
}

/// Beyond Kafka Connect: the components on the plugin path that are not offered, and why
/// (the same errors are logged). It names files on the worker, so it is for admins only.
#[utoipa::path(get, path = "/connector-plugins/errors", tag = "plugins", summary = "Plugins that could not be loaded",
    responses((status = 200, body = Vec<PluginFailure>)))]
async fn failures(_: super::auth::AdminOnly, State(state): State<AppState>) -> Json<Vec<PluginFailure>> {
    let registry = state.herder.registry();
    let failures = registry.failures().iter().map(|f| PluginFailure { path: f.path.display().to_string(), error: f.message.clone() });
    Json(failures.collect())
}

fn resolve(state: &AppState, name: &str) -> Result<std::sync::Arc<Plugin>, ApiError> {
    state
        .herder
        .registry()
        .resolve(name, None)
        .ok_or_else(|| ApiError::NotFound(format!("No plugin named {name} is installed; GET /connector-plugins lists them")))
}

#[utoipa::path(get, path = "/connector-plugins/{plugin}/config", tag = "plugins", summary = "A plugin's config definition",
    params(("plugin" = String, Path, description = "Class name, simple class name or alias")),
    responses((status = 200, body = Vec<ConfigKeyInfo>), (status = 404, body = ErrorBody)))]
async fn definition(State(state): State<AppState>, Path(name): Path<String>) -> Result<Json<Vec<ConfigKeyInfo>>, ApiError> {
    let plugin = resolve(&state, &name)?;
    Ok(Json(plugin.manifest.config.iter().map(ConfigKeyInfo::new).collect()))
}

#[utoipa::path(put, path = "/connector-plugins/{plugin}/config/validate", tag = "plugins",
    summary = "Validate a connector config against the plugin's definition",
    params(("plugin" = String, Path, description = "Class name, simple class name or alias")),
    request_body = Config,
    responses((status = 200, body = ConfigInfos), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn validate_config(
    State(state): State<AppState>,
    Path(name): Path<String>,
    JsonBody(config): JsonBody<Config>,
) -> Result<Json<ConfigInfos>, ApiError> {
    let plugin = resolve(&state, &name)?;
    let problems = state.herder.validate(&plugin, &config);
    let errors = |key: &str| problems.iter().filter(|p| p.key == key).map(|p| p.message.clone()).collect();
    let mut configs: Vec<ConfigInfo> = plugin
        .manifest
        .config
        .iter()
        .map(|key| ConfigInfo {
            definition: ConfigKeyInfo::new(key),
            value: ConfigValueInfo {
                name: key.name.clone(),
                value: config.get(&key.name).or(key.default.as_ref()).cloned(),
                recommended_values: key.valid_values.clone(),
                errors: errors(&key.name),
                visible: true,
            },
        })
        .collect();
    // Problems under keys the connector's manifest does not define (its transforms' keys,
    // say) get an entry of their own, so every counted error is shown.
    let mut others: Vec<&str> = problems.iter().map(|p| p.key.as_str()).filter(|k| plugin.config_key(k).is_none()).collect();
    others.dedup();
    for key in others {
        configs.push(ConfigInfo {
            definition: ConfigKeyInfo::undeclared(key),
            value: ConfigValueInfo { name: key.to_owned(), value: config.get(key).cloned(), recommended_values: Vec::new(), errors: errors(key), visible: true },
        });
    }
    let mut groups: Vec<String> = plugin.manifest.config.iter().filter_map(|k| k.group.clone()).collect();
    groups.dedup();
    Ok(Json(ConfigInfos { name: plugin.manifest.class.clone(), error_count: problems.len(), groups, configs }))
}
