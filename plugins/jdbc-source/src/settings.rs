//! The connector's configuration: Confluent's `JdbcSourceConnector` keys, with its defaults,
//! checked once so that a mistake is a config error naming the key.

use wasmconnect_sdk::{Config, ConnectorError};

use crate::zone::Zone;

/// How new or changed rows are found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The whole table on every poll.
    Bulk,
    /// Rows whose incrementing column is above the last one read.
    Incrementing,
    /// Rows whose timestamp is after the last one read.
    Timestamp,
    /// Rows after the last `(timestamp, incrementing)` pair read.
    TimestampIncrementing,
}

impl Mode {
    pub fn uses_incrementing(self) -> bool {
        matches!(self, Mode::Incrementing | Mode::TimestampIncrementing)
    }

    pub fn uses_timestamp(self) -> bool {
        matches!(self, Mode::Timestamp | Mode::TimestampIncrementing)
    }
}

/// How DECIMAL and NUMERIC columns become Connect types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumericMapping {
    /// Always the Decimal logical type.
    None,
    /// Integer types for scale 0 and precision up to 18, Decimal otherwise.
    PrecisionOnly,
    /// Like `PrecisionOnly`, and FLOAT64 for a positive scale with precision up to 18.
    BestFit,
}

/// Where `timestamp.initial` starts timestamp modes without a committed offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitialTimestamp {
    /// After 1970-01-01T00:00:00Z, as Confluent's source does without the setting.
    Epoch,
    /// The database's current time when the table is first read.
    Now,
    /// Epoch milliseconds.
    At(i64),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub mode: Mode,
    /// Empty: the table's auto-increment column.
    pub incrementing_column: String,
    pub timestamp_columns: Vec<String>,
    pub validate_non_null: bool,
    pub timestamp_delay_ms: i64,
    pub timestamp_initial: InitialTimestamp,
    /// How long a gap in the incrementing sequence holds reading back; 0 never holds.
    pub gap_grace_ms: u64,
    pub zone: Zone,
    pub poll_interval_ms: u32,
    pub batch_max_rows: u32,
    pub table_poll_interval_ms: u64,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub table_types: Vec<String>,
    pub catalog_pattern: Option<String>,
    pub schema_pattern: Option<String>,
    pub topic_prefix: String,
    pub numeric_mapping: NumericMapping,
    /// Set in query mode, which reads this query's result instead of tables.
    pub query: Option<String>,
    pub query_suffix: String,
    pub quote_identifiers: bool,
}

const MODES: &str = "bulk, incrementing, timestamp, timestamp+incrementing";

impl Settings {
    pub fn parse(config: &Config) -> Result<Settings, ConnectorError> {
        let mode = match config.required("mode")?.trim() {
            "bulk" => Mode::Bulk,
            "incrementing" => Mode::Incrementing,
            "timestamp" => Mode::Timestamp,
            "timestamp+incrementing" => Mode::TimestampIncrementing,
            other => return Err(config_error(format!("unknown mode {other:?}; the modes are {MODES}"))),
        };
        let query = config.get("query").map(str::trim).filter(|q| !q.is_empty()).map(str::to_owned);
        let incrementing_column = config.string_or("incrementing.column.name", "").trim().to_owned();
        let timestamp_columns = config.list("timestamp.column.name");
        if mode.uses_timestamp() && timestamp_columns.is_empty() {
            return Err(config_error(format!("mode={} needs timestamp.column.name", mode_name(mode))));
        }
        if mode.uses_incrementing() && incrementing_column.is_empty() && query.is_some() {
            return Err(config_error(format!(
                "mode={} with a query needs incrementing.column.name: a query's result has no auto-increment column to find",
                mode_name(mode)
            )));
        }
        let timestamp_initial = match config.get("timestamp.initial").map(str::trim).filter(|v| !v.is_empty()) {
            None => InitialTimestamp::Epoch,
            Some("-1") => InitialTimestamp::Now,
            Some(_) => {
                let ms = config.int_or("timestamp.initial", 0)?;
                if ms < 0 {
                    return Err(config_error(format!("timestamp.initial must be -1 (now) or epoch milliseconds, not {ms}")));
                }
                InitialTimestamp::At(ms)
            }
        };
        let numeric_mapping = match config.string_or("numeric.mapping", "none").trim().to_ascii_lowercase().as_str() {
            "" | "none" => NumericMapping::None,
            "precision_only" => NumericMapping::PrecisionOnly,
            "best_fit" => NumericMapping::BestFit,
            other => return Err(config_error(format!("unknown numeric.mapping {other:?}; use none, precision_only or best_fit"))),
        };
        let quote_identifiers = match config.string_or("quote.sql.identifiers", "always").trim().to_ascii_lowercase().as_str() {
            "always" => true,
            "never" => false,
            other => return Err(config_error(format!("unknown quote.sql.identifiers {other:?}; use always or never"))),
        };
        let zone_name = config.string_or("db.timezone", "UTC").trim();
        let zone = Zone::parse(zone_name).ok_or_else(|| config_error(format!("db.timezone {zone_name:?} is not a time zone name such as UTC or Europe/Paris")))?;
        // The newer names win over the old ones, as in Confluent's source.
        let list_or = |new: &str, old: &str| if config.get(new).is_some() { config.list(new) } else { config.list(old) };
        let include = list_or("table.include.list", "table.whitelist");
        let exclude = list_or("table.exclude.list", "table.blacklist");
        if !include.is_empty() && !exclude.is_empty() {
            return Err(config_error("set table.whitelist (table.include.list) or table.blacklist (table.exclude.list), not both".into()));
        }
        let table_types: Vec<String> = config.list("table.types").iter().map(|t| t.to_ascii_uppercase()).collect();
        if let Some(unknown) = table_types.iter().find(|t| !matches!(t.as_str(), "TABLE" | "VIEW")) {
            return Err(config_error(format!("table.types {unknown:?} is not supported; use TABLE, VIEW or both")));
        }
        let pattern = |key: &str| config.get(key).map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned);
        Ok(Settings {
            mode,
            incrementing_column,
            timestamp_columns,
            validate_non_null: config.bool_or("validate.non.null", true)?,
            timestamp_delay_ms: non_negative(config, "timestamp.delay.interval.ms", 0)?,
            timestamp_initial,
            gap_grace_ms: non_negative(config, "incrementing.gap.grace.ms", 30_000)? as u64,
            zone,
            poll_interval_ms: positive(config, "poll.interval.ms", 5000)?,
            batch_max_rows: positive(config, "batch.max.rows", 100)?,
            table_poll_interval_ms: u64::from(positive(config, "table.poll.interval.ms", 60_000)?),
            include,
            exclude,
            table_types: if table_types.is_empty() { vec!["TABLE".to_owned()] } else { table_types },
            catalog_pattern: pattern("catalog.pattern"),
            schema_pattern: pattern("schema.pattern"),
            topic_prefix: config.required("topic.prefix")?.to_owned(),
            numeric_mapping,
            query,
            query_suffix: config.string_or("query.suffix", "").trim().to_owned(),
            quote_identifiers,
        })
    }
}

pub fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Bulk => "bulk",
        Mode::Incrementing => "incrementing",
        Mode::Timestamp => "timestamp",
        Mode::TimestampIncrementing => "timestamp+incrementing",
    }
}

fn config_error(message: String) -> ConnectorError {
    ConnectorError::Config(message)
}

fn positive(config: &Config, key: &str, default: i64) -> Result<u32, ConnectorError> {
    let v = config.int_or(key, default)?;
    u32::try_from(v).ok().filter(|v| *v > 0).ok_or_else(|| config_error(format!("\"{key}\" must be a positive number, not {v}")))
}

fn non_negative(config: &Config, key: &str, default: i64) -> Result<i64, ConnectorError> {
    let v = config.int_or(key, default)?;
    if v < 0 {
        return Err(config_error(format!("\"{key}\" must be 0 or more, not {v}")));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Config {
        Config::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    fn parse(pairs: &[(&str, &str)]) -> Result<Settings, ConnectorError> {
        let mut all = vec![("mode", "incrementing"), ("topic.prefix", "t_")];
        all.extend_from_slice(pairs);
        Settings::parse(&config(&all))
    }

    fn config_message(result: Result<Settings, ConnectorError>) -> String {
        match result {
            Err(ConnectorError::Config(m)) => m,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn defaults_are_confluents() {
        let s = parse(&[]).unwrap();
        assert_eq!((s.poll_interval_ms, s.batch_max_rows, s.table_poll_interval_ms), (5000, 100, 60_000));
        assert_eq!(s.incrementing_column, "");
        assert!(s.validate_non_null && s.quote_identifiers);
        assert_eq!((s.numeric_mapping, s.timestamp_initial, s.timestamp_delay_ms), (NumericMapping::None, InitialTimestamp::Epoch, 0));
        assert_eq!(s.table_types, vec!["TABLE"]);
        assert_eq!(s.zone, Zone::parse("UTC").unwrap());
        assert_eq!(s.gap_grace_ms, 30_000);
    }

    #[test]
    fn every_mode_parses_and_timestamp_modes_need_their_column() {
        assert_eq!(parse(&[("mode", "bulk")]).unwrap().mode, Mode::Bulk);
        let s = parse(&[("mode", "timestamp+incrementing"), ("timestamp.column.name", "updated, created")]).unwrap();
        assert_eq!((s.mode, s.timestamp_columns.as_slice()), (Mode::TimestampIncrementing, ["updated".to_owned(), "created".to_owned()].as_slice()));
        assert!(config_message(parse(&[("mode", "timestamp")])).contains("timestamp.column.name"));
        assert!(config_message(parse(&[("mode", "upsert")])).contains("timestamp+incrementing"));
        assert!(config_message(parse(&[("query", "SELECT 1")])).contains("incrementing.column.name"));
    }

    #[test]
    fn wrong_values_name_their_key() {
        assert!(config_message(parse(&[("batch.max.rows", "0")])).contains("batch.max.rows"));
        assert!(config_message(parse(&[("numeric.mapping", "exact")])).contains("numeric.mapping"));
        assert!(config_message(parse(&[("quote.sql.identifiers", "sometimes")])).contains("quote.sql.identifiers"));
        assert!(config_message(parse(&[("db.timezone", "Mars/Olympus")])).contains("db.timezone"));
        assert!(config_message(parse(&[("timestamp.initial", "-5")])).contains("timestamp.initial"));
        assert!(config_message(parse(&[("table.types", "SYNONYM")])).contains("table.types"));
        assert!(config_message(parse(&[("table.whitelist", "a"), ("table.blacklist", "b")])).contains("not both"));
    }

    #[test]
    fn newer_list_names_win_and_initial_accepts_now() {
        let s = parse(&[("table.whitelist", "old"), ("table.include.list", "new"), ("timestamp.initial", "-1"), ("table.types", "table,view")]).unwrap();
        assert_eq!((s.include, s.timestamp_initial, s.table_types), (vec!["new".to_owned()], InitialTimestamp::Now, vec!["TABLE".to_owned(), "VIEW".to_owned()]));
        assert_eq!(parse(&[("timestamp.initial", "1700000000000")]).unwrap().timestamp_initial, InitialTimestamp::At(1_700_000_000_000));
    }

    /// The manifest is what users see in `config/validate`: it must define every key the
    /// plugin reads, with the plugin's own defaults.
    #[test]
    fn the_manifest_defines_every_key_with_the_same_defaults() {
        let manifest: serde_json::Value = serde_json::from_str(&crate::manifest::manifest().to_json()).unwrap();
        let entries = manifest["config"].as_array().unwrap();
        let entry = |name: &str| entries.iter().find(|e| e["name"].as_str() == Some(name)).unwrap_or_else(|| panic!("{name} undefined"));
        let read = [
            "incrementing.column.name",
            "timestamp.column.name",
            "validate.non.null",
            "timestamp.delay.interval.ms",
            "incrementing.gap.grace.ms",
            "db.timezone",
            "poll.interval.ms",
            "batch.max.rows",
            "table.poll.interval.ms",
            "table.whitelist",
            "table.include.list",
            "table.blacklist",
            "table.exclude.list",
            "table.types",
            "numeric.mapping",
            "query",
            "query.suffix",
            "quote.sql.identifiers",
        ];
        let mut pairs: Vec<(String, String)> = read
            .iter()
            .map(|key| {
                let default = &entry(key)["default"];
                (key.to_string(), default.as_str().map_or_else(|| default.to_string(), str::to_owned))
            })
            .collect();
        pairs.extend([("mode".to_owned(), "incrementing".to_owned()), ("topic.prefix".to_owned(), "t_".to_owned())]);
        assert_eq!(Settings::parse(&Config::from_pairs(pairs)).unwrap(), parse(&[]).unwrap());
        // Keys without a default, and the ones the host reads.
        for key in ["mode", "topic.prefix", "timestamp.initial", "catalog.pattern", "schema.pattern", "connection.url", "connection.user"] {
            entry(key);
        }
        assert_eq!(entry("connection.password")["type"].as_str(), Some("password"));
        assert_eq!(manifest["class"].as_str(), Some("io.confluent.connect.jdbc.JdbcSourceConnector"));
    }
}
