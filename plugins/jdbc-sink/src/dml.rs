//! The statements that write rows: multi-row INSERT (plain or upsert), UPDATE by key and
//! multi-row DELETE by key, with identifiers and placeholders as the dialect wants them.

use crate::dialect::Sql;

/// `INSERT INTO t (a, b) VALUES (?, ?), (?, ?)` for `rows` rows: one round trip for many rows.
pub fn insert(sql: Sql, table: &str, columns: &[&str], rows: usize) -> String {
    let names: Vec<String> = columns.iter().map(|c| sql.ident(c)).collect();
    format!("INSERT INTO {} ({}) VALUES {}", sql.ident(table), names.join(", "), tuples(sql, columns.len(), rows))
}

/// A multi-row INSERT that updates the row with the same primary key `key` instead, if any.
pub fn upsert(sql: Sql, table: &str, columns: &[&str], key: &[&str], rows: usize) -> String {
    insert(sql, table, columns, rows) + &sql.upsert_clause(key, columns)
}

/// `UPDATE t SET a = ?, b = ? WHERE k = ?`: the parameters are the `columns`, then the `key`.
pub fn update(sql: Sql, table: &str, columns: &[&str], key: &[&str]) -> String {
    let set: Vec<String> = columns.iter().enumerate().map(|(i, c)| format!("{} = {}", sql.ident(c), sql.placeholder(i + 1))).collect();
    let conditions: Vec<String> =
        key.iter().enumerate().map(|(i, k)| format!("{} = {}", sql.ident(k), sql.placeholder(columns.len() + i + 1))).collect();
    format!("UPDATE {} SET {} WHERE {}", sql.ident(table), set.join(", "), conditions.join(" AND "))
}

/// `DELETE FROM t WHERE k IN (?, ?)`, or `WHERE (k1, k2) IN ((?, ?), (?, ?))` for a key of
/// several columns: one statement for many keys.
pub fn delete(sql: Sql, table: &str, key: &[&str], rows: usize) -> String {
    let names: Vec<String> = key.iter().map(|k| sql.ident(k)).collect();
    let (target, list) = match names.as_slice() {
        [one] => (one.clone(), (1..=rows).map(|n| sql.placeholder(n)).collect::<Vec<_>>().join(", ")),
        _ => (format!("({})", names.join(", ")), tuples(sql, key.len(), rows)),
    };
    format!("DELETE FROM {} WHERE {target} IN ({list})", sql.ident(table))
}

/// `(?, ?), (?, ?)`: `rows` tuples of `width` placeholders, numbered on.
fn tuples(sql: Sql, width: usize, rows: usize) -> String {
    let mut text = String::with_capacity(rows * width * 6);
    let mut n = 0;
    for row in 0..rows {
        if row > 0 {
            text.push_str(", ");
        }
        text.push('(');
        for column in 0..width {
            if column > 0 {
                text.push_str(", ");
            }
            n += 1;
            text.push_str(&sql.placeholder(n));
        }
        text.push(')');
    }
    text
}

#[cfg(test)]
mod tests {
    use wasmconnect_sdk::sql::Dialect;

    use super::*;

    const MYSQL: Sql = Sql { dialect: Dialect::Mysql, quote_identifiers: true };
    const POSTGRES: Sql = Sql { dialect: Dialect::Postgres, quote_identifiers: true };

    #[test]
    fn multi_row_inserts_per_dialect() {
        assert_eq!(insert(MYSQL, "t", &["a", "b"], 2), "INSERT INTO `t` (`a`, `b`) VALUES (?, ?), (?, ?)");
        assert_eq!(insert(POSTGRES, "t", &["a", "b"], 2), "INSERT INTO \"t\" (\"a\", \"b\") VALUES ($1, $2), ($3, $4)");
        assert_eq!(insert(POSTGRES, "Order", &["select"], 1), "INSERT INTO \"Order\" (\"select\") VALUES ($1)");
        assert_eq!(insert(Sql::new(Dialect::Postgres, false), "t", &["a"], 2), "INSERT INTO t (a) VALUES ($1), ($2)");
    }

    #[test]
    fn upserts_are_multi_row_inserts_with_a_conflict_clause() {
        assert_eq!(
            upsert(POSTGRES, "t", &["id", "v"], &["id"], 2),
            "INSERT INTO \"t\" (\"id\", \"v\") VALUES ($1, $2), ($3, $4) ON CONFLICT (\"id\") DO UPDATE SET \"v\" = EXCLUDED.\"v\""
        );
        assert_eq!(upsert(MYSQL, "t", &["id", "v"], &["id"], 1), "INSERT INTO `t` (`id`, `v`) VALUES (?, ?) ON DUPLICATE KEY UPDATE `v` = VALUES(`v`)");
    }

    #[test]
    fn updates_set_the_columns_where_the_key_matches() {
        assert_eq!(update(POSTGRES, "t", &["a", "b"], &["k1", "k2"]), "UPDATE \"t\" SET \"a\" = $1, \"b\" = $2 WHERE \"k1\" = $3 AND \"k2\" = $4");
        assert_eq!(update(MYSQL, "t", &["a"], &["id"]), "UPDATE `t` SET `a` = ? WHERE `id` = ?");
    }

    #[test]
    fn deletes_match_many_keys_at_once() {
        assert_eq!(delete(MYSQL, "t", &["id"], 3), "DELETE FROM `t` WHERE `id` IN (?, ?, ?)");
        assert_eq!(delete(POSTGRES, "t", &["a", "b"], 2), "DELETE FROM \"t\" WHERE (\"a\", \"b\") IN (($1, $2), ($3, $4))");
    }
}
