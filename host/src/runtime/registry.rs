//! The plugin registry: every component found on the plugin path, with its manifest.
//!
//! A plugin is a component `NAME.wasm` that describes itself: since contract 1.1.0 the
//! component exports its manifest, and a 1.0 plugin has a manifest `NAME.toml` beside it. The
//! manifest, not the file name, gives the plugin its identity, so several versions of one
//! plugin can sit side by side and `/connector-plugins/{p}/config/validate` needs no instance.
//! A component is compiled and checked against the world its manifest names when it is
//! loaded, so a broken one is reported at once (log and `/connector-plugins/errors`), not
//! when a task first needs it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PluginKind {
    Source,
    Sink,
    /// Single message transforms and predicates, several classes in one component.
    Transforms,
}

impl PluginKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::Source => "source",
            PluginKind::Sink => "sink",
            PluginKind::Transforms => "transforms",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConfigType {
    String,
    Int,
    Long,
    Double,
    Boolean,
    List,
    Password,
    Class,
}

impl ConfigType {
    /// The name Kafka Connect's ConfigDef uses.
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigType::String => "STRING",
            ConfigType::Int => "INT",
            ConfigType::Long => "LONG",
            ConfigType::Double => "DOUBLE",
            ConfigType::Boolean => "BOOLEAN",
            ConfigType::List => "LIST",
            ConfigType::Password => "PASSWORD",
            ConfigType::Class => "CLASS",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Importance {
    High,
    #[default]
    Medium,
    Low,
}

impl Importance {
    /// The name Kafka Connect's ConfigDef uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Importance::High => "HIGH",
            Importance::Medium => "MEDIUM",
            Importance::Low => "LOW",
        }
    }
}

/// One configuration key a plugin understands.
#[derive(Clone, Debug, Deserialize)]
pub struct ConfigKey {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ConfigType,
    #[serde(default)]
    pub required: bool,
    /// Any TOML scalar; kept as the text Kafka Connect would show.
    #[serde(default, deserialize_with = "scalar_as_string")]
    pub default: Option<String>,
    #[serde(default)]
    pub importance: Importance,
    #[serde(default)]
    pub documentation: String,
    #[serde(default)]
    pub group: Option<String>,
    /// The only values the key takes (case aside); for a list, of each item.
    #[serde(default, rename = "valid-values")]
    pub valid_values: Vec<String>,
    /// Bounds of a numeric key, inclusive.
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    pub kind: PluginKind,
    /// The Kafka Connect class name users put in `connector.class` (connectors only).
    #[serde(default)]
    pub class: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default, rename = "config")]
    pub config: Vec<ConfigKey>,
    /// The transforms a `transforms` component offers.
    #[serde(default, rename = "transform")]
    pub transforms: Vec<ClassManifest>,
    /// The predicates a `transforms` component offers.
    #[serde(default, rename = "predicate")]
    pub predicates: Vec<ClassManifest>,
}

impl Manifest {
    fn check(&self) -> Result<(), String> {
        match self.kind {
            PluginKind::Source | PluginKind::Sink if self.class.is_empty() => Err("a connector's manifest needs `class`".into()),
            PluginKind::Source | PluginKind::Sink if !(self.transforms.is_empty() && self.predicates.is_empty()) => {
                Err("only a manifest of kind \"transforms\" lists [[transform]] or [[predicate]] classes".into())
            }
            PluginKind::Transforms if !self.class.is_empty() || !self.config.is_empty() => {
                Err("a transforms manifest lists its classes and their config under [[transform]] and [[predicate]], not `class` or [[config]]".into())
            }
            PluginKind::Transforms if self.transforms.is_empty() && self.predicates.is_empty() => {
                Err("a transforms manifest needs at least one [[transform]] or [[predicate]]".into())
            }
            _ => Ok(()),
        }
    }
}

/// One transform or predicate class of a `transforms` component.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassManifest {
    /// The Kafka Connect class name users put in `transforms.NAME.type`.
    pub class: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub documentation: String,
    #[serde(default)]
    pub config: Vec<ConfigKey>,
}

impl ClassManifest {
    /// Whether `type` names this class: the class, its simple name (`MaskField$Value`) or an alias.
    fn answers_to(&self, class: &str) -> bool {
        self.class == class || self.class.rsplit('.').next() == Some(class) || self.aliases.iter().any(|a| a == class)
    }
}

/// A transform or predicate class, and the component that offers it.
#[derive(Clone, Debug)]
pub struct ClassRef {
    pub plugin: Arc<Plugin>,
    pub class: ClassManifest,
}

#[derive(Debug)]
pub struct Plugin {
    pub manifest: Manifest,
    pub component_path: PathBuf,
}

impl Plugin {
    pub fn config_key(&self, name: &str) -> Option<&ConfigKey> {
        self.manifest.config.iter().find(|k| k.name == name)
    }

    /// Whether `connector.class` names this plugin: its class, simple class name, an alias or its name.
    fn answers_to(&self, class: &str) -> bool {
        let m = &self.manifest;
        m.class == class
            || m.class.rsplit('.').next() == Some(class)
            || m.name == class
            || m.aliases.iter().any(|a| a == class)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("cannot read plugin path {path}: {source}")]
    ReadDir { path: PathBuf, source: std::io::Error },
    #[error("{component} is not a usable plugin component: {message}")]
    BadComponent { component: PathBuf, message: String },
    #[error(
        "plugin {component} has no manifest: it does not export one (wasmconnect:connector/plugin, contract 1.1) \
         and there is no {manifest} beside it"
    )]
    MissingManifest { component: PathBuf, manifest: PathBuf },
    #[error("plugin {component} exports its manifest and also has {manifest} beside it: remove the file, the component's own manifest is the one to use")]
    TwoManifests { component: PathBuf, manifest: PathBuf },
    #[error("invalid plugin manifest {path}: {message}")]
    BadManifest { path: PathBuf, message: String },
    #[error("{component}: its manifest says kind \"{kind}\", but the component does not implement that world: {message}")]
    WrongWorld { component: PathBuf, kind: &'static str, message: String },
}

/// What loading a component needs from the runtime, which compiles and instantiates it.
pub trait Inspect {
    /// The manifest the component exports (JSON), or `None` when it exports none. An error
    /// says why the file is not a component this host can run.
    fn embedded_manifest(&self, component: &Path) -> Result<Option<String>, String>;
    /// Whether the component implements the world of `kind`; the error names what is missing.
    fn check_world(&self, component: &Path, kind: PluginKind) -> Result<(), String>;
}

/// A component on the plugin path that could not be loaded, for `/connector-plugins/errors`.
#[derive(Clone, Debug)]
pub struct LoadFailure {
    pub path: PathBuf,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct PluginRegistry {
    plugins: Vec<Arc<Plugin>>,
    failures: Vec<LoadFailure>,
}

impl PluginRegistry {
    /// Scans each directory of the plugin path (and its sub-directories, one level deep) for
    /// `*.wasm` components and loads each (see [`load_plugin`]).
    pub fn scan(plugin_path: &[PathBuf], inspect: &dyn Inspect) -> Result<PluginRegistry, RegistryError> {
        let mut plugins = Vec::new();
        let mut failures = Vec::new();
        for dir in plugin_path {
            for component in wasm_files(dir)? {
                // One broken plugin must not keep the others (or the worker) from starting.
                let plugin = match load_plugin(&component, inspect) {
                    Ok(plugin) => plugin,
                    Err(e) => {
                        tracing::error!(path = %component.display(), "skipping a plugin: {e}");
                        failures.push(LoadFailure { path: component, message: e.to_string() });
                        continue;
                    }
                };
                tracing::info!(
                    name = %plugin.manifest.name,
                    version = %plugin.manifest.version,
                    kind = plugin.manifest.kind.as_str(),
                    path = %component.display(),
                    "loaded plugin"
                );
                plugins.push(Arc::new(plugin));
            }
        }
        Ok(PluginRegistry { plugins, failures })
    }

    /// A registry of exactly these plugins (a plugin author's one component, say).
    pub fn of(plugins: Vec<Arc<Plugin>>) -> PluginRegistry {
        PluginRegistry { plugins, failures: Vec::new() }
    }

    pub fn plugins(&self) -> &[Arc<Plugin>] {
        &self.plugins
    }

    /// The components of the plugin path that could not be loaded, and why.
    pub fn failures(&self) -> &[LoadFailure] {
        &self.failures
    }

    /// The plugin a `connector.class` names; with several versions installed, the highest
    /// version wins unless `version` asks for one.
    pub fn resolve(&self, class: &str, version: Option<&str>) -> Option<Arc<Plugin>> {
        self.plugins
            .iter()
            .filter(|p| p.manifest.kind != PluginKind::Transforms && p.answers_to(class))
            .filter(|p| version.is_none_or(|v| p.manifest.version == v))
            .max_by(|a, b| compare_versions(&a.manifest.version, &b.manifest.version))
            .cloned()
    }

    /// All connector classes with their versions, for `GET /connector-plugins`.
    pub fn classes(&self) -> BTreeMap<(String, String), Arc<Plugin>> {
        self.plugins
            .iter()
            .filter(|p| p.manifest.kind != PluginKind::Transforms)
            .map(|p| ((p.manifest.class.clone(), p.manifest.version.clone()), p.clone()))
            .collect()
    }

    /// The transform a `transforms.NAME.type` names, from the newest component offering it.
    pub fn transform(&self, class: &str) -> Option<ClassRef> {
        self.newest_class(class, |m| &m.transforms)
    }

    /// The predicate a `predicates.NAME.type` names.
    pub fn predicate(&self, class: &str) -> Option<ClassRef> {
        self.newest_class(class, |m| &m.predicates)
    }

    fn newest_class(&self, class: &str, classes: impl Fn(&Manifest) -> &Vec<ClassManifest>) -> Option<ClassRef> {
        self.plugins
            .iter()
            .filter_map(|p| classes(&p.manifest).iter().find(|c| c.answers_to(class)).map(|c| (p, c)))
            .max_by(|(a, _), (b, _)| compare_versions(&a.manifest.version, &b.manifest.version))
            .map(|(plugin, class)| ClassRef { plugin: plugin.clone(), class: class.clone() })
    }

    /// Every transform and predicate class with its version, for `?connectorsOnly=false`.
    pub fn transform_classes(&self) -> Vec<(&'static str, String, String)> {
        let mut all: Vec<(&'static str, String, String)> = Vec::new();
        for p in &self.plugins {
            let version = &p.manifest.version;
            all.extend(p.manifest.transforms.iter().map(|c| ("transformation", c.class.clone(), version.clone())));
            all.extend(p.manifest.predicates.iter().map(|c| ("predicate", c.class.clone(), version.clone())));
        }
        all.sort();
        all.dedup();
        all
    }
}

fn wasm_files(dir: &Path) -> Result<Vec<PathBuf>, RegistryError> {
    let read = |path: &Path| {
        std::fs::read_dir(path)
            .map_err(|source| RegistryError::ReadDir { path: path.to_owned(), source })
    };
    let mut found = Vec::new();
    for entry in read(dir)?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(read(&path)?.flatten().map(|e| e.path()).filter(|p| is_wasm(p)));
        } else if is_wasm(&path) {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

fn is_wasm(path: &Path) -> bool {
    path.is_file() && path.extension().is_some_and(|e| e == "wasm")
}

/// What the plugin path holds, to notice a plugin dropped in, replaced or removed: every
/// component and manifest with its size and modification time.
pub fn fingerprint(plugin_path: &[PathBuf]) -> Vec<(PathBuf, u64, Option<std::time::SystemTime>)> {
    let mut files = Vec::new();
    for component in plugin_path.iter().flat_map(|dir| wasm_files(dir).unwrap_or_default()) {
        for path in [component.with_extension("toml"), component] {
            let metadata = std::fs::metadata(&path).ok();
            files.push((path, metadata.as_ref().map_or(0, |m| m.len()), metadata.and_then(|m| m.modified().ok())));
        }
    }
    files
}

/// Loads one component: compiles it, reads its manifest (the one it exports, or for a 1.0
/// plugin `NAME.toml` beside it) and checks that it implements the world the manifest names.
pub fn load_plugin(component: &Path, inspect: &dyn Inspect) -> Result<Plugin, RegistryError> {
    let manifest_path = component.with_extension("toml");
    let embedded = inspect
        .embedded_manifest(component)
        .map_err(|message| RegistryError::BadComponent { component: component.to_owned(), message })?;
    let manifest = match embedded {
        Some(_) if manifest_path.exists() => {
            return Err(RegistryError::TwoManifests { component: component.to_owned(), manifest: manifest_path });
        }
        Some(json) => {
            let bad = |message: String| RegistryError::BadManifest { path: component.to_owned(), message };
            parse_manifest(serde_json::from_str(&json).map_err(|e| bad(e.to_string())), bad)?
        }
        None => {
            let text = std::fs::read_to_string(&manifest_path).map_err(|_| RegistryError::MissingManifest {
                component: component.to_owned(),
                manifest: manifest_path.clone(),
            })?;
            let bad = |message: String| RegistryError::BadManifest { path: manifest_path.clone(), message };
            parse_manifest(toml::from_str(&text).map_err(|e| bad(e.to_string())), bad)?
        }
    };
    inspect.check_world(component, manifest.kind).map_err(|message| RegistryError::WrongWorld {
        component: component.to_owned(),
        kind: manifest.kind.as_str(),
        message,
    })?;
    Ok(Plugin { manifest, component_path: component.to_owned() })
}

fn parse_manifest(
    parsed: Result<Manifest, RegistryError>,
    bad: impl Fn(String) -> RegistryError,
) -> Result<Manifest, RegistryError> {
    let manifest = parsed?;
    manifest.check().map_err(bad)?;
    Ok(manifest)
}

/// Orders dotted versions numerically where they are numbers ("0.10.0" > "0.9.1").
fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let parts = |v: &str| -> Vec<(u64, String)> {
        v.split(['.', '-'])
            .map(|p| (p.parse().unwrap_or(0), p.to_owned()))
            .collect()
    };
    parts(a).cmp(&parts(b))
}

fn scalar_as_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let value = Option::<toml::Value>::deserialize(d)?;
    Ok(value.map(|v| match v {
        toml::Value::String(s) => s,
        other => other.to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Components as the runtime would see them: `garbage.wasm` is not a component,
    /// `described.wasm` exports the manifest of a source, `sinkonly.wasm` is a sink whatever
    /// its manifest says; every other one is a 1.0 plugin of every world.
    struct Components;

    impl Inspect for Components {
        fn embedded_manifest(&self, component: &Path) -> Result<Option<String>, String> {
            match component.file_stem().and_then(|s| s.to_str()) {
                Some("garbage") => Err("failed to parse WebAssembly module".into()),
                Some("described") => Ok(Some(
                    r#"{"name":"gen","version":"2.0.0","kind":"source","class":"com.example.Gen",
                        "config":[{"name":"rows","type":"int","default":10,"min":1,"max":1000}]}"#
                        .into(),
                )),
                _ => Ok(None),
            }
        }

        fn check_world(&self, component: &Path, kind: PluginKind) -> Result<(), String> {
            match component.file_stem().and_then(|s| s.to_str()) {
                Some("sinkonly") if kind != PluginKind::Sink => Err("no exported instance named `wasmconnect:connector/source-task@1.1.0`".into()),
                _ => Ok(()),
            }
        }
    }

    fn scan(dir: &Path) -> PluginRegistry {
        PluginRegistry::scan(&[dir.to_owned()], &Components).unwrap()
    }

    fn write_plugin(dir: &Path, stem: &str, version: &str) {
        std::fs::write(dir.join(format!("{stem}.wasm")), b"\0asm").unwrap();
        let manifest = format!(
            "name = \"jdbc-source\"\nversion = \"{version}\"\nkind = \"source\"\n\
             class = \"io.confluent.connect.jdbc.JdbcSourceConnector\"\naliases = [\"JdbcSource\"]\n\
             [[config]]\nname = \"batch.max.rows\"\ntype = \"int\"\ndefault = 100\n"
        );
        std::fs::write(dir.join(format!("{stem}.toml")), manifest).unwrap();
    }

    #[test]
    fn resolves_class_simple_name_and_alias_to_the_highest_version() {
        let dir = tempfile::tempdir().unwrap();
        write_plugin(dir.path(), "a", "0.9.0");
        write_plugin(dir.path(), "b", "0.10.0");
        let registry = scan(dir.path());
        for class in ["io.confluent.connect.jdbc.JdbcSourceConnector", "JdbcSourceConnector", "JdbcSource"] {
            assert_eq!(registry.resolve(class, None).unwrap().manifest.version, "0.10.0", "{class}");
        }
        assert_eq!(registry.resolve("JdbcSource", Some("0.9.0")).unwrap().manifest.version, "0.9.0");
        assert!(registry.resolve("FileStreamSource", None).is_none());
        let key = registry.resolve("JdbcSource", None).unwrap();
        assert_eq!(key.config_key("batch.max.rows").unwrap().default.as_deref(), Some("100"));
    }

    #[test]
    fn a_transforms_component_offers_its_classes_by_full_and_simple_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("smt.wasm"), b"\0asm").unwrap();
        let manifest = "name = \"smt\"\nversion = \"1.0.0\"\nkind = \"transforms\"\n\
            [[transform]]\nclass = \"org.apache.kafka.connect.transforms.MaskField$Value\"\n\
            [[transform.config]]\nname = \"fields\"\ntype = \"list\"\nrequired = true\n\
            [[predicate]]\nclass = \"org.apache.kafka.connect.transforms.predicates.RecordIsTombstone\"\n";
        std::fs::write(dir.path().join("smt.toml"), manifest).unwrap();
        write_plugin(dir.path(), "source", "1.0.0");
        let registry = scan(dir.path());
        let mask = registry.transform("MaskField$Value").unwrap();
        assert_eq!(mask.class.class, "org.apache.kafka.connect.transforms.MaskField$Value");
        assert!(mask.class.config[0].required);
        assert!(registry.predicate("org.apache.kafka.connect.transforms.predicates.RecordIsTombstone").is_some());
        assert!(registry.transform("RecordIsTombstone").is_none(), "a predicate is not a transform");
        assert!(registry.resolve("smt", None).is_none(), "a transforms component is not a connector");
        assert_eq!(registry.classes().len(), 1);
        assert_eq!(registry.transform_classes().len(), 2);
    }

    #[test]
    fn a_manifest_mixing_kinds_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("odd.wasm"), b"\0asm").unwrap();
        std::fs::write(dir.path().join("odd.toml"), "name = \"odd\"\nversion = \"1\"\nkind = \"transforms\"\nclass = \"X\"\n").unwrap();
        let err = load_plugin(&dir.path().join("odd.wasm"), &Components).unwrap_err();
        assert!(err.to_string().contains("[[transform]]"), "{err}");
        // A scan skips it (with that error in the log) and keeps the plugins that load.
        write_plugin(dir.path(), "source", "1.0.0");
        assert_eq!(scan(dir.path()).plugins().len(), 1);
    }

    #[test]
    fn a_component_without_manifest_is_an_error_naming_the_expected_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("lonely.wasm"), b"\0asm").unwrap();
        let err = load_plugin(&dir.path().join("lonely.wasm"), &Components).unwrap_err();
        assert!(err.to_string().contains("lonely.toml"), "{err}");
        let registry = scan(dir.path());
        assert!(registry.plugins().is_empty(), "skipped, not fatal");
        assert!(registry.failures()[0].message.contains("lonely.toml"), "reported: {:?}", registry.failures());
    }

    #[test]
    fn an_exported_manifest_needs_no_file_and_may_not_have_one_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("described.wasm"), b"\0asm").unwrap();
        let registry = scan(dir.path());
        let generator = registry.resolve("Gen", None).expect("loaded from its exported manifest");
        let rows = generator.config_key("rows").unwrap();
        assert_eq!((rows.default.as_deref(), rows.min, rows.max), (Some("10"), Some(1.0), Some(1000.0)));
        write_plugin(dir.path(), "described", "1.0.0");
        let err = load_plugin(&dir.path().join("described.wasm"), &Components).unwrap_err();
        assert!(err.to_string().contains("remove the file"), "{err}");
    }

    #[test]
    fn a_non_component_and_a_component_of_another_world_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("garbage.wasm"), b"not wasm").unwrap();
        write_plugin(dir.path(), "sinkonly", "1.0.0");
        write_plugin(dir.path(), "good", "1.0.0");
        let registry = scan(dir.path());
        assert_eq!(registry.plugins().len(), 1);
        let failures: Vec<String> = registry.failures().iter().map(|f| format!("{}: {}", f.path.display(), f.message)).collect();
        assert_eq!(failures.len(), 2, "{failures:?}");
        assert!(failures[0].contains("garbage.wasm is not a usable plugin component: failed to parse"), "{failures:?}");
        assert!(failures[1].contains("says kind \"source\", but the component does not implement that world"), "{failures:?}");
        assert!(failures[1].contains("source-task"), "{failures:?}");
    }
}
