//! Store data of a task and the host imports a plugin may call: `log`, `config`, `offsets`,
//! `sql` and `progress`. Each is a capability scoped to one connector's task.

use std::collections::BTreeMap;
use std::sync::Arc;

use wasmconnect_db::{ConnectionConfig, Database, Pools};
use super::limits::{CallBudget, MeteredLimits};
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::{config, log, offsets, progress, sink_context, sql, types};

/// Committed source offsets, as the worker's offset store knows them.
pub trait OffsetReader: Send + Sync {
    fn committed(&self, partition: &serde_json::Value) -> Option<serde_json::Value>;
}

/// The offsets of a plugin that has none committed: one under test, or describing itself.
pub struct NoOffsets;

impl OffsetReader for NoOffsets {
    fn committed(&self, _partition: &serde_json::Value) -> Option<serde_json::Value> {
        None
    }
}

/// Who a plugin instance works for, and what it may use.
#[derive(Clone)]
pub struct TaskContext {
    pub connector: String,
    /// `None` for connector-level calls such as `task-configs`.
    pub task: Option<u32>,
    pub config: BTreeMap<String, String>,
    pub offsets: Arc<dyn OffsetReader>,
    pub pools: Arc<Pools>,
    /// Host calls into async code (sqlx) block on this runtime; plugins run on their own threads.
    pub tokio: tokio::runtime::Handle,
    /// The memory and time the plugin's instance may use.
    pub limits: super::TaskLimits,
}

/// How much of a plugin's standard error is kept: enough for a panic message.
const STDERR_CAPACITY: usize = 1 << 20;

pub struct TaskState {
    wasi: WasiCtx,
    /// The plugin's standard error, where a Rust panic message goes; shown with a trap.
    stderr: MemoryOutputPipe,
    table: ResourceTable,
    pub(super) limits: MeteredLimits,
    /// What the current call into the plugin has used (instantiation counts as a call).
    pub(super) call: CallBudget,
    /// Why the engine interrupted the plugin, when a budget ran out: the trap says only
    /// "interrupt".
    pub(super) interrupted: Option<String>,
    ctx: TaskContext,
    db: Option<Database>,
    /// What the plugin last reported through `progress`: records it has still to read.
    remaining: Option<u64>,
    /// Where a sink asked to resume (`sink-context.offset`), until its task loop takes them.
    pub(super) resume_at: Vec<(String, i32, i64)>,
}

impl TaskState {
    pub(super) fn new(ctx: TaskContext, limits: MeteredLimits) -> TaskState {
        // No preopened directories, no environment, no network: the default WASI context
        // grants nothing beyond clocks and random numbers.
        let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
        let wasi = WasiCtx::builder().stderr(stderr.clone()).build();
        TaskState {
            wasi,
            stderr,
            table: ResourceTable::new(),
            limits,
            call: CallBudget::start(),
            interrupted: None,
            ctx,
            db: None,
            remaining: None,
            resume_at: Vec::new(),
        }
    }

    pub(super) fn limits(&self) -> &super::TaskLimits {
        &self.ctx.limits
    }

    /// The records the plugin last said it has still to read, if it said.
    pub(super) fn remaining(&self) -> Option<u64> {
        self.remaining
    }

    /// The last lines the plugin wrote to standard error.
    pub(super) fn stderr_tail(&self) -> String {
        let contents = self.stderr.contents();
        let text = String::from_utf8_lossy(&contents);
        let lines: Vec<&str> = text.lines().rev().take(20).collect();
        lines.into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    fn target(&self) -> String {
        match self.ctx.task {
            Some(task) => format!("{}-{task}", self.ctx.connector),
            None => self.ctx.connector.clone(),
        }
    }

    fn database(&mut self) -> Result<Database, sql::SqlError> {
        if let Some(db) = &self.db {
            return Ok(db.clone());
        }
        let config = &self.ctx.config;
        let url = config.get("connection.url").ok_or_else(|| {
            sql::SqlError::Denied("the connector has no connection.url, so it has no database to use".into())
        })?;
        let settings = ConnectionConfig::from_connector_config(
            url,
            config.get("connection.user").map(String::as_str),
            config.get("connection.password").map(String::as_str),
        )
        .map_err(to_wit_error)?;
        let pools = self.ctx.pools.clone();
        let db = self.ctx.tokio.block_on(pools.get(&settings)).map_err(to_wit_error)?;
        self.db = Some(db.clone());
        Ok(db)
    }
}

impl WasiView for TaskState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl types::Host for TaskState {}

impl log::Host for TaskState {
    fn log(&mut self, level: log::Level, message: String) {
        let target = self.target();
        match level {
            log::Level::Trace => tracing::trace!(connector = %target, "{message}"),
            log::Level::Debug => tracing::debug!(connector = %target, "{message}"),
            log::Level::Info => tracing::info!(connector = %target, "{message}"),
            log::Level::Warn => tracing::warn!(connector = %target, "{message}"),
            log::Level::Error => tracing::error!(connector = %target, "{message}"),
        }
    }
}

impl config::Host for TaskState {
    fn get(&mut self, key: String) -> Option<String> {
        self.ctx.config.get(&key).cloned()
    }

    fn all(&mut self) -> Vec<(String, String)> {
        self.ctx.config.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

impl sink_context::Host for TaskState {
    fn offset(&mut self, offsets: Vec<sink_context::PartitionOffset>) {
        self.resume_at.extend(offsets.into_iter().map(|o| (o.topic, o.partition, o.offset)));
    }
}

impl offsets::Host for TaskState {
    fn get(&mut self, partitions: Vec<String>) -> Vec<Option<String>> {
        partitions
            .iter()
            .map(|p| {
                let partition = serde_json::from_str(p).ok()?;
                self.ctx.offsets.committed(&partition).map(|o| o.to_string())
            })
            .collect()
    }
}

impl progress::Host for TaskState {
    fn report_remaining(&mut self, records: Option<u64>) {
        self.remaining = records;
    }
}

impl sql::Host for TaskState {
    fn get_dialect(&mut self) -> Result<sql::Dialect, sql::SqlError> {
        Ok(match self.database()?.dialect() {
            wasmconnect_db::Dialect::MySql => sql::Dialect::Mysql,
            wasmconnect_db::Dialect::Postgres => sql::Dialect::Postgres,
            wasmconnect_db::Dialect::Sqlite => sql::Dialect::Sqlite,
        })
    }

    fn query(&mut self, statement: String, params: Vec<sql::SqlValue>) -> Result<sql::RowSet, sql::SqlError> {
        let db = self.database()?;
        let params = params.into_iter().map(from_wit_value).collect();
        let rows = self.ctx.tokio.block_on(db.query(&statement, params)).map_err(to_wit_error)?;
        Ok(sql::RowSet {
            columns: rows
                .columns
                .into_iter()
                .map(|c| sql::Column { name: c.name, type_name: c.type_name })
                .collect(),
            rows: rows.rows.into_iter().map(|r| r.into_iter().map(to_wit_value).collect()).collect(),
        })
    }

    fn execute(&mut self, statements: Vec<sql::Statement>) -> Result<Vec<u64>, sql::SqlError> {
        let db = self.database()?;
        let statements = statements.into_iter().map(from_wit_statement).collect();
        self.ctx.tokio.block_on(db.execute(statements)).map_err(to_wit_error)
    }

    fn execute_steps(&mut self, steps: Vec<sql::Step>) -> Result<Vec<u64>, sql::SqlError> {
        let db = self.database()?;
        let steps = steps
            .into_iter()
            .map(|step| match step {
                sql::Step::Statement(s) => wasmconnect_db::Step::Statement(from_wit_statement(s)),
                // The bytes move on untouched: no per-row work on the host.
                sql::Step::CopyIn(copy) => wasmconnect_db::Step::CopyIn { sql: copy.sql, data: copy.data },
            })
            .collect();
        self.ctx.tokio.block_on(db.execute_steps(steps)).map_err(to_wit_error)
    }
}

fn from_wit_statement(s: sql::Statement) -> wasmconnect_db::Statement {
    wasmconnect_db::Statement { sql: s.sql, params: s.params.into_iter().map(|row| row.into_iter().map(from_wit_value).collect()).collect() }
}

fn to_wit_error(e: wasmconnect_db::SqlError) -> sql::SqlError {
    use wasmconnect_db::SqlError as E;
    match e {
        E::Connection(m) => sql::SqlError::Connection(m),
        E::Database { code, message } => sql::SqlError::Database(sql::DatabaseError { code, message }),
        E::Denied(m) => sql::SqlError::Denied(m),
    }
}

fn from_wit_value(v: sql::SqlValue) -> wasmconnect_db::SqlValue {
    use wasmconnect_db::SqlValue as V;
    match v {
        sql::SqlValue::Null => V::Null,
        sql::SqlValue::Boolean(b) => V::Boolean(b),
        sql::SqlValue::Int(i) => V::Int(i),
        sql::SqlValue::Uint(u) => V::Uint(u),
        sql::SqlValue::Float(f) => V::Float(f),
        sql::SqlValue::Decimal(d) => V::Decimal(d),
        sql::SqlValue::Text(s) => V::Text(s),
        sql::SqlValue::Bytes(b) => V::Bytes(b),
        sql::SqlValue::Date(d) => V::Date(d),
        sql::SqlValue::Time(t) => V::Time(t),
        sql::SqlValue::Timestamp(t) => V::Timestamp(t),
    }
}

fn to_wit_value(v: wasmconnect_db::SqlValue) -> sql::SqlValue {
    use wasmconnect_db::SqlValue as V;
    match v {
        V::Null => sql::SqlValue::Null,
        V::Boolean(b) => sql::SqlValue::Boolean(b),
        V::Int(i) => sql::SqlValue::Int(i),
        V::Uint(u) => sql::SqlValue::Uint(u),
        V::Float(f) => sql::SqlValue::Float(f),
        V::Decimal(d) => sql::SqlValue::Decimal(d),
        V::Text(s) => sql::SqlValue::Text(s),
        V::Bytes(b) => sql::SqlValue::Bytes(b),
        V::Date(d) => sql::SqlValue::Date(d),
        V::Time(t) => sql::SqlValue::Time(t),
        V::Timestamp(t) => sql::SqlValue::Timestamp(t),
    }
}
