//! Turning a batch's actions into the statements of its one transaction, as few as the
//! order of the records allows.
//!
//! The actions of a table are gathered into segments: rows of one shape written alike, or
//! keys deleted. An action joins the latest segment of its kind and shape unless an action
//! on the same key comes after that segment, since actions on different keys commute and
//! those on one key must keep their order (a tombstone then a re-insert of a key is a
//! delete, then an insert). Within a segment a key appears once: a later upsert, update or
//! delete of it replaces the earlier one, so the last record wins, as it would one record
//! at a time. Plain inserts keep every row, so that a duplicate key fails as it should.
//! Each segment becomes multi-row statements that stay within `batch.size` rows, the 65,535
//! parameters MySQL and PostgreSQL number, and the bytes one statement may carry. On
//! PostgreSQL with the bulk path on, inserts go by `COPY` into the table instead, and upserts
//! by `COPY` into a temporary staging table that an `INSERT ... SELECT ... ON CONFLICT`
//! merges into the table; the staging table is dropped with the transaction's commit.

use std::collections::HashMap;
use std::sync::Arc;

use wasmconnect_sdk::sql::{CopyIn, SqlValue, Statement, Step};

use crate::dialect::Sql;
use crate::{copy, dml};
use crate::rows::{Action, RowShape};
use crate::settings::InsertMode;

/// Both MySQL and PostgreSQL number a statement's parameters with 16 bits.
const MAX_PARAMETERS: usize = 65_535;

/// How much one statement may hold.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// `batch.size`: most rows in one statement.
    pub rows: usize,
    /// Most bytes of parameters and SQL text, estimated, e.g. within MySQL's
    /// `max_allowed_packet`. A single bigger row still gets a statement of its own.
    pub bytes: usize,
}

/// How a batch's rows are written.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Plan {
    pub sql: Sql,
    pub mode: InsertMode,
    pub limits: Limits,
    /// Inserts and upserts by `COPY` (PostgreSQL only).
    pub copy: bool,
}

pub fn steps(plan: Plan, actions: &[Action]) -> Vec<Step> {
    let mut tables: Vec<(&str, Vec<Segment>, HashMap<String, usize>)> = Vec::new();
    for action in actions {
        let (table, shape, params, delete) = match action {
            Action::Write { table, shape, params } => (table, shape, params, false),
            Action::Delete { table, shape, params } => (table, shape, params, true),
            Action::SkipTombstone => continue,
        };
        let index = match tables.iter().position(|(t, ..)| t == table) {
            Some(i) => i,
            None => {
                tables.push((table, Vec::new(), HashMap::new()));
                tables.len() - 1
            }
        };
        let (_, segments, last_touch) = &mut tables[index];
        let key = (!shape.key.is_empty()).then(|| key_text(shape, params));
        let floor = key.as_ref().and_then(|k| last_touch.get(k)).copied().unwrap_or(0);
        let joined = (floor..segments.len()).rev().find(|&s| segments[s].delete == delete && same_shape(&segments[s].shape, shape));
        let at = match joined {
            Some(s) => s,
            None => {
                segments.push(Segment { delete, shape: shape.clone(), rows: Vec::new(), positions: HashMap::new() });
                segments.len() - 1
            }
        };
        let replaces = delete || plan.mode != InsertMode::Insert;
        segments[at].add(key.clone().filter(|_| replaces), params.clone());
        if let Some(key) = key {
            last_touch.insert(key, at);
        }
    }
    let mut out = Vec::new();
    for (table, segments, _) in tables {
        for segment in segments {
            segment.emit(plan, table, &mut out);
        }
    }
    out
}

/// The key of a row as text, to find it again: the key columns' values.
fn key_text(shape: &RowShape, params: &[SqlValue]) -> String {
    let values: Vec<&SqlValue> = shape.key_positions().iter().map(|&i| &params[i]).collect();
    format!("{values:?}")
}

fn same_shape(a: &Arc<RowShape>, b: &Arc<RowShape>) -> bool {
    Arc::ptr_eq(a, b) || a == b
}

/// Rows of one shape written alike, or keys deleted, in one table.
struct Segment {
    delete: bool,
    shape: Arc<RowShape>,
    rows: Vec<Vec<SqlValue>>,
    /// Where each key's row is, for the rows a later one replaces.
    positions: HashMap<String, usize>,
}

impl Segment {
    fn add(&mut self, key: Option<String>, params: Vec<SqlValue>) {
        match key.as_ref().and_then(|k| self.positions.get(k)) {
            Some(&at) => self.rows[at] = params,
            None => {
                if let Some(key) = key {
                    self.positions.insert(key, self.rows.len());
                }
                self.rows.push(params);
            }
        }
    }

    fn emit(self, plan: Plan, table: &str, out: &mut Vec<Step>) {
        let Plan { sql, mode, limits, copy } = plan;
        let columns: Vec<&str> = self.shape.fields.iter().map(|f| f.name.as_str()).collect();
        let key: Vec<&str> = self.shape.key.iter().map(String::as_str).collect();
        let statement = |sql, params| Step::Statement(Statement { sql, params });
        if self.delete {
            for chunk in chunks(limits, self.rows) {
                out.push(statement(dml::delete(sql, table, &key, chunk.len()), vec![chunk.into_iter().flatten().collect()]));
            }
            return;
        }
        if mode == InsertMode::Update {
            // One prepared UPDATE, run once per row: the key goes last, after the SET values.
            let key_positions = self.shape.key_positions();
            let set: Vec<usize> = (0..columns.len()).filter(|i| !key_positions.contains(i)).collect();
            if set.is_empty() {
                return;
            }
            let names: Vec<&str> = set.iter().map(|&i| columns[i]).collect();
            let params = self.rows.iter().map(|row| set.iter().chain(&key_positions).map(|&i| row[i].clone()).collect()).collect();
            out.push(statement(dml::update(sql, table, &names, &key), params));
            return;
        }
        if copy {
            return copy_steps(plan, table, &columns, &key, self.rows, out);
        }
        for chunk in chunks(limits, self.rows) {
            let text = match mode {
                InsertMode::Upsert => dml::upsert(sql, table, &columns, &key, chunk.len()),
                _ => dml::insert(sql, table, &columns, chunk.len()),
            };
            out.push(statement(text, vec![chunk.into_iter().flatten().collect()]));
        }
    }
}

/// Inserts copied straight into the table; upserts copied into a staging table made like
/// the table's columns, then merged. A batch may have several upsert segments of a table
/// (around a delete, say), so each gets a staging table of its own.
fn copy_steps(plan: Plan, table: &str, columns: &[&str], key: &[&str], rows: Vec<Vec<SqlValue>>, out: &mut Vec<Step>) {
    let Plan { sql, mode, limits, .. } = plan;
    let names: Vec<String> = columns.iter().map(|c| sql.ident(c)).collect();
    let target = match mode {
        InsertMode::Upsert => {
            let staging = sql.ident(&format!("wasmconnect_staging_{}", out.len()));
            // Only the written columns, with the table's types and no constraints: a NOT NULL
            // column not written here must not fail the copy.
            let create = format!("CREATE TEMP TABLE {staging} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA", names.join(", "), sql.ident(table));
            out.push(Step::Statement(Statement { sql: create, params: Vec::new() }));
            Some(staging)
        }
        _ => None,
    };
    let into = target.clone().unwrap_or_else(|| sql.ident(table));
    for chunk in chunks(limits, rows) {
        let data = copy::encode(chunk.iter().map(Vec::as_slice));
        out.push(Step::CopyIn(CopyIn { sql: copy::statement(&into, &names), data }));
    }
    if let Some(staging) = target {
        let merge = format!(
            "INSERT INTO {} ({list}) SELECT {list} FROM {staging}{}",
            sql.ident(table),
            sql.upsert_clause(key, columns),
            list = names.join(", ")
        );
        out.push(Step::Statement(Statement { sql: merge, params: Vec::new() }));
    }
}

/// Splits rows into the runs one statement takes.
fn chunks(limits: Limits, rows: Vec<Vec<SqlValue>>) -> Vec<Vec<Vec<SqlValue>>> {
    let mut out: Vec<Vec<Vec<SqlValue>>> = Vec::new();
    let (mut current, mut parameters, mut bytes) = (Vec::new(), 0, 0);
    for row in rows {
        let row_bytes: usize = row.iter().map(estimated_size).sum();
        let full = current.len() >= limits.rows || parameters + row.len() > MAX_PARAMETERS || bytes + row_bytes > limits.bytes;
        if full && !current.is_empty() {
            out.push(std::mem::take(&mut current));
            (parameters, bytes) = (0, 0);
        }
        parameters += row.len();
        bytes += row_bytes;
        current.push(row);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// A parameter's bytes on the wire, with room for its type, length and placeholder.
fn estimated_size(value: &SqlValue) -> usize {
    16 + match value {
        SqlValue::Text(s) | SqlValue::Decimal(s) => s.len(),
        SqlValue::Bytes(b) => b.len(),
        _ => 8,
    }
}

#[cfg(test)]
mod tests {
    use wasmconnect_sdk::data::{Field, Schema, SchemaType};
    use wasmconnect_sdk::sql::Dialect;

    use super::*;

    const MYSQL: Sql = Sql { dialect: Dialect::Mysql, quote_identifiers: true };
    const ROOMY: Limits = Limits { rows: 100, bytes: 1 << 20 };

    fn shape(names: &[&str], key: &[&str]) -> Arc<RowShape> {
        let fields = names.iter().map(|n| Field::new(*n, Schema::new(SchemaType::Int64))).collect();
        Arc::new(RowShape { fields, key: key.iter().map(|k| k.to_string()).collect() })
    }

    fn write(table: &str, shape: &Arc<RowShape>, id: i64, v: i64) -> Action {
        let mut params = vec![SqlValue::Int(id)];
        params.resize(shape.fields.len(), SqlValue::Int(v));
        Action::Write { table: table.into(), shape: shape.clone(), params }
    }

    fn delete(table: &str, key: &Arc<RowShape>, id: i64) -> Action {
        Action::Delete { table: table.into(), shape: key.clone(), params: vec![SqlValue::Int(id)] }
    }

    /// The statements of the multi-row path (no copy).
    fn statements(sql: Sql, mode: InsertMode, limits: Limits, actions: &[Action]) -> Vec<Statement> {
        steps(Plan { sql, mode, limits, copy: false }, actions)
            .into_iter()
            .map(|step| match step {
                Step::Statement(s) => s,
                Step::CopyIn(c) => panic!("a copy without the copy path: {}", c.sql),
            })
            .collect()
    }

    const POSTGRES: Sql = Sql { dialect: Dialect::Postgres, quote_identifiers: true };

    fn copy_plan(mode: InsertMode) -> Plan {
        Plan { sql: POSTGRES, mode, limits: ROOMY, copy: true }
    }

    /// Each step as its SQL, a copy's data after it.
    fn described(steps: &[Step]) -> Vec<String> {
        steps
            .iter()
            .map(|step| match step {
                Step::Statement(s) => s.sql.clone(),
                Step::CopyIn(c) => format!("{} <- {}", c.sql, String::from_utf8_lossy(&c.data)),
            })
            .collect()
    }

    #[test]
    fn inserts_copy_into_the_table() {
        let s = shape(&["id", "v"], &[]);
        let actions = [write("a", &s, 1, 10), write("b", &s, 2, 20), write("a", &s, 3, 30)];
        assert_eq!(
            described(&steps(copy_plan(InsertMode::Insert), &actions)),
            ["COPY \"a\" (\"id\", \"v\") FROM STDIN <- 1\t10\n3\t30\n", "COPY \"b\" (\"id\", \"v\") FROM STDIN <- 2\t20\n"]
        );
        let small = Plan { limits: Limits { rows: 1, bytes: 1 << 20 }, ..copy_plan(InsertMode::Insert) };
        assert_eq!(steps(small, &actions).len(), 3, "batch.size bounds the rows of one copy too");
    }

    #[test]
    fn upserts_copy_into_a_staging_table_then_merge_with_the_last_value_of_each_key() {
        let row = shape(&["id", "v"], &["id"]);
        let key = shape(&["id"], &["id"]);
        let actions = [write("t", &row, 1, 10), write("t", &row, 1, 11), delete("t", &key, 2), write("t", &row, 2, 20)];
        assert_eq!(
            described(&steps(copy_plan(InsertMode::Upsert), &actions)),
            [
                "CREATE TEMP TABLE \"wasmconnect_staging_0\" ON COMMIT DROP AS SELECT \"id\", \"v\" FROM \"t\" WITH NO DATA",
                "COPY \"wasmconnect_staging_0\" (\"id\", \"v\") FROM STDIN <- 1\t11\n",
                "INSERT INTO \"t\" (\"id\", \"v\") SELECT \"id\", \"v\" FROM \"wasmconnect_staging_0\" ON CONFLICT (\"id\") DO UPDATE SET \"v\" = EXCLUDED.\"v\"",
                "DELETE FROM \"t\" WHERE \"id\" IN ($1)",
                "CREATE TEMP TABLE \"wasmconnect_staging_4\" ON COMMIT DROP AS SELECT \"id\", \"v\" FROM \"t\" WITH NO DATA",
                "COPY \"wasmconnect_staging_4\" (\"id\", \"v\") FROM STDIN <- 2\t20\n",
                "INSERT INTO \"t\" (\"id\", \"v\") SELECT \"id\", \"v\" FROM \"wasmconnect_staging_4\" ON CONFLICT (\"id\") DO UPDATE SET \"v\" = EXCLUDED.\"v\"",
            ]
        );
    }

    #[test]
    fn updates_keep_their_statement_on_the_copy_path() {
        let s = shape(&["id", "v"], &["id"]);
        assert_eq!(described(&steps(copy_plan(InsertMode::Update), &[write("t", &s, 1, 5)])), ["UPDATE \"t\" SET \"v\" = $1 WHERE \"id\" = $2"]);
    }

    fn sql_of(out: &[Statement]) -> Vec<&str> {
        out.iter().map(|s| s.sql.as_str()).collect()
    }

    #[test]
    fn inserts_are_grouped_by_table_into_multi_row_statements() {
        let s = shape(&["id"], &[]);
        let actions = [write("a", &s, 1, 1), write("b", &s, 2, 2), Action::SkipTombstone, write("a", &s, 3, 3)];
        let out = statements(MYSQL, InsertMode::Insert, ROOMY, &actions);
        assert_eq!(sql_of(&out), ["INSERT INTO `a` (`id`) VALUES (?), (?)", "INSERT INTO `b` (`id`) VALUES (?)"]);
        assert_eq!(out[0].params, vec![vec![SqlValue::Int(1), SqlValue::Int(3)]]);
    }

    #[test]
    fn batch_size_caps_the_rows_of_a_statement() {
        let s = shape(&["id", "v"], &[]);
        let actions: Vec<Action> = (1..=5).map(|n| write("t", &s, n, n)).collect();
        let out = statements(MYSQL, InsertMode::Insert, Limits { rows: 2, bytes: 1 << 20 }, &actions);
        let rows: Vec<usize> = out.iter().map(|s| s.params[0].len() / 2).collect();
        assert_eq!(rows, [2, 2, 1]);
        assert_eq!(out[2].params, vec![vec![SqlValue::Int(5), SqlValue::Int(5)]]);
    }

    #[test]
    fn the_parameter_limit_caps_wide_rows() {
        let names: Vec<String> = (0..1000).map(|i| format!("c{i}")).collect();
        let s = shape(&names.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
        let actions: Vec<Action> = (0..100).map(|n| write("t", &s, n, n)).collect();
        let out = statements(MYSQL, InsertMode::Insert, Limits { rows: 3000, bytes: usize::MAX }, &actions);
        assert_eq!(out.len(), 2, "65 rows of 1000 columns fit under 65,535 parameters");
        assert!(out.iter().all(|s| s.params[0].len() <= MAX_PARAMETERS));
    }

    #[test]
    fn the_byte_limit_caps_big_rows_but_a_huge_row_still_goes() {
        let s = Arc::new(RowShape { fields: vec![Field::new("doc", Schema::new(SchemaType::String))], key: vec![] });
        let text = |n: usize| Action::Write { table: "t".into(), shape: s.clone(), params: vec![SqlValue::Text("x".repeat(n))] };
        let actions = [text(400), text(400), text(5000), text(10)];
        let out = statements(MYSQL, InsertMode::Insert, Limits { rows: 100, bytes: 1000 }, &actions);
        let rows: Vec<usize> = out.iter().map(|s| s.params[0].len()).collect();
        assert_eq!(rows, [2, 1, 1]);
    }

    #[test]
    fn upserts_keep_the_last_values_of_a_key() {
        let s = shape(&["id", "v"], &["id"]);
        let actions = [write("t", &s, 1, 10), write("t", &s, 2, 20), write("t", &s, 1, 11)];
        let out = statements(MYSQL, InsertMode::Upsert, ROOMY, &actions);
        assert_eq!(sql_of(&out), ["INSERT INTO `t` (`id`, `v`) VALUES (?, ?), (?, ?) ON DUPLICATE KEY UPDATE `v` = VALUES(`v`)"]);
        assert_eq!(out[0].params[0], [1, 11, 2, 20].map(SqlValue::Int));
        let plain = statements(MYSQL, InsertMode::Insert, ROOMY, &actions);
        assert_eq!(plain[0].params[0].len(), 6, "plain inserts keep a duplicate, for the database to refuse");
    }

    #[test]
    fn a_tombstone_then_a_reinsert_stay_in_order_and_other_keys_merge_around_them() {
        let row = shape(&["id", "v"], &["id"]);
        let key = shape(&["id"], &["id"]);
        let actions = [write("t", &row, 1, 10), delete("t", &key, 1), write("t", &row, 2, 20), delete("t", &key, 3), write("t", &row, 1, 12)];
        let out = statements(MYSQL, InsertMode::Upsert, ROOMY, &actions);
        assert_eq!(
            sql_of(&out),
            [
                "INSERT INTO `t` (`id`, `v`) VALUES (?, ?), (?, ?) ON DUPLICATE KEY UPDATE `v` = VALUES(`v`)",
                "DELETE FROM `t` WHERE `id` IN (?, ?)",
                "INSERT INTO `t` (`id`, `v`) VALUES (?, ?) ON DUPLICATE KEY UPDATE `v` = VALUES(`v`)",
            ]
        );
        assert_eq!(out[0].params[0], [1, 10, 2, 20].map(SqlValue::Int), "key 2 joins the first write, before the delete of 1");
        assert_eq!(out[1].params[0], [1, 3].map(SqlValue::Int));
        assert_eq!(out[2].params[0], [1, 12].map(SqlValue::Int), "the re-insert of 1 comes after its delete");
    }

    #[test]
    fn updates_run_once_per_key_with_the_key_last() {
        let s = shape(&["id", "a", "b"], &["id"]);
        let actions = [write("t", &s, 1, 5), write("t", &s, 2, 6), write("t", &s, 1, 7)];
        let out = statements(MYSQL, InsertMode::Update, ROOMY, &actions);
        assert_eq!(sql_of(&out), ["UPDATE `t` SET `a` = ?, `b` = ? WHERE `id` = ?"]);
        assert_eq!(out[0].params, vec![[7, 7, 1].map(SqlValue::Int).to_vec(), [6, 6, 2].map(SqlValue::Int).to_vec()]);
        let key_only = shape(&["id"], &["id"]);
        assert!(statements(MYSQL, InsertMode::Update, ROOMY, &[write("t", &key_only, 1, 1)]).is_empty(), "nothing to set");
    }

    #[test]
    fn different_shapes_keep_their_order_per_key() {
        let narrow = shape(&["id", "v"], &["id"]);
        let wide = shape(&["id", "v", "w"], &["id"]);
        let actions = [write("t", &narrow, 1, 1), write("t", &wide, 1, 2), write("t", &narrow, 2, 3), write("t", &narrow, 1, 4)];
        let out = statements(MYSQL, InsertMode::Upsert, ROOMY, &actions);
        let rows: Vec<Vec<SqlValue>> = out.iter().map(|s| s.params[0].clone()).collect();
        assert_eq!(
            rows,
            vec![[1, 1, 2, 3].map(SqlValue::Int).to_vec(), [1, 2, 2].map(SqlValue::Int).to_vec(), [1, 4].map(SqlValue::Int).to_vec()]
        );
    }
}
