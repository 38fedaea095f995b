//! The JDBC sink: Confluent's `JdbcSinkConnector` as a wasmconnect plugin. Each batch is
//! checked record by record first, so a bad record is reported before anything is written;
//! then its tables are created or evolved as allowed, and all its rows are written with
//! multi-row INSERTs in one `sql.execute` call, which the host runs as one transaction.

mod catalog;
mod ddl;
mod dml;
mod evolution;
mod rows;
mod settings;
mod types;
mod values;
mod writer;

use std::sync::Arc;

use wasmconnect_sdk::sql::{self, Dialect};
use wasmconnect_sdk::{Config, ConnectorError, RecordError, Sink, SinkRecord, log};

use crate::catalog::{Catalog, sql_error};
use crate::evolution::{TableError, TablePlan};
use crate::rows::{Action, RowBuilder, RowShape};
use crate::settings::Settings;
use crate::writer::TableActions;

pub struct JdbcSink {
    settings: Settings,
    dialect: Dialect,
    catalog: Catalog,
}

impl Sink for JdbcSink {
    fn start(config: Config) -> Result<Self, ConnectorError> {
        let settings = Settings::parse(&config)?;
        let dialect = sql::get_dialect().map_err(|e| sql_error("connecting to the database", e))?;
        Ok(JdbcSink { settings, dialect, catalog: Catalog::new(dialect) })
    }

    fn put(&mut self, records: Vec<SinkRecord>) -> Result<(), ConnectorError> {
        let actions = self.check(&records)?;
        let mut groups = writer::by_table(actions);
        for group in &mut groups {
            self.prepare_table(group)?;
        }
        let tables: Vec<String> = groups.iter().map(|g| g.table.clone()).collect();
        let names: Vec<String> = tables.iter().map(|t| format!("{t:?}")).collect();
        let rows: usize = groups.iter().map(|g| g.actions.len()).sum();
        let statements = writer::statements(self.dialect, self.settings.batch_size, groups);
        if statements.is_empty() {
            return Ok(());
        }
        sql::execute(&statements).map(|_| ()).map_err(|e| {
            for table in &tables {
                self.catalog.forget(table);
            }
            sql_error(&format!("writing {rows} records to table(s) {}", names.join(", ")), e)
        })
    }
}

impl JdbcSink {
    /// Turns every record into an action before anything is written; the first bad record
    /// fails the batch with its index, so the host can send it to the dead-letter queue.
    fn check(&self, records: &[SinkRecord]) -> Result<Vec<Action>, ConnectorError> {
        let mut builder = RowBuilder::new(&self.settings, self.dialect);
        let mut actions = Vec::with_capacity(records.len());
        let mut skipped: Vec<&SinkRecord> = Vec::new();
        for (index, record) in records.iter().enumerate() {
            let action = builder.action(record).map_err(|problem| {
                ConnectorError::Record(RecordError { index: index as u32, message: format!("the record at {}: {problem}", position(record)) })
            })?;
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

    /// Makes the table fit every shape its inserts have, and drops its deletes when the
    /// table does not exist (there is no row to delete).
    fn prepare_table(&mut self, group: &mut TableActions) -> Result<(), ConnectorError> {
        let mut shapes: Vec<&Arc<RowShape>> = Vec::new();
        let mut delete_shapes: Vec<&Arc<RowShape>> = Vec::new();
        for action in &group.actions {
            let (list, shape) = match action {
                Action::Insert { shape, .. } => (&mut shapes, shape),
                Action::Delete { shape, .. } => (&mut delete_shapes, shape),
                Action::SkipTombstone => continue,
            };
            if !list.iter().any(|s| Arc::ptr_eq(s, shape)) {
                list.push(shape);
            }
        }
        for shape in shapes {
            self.ensure_table(&group.table, shape)?;
        }
        let mut table_exists = true;
        for shape in delete_shapes {
            let existing = self.catalog.columns(&group.table)?;
            table_exists &= evolution::can_delete(self.dialect, &group.table, existing, shape).map_err(table_error)?;
        }
        if !table_exists {
            let before = group.actions.len();
            group.actions.retain(|a| !matches!(a, Action::Delete { .. }));
            log::info(&format!("table {:?} does not exist: nothing to delete for {} tombstone(s)", group.table, before - group.actions.len()));
        }
        Ok(())
    }

    /// Creates or evolves `table` for rows of `shape`, as `auto.create` and `auto.evolve`
    /// allow.
    fn ensure_table(&mut self, table: &str, shape: &RowShape) -> Result<(), ConnectorError> {
        let existing = self.catalog.columns(table)?;
        let plan = evolution::plan(self.dialect, &self.settings, table, existing, shape).map_err(table_error)?;
        match &plan {
            TablePlan::UpToDate => return Ok(()),
            TablePlan::Create(_) => log::info(&format!("creating table {table:?}")),
            TablePlan::AddColumns { columns, .. } => log::info(&format!("adding column(s) {} to table {table:?}", columns.join(", "))),
        }
        let Err(e) = self.catalog.apply(table, &plan, shape) else { return Ok(()) };
        // Another task writing the same table may have made the same change first.
        self.catalog.forget(table);
        let existing = self.catalog.columns(table)?;
        match evolution::plan(self.dialect, &self.settings, table, existing, shape) {
            Ok(TablePlan::UpToDate) => Ok(()),
            _ => Err(e),
        }
    }
}

/// A table that does not fit is the user's to fix (the table or the DDL switches).
fn table_error(e: TableError) -> ConnectorError {
    match e {
        TableError::Unsupported { .. } => ConnectorError::Fatal(e.to_string()),
        _ => ConnectorError::Config(e.to_string()),
    }
}

fn position(record: &SinkRecord) -> String {
    format!("topic {:?} partition {} offset {}", record.topic, record.kafka_partition, record.kafka_offset)
}

wasmconnect_sdk::sink_plugin!(JdbcSink);
