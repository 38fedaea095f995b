//! One table (or the query of query mode) being read: the keyset query of its mode, where
//! reading has got, and the rows of one page turned into records.
//!
//! Every query is bounded by `batch.max.rows` and continues after the last row read
//! (`WHERE key > last ORDER BY key LIMIT n`), never with OFFSET, so a poll holds one page
//! whatever the table's size, and rows inserted or deleted meanwhile do not shift the pages.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use wasmconnect_sdk::data::{Data, Schema, SourceRecord, Value};
use wasmconnect_sdk::sql::{self, Dialect, RowSet, SqlValue};
use wasmconnect_sdk::{ConnectorError, SourceBatch, log};

use crate::catalog::{Location, TableId};
use crate::columns::{self, Mapping};
use crate::settings::{InitialTimestamp, Mode, Settings, mode_name};

/// What is read, and how its columns become a record.
struct Shape {
    schema: Arc<Schema>,
    mappings: Vec<Mapping>,
    /// Positions, among the selected columns, of the incrementing column, the timestamp
    /// columns (first non-null wins, as in the COALESCE of the query) and the bulk paging key.
    incrementing: Option<usize>,
    timestamps: Vec<usize>,
    key: Vec<usize>,
}

/// How far reading has got.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Position {
    pub incrementing: Option<i64>,
    /// UTC microseconds.
    pub timestamp: Option<i64>,
}

impl Position {
    /// Kafka Connect's offset: `{"incrementing":N}`, `{"timestamp":ms,"timestamp_nanos":ns}`
    /// (ns: the nanoseconds within the second), or both.
    pub fn to_offset(self) -> serde_json::Value {
        let mut offset = serde_json::Map::new();
        if let Some(micros) = self.timestamp {
            offset.insert("timestamp".into(), json!(micros.div_euclid(1000)));
            offset.insert("timestamp_nanos".into(), json!(micros.rem_euclid(1_000_000) * 1000));
        }
        if let Some(id) = self.incrementing {
            offset.insert("incrementing".into(), json!(id));
        }
        serde_json::Value::Object(offset)
    }

    pub fn from_offset(offset: &serde_json::Value) -> Position {
        let timestamp = offset.get("timestamp").and_then(serde_json::Value::as_i64).map(|ms| match offset.get("timestamp_nanos").and_then(serde_json::Value::as_i64) {
            Some(nanos) => ms.div_euclid(1000) * 1_000_000 + nanos / 1000,
            None => ms * 1000,
        });
        Position { incrementing: offset.get("incrementing").and_then(serde_json::Value::as_i64), timestamp }
    }
}

/// A gap in the incrementing sequence: the first missing value, and when it was first seen.
struct Gap {
    missing: i64,
    since: Instant,
}

pub struct Reader {
    label: String,
    topic: String,
    partition: serde_json::Value,
    dialect: Dialect,
    mode: Mode,
    /// `SELECT <columns> FROM <source>`, to which each mode adds its conditions.
    select: String,
    /// The `<source>` of `select`: the table, or the query as a derived table.
    source: String,
    /// The quoted expressions the conditions compare.
    incrementing_expr: String,
    timestamp_expr: String,
    /// The bulk paging key's columns, quoted; empty to read the whole table in one query.
    key_exprs: Vec<String>,
    /// Query mode learns its columns' types from the result.
    query_columns: Option<QueryColumns>,
    shape: Shape,
    position: Position,
    /// Where the current bulk pass has got: the key of the last row read.
    bulk_after: Option<Vec<SqlValue>>,
    gap: Option<Gap>,
    pub due: Instant,
    /// Rows still to read in the current catch-up, counted when a page comes back full and
    /// decreased by every row read since; `Some(0)` once a page is not full.
    remaining: Option<u64>,
    /// False once counting failed: the estimate is not worth a failing query per poll.
    countable: bool,
}

/// The names query mode looks for in its result, and whether the decimal scales still need
/// to be learned from the first rows.
struct QueryColumns {
    incrementing: Option<String>,
    timestamps: Vec<String>,
    scales_learned: bool,
}

impl Reader {
    /// Opens a table: reads its columns, checks the mode's columns, and finds where the last
    /// run stopped.
    pub fn table(location: &Location, table: &TableId, settings: &Settings) -> Result<Reader, ConnectorError> {
        let columns = location.columns(table)?;
        if columns.is_empty() {
            return Err(ConnectorError::Config(format!("table {:?} was not found in {:?}", table.name, table.owner)));
        }
        let quote = |name: &str| quote(location.dialect, settings, name);
        let mut fields = Vec::new();
        let mut mappings = Vec::new();
        let mut selected = Vec::new();
        for column in &columns {
            match columns::mapping(column, settings.numeric_mapping) {
                Some(mapping) => {
                    fields.push(columns::field(&column.name, mapping, column.nullable));
                    mappings.push(mapping);
                    selected.push(column);
                }
                None => log::warn(&format!(
                    "column {}.{} has type {}, which the JDBC source does not read; it is left out",
                    table.name, column.name, column.data_type
                )),
            }
        }
        let position_of = |name: &str, what: &str| {
            selected.iter().position(|c| c.name == name).ok_or_else(|| {
                ConnectorError::Config(format!("table {:?} has no column {name:?} ({what}) of a type the source reads", table.name))
            })
        };
        let incrementing = if settings.mode.uses_incrementing() {
            let name = if settings.incrementing_column.is_empty() {
                let auto = selected.iter().find(|c| c.auto_increment).ok_or_else(|| {
                    ConnectorError::Config(format!(
                        "table {:?} has no auto-increment column: name the strictly increasing column in incrementing.column.name",
                        table.name
                    ))
                })?;
                auto.name.clone()
            } else {
                settings.incrementing_column.clone()
            };
            let at = position_of(&name, "incrementing.column.name")?;
            if !mappings[at].is_integer() && mappings[at] != Mapping::Decimal(0) {
                return Err(ConnectorError::Config(format!("incrementing.column.name {name:?} of table {:?} must be an integer column", table.name)));
            }
            Some(at)
        } else {
            None
        };
        let mut timestamps = Vec::new();
        if settings.mode.uses_timestamp() {
            for name in &settings.timestamp_columns {
                let at = position_of(name, "timestamp.column.name")?;
                if !mappings[at].is_timestamp() {
                    return Err(ConnectorError::Config(format!("timestamp.column.name {name:?} of table {:?} must be a date-time column", table.name)));
                }
                timestamps.push(at);
            }
        }
        if settings.validate_non_null {
            for at in incrementing.iter().chain(&timestamps) {
                if selected[*at].nullable {
                    return Err(ConnectorError::Config(format!(
                        "column {:?} of table {:?} is nullable, so rows where it is NULL would never be read: make it NOT NULL, \
                         or set validate.non.null=false to read the table anyway",
                        selected[*at].name, table.name
                    )));
                }
            }
        }
        let key_names = if settings.mode == Mode::Bulk { location.primary_key(table)? } else { Vec::new() };
        let key: Vec<usize> = key_names.iter().filter_map(|k| selected.iter().position(|c| &c.name == k)).collect();
        let key = if key.len() == key_names.len() { key } else { Vec::new() };
        if settings.mode == Mode::Bulk && key.is_empty() {
            log::warn(&format!("table {} has no primary key the source can page by: each bulk pass reads it in one query", table.name));
        }
        let shape = Shape {
            schema: Arc::new(Schema::structure(fields).named(table.name.clone())),
            incrementing,
            timestamps: timestamps.clone(),
            key: key.clone(),
            mappings,
        };
        let name_of = |at: usize| quote(&selected[at].name);
        let source = format!("{}.{}", quote(&table.owner), quote(&table.name));
        let select = format!("SELECT {} FROM {source}", selected.iter().map(|c| quote(&c.name)).collect::<Vec<_>>().join(", "));
        let reader = Reader {
            label: format!("table {}", table.name),
            topic: format!("{}{}", settings.topic_prefix, table.name),
            partition: json!({ "protocol": "1", "table": location.qualified(table) }),
            dialect: location.dialect,
            mode: settings.mode,
            select,
            source,
            incrementing_expr: incrementing.map(name_of).unwrap_or_default(),
            timestamp_expr: coalesce(timestamps.iter().map(|at| timestamp_column(location.dialect, &name_of(*at))).collect()),
            key_exprs: key.iter().map(|at| name_of(*at)).collect(),
            query_columns: None,
            shape,
            position: Position::default(),
            bulk_after: None,
            gap: None,
            due: Instant::now(),
            remaining: None,
            countable: true,
        };
        reader.resume(settings)
    }

    /// Opens query mode: learns the result's columns from the query run without rows.
    pub fn query(location: &Location, query: &str, settings: &Settings) -> Result<Reader, ConnectorError> {
        let quote = |name: &str| quote(location.dialect, settings, name);
        let source = format!("({query}) AS wc_query");
        let select = format!("SELECT * FROM {source}");
        let query_columns = QueryColumns {
            incrementing: settings.mode.uses_incrementing().then(|| settings.incrementing_column.clone()),
            timestamps: if settings.mode.uses_timestamp() { settings.timestamp_columns.clone() } else { Vec::new() },
            scales_learned: false,
        };
        let probe = sql::query(&format!("{select} WHERE 1 = 0"), &[])?;
        let mut reader = Reader {
            label: "the query".into(),
            topic: settings.topic_prefix.clone(),
            partition: json!({ "query": "query" }),
            dialect: location.dialect,
            mode: settings.mode,
            select,
            source,
            incrementing_expr: query_columns.incrementing.as_deref().map(quote).unwrap_or_default(),
            timestamp_expr: coalesce(query_columns.timestamps.iter().map(|c| timestamp_column(location.dialect, &quote(c))).collect()),
            key_exprs: Vec::new(),
            shape: Shape { schema: Arc::new(Schema::structure(Vec::new())), mappings: Vec::new(), incrementing: None, timestamps: Vec::new(), key: Vec::new() },
            query_columns: Some(query_columns),
            position: Position::default(),
            bulk_after: None,
            gap: None,
            due: Instant::now(),
            remaining: None,
            countable: true,
        };
        reader.learn_query_shape(&probe, settings)?;
        reader.resume(settings)
    }

    /// Sets the shape of query mode from a result: types by name, decimal scales from the
    /// values (once rows have been seen).
    fn learn_query_shape(&mut self, rows: &RowSet, settings: &Settings) -> Result<(), ConnectorError> {
        let Some(names) = &mut self.query_columns else { return Ok(()) };
        if names.scales_learned {
            return Ok(());
        }
        names.scales_learned = !rows.rows.is_empty();
        let mut fields = Vec::new();
        let mut mappings = Vec::new();
        for (i, column) in rows.columns.iter().enumerate() {
            let values: Vec<&SqlValue> = rows.rows.iter().map(|r| &r[i]).collect();
            let mapping = columns::result_mapping(self.dialect, &column.type_name, &values, settings.numeric_mapping);
            // A query's columns may be computed, so any of them may be NULL.
            fields.push(columns::field(&column.name, mapping, true));
            mappings.push(mapping);
        }
        let position_of = |name: &str, what: &str| {
            rows.columns
                .iter()
                .position(|c| c.name == name)
                .ok_or_else(|| ConnectorError::Config(format!("the query's result has no column {name:?} ({what})")))
        };
        let incrementing = names.incrementing.as_deref().map(|n| position_of(n, "incrementing.column.name")).transpose()?;
        let timestamps = names.timestamps.iter().map(|n| position_of(n, "timestamp.column.name")).collect::<Result<Vec<_>, _>>()?;
        if let Some(at) = incrementing.filter(|at| !mappings[*at].is_integer() && mappings[*at] != Mapping::Decimal(0)) {
            return Err(ConnectorError::Config(format!("incrementing.column.name {:?} must be an integer column", rows.columns[at].name)));
        }
        if let Some(at) = timestamps.iter().find(|at| !mappings[**at].is_timestamp()) {
            return Err(ConnectorError::Config(format!("timestamp.column.name {:?} must be a date-time column", rows.columns[*at].name)));
        }
        self.shape = Shape { schema: Arc::new(Schema::structure(fields)), mappings, incrementing, timestamps, key: Vec::new() };
        Ok(())
    }

    /// Starts from the committed offset, or from `timestamp.initial`.
    fn resume(mut self, settings: &Settings) -> Result<Reader, ConnectorError> {
        let committed = wasmconnect_sdk::offsets::committed(std::slice::from_ref(&self.partition)).pop().flatten();
        self.position = committed.as_ref().map(Position::from_offset).unwrap_or_default();
        if self.mode.uses_timestamp() && self.position.timestamp.is_none() {
            self.position.timestamp = Some(match settings.timestamp_initial {
                InitialTimestamp::Epoch => 0,
                InitialTimestamp::Now => database_now(self.dialect)?,
                InitialTimestamp::At(ms) => ms * 1000,
            });
        }
        if self.mode != Mode::Bulk {
            log::info(&format!("reading {} in mode {} from {}", self.label, mode_name(self.mode), self.position.to_offset()));
        }
        Ok(self)
    }

    /// Reads the next page into `batch`; true when more rows are waiting, to be read at once.
    pub fn poll(&mut self, settings: &Settings, now_micros: Option<i64>, batch: &mut SourceBatch) -> Result<bool, ConnectorError> {
        let limit = settings.batch_max_rows as usize;
        let (statement, params) = self.statement(settings, now_micros);
        let rows = sql::query(&statement, &params).map_err(|e| self.context(e.into()))?;
        self.learn_query_shape(&rows, settings)?;
        let full = rows.rows.len() >= limit && self.pages();
        let mut rows = rows.rows;
        if self.mode == Mode::Timestamp && full {
            self.whole_timestamp_groups(&mut rows, settings)?;
        }
        let mut held = false;
        let mut read = 0;
        for row in rows {
            let mut position = self.position;
            if let Some(at) = self.shape.incrementing {
                let id = integer(&row[at]).ok_or_else(|| self.fatal(format!("the incrementing column holds {:?}", row[at])))?;
                // A query's own conditions leave gaps by design: only tables wait at them.
                if self.mode == Mode::Incrementing && self.query_columns.is_none() && self.holds_at_gap(id, settings) {
                    held = true;
                    break;
                }
                position.incrementing = Some(id);
            }
            if !self.shape.timestamps.is_empty() {
                position.timestamp = Some(self.row_instant(&row, settings).ok_or_else(|| self.fatal("a row's timestamp columns are all NULL".into()))?);
            }
            if self.mode == Mode::Bulk && !self.shape.key.is_empty() {
                self.bulk_after = Some(self.shape.key.iter().map(|at| row[*at].clone()).collect());
            }
            let values = self
                .shape
                .mappings
                .iter()
                .zip(row)
                .map(|(mapping, v)| columns::value(*mapping, v, settings.zone))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| self.fatal(e))?;
            self.position = position;
            batch.push(SourceRecord {
                source_partition: self.partition.clone(),
                source_offset: if self.mode == Mode::Bulk { json!({}) } else { position.to_offset() },
                topic: self.topic.clone(),
                kafka_partition: None,
                key: None,
                value: Some(Data { schema: Some(self.shape.schema.clone()), value: Value::Struct(values) }),
                timestamp: None,
            });
            read += 1;
        }
        if self.mode == Mode::Bulk && !full {
            // The pass is over; the next one starts from the beginning.
            self.bulk_after = None;
        }
        self.track_remaining(full, read, settings, now_micros);
        Ok(full && !held)
    }

    /// Rows still to read in the current catch-up, as far as this reader knows.
    pub fn remaining(&self) -> Option<u64> {
        self.remaining
    }

    /// Keeps `remaining` up to date after a page of `read` rows: 0 when the page was not
    /// full (caught up); otherwise the last count less what was read since, counted afresh
    /// when there is none yet or it has run out while pages still come back full (rows were
    /// added meanwhile). So a table that is caught up costs no count at all, and a snapshot
    /// one count (rarely a few) for all its pages.
    fn track_remaining(&mut self, full: bool, read: u64, settings: &Settings, now_micros: Option<i64>) {
        if !full {
            self.remaining = Some(0);
            return;
        }
        if let Some(left) = self.remaining.map(|r| r.saturating_sub(read)).filter(|left| *left > 0) {
            self.remaining = Some(left);
            return;
        }
        if !self.countable {
            self.remaining = None;
            return;
        }
        self.remaining = match self.count_remaining(settings, now_micros) {
            Ok(count) => Some(count),
            Err(e) => {
                // The count is only for the status: reading goes on without it.
                if !matches!(e, sql::SqlError::Connection(_)) {
                    log::warn(&format!("{}: cannot count the rows still to read, so the task status shows no lag for it: {e:?}", self.label));
                    self.countable = false;
                }
                None
            }
        };
    }

    /// Counts the rows the mode's query has still to return from where reading has got:
    /// the same conditions (and bounds) as the next page, without its order and limit.
    fn count_remaining(&self, settings: &Settings, now_micros: Option<i64>) -> Result<u64, sql::SqlError> {
        let mut params = Vec::new();
        let (condition, _) = self.clauses(settings, now_micros, &mut params);
        let rows = sql::query(&format!("SELECT COUNT(*) FROM {}{condition}", self.source), &params)?;
        let count = rows.rows.first().and_then(|r| r.first()).and_then(integer);
        Ok(count.and_then(|n| u64::try_from(n).ok()).unwrap_or(0))
    }

    /// Whether this mode's query reads a page at a time (bulk without a key reads it all).
    fn pages(&self) -> bool {
        self.mode != Mode::Bulk || !self.key_exprs.is_empty()
    }

    /// The statement of the next page, and its parameters.
    fn statement(&self, settings: &Settings, now_micros: Option<i64>) -> (String, Vec<SqlValue>) {
        let mut params = Vec::new();
        let (condition, order) = self.clauses(settings, now_micros, &mut params);
        let suffix = if settings.query_suffix.is_empty() { String::new() } else { format!(" {}", settings.query_suffix) };
        (format!("{}{condition}{order}{suffix}", self.select), params)
    }

    /// The mode's condition on the rows still to read (` WHERE ...`, or nothing) and the
    /// order and limit of a page, with their parameters added to `params`.
    fn clauses(&self, settings: &Settings, now_micros: Option<i64>, params: &mut Vec<SqlValue>) -> (String, String) {
        let mut p = |value: SqlValue| {
            params.push(value);
            sql::placeholder(self.dialect, params.len())
        };
        let limit = settings.batch_max_rows;
        let (inc, ts) = (&self.incrementing_expr, &self.timestamp_expr);
        let upper = || self.timestamp_param(settings, upper_bound(now_micros.unwrap_or(0), settings.timestamp_delay_ms));
        let last_ts = || self.timestamp_param(settings, self.position.timestamp.unwrap_or(0));
        let last_inc = || SqlValue::Int(self.position.incrementing.unwrap_or(-1));
        match self.mode {
            Mode::Bulk if self.key_exprs.is_empty() => (String::new(), String::new()),
            Mode::Bulk => {
                let order = format!(" ORDER BY {} LIMIT {limit}", self.key_exprs.join(", "));
                match &self.bulk_after {
                    None => (String::new(), order),
                    Some(after) => {
                        // (k1, k2) > (a1, a2) spelled out, which every planner turns into a range.
                        let mut alternatives = Vec::new();
                        for i in 0..self.key_exprs.len() {
                            let mut terms: Vec<String> = (0..i).map(|j| format!("{} = {}", self.key_exprs[j], p(after[j].clone()))).collect();
                            terms.push(format!("{} > {}", self.key_exprs[i], p(after[i].clone())));
                            alternatives.push(format!("({})", terms.join(" AND ")));
                        }
                        (format!(" WHERE {}", alternatives.join(" OR ")), order)
                    }
                }
            }
            Mode::Incrementing => (format!(" WHERE {inc} > {}", p(last_inc())), format!(" ORDER BY {inc} ASC LIMIT {limit}")),
            Mode::Timestamp => {
                let lower = p(last_ts());
                (format!(" WHERE {ts} > {lower} AND {ts} < {}", p(upper())), format!(" ORDER BY {ts} ASC LIMIT {limit}"))
            }
            Mode::TimestampIncrementing => {
                let upper = p(upper());
                let same = p(last_ts());
                let after = p(last_inc());
                let later = p(last_ts());
                (
                    format!(" WHERE {ts} < {upper} AND (({ts} = {same} AND {inc} > {after}) OR {ts} > {later})"),
                    format!(" ORDER BY {ts}, {inc} ASC LIMIT {limit}"),
                )
            }
        }
    }

    /// In timestamp mode a page must end with every row of its last timestamp, or the rest of
    /// them would never be read (the next page starts after that timestamp). So a full page
    /// drops its last timestamp's rows; when the page is all one timestamp, that timestamp's
    /// rows are read whole instead.
    fn whole_timestamp_groups(&self, rows: &mut Vec<Vec<SqlValue>>, settings: &Settings) -> Result<(), ConnectorError> {
        let last = rows.last().and_then(|r| self.row_instant(r, settings));
        let keep = rows.iter().rposition(|r| self.row_instant(r, settings) != last).map_or(0, |i| i + 1);
        if keep > 0 {
            rows.truncate(keep);
            return Ok(());
        }
        let Some(instant) = last else { return Ok(()) };
        let suffix = if settings.query_suffix.is_empty() { String::new() } else { format!(" {}", settings.query_suffix) };
        let statement = format!("{} WHERE {} = {}{suffix}", self.select, self.timestamp_expr, sql::placeholder(self.dialect, 1));
        *rows = sql::query(&statement, &[self.timestamp_param(settings, instant)]).map_err(|e| self.context(e.into()))?.rows;
        Ok(())
    }

    /// Whether reading stops before `id` because the ids before it have not all been seen:
    /// an insert that took a lower id may not have committed yet. A gap that lasts
    /// `incrementing.gap.grace.ms` is taken as permanent (a rolled-back insert, a deleted row).
    fn holds_at_gap(&mut self, id: i64, settings: &Settings) -> bool {
        let Some(last) = self.position.incrementing.filter(|_| settings.gap_grace_ms > 0) else { return false };
        let missing = last.saturating_add(1);
        if id <= missing {
            self.gap = None;
            return false;
        }
        match &self.gap {
            Some(gap) if gap.missing == missing => {
                if gap.since.elapsed() < Duration::from_millis(settings.gap_grace_ms) {
                    return true;
                }
                log::warn(&format!(
                    "{}: ids {missing} to {} did not appear within incrementing.gap.grace.ms ({} ms); reading on past them",
                    self.label,
                    id - 1,
                    settings.gap_grace_ms
                ));
                self.gap = None;
                false
            }
            _ => {
                log::debug(&format!("{}: waiting for id {missing} before reading id {id}", self.label));
                self.gap = Some(Gap { missing, since: Instant::now() });
                true
            }
        }
    }

    /// The instant of a row's timestamp: its first non-NULL timestamp column.
    fn row_instant(&self, row: &[SqlValue], settings: &Settings) -> Option<i64> {
        self.shape.timestamps.iter().find_map(|at| columns::instant(self.shape.mappings[*at], &row[*at], settings.zone))
    }

    /// A bound compared with the timestamp columns: a wall-clock time in `db.timezone` for
    /// columns without a time zone.
    fn timestamp_param(&self, settings: &Settings, instant_micros: i64) -> SqlValue {
        let local = self.shape.timestamps.first().is_some_and(|at| self.shape.mappings[*at] == Mapping::LocalTimestamp);
        let micros = if local { settings.zone.wall(instant_micros) } else { instant_micros };
        match self.dialect {
            Dialect::Sqlite => SqlValue::Text(sqlite_text(micros)),
            _ => SqlValue::Timestamp(micros),
        }
    }

    fn fatal(&self, message: String) -> ConnectorError {
        ConnectorError::Fatal(format!("{}: {message}", self.label))
    }

    fn context(&self, error: ConnectorError) -> ConnectorError {
        match error {
            ConnectorError::Fatal(m) => ConnectorError::Fatal(format!("reading {}: {m}", self.label)),
            other => other,
        }
    }

    pub fn uses_timestamp(&self) -> bool {
        self.mode.uses_timestamp()
    }
}

/// The newest timestamp a poll may read: `timestamp.delay.interval.ms` before the
/// database's time, down to the whole second, because a column that keeps whole seconds
/// (DATETIME, TIMESTAMP(0)) can still receive rows stamped with the current second.
fn upper_bound(now_micros: i64, delay_ms: i64) -> i64 {
    (now_micros - delay_ms * 1000).div_euclid(1_000_000) * 1_000_000
}

/// The database's clock, in UTC microseconds, which stamps the rows timestamp modes read.
pub fn database_now(dialect: Dialect) -> Result<i64, ConnectorError> {
    let statement = match dialect {
        Dialect::Mysql => "SELECT UTC_TIMESTAMP(6)",
        Dialect::Postgres => "SELECT clock_timestamp()",
        Dialect::Sqlite => "SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')",
    };
    match sql::query(statement, &[])?.rows.first().and_then(|r| r.first()) {
        Some(SqlValue::Timestamp(micros)) => Ok(*micros),
        Some(SqlValue::Text(text)) if dialect == Dialect::Sqlite => sqlite_micros(text),
        other => Err(ConnectorError::Fatal(format!("the database answered {other:?} when asked for its time"))),
    }
}

/// SQLite keeps a timestamp as text in whatever format the writer chose ('2024-01-01
/// 10:00:00', '2024-01-01T10:00:00.5', ...), which compares unreliably as it is; the
/// timestamp modes compare every column normalized by strftime, to the millisecond, against
/// bounds written the same way.
const SQLITE_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.3f";

fn timestamp_column(dialect: Dialect, column: &str) -> String {
    match dialect {
        Dialect::Sqlite => format!("strftime('%Y-%m-%d %H:%M:%f', {column})"),
        _ => column.to_owned(),
    }
}

fn sqlite_text(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros).map(|t| t.naive_utc().format(SQLITE_FORMAT).to_string()).unwrap_or_default()
}

fn sqlite_micros(text: &str) -> Result<i64, ConnectorError> {
    chrono::NaiveDateTime::parse_from_str(text, SQLITE_FORMAT)
        .map(|t| t.and_utc().timestamp_micros())
        .map_err(|e| ConnectorError::Fatal(format!("SQLite answered {text:?} when asked for its time: {e}")))
}

fn coalesce(exprs: Vec<String>) -> String {
    match exprs.len() {
        0 => String::new(),
        1 => exprs.into_iter().next().unwrap_or_default(),
        _ => format!("COALESCE({})", exprs.join(", ")),
    }
}

fn quote(dialect: Dialect, settings: &Settings, name: &str) -> String {
    if settings.quote_identifiers { sql::quote(dialect, name) } else { name.to_owned() }
}

fn integer(value: &SqlValue) -> Option<i64> {
    match value {
        SqlValue::Int(i) => Some(*i),
        SqlValue::Uint(u) => i64::try_from(*u).ok(),
        SqlValue::Decimal(d) => d.split('.').next()?.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_timestamps_are_written_and_read_as_normalized_text() {
        let micros = 1_704_103_200_500_000; // 2024-01-01 10:00:00.500 UTC
        assert_eq!(sqlite_text(micros), "2024-01-01 10:00:00.500");
        assert_eq!(sqlite_micros("2024-01-01 10:00:00.500").unwrap(), micros);
        assert_eq!(timestamp_column(Dialect::Sqlite, "\"at\""), "strftime('%Y-%m-%d %H:%M:%f', \"at\")");
        assert_eq!(timestamp_column(Dialect::Mysql, "`at`"), "`at`");
    }

    #[test]
    fn offsets_are_kafka_connects_and_read_back() {
        let both = Position { incrementing: Some(42), timestamp: Some(1_700_000_000_123_456) };
        assert_eq!(both.to_offset(), json!({"timestamp": 1_700_000_000_123_i64, "timestamp_nanos": 123_456_000, "incrementing": 42}));
        assert_eq!(Position::from_offset(&both.to_offset()), both);
        assert_eq!(Position::from_offset(&json!({"incrementing": 7})), Position { incrementing: Some(7), timestamp: None });
        assert_eq!(Position::from_offset(&json!({"timestamp": 1500})).timestamp, Some(1_500_000));
        let before_1970 = Position { incrementing: None, timestamp: Some(-1_500_000) };
        assert_eq!(Position::from_offset(&before_1970.to_offset()), before_1970);
    }

    #[test]
    fn the_upper_bound_leaves_out_the_current_second() {
        assert_eq!(upper_bound(10_700_000, 0), 10_000_000);
        assert_eq!(upper_bound(10_700_000, 2000), 8_000_000);
    }
}
