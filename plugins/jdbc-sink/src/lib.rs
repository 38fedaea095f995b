//! The JDBC sink: Confluent's `JdbcSinkConnector` as a wasmconnect plugin. Each batch is
//! checked record by record first, so a bad record is reported before anything is written;
//! then its tables are created or evolved as allowed, and all its rows are written with
//! multi-row statements (on PostgreSQL: `COPY`, see [`writer`]) in one `sql.execute-steps`
//! call, which the host runs as one transaction.
//!
//! A batch the database refuses is searched for the record it refuses with dry runs (see
//! [`JdbcSink::find_bad_record`]), so that the host can set that record aside and put the
//! rest again. A batch that fails for a passing reason (a lost connection, a deadlock) is
//! reported as retriable: the host puts it again, whole, after its backoff, and the plugin
//! waits out what remains of `retry.backoff.ms`, up to `max.retries` times in a row.

mod catalog;
mod copy;
mod ddl;
mod dialect;
mod dml;
mod evolution;
mod manifest;
mod offsets;
mod rows;
mod settings;
mod values;
mod writer;
mod zone;

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmconnect_sdk::data::TIMESTAMP;
use wasmconnect_sdk::sql::{self, DatabaseError, Dialect, SqlError, SqlValue, Statement, Step};
use wasmconnect_sdk::{Config, ConnectorError, Manifest, RecordError, Sink, SinkRecord, log};

use crate::catalog::{Catalog, refusal, sql_error};
use crate::dialect::{Sql, is_transient, may_be_one_record};
use crate::evolution::{TableError, TablePlan};
use crate::offsets::OffsetsTable;
use crate::rows::{Action, RowBuilder, RowShape};
use crate::settings::Settings;
use crate::writer::{Limits, Plan};

/// Statement bytes when the database states no limit: a bound on the memory one statement
/// takes in the plugin and the host.
const DEFAULT_STATEMENT_BYTES: usize = 16 << 20;

/// A table no one has: a statement reading it fails, which rolls a dry run back.
const DRY_RUN_END: &str = "wasmconnect dry run, rolled back";

pub struct JdbcSink {
    settings: Settings,
    sql: Sql,
    catalog: Catalog,
    plan: Plan,
    /// With `exactly.once.enabled`, where the offsets are kept, in each batch's transaction.
    offsets: Option<OffsetsTable>,
    /// Failed attempts at the current batch in a row, and when the last one failed.
    failures: u32,
    last_failure: Option<Instant>,
}

impl Sink for JdbcSink {
    fn manifest() -> Manifest {
        manifest::manifest()
    }

    fn start(config: Config) -> Result<Self, ConnectorError> {
        let settings = Settings::parse(&config)?;
        let dialect = sql::get_dialect().map_err(|e| sql_error("connecting to the database", e))?;
        let sql = Sql::new(dialect, settings.quote_identifiers);
        let limits = Limits { rows: settings.batch_size, bytes: statement_bytes(sql)? };
        let plan = Plan { sql, mode: settings.insert_mode, limits, copy: dialect == Dialect::Postgres && settings.copy };
        let offsets = match &settings.offsets_table {
            Some(table) => {
                let offsets = OffsetsTable::open(sql, table, config.string_or("name", ""))?;
                wasmconnect_sdk::sink_context::offset(offsets.committed()?);
                Some(offsets)
            }
            None => None,
        };
        Ok(JdbcSink { sql, catalog: Catalog::new(sql), plan, settings, offsets, failures: 0, last_failure: None })
    }

    fn put(&mut self, records: Vec<SinkRecord>) -> Result<(), ConnectorError> {
        self.wait_before_retry();
        match self.write(&records) {
            Err(ConnectorError::Retriable(message)) => {
                self.failures += 1;
                self.last_failure = Some(Instant::now());
                let max = self.settings.max_retries;
                if self.failures > max {
                    self.failures = 0;
                    return Err(ConnectorError::Fatal(format!("{message} (gave up after max.retries={max} retries)")));
                }
                Err(ConnectorError::Retriable(format!("{message} (retry {} of max.retries={max})", self.failures)))
            }
            other => {
                self.failures = 0;
                other
            }
        }
    }
}

impl JdbcSink {
    /// The host waits before it puts a failed batch again; this makes that wait at least
    /// `retry.backoff.ms`.
    fn wait_before_retry(&self) {
        let Some(failed) = self.last_failure.filter(|_| self.failures > 0) else { return };
        let backoff = Duration::from_millis(self.settings.retry_backoff_ms);
        if let Some(rest) = backoff.checked_sub(failed.elapsed()) {
            std::thread::sleep(rest);
        }
    }

    fn write(&mut self, records: &[SinkRecord]) -> Result<(), ConnectorError> {
        let mut actions = self.check(records)?;
        self.prepare_tables(&mut actions)?;
        self.apply_db_timezone(&mut actions)?;
        let mut steps = writer::steps(self.plan, &actions);
        steps.extend(self.offsets.as_ref().and_then(|offsets| offsets.advance(records)).map(Step::Statement));
        if steps.is_empty() {
            return Ok(());
        }
        let Err(e) = sql::execute_steps(&steps) else { return Ok(()) };
        // Someone may have changed a table underneath: read the catalog again next time.
        let tables = tables(&actions);
        for table in &tables {
            self.catalog.forget(table);
        }
        let doing = format!("writing {} records to table(s) {}", records.len(), tables.join(", "));
        match e {
            SqlError::Database(d) if !is_transient(&d) && may_be_one_record(d.code.as_deref()) => {
                self.find_bad_record(records, &actions, &doing, d)
            }
            other => Err(sql_error(&doing, other)),
        }
    }

    /// Turns every record into an action before anything is written; the first bad record
    /// fails the batch with its index, so the host can send it to the dead-letter queue.
    fn check(&self, records: &[SinkRecord]) -> Result<Vec<Action>, ConnectorError> {
        let mut builder = RowBuilder::new(&self.settings, self.sql);
        let mut actions = Vec::with_capacity(records.len());
        let mut skipped: Vec<&SinkRecord> = Vec::new();
        for (index, record) in records.iter().enumerate() {
            let action = builder
                .action(record)
                .map_err(|problem| record_error(index, format!("the record at {}: {problem}", position(record))))?;
            if action == Action::SkipTombstone {
                skipped.push(record);
            }
            actions.push(action);
        }
        if let Some(first) = skipped.first() {
            log::warn(&format!(
                "skipped {} tombstone(s) (records with a null value), the first at {}: set delete.enabled=true and \
                 pk.mode=record_key to delete their rows instead",
                skipped.len(),
                position(first)
            ));
        }
        Ok(actions)
    }

    /// Makes each table fit every shape written to it, and drops the deletes of tables that
    /// do not exist (there is no row to delete).
    fn prepare_tables(&mut self, actions: &mut [Action]) -> Result<(), ConnectorError> {
        for table in tables(actions) {
            let mut writes: Vec<&Arc<RowShape>> = Vec::new();
            let mut deletes: Vec<&Arc<RowShape>> = Vec::new();
            for action in actions.iter() {
                let (list, shape) = match action {
                    Action::Write { table: t, shape, .. } if *t == table => (&mut writes, shape),
                    Action::Delete { table: t, shape, .. } if *t == table => (&mut deletes, shape),
                    _ => continue,
                };
                if !list.iter().any(|s| Arc::ptr_eq(s, shape)) {
                    list.push(shape);
                }
            }
            for shape in writes {
                self.ensure_table(&table, shape)?;
            }
            let mut table_exists = true;
            for shape in deletes {
                let existing = self.catalog.columns(&table)?;
                table_exists &= evolution::can_delete(self.sql, &table, existing, shape).map_err(table_error)?;
            }
            if !table_exists {
                let mut dropped = 0;
                for action in actions.iter_mut() {
                    if matches!(action, Action::Delete { table: t, .. } if *t == table) {
                        *action = Action::SkipTombstone;
                        dropped += 1;
                    }
                }
                log::info(&format!("table {table:?} does not exist: nothing to delete for {dropped} tombstone(s)"));
            }
        }
        Ok(())
    }

    /// Creates or evolves `table` for rows of `shape`, as `auto.create` and `auto.evolve`
    /// allow.
    fn ensure_table(&mut self, table: &str, shape: &RowShape) -> Result<(), ConnectorError> {
        let existing = self.catalog.columns(table)?;
        let plan = evolution::plan(self.sql, &self.settings, table, existing, shape).map_err(table_error)?;
        match &plan {
            TablePlan::UpToDate => return Ok(()),
            TablePlan::Create(_) => log::info(&format!("creating table {table:?}")),
            TablePlan::AddColumns { columns, .. } => log::info(&format!("adding column(s) {} to table {table:?}", columns.join(", "))),
        }
        let Err(e) = self.catalog.apply(table, &plan) else { return Ok(()) };
        // Another task writing the same table may have made the same change first.
        let existing = self.catalog.columns(table)?;
        match evolution::plan(self.sql, &self.settings, table, existing, shape) {
            Ok(TablePlan::UpToDate) => Ok(()),
            _ => Err(e),
        }
    }

    /// With a `db.timezone` other than UTC, timestamps bound for columns without a time zone
    /// become the wall-clock time they have in that zone.
    fn apply_db_timezone(&mut self, actions: &mut [Action]) -> Result<(), ConnectorError> {
        let zone = self.settings.zone;
        if zone.is_utc() {
            return Ok(());
        }
        let mut known: Vec<(String, Arc<RowShape>, Vec<usize>)> = Vec::new();
        for action in actions.iter_mut() {
            let (Action::Write { table, shape, params } | Action::Delete { table, shape, params }) = action else { continue };
            let found = known.iter().position(|(t, s, _)| t == table && Arc::ptr_eq(s, shape));
            let index = match found {
                Some(i) => i,
                None => {
                    let columns = self.catalog.columns(table)?.unwrap_or_default();
                    let wall: Vec<usize> = (0..shape.fields.len())
                        .filter(|&i| {
                            let field = &shape.fields[i];
                            field.schema.name.as_deref() == Some(TIMESTAMP)
                                && columns.iter().any(|c| self.sql.same_column(&field.name, &c.name) && self.sql.is_wall_clock(&c.data_type))
                        })
                        .collect();
                    known.push((table.clone(), shape.clone(), wall));
                    known.len() - 1
                }
            };
            for &i in &known[index].2 {
                if let SqlValue::Timestamp(micros) = params[i] {
                    params[i] = SqlValue::Timestamp(zone.wall(micros));
                }
            }
        }
        Ok(())
    }

    /// Finds the record the database refuses, by dry runs: the statements of a prefix of the
    /// batch followed by one that always fails, so that nothing is ever committed. The
    /// shortest prefix that fails ends with the culprit. A failure that no dry run repeats
    /// was a passing one, and the batch is retried.
    fn find_bad_record(&self, records: &[SinkRecord], actions: &[Action], doing: &str, error: DatabaseError) -> Result<(), ConnectorError> {
        let Some(mut refused) = self.dry_run(actions)? else {
            return Err(ConnectorError::Retriable(format!("{doing}: {}; a second try went through", refusal(&error))));
        };
        // The prefix of `low` actions is known to go through, that of `high` to fail.
        let (mut low, mut high) = (0, actions.len());
        while high - low > 1 {
            let middle = (low + high) / 2;
            match self.dry_run(&actions[..middle])? {
                Some(e) => (high, refused) = (middle, e),
                None => low = middle,
            }
        }
        let index = high - 1;
        let table = match &actions[index] {
            Action::Write { table, .. } | Action::Delete { table, .. } => table.as_str(),
            Action::SkipTombstone => "",
        };
        Err(record_error(index, format!("the record at {} cannot be written to table {table:?}: {}", position(&records[index]), refusal(&refused))))
    }

    /// Runs the statements of `actions` and rolls them back; the database's refusal, if any.
    fn dry_run(&self, actions: &[Action]) -> Result<Option<DatabaseError>, ConnectorError> {
        let mut steps = writer::steps(self.plan, actions);
        let end = Statement { sql: format!("SELECT 1 FROM {}", sql::quote(self.sql.dialect, DRY_RUN_END)), params: Vec::new() };
        steps.push(Step::Statement(end));
        match sql::execute_steps(&steps) {
            Ok(_) => Err(ConnectorError::Fatal(format!("a dry run was committed: a table named {DRY_RUN_END:?} exists"))),
            Err(SqlError::Database(d)) if d.message.contains(DRY_RUN_END) => Ok(None),
            Err(SqlError::Database(d)) => Ok(Some(d)),
            Err(other) => Err(sql_error("looking for the record the database refuses", other)),
        }
    }
}

/// The most bytes one statement may carry: three quarters of MySQL's `max_allowed_packet`,
/// leaving room for what the estimate misses.
fn statement_bytes(sql: Sql) -> Result<usize, ConnectorError> {
    let Some(query) = sql.packet_limit_query() else { return Ok(DEFAULT_STATEMENT_BYTES) };
    let rows = sql::query(query, &[]).map_err(|e| sql_error("reading max_allowed_packet", e))?;
    let limit = match rows.rows.first().and_then(|r| r.first()) {
        Some(SqlValue::Int(n)) => usize::try_from(*n).ok(),
        Some(SqlValue::Uint(n)) => usize::try_from(*n).ok(),
        Some(SqlValue::Decimal(n) | SqlValue::Text(n)) => n.parse().ok(),
        _ => None,
    };
    Ok(limit.map_or(DEFAULT_STATEMENT_BYTES, |l| l / 4 * 3))
}

/// The tables of the actions, in order of first appearance.
fn tables(actions: &[Action]) -> Vec<String> {
    let mut tables: Vec<String> = Vec::new();
    for action in actions {
        if let Action::Write { table, .. } | Action::Delete { table, .. } = action
            && !tables.contains(table)
        {
            tables.push(table.clone());
        }
    }
    tables
}

/// A table that does not fit is the user's to fix (the table or the DDL switches).
fn table_error(e: TableError) -> ConnectorError {
    match e {
        TableError::Unsupported { .. } => ConnectorError::Fatal(e.to_string()),
        _ => ConnectorError::Config(e.to_string()),
    }
}

fn record_error(index: usize, message: String) -> ConnectorError {
    ConnectorError::Record(RecordError { index: index as u32, message })
}

fn position(record: &SinkRecord) -> String {
    format!("topic {:?} partition {} offset {}", record.topic, record.kafka_partition, record.kafka_offset)
}

wasmconnect_sdk::sink_plugin!(JdbcSink);
