//! The statements that write rows: multi-row INSERT and DELETE by key, with every identifier
//! quoted and placeholders numbered as the dialect wants them.

use wasmconnect_sdk::sql::{Dialect, placeholder, quote};

/// `INSERT INTO t (a, b) VALUES (?, ?), (?, ?)` for `rows` rows: one round trip for many rows.
pub fn insert(dialect: Dialect, table: &str, columns: &[&str], rows: usize) -> String {
    let names: Vec<String> = columns.iter().map(|c| quote(dialect, c)).collect();
    let mut sql = format!("INSERT INTO {} ({}) VALUES ", quote(dialect, table), names.join(", "));
    let mut n = 0;
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..columns.len() {
            if column > 0 {
                sql.push_str(", ");
            }
            n += 1;
            sql.push_str(&placeholder(dialect, n));
        }
        sql.push(')');
    }
    sql
}

/// `DELETE FROM t WHERE k1 = ? AND k2 = ?`.
pub fn delete(dialect: Dialect, table: &str, key: &[&str]) -> String {
    let conditions: Vec<String> =
        key.iter().enumerate().map(|(i, k)| format!("{} = {}", quote(dialect, k), placeholder(dialect, i + 1))).collect();
    format!("DELETE FROM {} WHERE {}", quote(dialect, table), conditions.join(" AND "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_row_inserts_per_dialect() {
        assert_eq!(insert(Dialect::Mysql, "t", &["a", "b"], 2), "INSERT INTO `t` (`a`, `b`) VALUES (?, ?), (?, ?)");
        assert_eq!(insert(Dialect::Postgres, "t", &["a", "b"], 2), "INSERT INTO \"t\" (\"a\", \"b\") VALUES ($1, $2), ($3, $4)");
        assert_eq!(insert(Dialect::Postgres, "Order", &["select"], 1), "INSERT INTO \"Order\" (\"select\") VALUES ($1)");
    }

    #[test]
    fn deletes_match_every_key_column() {
        assert_eq!(delete(Dialect::Mysql, "t", &["id"]), "DELETE FROM `t` WHERE `id` = ?");
        assert_eq!(delete(Dialect::Postgres, "t", &["a", "b"]), "DELETE FROM \"t\" WHERE \"a\" = $1 AND \"b\" = $2");
    }
}
