//! The JDBC source: Confluent's `JdbcSourceConnector` as a wasmconnect plugin. It reads
//! tables through the host's `sql` import and produces one record per row, with the table's
//! columns as a Connect struct, resuming from committed offsets.

mod columns;
mod table;

use wasmconnect_sdk::{Config, ConnectorError, Source, SourceBatch, TaskConfigs};

use table::{Location, Table};

const MODES: &str = "incrementing";

struct Settings {
    incrementing_column: String,
    topic_prefix: String,
    poll_interval_ms: u32,
    batch_max_rows: u32,
}

impl Settings {
    fn parse(config: &Config) -> Result<Settings, ConnectorError> {
        let mode = config.required("mode")?;
        if mode != "incrementing" {
            return Err(ConnectorError::Config(format!("mode {mode:?} is not supported yet; supported modes: {MODES}")));
        }
        let positive = |key: &str, default: i64| -> Result<u32, ConnectorError> {
            let v = config.int_or(key, default)?;
            u32::try_from(v).ok().filter(|v| *v > 0).ok_or_else(|| ConnectorError::Config(format!("\"{key}\" must be a positive number, not {v}")))
        };
        Ok(Settings {
            incrementing_column: config.required("incrementing.column.name")?.to_owned(),
            topic_prefix: config.required("topic.prefix")?.to_owned(),
            poll_interval_ms: positive("poll.interval.ms", 5000)?,
            batch_max_rows: positive("batch.max.rows", 100)?,
        })
    }
}

/// Splits `tables` round-robin over at most `max_tasks` groups.
fn split(tables: &[String], max_tasks: u32) -> Vec<Vec<String>> {
    let groups = tables.len().min(max_tasks.max(1) as usize);
    let mut out = vec![Vec::new(); groups];
    for (i, table) in tables.iter().enumerate() {
        out[i % groups].push(table.clone());
    }
    out
}

fn whitelisted_tables(config: &Config, location: &Location) -> Result<Vec<String>, ConnectorError> {
    let listed = config.list("table.whitelist");
    if !listed.is_empty() {
        return Ok(listed);
    }
    let all = location.tables()?;
    if all.is_empty() {
        return Err(ConnectorError::Config(format!("database {:?} has no tables to read; list them in table.whitelist", location.database)));
    }
    Ok(all)
}

pub struct JdbcSource {
    tables: Vec<Table>,
    poll_interval_ms: u32,
    batch_max_rows: u32,
}

impl Source for JdbcSource {
    fn task_configs(config: &Config, max_tasks: u32) -> Result<TaskConfigs, ConnectorError> {
        Settings::parse(config)?;
        let tables = whitelisted_tables(config, &Location::current()?)?;
        Ok(split(&tables, max_tasks)
            .into_iter()
            .map(|group| {
                let mut task = config.clone();
                task.set("tables", group.join(","));
                task.to_pairs()
            })
            .collect())
    }

    fn start(config: Config) -> Result<Self, ConnectorError> {
        let settings = Settings::parse(&config)?;
        let location = Location::current()?;
        let names = match config.list("tables") {
            tables if !tables.is_empty() => tables,
            _ => whitelisted_tables(&config, &location)?,
        };
        let tables = names
            .iter()
            .map(|name| Table::open(&location, name, &settings.incrementing_column, &settings.topic_prefix, settings.batch_max_rows))
            .collect::<Result<_, _>>()?;
        Ok(JdbcSource { tables, poll_interval_ms: settings.poll_interval_ms, batch_max_rows: settings.batch_max_rows })
    }

    fn poll(&mut self) -> Result<SourceBatch, ConnectorError> {
        let mut records = Vec::new();
        let mut more_waiting = false;
        for table in &mut self.tables {
            let read = table.poll(&mut records)?;
            more_waiting |= read == self.batch_max_rows as usize;
        }
        let mut batch = SourceBatch::new();
        for record in records {
            batch.push(record);
        }
        Ok(batch.wait(if more_waiting { 0 } else { self.poll_interval_ms }))
    }
}

wasmconnect_sdk::source_plugin!(JdbcSource);

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Config {
        Config::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn tables_split_round_robin_over_at_most_max_tasks() {
        let tables: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        assert_eq!(split(&tables, 2), vec![vec!["a".to_string(), "c".to_string()], vec!["b".to_string()]]);
        assert_eq!(split(&tables, 10).len(), 3);
        assert_eq!(split(&tables, 0).len(), 1);
    }

    #[test]
    fn settings_are_checked_with_clear_errors() {
        let ok = config(&[("mode", "incrementing"), ("incrementing.column.name", "id"), ("topic.prefix", "t_")]);
        let settings = Settings::parse(&ok).unwrap();
        assert_eq!((settings.poll_interval_ms, settings.batch_max_rows), (5000, 100));
        let bulk = config(&[("mode", "bulk"), ("incrementing.column.name", "id"), ("topic.prefix", "t_")]);
        assert!(matches!(Settings::parse(&bulk), Err(ConnectorError::Config(m)) if m.contains("incrementing")));
        let no_column = config(&[("mode", "incrementing"), ("topic.prefix", "t_")]);
        assert!(matches!(Settings::parse(&no_column), Err(ConnectorError::Config(m)) if m.contains("incrementing.column.name")));
        let zero = config(&[("mode", "incrementing"), ("incrementing.column.name", "id"), ("topic.prefix", "t_"), ("batch.max.rows", "0")]);
        assert!(matches!(Settings::parse(&zero), Err(ConnectorError::Config(m)) if m.contains("batch.max.rows")));
    }
}
