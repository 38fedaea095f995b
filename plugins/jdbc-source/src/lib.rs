//! The JDBC source: Confluent's `JdbcSourceConnector` as a wasmconnect plugin. It reads
//! tables (or one query) through the host's `sql` import in the modes bulk, incrementing,
//! timestamp and timestamp+incrementing, and produces one record per row, with the columns
//! as a Connect struct, resuming from committed offsets.

mod catalog;
mod columns;
mod manifest;
mod reader;
mod settings;
mod zone;

use std::time::{Duration, Instant};

use wasmconnect_sdk::{Config, ConnectorError, Manifest, Source, SourceBatch, TaskConfigs, log, progress};

use catalog::{Location, TableId};
use reader::Reader;
use settings::Settings;

/// The task config keys the connector adds: the task's tables, and whether the task has
/// every table and so looks for new ones itself.
const TABLES_KEY: &str = "tables";
const DISCOVER_KEY: &str = "tables.discover";

/// Splits `tables` round-robin over at most `max_tasks` groups; at least one group, so that
/// a connector whose tables do not exist yet still has a task to find them.
fn split(tables: &[TableId], max_tasks: u32) -> Vec<Vec<TableId>> {
    let groups = tables.len().clamp(1, max_tasks.max(1) as usize);
    let mut out = vec![Vec::new(); groups];
    for (i, table) in tables.iter().enumerate() {
        out[i % groups].push(table.clone());
    }
    out
}

fn encode_tables(tables: &[TableId]) -> String {
    serde_json::Value::Array(tables.iter().map(|t| serde_json::json!([t.owner, t.name])).collect()).to_string()
}

fn decode_tables(text: &str) -> Result<Vec<TableId>, ConnectorError> {
    let bad = || ConnectorError::Config(format!("the task's \"{TABLES_KEY}\" is not a list of [owner, table] pairs: {text}"));
    let pairs: Vec<(String, String)> = serde_json::from_str(text).map_err(|_| bad())?;
    Ok(pairs.into_iter().map(|(owner, name)| TableId { owner, name }).collect())
}

pub struct JdbcSource {
    settings: Settings,
    /// Known once the database has answered; until then every poll tries again.
    location: Option<Location>,
    /// Tables assigned but not opened yet (opening needs the database).
    pending: Vec<TableId>,
    readers: Vec<(Option<TableId>, Reader)>,
    /// When to list the tables again, for a task that has them all.
    discover_at: Option<Instant>,
    /// The rows still to read last reported to the host.
    reported: Option<u64>,
}

impl JdbcSource {
    /// Lists the tables again when it is time, opening new ones and dropping vanished ones.
    fn discover(&mut self, location: &Location) -> Result<(), ConnectorError> {
        if self.discover_at.is_none_or(|at| at > Instant::now()) {
            return Ok(());
        }
        let tables = location.tables(&self.settings)?;
        self.readers.retain(|(table, _)| {
            let keep = table.as_ref().is_none_or(|t| tables.contains(t));
            if !keep {
                log::info(&format!("table {:?} is gone; no longer reading it", table.as_ref().map(|t| &t.name)));
            }
            keep
        });
        for table in tables {
            let known = self.pending.contains(&table) || self.readers.iter().any(|(t, _)| t.as_ref() == Some(&table));
            if !known {
                log::info(&format!("found table {}", table.name));
                self.pending.push(table);
            }
        }
        self.discover_at = Some(Instant::now() + Duration::from_millis(self.settings.table_poll_interval_ms));
        Ok(())
    }

    /// Opens what is not open yet: the database location, the query, pending tables.
    fn open(&mut self) -> Result<Location, ConnectorError> {
        let location = match &self.location {
            Some(location) => location.clone(),
            None => {
                let location = Location::current()?;
                self.location = Some(location.clone());
                location
            }
        };
        if let Some(query) = &self.settings.query {
            if self.readers.is_empty() {
                self.readers.push((None, Reader::query(&location, query, &self.settings)?));
            }
            return Ok(location);
        }
        self.discover(&location)?;
        while let Some(table) = self.pending.first().cloned() {
            let reader = Reader::table(&location, &table, &self.settings)?;
            self.pending.remove(0);
            self.readers.push((Some(table), reader));
        }
        Ok(location)
    }

    /// Polls every reader that is due, one page each.
    fn read(&mut self, location: &Location, batch: &mut SourceBatch) -> Result<(), ConnectorError> {
        let now = Instant::now();
        let due = |r: &Reader| r.due <= now;
        let database_now = match self.readers.iter().any(|(_, r)| due(r) && r.uses_timestamp()) {
            true => Some(reader::database_now(location.dialect)?),
            false => None,
        };
        let interval = Duration::from_millis(self.settings.poll_interval_ms.into());
        for (_, reader) in self.readers.iter_mut().filter(|(_, r)| due(r)) {
            let more = reader.poll(&self.settings, database_now, batch)?;
            reader.due = if more { now } else { now + interval };
        }
        Ok(())
    }

    /// Tells the host, when it changed, how many rows the task's tables have still to read:
    /// the sum over the tables that know (see `Reader::remaining`), none when none knows.
    fn report_remaining(&mut self) {
        let known: Vec<u64> = self.readers.iter().filter_map(|(_, r)| r.remaining()).collect();
        let remaining = (!known.is_empty()).then(|| known.iter().sum());
        if remaining != self.reported {
            progress::report_remaining(remaining);
            self.reported = remaining;
        }
    }

    /// How long the host may wait before the next poll.
    fn wait_ms(&self) -> u32 {
        let now = Instant::now();
        let next = self.readers.iter().map(|(_, r)| r.due).chain(self.discover_at).min();
        let wait = match next {
            Some(next) => next.saturating_duration_since(now),
            None => Duration::from_millis(self.settings.poll_interval_ms.into()),
        };
        wait.as_millis().min(u128::from(self.settings.poll_interval_ms)) as u32
    }
}

impl Source for JdbcSource {
    fn manifest() -> Manifest {
        manifest::manifest()
    }

    fn task_configs(config: &Config, max_tasks: u32) -> Result<TaskConfigs, ConnectorError> {
        let settings = Settings::parse(config)?;
        if settings.query.is_some() {
            return Ok(vec![config.to_pairs()]);
        }
        let location = Location::current()?;
        let tables = location.tables(&settings)?;
        if tables.is_empty() {
            log::warn(&format!("no table of database {} matches the connector's table settings yet; its task looks for them", location.database));
        }
        let groups = split(&tables, max_tasks);
        if groups.len() <= 1 {
            // One task reads every table and finds new ones itself; its config does not
            // list them, so it stays the same (and the task running) as tables come and go.
            let mut task = config.clone();
            task.set(DISCOVER_KEY, "true");
            return Ok(vec![task.to_pairs()]);
        }
        Ok(groups
            .into_iter()
            .map(|group| {
                let mut task = config.clone();
                task.set(TABLES_KEY, encode_tables(&group));
                task.set(DISCOVER_KEY, "false");
                task.to_pairs()
            })
            .collect())
    }

    /// Tables come and go; the host asks for the split again this often and restarts the
    /// tasks when it changed (a second task once there are tables enough, say).
    fn reconfigure_interval_ms(config: &Config) -> Option<u32> {
        let settings = Settings::parse(config).ok()?;
        settings.query.is_none().then(|| settings.table_poll_interval_ms.try_into().unwrap_or(u32::MAX))
    }

    /// Checks the settings only: the database is first used by `poll`, where a connection
    /// error is retried rather than failing the task.
    fn start(config: Config) -> Result<Self, ConnectorError> {
        let settings = Settings::parse(&config)?;
        let (pending, discover) = match config.get(TABLES_KEY) {
            Some(tables) => (decode_tables(tables)?, config.bool_or(DISCOVER_KEY, false)?),
            None => (Vec::new(), true),
        };
        let discover_at = (discover && settings.query.is_none()).then(Instant::now);
        Ok(JdbcSource { settings, location: None, pending, readers: Vec::new(), discover_at, reported: None })
    }

    fn poll(&mut self) -> Result<SourceBatch, ConnectorError> {
        let location = self.open()?;
        let mut batch = SourceBatch::new();
        let read = self.read(&location, &mut batch);
        self.report_remaining();
        if let Err(e) = read {
            // Rows already read must go out: their readers have moved past them. The error
            // comes back on the next poll.
            if batch.is_empty() || !matches!(e, ConnectorError::Retriable(_)) {
                return Err(e);
            }
            log::warn(&format!("{e:?}; sending the rows read before it"));
            return Ok(batch.wait(0));
        }
        let wait = self.wait_ms();
        Ok(batch.wait(wait))
    }
}

wasmconnect_sdk::source_plugin!(JdbcSource);

#[cfg(test)]
mod tests {
    use super::*;

    fn tables(names: &[&str]) -> Vec<TableId> {
        names.iter().map(|n| TableId { owner: "db".into(), name: n.to_string() }).collect()
    }

    #[test]
    fn tables_split_round_robin_over_at_most_max_tasks() {
        let all = tables(&["a", "b", "c"]);
        assert_eq!(split(&all, 2), vec![tables(&["a", "c"]), tables(&["b"])]);
        assert_eq!(split(&all, 10).len(), 3);
        assert_eq!(split(&all, 0).len(), 1);
        assert_eq!(split(&[], 4), vec![Vec::<TableId>::new()], "one task to find tables created later");
    }

    #[test]
    fn task_tables_round_trip_with_any_characters() {
        let odd = vec![TableId { owner: "my.db".into(), name: "a,b\"c".into() }];
        assert_eq!(decode_tables(&encode_tables(&odd)).unwrap(), odd);
        assert!(matches!(decode_tables("users"), Err(ConnectorError::Config(_))));
    }
}
