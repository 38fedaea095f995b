//! The connector configuration, with Confluent's `JdbcSinkConnector` key names and defaults,
//! checked once at start so that a wrong setting fails the task before any record is read.

use thiserror::Error;
use wasmconnect_sdk::{Config, ConnectorError};

use crate::zone::Zone;

/// How a row is written (`insert.mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsertMode {
    /// Plain INSERT: a row whose key is already there is an error.
    Insert,
    /// INSERT, or UPDATE of the row with the same primary key.
    Upsert,
    /// UPDATE of the row with the same primary key; nothing when there is none.
    Update,
}

/// Where the primary key columns come from (`pk.mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PkMode {
    /// No primary key: every record is appended.
    None,
    /// The record's topic, partition and offset, in three columns.
    Kafka,
    /// The key's struct fields (or the key itself, named by the one `pk.fields` entry).
    RecordKey,
    /// Fields of the value: `pk.fields`, or all of them when it is empty.
    RecordValue,
}

/// The column names of `pk.mode=kafka` when `pk.fields` does not rename them (Confluent's).
pub const KAFKA_PK_COLUMNS: [&str; 3] = ["__connect_topic", "__connect_partition", "__connect_offset"];

#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// `table.name.format`: the destination table, `${topic}` standing for the record's topic.
    pub table_format: String,
    pub insert_mode: InsertMode,
    pub pk_mode: PkMode,
    pub pk_fields: Vec<String>,
    /// `fields.whitelist` / `fields.include.list`: the value fields written; empty is all.
    pub fields: Vec<String>,
    pub auto_create: bool,
    pub auto_evolve: bool,
    pub delete_enabled: bool,
    /// `quote.sql.identifiers=always` (true) or `never`.
    pub quote_identifiers: bool,
    /// Most rows in one multi-row statement.
    pub batch_size: usize,
    /// Consecutive failed attempts at one batch before the task fails.
    pub max_retries: u32,
    /// Least time between two attempts at a batch, in milliseconds.
    pub retry_backoff_ms: u64,
    /// `db.timezone`: the zone of the wall-clock time written to columns without a zone.
    pub zone: Zone,
    /// `exactly.once.enabled`: the table its offsets are kept in, with the rows.
    pub offsets_table: Option<String>,
    /// `pg.copy.enabled`: inserts and upserts by `COPY` on PostgreSQL.
    pub copy: bool,
}

/// The longest `retry.backoff.ms`: the wait happens inside a `put` call, which the host
/// gives 60 s by default (`--task-call-timeout-secs`).
pub const MAX_RETRY_BACKOFF_MS: i64 = 30_000;

#[derive(Debug, Error, PartialEq)]
pub enum SettingsError {
    #[error("insert.mode={0:?} is not supported: use insert, upsert or update")]
    UnknownInsertMode(String),
    #[error("pk.mode={0:?} is not supported: use none, kafka, record_key or record_value")]
    UnknownPkMode(String),
    #[error("insert.mode={0} needs a primary key to find the row to change: set pk.mode to kafka, record_key or record_value")]
    ModeNeedsKey(&'static str),
    #[error(
        "delete.enabled=true needs pk.mode=record_key (pk.mode is {0}): a tombstone only has its key to say which row to delete"
    )]
    DeleteNeedsRecordKey(&'static str),
    #[error("pk.mode=kafka takes three pk.fields (the topic, partition and offset column names) or none, not {0}")]
    KafkaPkFields(usize),
    #[error("quote.sql.identifiers={0:?} is not supported: use always or never")]
    UnknownQuoting(String),
    #[error("db.timezone={0:?} is not a time zone name such as UTC or Europe/Paris")]
    UnknownZone(String),
    #[error("{key} must be between {min} and {max}, not {value}")]
    OutOfRange { key: &'static str, value: i64, min: i64, max: i64 },
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
        let insert_mode = parse_insert_mode(config.string_or("insert.mode", "insert"))?;
        let pk_mode = parse_pk_mode(config.string_or("pk.mode", "none"))?;
        if pk_mode == PkMode::None && insert_mode != InsertMode::Insert {
            return Err(SettingsError::ModeNeedsKey(if insert_mode == InsertMode::Upsert { "upsert" } else { "update" }));
        }
        let delete_enabled = flag(config, "delete.enabled")?;
        if delete_enabled && pk_mode != PkMode::RecordKey {
            return Err(SettingsError::DeleteNeedsRecordKey(pk_mode_name(pk_mode)));
        }
        let pk_fields = config.list("pk.fields");
        if pk_mode == PkMode::Kafka && !matches!(pk_fields.len(), 0 | 3) {
            return Err(SettingsError::KafkaPkFields(pk_fields.len()));
        }
        // Confluent renamed fields.whitelist to fields.include.list; both are understood.
        let fields = match config.list("fields.include.list") {
            list if list.is_empty() => config.list("fields.whitelist"),
            list => list,
        };
        let quoting = config.string_or("quote.sql.identifiers", "always").trim().to_ascii_lowercase();
        let quote_identifiers = match quoting.as_str() {
            "always" => true,
            "never" => false,
            _ => return Err(SettingsError::UnknownQuoting(quoting)),
        };
        let zone_name = config.string_or("db.timezone", "UTC").trim();
        let zone = Zone::parse(zone_name).ok_or_else(|| SettingsError::UnknownZone(zone_name.to_owned()))?;
        Ok(Settings {
            table_format: config.string_or("table.name.format", "${topic}").to_owned(),
            insert_mode,
            pk_mode,
            pk_fields,
            fields,
            auto_create: flag(config, "auto.create")?,
            auto_evolve: flag(config, "auto.evolve")?,
            delete_enabled,
            quote_identifiers,
            batch_size: ranged(config, "batch.size", 3000, 1, i64::from(u32::MAX))? as usize,
            max_retries: ranged(config, "max.retries", 10, 0, i64::from(u32::MAX))? as u32,
            retry_backoff_ms: ranged(config, "retry.backoff.ms", 3000, 0, MAX_RETRY_BACKOFF_MS)? as u64,
            zone,
            offsets_table: flag(config, "exactly.once.enabled")?
                .then(|| config.string_or("exactly.once.offsets.table", "__wasmconnect_offsets").trim().to_owned()),
            copy: config.bool_or("pg.copy.enabled", true).map_err(invalid)?,
        })
    }

    /// The table a record of `topic` goes to.
    pub fn table_for(&self, topic: &str) -> String {
        self.table_format.replace("${topic}", topic)
    }
}

fn parse_insert_mode(text: &str) -> Result<InsertMode, SettingsError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "insert" => Ok(InsertMode::Insert),
        "upsert" => Ok(InsertMode::Upsert),
        "update" => Ok(InsertMode::Update),
        _ => Err(SettingsError::UnknownInsertMode(text.to_owned())),
    }
}

fn parse_pk_mode(text: &str) -> Result<PkMode, SettingsError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "none" => Ok(PkMode::None),
        "kafka" => Ok(PkMode::Kafka),
        "record_key" => Ok(PkMode::RecordKey),
        "record_value" => Ok(PkMode::RecordValue),
        _ => Err(SettingsError::UnknownPkMode(text.to_owned())),
    }
}

fn pk_mode_name(mode: PkMode) -> &'static str {
    match mode {
        PkMode::None => "none",
        PkMode::Kafka => "kafka",
        PkMode::RecordKey => "record_key",
        PkMode::RecordValue => "record_value",
    }
}

/// The DDL and delete switches all default to false, as in Confluent's connector.
fn flag(config: &Config, key: &str) -> Result<bool, SettingsError> {
    config.bool_or(key, false).map_err(invalid)
}

fn ranged(config: &Config, key: &'static str, default: i64, min: i64, max: i64) -> Result<i64, SettingsError> {
    let value = config.int_or(key, default).map_err(invalid)?;
    if value < min || value > max {
        return Err(SettingsError::OutOfRange { key, value, min, max });
    }
    Ok(value)
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
                insert_mode: InsertMode::Insert,
                pk_mode: PkMode::None,
                pk_fields: vec![],
                fields: vec![],
                auto_create: false,
                auto_evolve: false,
                delete_enabled: false,
                quote_identifiers: true,
                batch_size: 3000,
                max_retries: 10,
                retry_backoff_ms: 3000,
                zone: Zone::parse("UTC").unwrap(),
                offsets_table: None,
                copy: true,
            }
        );
        assert_eq!(s.table_for("my_topic_users"), "my_topic_users");
    }

    /// Every key the plugin reads, set to something other than its default.
    const EVERY_KEY: [(&str, &str); 17] = [
        ("table.name.format", "kafka_${topic}_v1"),
        ("insert.mode", "UPSERT"),
        ("pk.mode", "record_key"),
        ("pk.fields", "tenant, id"),
        ("fields.whitelist", "a"),
        ("fields.include.list", "name, email"),
        ("auto.create", "true"),
        ("auto.evolve", "TRUE"),
        ("delete.enabled", "true"),
        ("quote.sql.identifiers", "never"),
        ("batch.size", "10"),
        ("max.retries", "2"),
        ("retry.backoff.ms", "50"),
        ("db.timezone", "Europe/Paris"),
        ("exactly.once.enabled", "true"),
        ("exactly.once.offsets.table", "sink_offsets"),
        ("pg.copy.enabled", "false"),
    ];

    #[test]
    fn every_key_is_read() {
        let s = parse(&EVERY_KEY).unwrap();
        assert_eq!(s.table_for("users"), "kafka_users_v1");
        assert_eq!((s.insert_mode, s.pk_mode), (InsertMode::Upsert, PkMode::RecordKey));
        assert_eq!(s.pk_fields, ["tenant", "id"]);
        assert_eq!(s.fields, ["name", "email"], "fields.include.list wins over the older fields.whitelist");
        assert!(s.auto_create && s.auto_evolve && s.delete_enabled && !s.quote_identifiers);
        assert_eq!((s.batch_size, s.max_retries, s.retry_backoff_ms), (10, 2, 50));
        assert_eq!(s.zone, Zone::parse("Europe/Paris").unwrap());
        assert_eq!(s.offsets_table.as_deref(), Some("sink_offsets"));
        assert!(!s.copy);
        assert_eq!(parse(&[("fields.whitelist", "a,b")]).unwrap().fields, ["a", "b"]);
        assert_eq!(parse(&[("insert.mode", "update"), ("pk.mode", "kafka")]).unwrap().insert_mode, InsertMode::Update);
    }

    /// The manifest is what users see in `config/validate`: it must define every key the
    /// plugin reads, documented, with the plugin's own defaults.
    #[test]
    fn the_manifest_defines_every_key_with_the_same_defaults() {
        let manifest: serde_json::Value = serde_json::from_str(&crate::manifest::manifest().to_json()).unwrap();
        let entries = manifest["config"].as_array().unwrap();
        let entry = |name: &str| entries.iter().find(|e| e["name"].as_str() == Some(name)).unwrap_or_else(|| panic!("{name} undefined"));
        for e in entries {
            for attribute in ["type", "importance", "group", "documentation"] {
                assert!(e.get(attribute).is_some(), "{} has no {attribute}", e["name"]);
            }
        }
        let defaults: Vec<(String, String)> = EVERY_KEY
            .iter()
            .filter_map(|(key, _)| {
                let default = entry(key).get("default")?;
                Some((key.to_string(), default.as_str().map_or_else(|| default.to_string(), str::to_owned)))
            })
            .collect();
        assert_eq!(defaults.len(), EVERY_KEY.len(), "every key the plugin reads has a default");
        assert_eq!(Settings::parse(&Config::from_pairs(defaults)).unwrap(), parse(&[]).unwrap());
        for host_key in ["connection.url", "connection.user", "topics"] {
            entry(host_key);
        }
        assert_eq!(entry("connection.password")["type"].as_str(), Some("password"));
        assert_eq!(manifest["class"].as_str(), Some("io.confluent.connect.jdbc.JdbcSinkConnector"));
    }

    #[test]
    fn modes_that_change_rows_need_a_key() {
        for (mode, name) in [("upsert", "upsert"), ("update", "update")] {
            let err = parse(&[("insert.mode", mode)]).unwrap_err();
            assert_eq!(err, SettingsError::ModeNeedsKey(name));
            assert!(err.to_string().contains("pk.mode"), "{err}");
        }
        assert_eq!(parse(&[("insert.mode", "merge")]).unwrap_err(), SettingsError::UnknownInsertMode("merge".into()));
    }

    #[test]
    fn delete_needs_record_key() {
        let err = parse(&[("delete.enabled", "true"), ("pk.mode", "record_value")]).unwrap_err();
        assert_eq!(err, SettingsError::DeleteNeedsRecordKey("record_value"));
        assert!(matches!(ConnectorError::from(err), ConnectorError::Config(m) if m.contains("pk.mode=record_key")));
    }

    #[test]
    fn kafka_keys_take_three_names_or_none() {
        assert_eq!(parse(&[("pk.mode", "kafka"), ("pk.fields", "t,p")]).unwrap_err(), SettingsError::KafkaPkFields(2));
        assert_eq!(parse(&[("pk.mode", "kafka"), ("pk.fields", "t,p,o")]).unwrap().pk_fields, ["t", "p", "o"]);
    }

    #[test]
    fn wrong_values_name_their_key() {
        assert_eq!(parse(&[("pk.mode", "kafka_key")]).unwrap_err(), SettingsError::UnknownPkMode("kafka_key".into()));
        assert_eq!(parse(&[("quote.sql.identifiers", "sometimes")]).unwrap_err(), SettingsError::UnknownQuoting("sometimes".into()));
        assert_eq!(parse(&[("db.timezone", "Mars/Olympus")]).unwrap_err(), SettingsError::UnknownZone("Mars/Olympus".into()));
        assert!(matches!(parse(&[("batch.size", "0")]).unwrap_err(), SettingsError::OutOfRange { key: "batch.size", value: 0, .. }));
        assert!(matches!(parse(&[("max.retries", "-1")]).unwrap_err(), SettingsError::OutOfRange { key: "max.retries", .. }));
        let err = parse(&[("retry.backoff.ms", "60000")]).unwrap_err();
        assert_eq!(err.to_string(), "retry.backoff.ms must be between 0 and 30000, not 60000");
        for key in ["auto.create", "auto.evolve", "delete.enabled", "batch.size", "max.retries", "retry.backoff.ms"] {
            let err = parse(&[(key, "maybe")]).unwrap_err();
            assert!(matches!(&err, SettingsError::Invalid(m) if m.contains(key)), "{key}: {err:?}");
        }
    }
}
