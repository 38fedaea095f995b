//! The connector configuration, with Confluent's `JdbcSinkConnector` key names and defaults,
//! checked once at start so that a wrong setting fails the task before any record is read.

use thiserror::Error;
use wasmconnect_sdk::{Config, ConnectorError};

/// Where the primary key columns come from (`pk.mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PkMode {
    /// No primary key: every record is appended.
    None,
    /// The key's struct fields (or the key itself, named by the one `pk.fields` entry).
    RecordKey,
    /// Fields of the value: `pk.fields`, or all of them when it is empty.
    RecordValue,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// `table.name.format`: the destination table, `${topic}` standing for the record's topic.
    pub table_format: String,
    pub pk_mode: PkMode,
    pub pk_fields: Vec<String>,
    pub auto_create: bool,
    pub auto_evolve: bool,
    pub delete_enabled: bool,
    /// Most rows in one multi-row INSERT.
    pub batch_size: usize,
}

#[derive(Debug, Error, PartialEq)]
pub enum SettingsError {
    #[error("insert.mode={0:?} is not supported yet: only insert.mode=insert is")]
    UnsupportedInsertMode(String),
    #[error("pk.mode={0:?} is not supported: use none, record_key or record_value")]
    UnknownPkMode(String),
    #[error(
        "delete.enabled=true needs pk.mode=record_key (pk.mode is {0}): a tombstone only has its key to say which row to delete"
    )]
    DeleteNeedsRecordKey(&'static str),
    #[error("batch.size must be at least 1, not {0}")]
    BatchSize(i64),
    /// A value of the wrong type, as the SDK's typed getters word it.
    #[error("{0}")]
    Invalid(String),
}

impl From<SettingsError> for ConnectorError {
    fn from(e: SettingsError) -> Self {
        ConnectorError::Config(e.to_string())
    }
}

impl Settings {
    pub fn parse(config: &Config) -> Result<Settings, SettingsError> {
        let insert_mode = config.string_or("insert.mode", "insert").trim();
        if !insert_mode.eq_ignore_ascii_case("insert") {
            return Err(SettingsError::UnsupportedInsertMode(insert_mode.to_owned()));
        }
        let pk_mode = parse_pk_mode(config.string_or("pk.mode", "none"))?;
        let delete_enabled = flag(config, "delete.enabled")?;
        if delete_enabled && pk_mode != PkMode::RecordKey {
            return Err(SettingsError::DeleteNeedsRecordKey(pk_mode_name(pk_mode)));
        }
        let batch_size = config.int_or("batch.size", 3000).map_err(invalid)?;
        Ok(Settings {
            table_format: config.string_or("table.name.format", "${topic}").to_owned(),
            pk_mode,
            pk_fields: config.list("pk.fields"),
            auto_create: flag(config, "auto.create")?,
            auto_evolve: flag(config, "auto.evolve")?,
            delete_enabled,
            batch_size: usize::try_from(batch_size).ok().filter(|b| *b > 0).ok_or(SettingsError::BatchSize(batch_size))?,
        })
    }

    /// The table a record of `topic` goes to.
    pub fn table_for(&self, topic: &str) -> String {
        self.table_format.replace("${topic}", topic)
    }
}

fn parse_pk_mode(text: &str) -> Result<PkMode, SettingsError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "none" => Ok(PkMode::None),
        "record_key" => Ok(PkMode::RecordKey),
        "record_value" => Ok(PkMode::RecordValue),
        _ => Err(SettingsError::UnknownPkMode(text.to_owned())),
    }
}

fn pk_mode_name(mode: PkMode) -> &'static str {
    match mode {
        PkMode::None => "none",
        PkMode::RecordKey => "record_key",
        PkMode::RecordValue => "record_value",
    }
}

/// The DDL and delete switches all default to false, as in Confluent's connector.
fn flag(config: &Config, key: &str) -> Result<bool, SettingsError> {
    config.bool_or(key, false).map_err(invalid)
}

fn invalid(e: ConnectorError) -> SettingsError {
    match e {
        ConnectorError::Config(m) => SettingsError::Invalid(m),
        other => SettingsError::Invalid(format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        Settings::parse(&Config::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string()))))
    }

    #[test]
    fn defaults_follow_confluent() {
        let s = parse(&[]).unwrap();
        assert_eq!(
            s,
            Settings {
                table_format: "${topic}".into(),
                pk_mode: PkMode::None,
                pk_fields: vec![],
                auto_create: false,
                auto_evolve: false,
                delete_enabled: false,
                batch_size: 3000,
            }
        );
        assert_eq!(s.table_for("my_topic_users"), "my_topic_users");
    }

    #[test]
    fn every_key_is_read() {
        let s = parse(&[
            ("table.name.format", "kafka_${topic}_v1"),
            ("insert.mode", "INSERT"),
            ("pk.mode", "record_key"),
            ("pk.fields", "tenant, id"),
            ("auto.create", "true"),
            ("auto.evolve", "TRUE"),
            ("delete.enabled", "true"),
            ("batch.size", "10"),
        ])
        .unwrap();
        assert_eq!(s.table_for("users"), "kafka_users_v1");
        assert_eq!((s.pk_mode, s.pk_fields.as_slice()), (PkMode::RecordKey, ["tenant".to_owned(), "id".to_owned()].as_slice()));
        assert!(s.auto_create && s.auto_evolve && s.delete_enabled);
        assert_eq!(s.batch_size, 10);
    }

    /// The manifest is what users see in `config/validate`: it must define every key the
    /// plugin reads, with the plugin's own defaults.
    #[test]
    fn the_manifest_defines_every_key_with_the_same_defaults() {
        let manifest: toml::Table = toml::from_str(include_str!("../jdbc-sink.toml")).unwrap();
        let entries = manifest["config"].as_array().unwrap();
        let entry = |name: &str| entries.iter().find(|e| e["name"].as_str() == Some(name)).unwrap_or_else(|| panic!("{name} undefined"));
        let read = ["table.name.format", "insert.mode", "pk.mode", "pk.fields", "auto.create", "auto.evolve", "delete.enabled", "batch.size"];
        let defaults: Vec<(String, String)> = read
            .iter()
            .map(|key| {
                let default = &entry(key)["default"];
                (key.to_string(), default.as_str().map_or_else(|| default.to_string(), str::to_owned))
            })
            .collect();
        assert_eq!(Settings::parse(&Config::from_pairs(defaults)).unwrap(), parse(&[]).unwrap());
        for host_key in ["connection.url", "connection.user", "topics"] {
            entry(host_key);
        }
        assert_eq!(entry("connection.password")["type"].as_str(), Some("password"));
        assert_eq!(manifest["class"].as_str(), Some("io.confluent.connect.jdbc.JdbcSinkConnector"));
    }

    #[test]
    fn only_insert_mode_is_supported() {
        for mode in ["upsert", "update"] {
            let err = parse(&[("insert.mode", mode)]).unwrap_err();
            assert_eq!(err, SettingsError::UnsupportedInsertMode(mode.into()));
            assert!(err.to_string().contains("only insert.mode=insert"), "{err}");
        }
    }

    #[test]
    fn delete_needs_record_key() {
        let err = parse(&[("delete.enabled", "true"), ("pk.mode", "record_value")]).unwrap_err();
        assert_eq!(err, SettingsError::DeleteNeedsRecordKey("record_value"));
        assert!(matches!(ConnectorError::from(err), ConnectorError::Config(m) if m.contains("pk.mode=record_key")));
    }

    #[test]
    fn wrong_values_name_their_key() {
        assert_eq!(parse(&[("pk.mode", "kafka")]).unwrap_err(), SettingsError::UnknownPkMode("kafka".into()));
        assert_eq!(parse(&[("batch.size", "0")]).unwrap_err(), SettingsError::BatchSize(0));
        assert_eq!(parse(&[("batch.size", "-5")]).unwrap_err(), SettingsError::BatchSize(-5));
        for key in ["auto.create", "auto.evolve", "delete.enabled", "batch.size"] {
            let err = parse(&[(key, "maybe")]).unwrap_err();
            assert!(matches!(&err, SettingsError::Invalid(m) if m.contains(key)), "{key}: {err:?}");
        }
    }
}
