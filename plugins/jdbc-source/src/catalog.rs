//! What the database's catalogs say: which tables there are (after `table.types`,
//! `catalog.pattern`, `schema.pattern` and the include and exclude lists), their columns and
//! their primary keys. SQLite has no information_schema: its `sqlite_master` and
//! `pragma_table_info` say the same, and one database, `main`.

use wasmconnect_sdk::sql::{self, Dialect, SqlValue};
use wasmconnect_sdk::ConnectorError;

use crate::columns::ColumnInfo;
use crate::settings::Settings;

/// A table: its owner (MySQL's database, PostgreSQL's schema, SQLite's `main`) and its name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TableId {
    pub owner: String,
    pub name: String,
}

/// The database the connector's URL names.
#[derive(Clone, Debug)]
pub struct Location {
    pub dialect: Dialect,
    pub database: String,
}

impl Location {
    pub fn current() -> Result<Location, ConnectorError> {
        let dialect = sql::get_dialect()?;
        let statement = match dialect {
            Dialect::Mysql => "SELECT DATABASE()",
            Dialect::Postgres => "SELECT current_database()::text",
            Dialect::Sqlite => "SELECT 'main'",
        };
        let rows = sql::query(statement, &[])?;
        let database = rows.rows.first().and_then(|r| r.first()).and_then(text).ok_or_else(|| {
            ConnectorError::Config("connection.url names no database: add it, as in jdbc:mysql://localhost:3306/mydb".into())
        })?;
        Ok(Location { dialect, database })
    }

    /// The tables to read, sorted, so that every call with unchanged tables gives the same list.
    pub fn tables(&self, settings: &Settings) -> Result<Vec<TableId>, ConnectorError> {
        let (statement, params) = match self.dialect {
            Dialect::Mysql => (
                "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA LIKE ? \
                 ORDER BY TABLE_SCHEMA, TABLE_NAME",
                // Without a pattern, the database of the URL; `_` and `%` in its name match themselves.
                vec![SqlValue::Text(settings.catalog_pattern.clone().unwrap_or_else(|| like_literal(&self.database)))],
            ),
            Dialect::Postgres => (
                "SELECT table_schema::text, table_name::text, table_type::text FROM information_schema.tables \
                 WHERE table_catalog::text LIKE $1 AND table_schema::text LIKE $2 \
                 AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2",
                vec![
                    SqlValue::Text(settings.catalog_pattern.clone().unwrap_or_else(|| "%".into())),
                    SqlValue::Text(settings.schema_pattern.clone().unwrap_or_else(|| "%".into())),
                ],
            ),
            Dialect::Sqlite => (
                "SELECT 'main', name, CASE type WHEN 'table' THEN 'BASE TABLE' ELSE 'VIEW' END FROM sqlite_master \
                 WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
                vec![],
            ),
        };
        let rows = sql::query(statement, &params)?.rows;
        let mut tables: Vec<TableId> = rows
            .iter()
            .filter(|r| {
                let kind = match text(&r[2]).as_deref() {
                    Some("BASE TABLE") => "TABLE",
                    Some("VIEW") => "VIEW",
                    _ => return false,
                };
                settings.table_types.iter().any(|t| t == kind)
            })
            .filter_map(|r| Some(TableId { owner: text(&r[0])?, name: text(&r[1])? }))
            .filter(|t| settings.include.is_empty() || settings.include.iter().any(|n| self.names(t, n)))
            .filter(|t| !settings.exclude.iter().any(|n| self.names(t, n)))
            .collect();
        tables.sort();
        Ok(tables)
    }

    /// Whether a whitelist or blacklist entry names the table: by its name alone, or
    /// qualified with its owner (and, for PostgreSQL, the database).
    fn names(&self, table: &TableId, entry: &str) -> bool {
        entry == table.name || entry == format!("{}.{}", table.owner, table.name) || entry == self.qualified(table)
    }

    pub fn columns(&self, table: &TableId) -> Result<Vec<ColumnInfo>, ConnectorError> {
        let statement = match self.dialect {
            Dialect::Mysql => {
                "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, NUMERIC_PRECISION, NUMERIC_SCALE, \
                 EXTRA LIKE '%auto_increment%' FROM information_schema.COLUMNS \
                 WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION"
            }
            // Enums are USER-DEFINED in information_schema; pg_type tells them apart.
            Dialect::Postgres => {
                "SELECT c.column_name::text, CASE WHEN t.typtype = 'e' THEN 'enum' ELSE c.data_type::text END, \
                 c.data_type::text, c.is_nullable::text, c.numeric_precision::int8, c.numeric_scale::int8, \
                 COALESCE(c.column_default::text LIKE 'nextval(%' OR c.is_identity::text = 'YES', false) \
                 FROM information_schema.columns c \
                 LEFT JOIN (pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace) \
                 ON t.typname = c.udt_name::text AND n.nspname = c.udt_schema::text \
                 WHERE c.table_schema::text = $1 AND c.table_name::text = $2 ORDER BY c.ordinal_position"
            }
            // Declared types are free text; `sqlite_column` reads them by SQLite's affinity rules.
            // An INTEGER PRIMARY KEY is the rowid, which grows by itself.
            Dialect::Sqlite => {
                "SELECT name, type, type, CASE WHEN \"notnull\" = 0 AND pk = 0 THEN 'YES' ELSE 'NO' END, NULL, NULL, \
                 pk = 1 AND upper(type) = 'INTEGER' AND (SELECT COUNT(*) FROM pragma_table_info(?2) WHERE pk > 0) = 1 \
                 FROM pragma_table_info(?2) WHERE ?1 IS NOT NULL ORDER BY cid"
            }
        };
        let rows = sql::query(statement, &[SqlValue::Text(table.owner.clone()), SqlValue::Text(table.name.clone())])?;
        if self.dialect == Dialect::Sqlite {
            return Ok(rows.rows.iter().map(|r| sqlite_column(r)).collect());
        }
        Ok(rows
            .rows
            .iter()
            .map(|r| ColumnInfo {
                name: text(&r[0]).unwrap_or_default(),
                data_type: text(&r[1]).unwrap_or_default(),
                column_type: text(&r[2]).unwrap_or_default(),
                nullable: text(&r[3]).is_some_and(|n| n.eq_ignore_ascii_case("YES")),
                precision: number(&r[4]),
                scale: number(&r[5]),
                auto_increment: matches!(r[6], SqlValue::Boolean(true) | SqlValue::Int(1) | SqlValue::Uint(1)),
            })
            .collect())
    }

    /// The primary key's columns, in key order; empty without a primary key.
    pub fn primary_key(&self, table: &TableId) -> Result<Vec<String>, ConnectorError> {
        let statement = match self.dialect {
            Dialect::Mysql => {
                "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE \
                 WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION"
            }
            Dialect::Postgres => {
                "SELECT a.attname::text FROM pg_catalog.pg_index i \
                 JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
                 WHERE i.indisprimary AND i.indrelid = (quote_ident($1) || '.' || quote_ident($2))::regclass \
                 ORDER BY array_position(i.indkey::int2[], a.attnum)"
            }
            Dialect::Sqlite => "SELECT name FROM pragma_table_info(?2) WHERE pk > 0 AND ?1 IS NOT NULL ORDER BY pk",
        };
        let rows = sql::query(statement, &[SqlValue::Text(table.owner.clone()), SqlValue::Text(table.name.clone())])?;
        Ok(rows.rows.iter().filter_map(|r| text(&r[0])).collect())
    }

    /// The table's id in source partitions, as the Confluent source writes it.
    pub fn qualified(&self, table: &TableId) -> String {
        match self.dialect {
            Dialect::Mysql => format!("{}.{}", table.owner, table.name),
            Dialect::Postgres => format!("{}.{}.{}", self.database, table.owner, table.name),
            Dialect::Sqlite => table.name.clone(),
        }
    }
}

/// A `pragma_table_info` row as a column: its declared type read by SQLite's affinity rules
/// (<https://www.sqlite.org/datatype3.html>), with the names the mapping knows.
fn sqlite_column(row: &[SqlValue]) -> ColumnInfo {
    let declared = text(&row[1]).unwrap_or_default().to_ascii_uppercase();
    let base = declared.split('(').next().unwrap_or_default().trim().to_owned();
    let (precision, scale) = precision_and_scale(&declared);
    let data_type = match base.as_str() {
        "BOOLEAN" | "BOOL" => "boolean",
        "DATE" => "date",
        "TIME" => "time",
        "DATETIME" | "TIMESTAMP" => "datetime",
        "DECIMAL" | "NUMERIC" => "decimal",
        // INTEGER affinity is 64 bits wide, whatever the declared width.
        b if b.contains("INT") => "bigint",
        b if b.contains("CHAR") || b.contains("CLOB") || b.contains("TEXT") => "text",
        b if b.contains("BLOB") || b.is_empty() => "blob",
        _ => "double",
    };
    ColumnInfo {
        name: text(&row[0]).unwrap_or_default(),
        data_type: data_type.to_owned(),
        column_type: data_type.to_owned(),
        nullable: text(&row[3]).is_some_and(|n| n == "YES"),
        precision,
        scale,
        auto_increment: matches!(row[6], SqlValue::Int(1)),
    }
}

/// `DECIMAL(10,2)` → (10, 2); absent parts are `None`.
fn precision_and_scale(declared: &str) -> (Option<u32>, Option<u32>) {
    let Some(inner) = declared.split_once('(').and_then(|(_, rest)| rest.split_once(')')).map(|(inner, _)| inner) else {
        return (None, None);
    };
    let mut parts = inner.split(',').map(|p| p.trim().parse::<u32>().ok());
    let precision = parts.next().flatten();
    (precision, precision.map(|_| parts.next().flatten().unwrap_or(0)))
}

/// A LIKE pattern that matches exactly `name`.
fn like_literal(name: &str) -> String {
    name.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

pub fn text(v: &SqlValue) -> Option<String> {
    match v {
        SqlValue::Text(s) => Some(s.clone()),
        SqlValue::Bytes(b) => String::from_utf8(b.clone()).ok(),
        _ => None,
    }
}

fn number(v: &SqlValue) -> Option<u32> {
    match v {
        SqlValue::Int(n) => u32::try_from(*n).ok(),
        SqlValue::Uint(n) => u32::try_from(*n).ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_declared_types_follow_its_affinity_rules() {
        let column = |declared: &str, pk: i64| {
            sqlite_column(&[SqlValue::Text("c".into()), SqlValue::Text(declared.into()), SqlValue::Text(declared.into()), SqlValue::Text("YES".into()), SqlValue::Null, SqlValue::Null, SqlValue::Int(pk)])
        };
        let data_type = |declared: &str| column(declared, 0).data_type;
        assert_eq!(data_type("INTEGER"), "bigint");
        assert_eq!(data_type("tinyint"), "bigint");
        assert_eq!(data_type("VARCHAR(20)"), "text");
        assert_eq!(data_type("BLOB"), "blob");
        assert_eq!(data_type(""), "blob");
        assert_eq!(data_type("DOUBLE PRECISION"), "double");
        assert_eq!(data_type("DATETIME"), "datetime");
        assert_eq!(data_type("BOOLEAN"), "boolean");
        let decimal = column("NUMERIC(10, 2)", 0);
        assert_eq!((decimal.data_type.as_str(), decimal.precision, decimal.scale), ("decimal", Some(10), Some(2)));
        assert!(column("INTEGER", 1).auto_increment);
    }

    #[test]
    fn list_entries_name_tables_bare_or_qualified() {
        let pg = Location { dialect: Dialect::Postgres, database: "shop".into() };
        let orders = TableId { owner: "public".into(), name: "orders".into() };
        for entry in ["orders", "public.orders", "shop.public.orders"] {
            assert!(pg.names(&orders, entry), "{entry}");
        }
        assert!(!pg.names(&orders, "other.orders"));
        assert_eq!(pg.qualified(&orders), "shop.public.orders");
        let my = Location { dialect: Dialect::Mysql, database: "shop".into() };
        assert_eq!(my.qualified(&TableId { owner: "shop".into(), name: "users".into() }), "shop.users");
        assert_eq!(like_literal("wc_db_1"), "wc\\_db\\_1");
    }
}
