//! The plugin's manifest, built in code: who the plugin is and every configuration key it
//! understands, with its type, default, documentation, importance and the values it accepts.
//! The component exports it (`wasmconnect:connector/plugin`), and the host reads it once when
//! it loads the plugin: `/connector-plugins/{p}/config` shows it and
//! `/connector-plugins/{p}/config/validate` checks configs against it, without starting a task.
//!
//! ```
//! use wasmconnect_sdk::manifest::{ConfigKey, Importance, Manifest};
//!
//! let manifest = Manifest::source("gen-source", "1.0.0", "com.example.GenSource")
//!     .alias("Gen")
//!     .define(ConfigKey::string("topic").required().importance(Importance::High).doc("Where the rows go."))
//!     .define(ConfigKey::int("rows.per.poll").default(100).between(1, 10_000).doc("Rows made per poll."))
//!     .define(ConfigKey::string("style").default("plain").one_of(["plain", "fancy"]));
//! assert!(manifest.to_json().contains(r#""name":"rows.per.poll""#));
//! ```

use std::fmt::Display;

use serde_json::{Map, Value, json};

/// Kafka Connect's `ConfigDef.Type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    String,
    Int,
    Long,
    Double,
    Boolean,
    /// Comma-separated values.
    List,
    /// A string the host never shows: REST answers and logs say `[hidden]`.
    Password,
    Class,
}

impl Type {
    fn as_str(self) -> &'static str {
        match self {
            Type::String => "string",
            Type::Int => "int",
            Type::Long => "long",
            Type::Double => "double",
            Type::Boolean => "boolean",
            Type::List => "list",
            Type::Password => "password",
            Type::Class => "class",
        }
    }
}

/// Kafka Connect's `ConfigDef.Importance`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Importance {
    High,
    #[default]
    Medium,
    Low,
}

impl Importance {
    fn as_str(self) -> &'static str {
        match self {
            Importance::High => "high",
            Importance::Medium => "medium",
            Importance::Low => "low",
        }
    }
}

/// One configuration key, as Kafka Connect's `ConfigDef.define` declares it.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigKey {
    name: String,
    kind: Type,
    required: bool,
    default: Option<Value>,
    importance: Importance,
    documentation: String,
    group: Option<String>,
    valid_values: Vec<String>,
    min: Option<f64>,
    max: Option<f64>,
}

impl ConfigKey {
    pub fn new(name: impl Into<String>, kind: Type) -> ConfigKey {
        ConfigKey {
            name: name.into(),
            kind,
            required: false,
            default: None,
            importance: Importance::default(),
            documentation: String::new(),
            group: None,
            valid_values: Vec::new(),
            min: None,
            max: None,
        }
    }

    pub fn string(name: impl Into<String>) -> ConfigKey {
        ConfigKey::new(name, Type::String)
    }

    pub fn int(name: impl Into<String>) -> ConfigKey {
        ConfigKey::new(name, Type::Int)
    }

    pub fn long(name: impl Into<String>) -> ConfigKey {
        ConfigKey::new(name, Type::Long)
    }

    pub fn double(name: impl Into<String>) -> ConfigKey {
        ConfigKey::new(name, Type::Double)
    }

    pub fn boolean(name: impl Into<String>) -> ConfigKey {
        ConfigKey::new(name, Type::Boolean)
    }

    pub fn list(name: impl Into<String>) -> ConfigKey {
        ConfigKey::new(name, Type::List)
    }

    pub fn password(name: impl Into<String>) -> ConfigKey {
        ConfigKey::new(name, Type::Password)
    }

    pub fn class(name: impl Into<String>) -> ConfigKey {
        ConfigKey::new(name, Type::Class)
    }

    /// A connector cannot be created without this key (unless it has a default).
    pub fn required(mut self) -> ConfigKey {
        self.required = true;
        self
    }

    /// The value a config without the key gets. Numbers and booleans keep their JSON type.
    pub fn default(mut self, value: impl Into<DefaultValue>) -> ConfigKey {
        self.default = Some(value.into().0);
        self
    }

    pub fn importance(mut self, importance: Importance) -> ConfigKey {
        self.importance = importance;
        self
    }

    pub fn doc(mut self, documentation: impl Into<String>) -> ConfigKey {
        self.documentation = documentation.into();
        self
    }

    pub fn group(mut self, group: impl Into<String>) -> ConfigKey {
        self.group = Some(group.into());
        self
    }

    /// The only values the key accepts (compared without regard to case); for a list, the
    /// values each item may take. Validation names them, and they are its recommended values.
    pub fn one_of<S: Display>(mut self, values: impl IntoIterator<Item = S>) -> ConfigKey {
        self.valid_values = values.into_iter().map(|v| v.to_string()).collect();
        self
    }

    /// The smallest value a numeric key accepts.
    pub fn at_least(mut self, min: impl Into<f64>) -> ConfigKey {
        self.min = Some(min.into());
        self
    }

    /// The largest value a numeric key accepts.
    pub fn at_most(mut self, max: impl Into<f64>) -> ConfigKey {
        self.max = Some(max.into());
        self
    }

    /// Both bounds of a numeric key, inclusive.
    pub fn between(self, min: impl Into<f64>, max: impl Into<f64>) -> ConfigKey {
        self.at_least(min).at_most(max)
    }

    fn to_json(&self) -> Value {
        let mut key = Map::new();
        key.insert("name".into(), json!(self.name));
        key.insert("type".into(), json!(self.kind.as_str()));
        key.insert("required".into(), json!(self.required));
        if let Some(default) = &self.default {
            key.insert("default".into(), default.clone());
        }
        key.insert("importance".into(), json!(self.importance.as_str()));
        key.insert("documentation".into(), json!(self.documentation));
        if let Some(group) = &self.group {
            key.insert("group".into(), json!(group));
        }
        if !self.valid_values.is_empty() {
            key.insert("valid-values".into(), json!(self.valid_values));
        }
        if let Some(min) = self.min {
            key.insert("min".into(), json!(min));
        }
        if let Some(max) = self.max {
            key.insert("max".into(), json!(max));
        }
        Value::Object(key)
    }
}

/// A key's default: text, a number or a boolean.
pub struct DefaultValue(Value);

impl From<&str> for DefaultValue {
    fn from(v: &str) -> Self {
        DefaultValue(json!(v))
    }
}

impl From<String> for DefaultValue {
    fn from(v: String) -> Self {
        DefaultValue(json!(v))
    }
}

impl From<bool> for DefaultValue {
    fn from(v: bool) -> Self {
        DefaultValue(json!(v))
    }
}

impl From<i64> for DefaultValue {
    fn from(v: i64) -> Self {
        DefaultValue(json!(v))
    }
}

impl From<i32> for DefaultValue {
    fn from(v: i32) -> Self {
        DefaultValue(json!(v))
    }
}

impl From<f64> for DefaultValue {
    fn from(v: f64) -> Self {
        DefaultValue(json!(v))
    }
}

/// One transform or predicate class of a transforms plugin.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassDef {
    class: String,
    aliases: Vec<String>,
    documentation: String,
    config: Vec<ConfigKey>,
}

impl ClassDef {
    /// `class` is the name users put in `transforms.NAME.type`, e.g.
    /// `org.apache.kafka.connect.transforms.MaskField$Value`; its simple name works too.
    pub fn new(class: impl Into<String>) -> ClassDef {
        ClassDef { class: class.into(), aliases: Vec::new(), documentation: String::new(), config: Vec::new() }
    }

    pub fn alias(mut self, alias: impl Into<String>) -> ClassDef {
        self.aliases.push(alias.into());
        self
    }

    pub fn doc(mut self, documentation: impl Into<String>) -> ClassDef {
        self.documentation = documentation.into();
        self
    }

    /// A key of the class's own config (`transforms.NAME.KEY`, without the prefix).
    pub fn define(mut self, key: ConfigKey) -> ClassDef {
        self.config.push(key);
        self
    }

    fn to_json(&self) -> Value {
        json!({
            "class": self.class,
            "aliases": self.aliases,
            "documentation": self.documentation,
            "config": self.config.iter().map(ConfigKey::to_json).collect::<Vec<_>>(),
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Source,
    Sink,
    Transforms,
}

/// The plugin's identity and config definition.
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    name: String,
    version: String,
    kind: Kind,
    class: String,
    aliases: Vec<String>,
    config: Vec<ConfigKey>,
    transforms: Vec<ClassDef>,
    predicates: Vec<ClassDef>,
}

impl Manifest {
    /// A source connector: `class` is what users put in `connector.class`. Several versions
    /// of one plugin (same `name`) can be installed side by side; `connector.plugin.version`
    /// picks one, the newest by default.
    pub fn source(name: impl Into<String>, version: impl Into<String>, class: impl Into<String>) -> Manifest {
        Manifest::new(name.into(), version.into(), Kind::Source, class.into())
    }

    /// A sink connector, like [`Manifest::source`].
    pub fn sink(name: impl Into<String>, version: impl Into<String>, class: impl Into<String>) -> Manifest {
        Manifest::new(name.into(), version.into(), Kind::Sink, class.into())
    }

    /// A component of transforms and predicates, each a [`ClassDef`] with its own keys.
    pub fn transforms(name: impl Into<String>, version: impl Into<String>) -> Manifest {
        Manifest::new(name.into(), version.into(), Kind::Transforms, String::new())
    }

    fn new(name: String, version: String, kind: Kind, class: String) -> Manifest {
        Manifest { name, version, kind, class, aliases: Vec::new(), config: Vec::new(), transforms: Vec::new(), predicates: Vec::new() }
    }

    /// Another name `connector.class` may use.
    pub fn alias(mut self, alias: impl Into<String>) -> Manifest {
        self.aliases.push(alias.into());
        self
    }

    /// A key of the connector's config.
    pub fn define(mut self, key: ConfigKey) -> Manifest {
        self.config.push(key);
        self
    }

    pub fn transform(mut self, class: ClassDef) -> Manifest {
        self.transforms.push(class);
        self
    }

    pub fn predicate(mut self, class: ClassDef) -> Manifest {
        self.predicates.push(class);
        self
    }

    /// The manifest as the host reads it from the `plugin` export.
    pub fn to_json(&self) -> String {
        let kind = match self.kind {
            Kind::Source => "source",
            Kind::Sink => "sink",
            Kind::Transforms => "transforms",
        };
        let mut manifest = Map::new();
        manifest.insert("name".into(), json!(self.name));
        manifest.insert("version".into(), json!(self.version));
        manifest.insert("kind".into(), json!(kind));
        if self.kind == Kind::Transforms {
            manifest.insert("transform".into(), self.transforms.iter().map(ClassDef::to_json).collect());
            manifest.insert("predicate".into(), self.predicates.iter().map(ClassDef::to_json).collect());
        } else {
            manifest.insert("class".into(), json!(self.class));
            manifest.insert("aliases".into(), json!(self.aliases));
            manifest.insert("config".into(), self.config.iter().map(ConfigKey::to_json).collect());
        }
        Value::Object(manifest).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connector_manifest_has_its_identity_and_typed_keys() {
        let manifest = Manifest::sink("s", "1.2.0", "com.example.S")
            .alias("S")
            .define(ConfigKey::password("connection.password").importance(Importance::High).group("Database"))
            .define(ConfigKey::int("batch.size").default(3000).at_least(1))
            .define(ConfigKey::boolean("auto.create").default(false))
            .define(ConfigKey::string("insert.mode").default("insert").one_of(["insert", "upsert"]));
        let json: Value = serde_json::from_str(&manifest.to_json()).unwrap();
        assert_eq!(json["kind"], "sink");
        assert_eq!(json["aliases"], json!(["S"]));
        let keys = json["config"].as_array().unwrap();
        assert_eq!(keys[0], json!({"name":"connection.password","type":"password","required":false,"importance":"high","documentation":"","group":"Database"}));
        assert_eq!((&keys[1]["default"], &keys[1]["min"], keys[1].get("max")), (&json!(3000), &json!(1.0), None));
        assert_eq!(keys[2]["default"], json!(false));
        assert_eq!(keys[3]["valid-values"], json!(["insert", "upsert"]));
    }

    #[test]
    fn a_transforms_manifest_lists_classes_with_their_own_keys() {
        let manifest = Manifest::transforms("t", "1.0.0")
            .transform(ClassDef::new("com.example.Redact$Value").doc("Blanks fields.").define(ConfigKey::list("fields").required()))
            .predicate(ClassDef::new("com.example.IsBig"));
        let json: Value = serde_json::from_str(&manifest.to_json()).unwrap();
        assert!(json.get("config").is_none() && json.get("class").is_none(), "{json}");
        assert_eq!(json["transform"][0]["config"][0]["required"], json!(true));
        assert_eq!(json["predicate"][0]["class"], "com.example.IsBig");
    }
}
