//! Turning a batch's actions into the statements of its one transaction: grouped by table
//! (tables in order of first appearance, records of a table in their order), consecutive
//! inserts of one shape as multi-row INSERTs of at most `batch.size` rows, consecutive
//! deletes as one prepared DELETE run once per key.

use std::sync::Arc;

use wasmconnect_sdk::sql::{Dialect, SqlValue, Statement};

use crate::dml;
use crate::rows::{Action, RowShape};

/// Both MySQL and PostgreSQL number a statement's parameters with 16 bits.
const MAX_PARAMETERS: usize = 65_535;

/// The actions of one table, in record order.
pub struct TableActions {
    pub table: String,
    pub actions: Vec<Action>,
}

/// Groups actions by table, keeping the order of records within each table; skips are
/// dropped.
pub fn by_table(actions: Vec<Action>) -> Vec<TableActions> {
    let mut groups: Vec<TableActions> = Vec::new();
    for action in actions {
        let table = match &action {
            Action::Insert { table, .. } | Action::Delete { table, .. } => table,
            Action::SkipTombstone => continue,
        };
        match groups.iter_mut().find(|g| &g.table == table) {
            Some(group) => group.actions.push(action),
            None => groups.push(TableActions { table: table.clone(), actions: vec![action] }),
        }
    }
    groups
}

pub fn statements(dialect: Dialect, batch_size: usize, groups: Vec<TableActions>) -> Vec<Statement> {
    let mut statements = Vec::new();
    for group in groups {
        let mut run: Option<Run> = None;
        for action in group.actions {
            let (shape, params, delete) = match action {
                Action::Insert { shape, params, .. } => (shape, params, false),
                Action::Delete { shape, params, .. } => (shape, params, true),
                Action::SkipTombstone => continue,
            };
            match run.as_mut() {
                Some(r) if r.delete == delete && Arc::ptr_eq(&r.shape, &shape) => r.rows.push(params),
                _ => {
                    if let Some(done) = run.take() {
                        done.flush(dialect, batch_size, &group.table, &mut statements);
                    }
                    run = Some(Run { shape, delete, rows: vec![params] });
                }
            }
        }
        if let Some(done) = run {
            done.flush(dialect, batch_size, &group.table, &mut statements);
        }
    }
    statements
}

/// Consecutive actions of one kind and shape on one table.
struct Run {
    shape: Arc<RowShape>,
    delete: bool,
    rows: Vec<Vec<SqlValue>>,
}

impl Run {
    fn flush(self, dialect: Dialect, batch_size: usize, table: &str, out: &mut Vec<Statement>) {
        let columns: Vec<&str> = self.shape.fields.iter().map(|f| f.name.as_str()).collect();
        if self.delete {
            out.push(Statement { sql: dml::delete(dialect, table, &columns), params: self.rows });
            return;
        }
        let per_statement = batch_size.min(MAX_PARAMETERS / columns.len().max(1)).max(1);
        let mut rows = self.rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<Vec<SqlValue>> = rows.by_ref().take(per_statement).collect();
            let sql = dml::insert(dialect, table, &columns, chunk.len());
            out.push(Statement { sql, params: vec![chunk.into_iter().flatten().collect()] });
        }
    }
}

#[cfg(test)]
mod tests {
    use wasmconnect_sdk::data::{Field, Schema, SchemaType};

    use super::*;

    fn shape(names: &[&str]) -> Arc<RowShape> {
        let fields = names.iter().map(|n| Field::new(*n, Schema::new(SchemaType::Int64))).collect();
        Arc::new(RowShape { fields, key: vec![] })
    }

    fn insert(table: &str, shape: &Arc<RowShape>, n: i64) -> Action {
        Action::Insert { table: table.into(), shape: shape.clone(), params: vec![SqlValue::Int(n); shape.fields.len()] }
    }

    fn delete(table: &str, shape: &Arc<RowShape>, n: i64) -> Action {
        Action::Delete { table: table.into(), shape: shape.clone(), params: vec![SqlValue::Int(n)] }
    }

    fn write(batch_size: usize, actions: Vec<Action>) -> Vec<Statement> {
        statements(Dialect::Mysql, batch_size, by_table(actions))
    }

    #[test]
    fn inserts_are_grouped_by_table_into_multi_row_statements() {
        let s = shape(&["id"]);
        let out = write(100, vec![insert("a", &s, 1), insert("b", &s, 2), Action::SkipTombstone, insert("a", &s, 3)]);
        let sql: Vec<&str> = out.iter().map(|s| s.sql.as_str()).collect();
        assert_eq!(sql, ["INSERT INTO `a` (`id`) VALUES (?), (?)", "INSERT INTO `b` (`id`) VALUES (?)"]);
        assert_eq!(out[0].params, vec![vec![SqlValue::Int(1), SqlValue::Int(3)]]);
    }

    #[test]
    fn batch_size_caps_the_rows_of_a_statement() {
        let s = shape(&["id", "v"]);
        let out = write(2, (1..=5).map(|n| insert("t", &s, n)).collect());
        let rows: Vec<usize> = out.iter().map(|s| s.params[0].len() / 2).collect();
        assert_eq!(rows, [2, 2, 1]);
        assert_eq!(out[2].sql, "INSERT INTO `t` (`id`, `v`) VALUES (?, ?)");
        assert_eq!(out[2].params, vec![vec![SqlValue::Int(5), SqlValue::Int(5)]]);
    }

    #[test]
    fn the_parameter_limit_caps_wide_rows() {
        let names: Vec<String> = (0..1000).map(|i| format!("c{i}")).collect();
        let s = shape(&names.iter().map(String::as_str).collect::<Vec<_>>());
        let out = write(3000, (0..100).map(|n| insert("t", &s, n)).collect());
        assert_eq!(out.len(), 2, "65 rows of 1000 columns fit under 65,535 parameters");
        assert!(out.iter().all(|s| s.params[0].len() <= MAX_PARAMETERS));
    }

    #[test]
    fn order_within_a_table_survives_and_deletes_share_a_statement() {
        let row = shape(&["id", "v"]);
        let key = shape(&["id"]);
        let other = shape(&["id", "v", "w"]);
        let out = write(100, vec![insert("t", &row, 1), delete("t", &key, 1), delete("t", &key, 2), insert("t", &other, 3), insert("t", &row, 4)]);
        let sql: Vec<&str> = out.iter().map(|s| s.sql.as_str()).collect();
        assert_eq!(
            sql,
            [
                "INSERT INTO `t` (`id`, `v`) VALUES (?, ?)",
                "DELETE FROM `t` WHERE `id` = ?",
                "INSERT INTO `t` (`id`, `v`, `w`) VALUES (?, ?, ?)",
                "INSERT INTO `t` (`id`, `v`) VALUES (?, ?)",
            ]
        );
        assert_eq!(out[1].params, vec![vec![SqlValue::Int(1)], vec![SqlValue::Int(2)]]);
    }
}
