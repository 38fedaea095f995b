//! Everything that differs between databases, in one place: identifier quoting and case,
//! placeholders, column types for Connect schemas, literals, the upsert clause, the catalog
//! query and which columns hold wall-clock times. Another dialect is another arm in each
//! `match` here.

use thiserror::Error;
use wasmconnect_sdk::data::{DATE, DECIMAL, Schema, SchemaType, TIME, TIMESTAMP};
use wasmconnect_sdk::sql::{self, DatabaseError, Dialect};

/// SQL text for one database, with the sink's `quote.sql.identifiers` choice.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sql {
    pub dialect: Dialect,
    pub quote_identifiers: bool,
}

/// Arrays, maps and structs have no column type.
#[derive(Debug, Error, PartialEq)]
pub enum UnsupportedType {
    #[error(
        "a struct cannot be stored in a column: flatten it into one column per field with the transform \
         org.apache.kafka.connect.transforms.Flatten$Value"
    )]
    Struct,
    #[error(
        "a field of type {} cannot be stored in a column: drop it with org.apache.kafka.connect.transforms.ReplaceField$Value \
         (exclude), or turn it into a string before the sink", .0.as_str()
    )]
    Collection(SchemaType),
}

impl Sql {
    pub fn new(dialect: Dialect, quote_identifiers: bool) -> Sql {
        Sql { dialect, quote_identifiers }
    }

    fn mysql(self) -> bool {
        self.dialect == Dialect::Mysql
    }

    /// A table or column name as the SQL text gives it.
    pub fn ident(self, name: &str) -> String {
        if self.quote_identifiers { sql::quote(self.dialect, name) } else { name.to_owned() }
    }

    /// The `n`-th (1-based) parameter placeholder.
    pub fn placeholder(self, n: usize) -> String {
        sql::placeholder(self.dialect, n)
    }

    /// The name the catalog reports for a table created as `ident(name)`: PostgreSQL folds
    /// unquoted names to lower case.
    pub fn stored_name(self, name: &str) -> String {
        match self.dialect {
            Dialect::Postgres if !self.quote_identifiers => name.to_ascii_lowercase(),
            _ => name.to_owned(),
        }
    }

    /// Whether the column `stored` (as the catalog reports it) is the field `name`. MySQL's
    /// and SQLite's column names are case-insensitive; PostgreSQL's quoted ones are not.
    pub fn same_column(self, name: &str, stored: &str) -> bool {
        match self.dialect {
            Dialect::Mysql | Dialect::Sqlite => name.eq_ignore_ascii_case(stored),
            Dialect::Postgres => self.stored_name(name) == stored,
        }
    }

    /// The columns of a table (`$1`/`?`: its name) as name and lower-case data type.
    pub fn columns_query(self) -> &'static str {
        match self.dialect {
            Dialect::Mysql => {
                "SELECT COLUMN_NAME, LOWER(DATA_TYPE) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?"
            }
            Dialect::Postgres => {
                "SELECT column_name::text, data_type::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1"
            }
            Dialect::Sqlite => "SELECT name, LOWER(type) FROM pragma_table_info(?)",
        }
    }

    /// The query that says how many bytes one statement may carry, if the database limits it.
    pub fn packet_limit_query(self) -> Option<&'static str> {
        self.mysql().then_some("SELECT @@max_allowed_packet")
    }

    /// Whether a column of this (lower-case) data type holds a wall-clock time without a
    /// zone. MySQL's TIMESTAMP is an instant, read and written in the session's zone (UTC).
    pub fn is_wall_clock(self, data_type: &str) -> bool {
        match self.dialect {
            Dialect::Mysql => data_type == "datetime",
            Dialect::Postgres => data_type == "timestamp without time zone",
            // SQLite has no time zones: its timestamps are whatever text or number was stored.
            Dialect::Sqlite => data_type == "datetime" || data_type == "timestamp",
        }
    }

    /// The column type for a field; `in_key` when the column is part of the primary key,
    /// because MySQL cannot index TEXT or BLOB without a prefix length (Confluent issue 996).
    pub fn column_type(self, schema: &Schema, in_key: bool) -> Result<String, UnsupportedType> {
        if let Some(logical) = self.logical_type(schema) {
            return Ok(logical);
        }
        let mysql = self.mysql();
        let name = match schema.schema_type {
            SchemaType::Int8 if mysql => "TINYINT",
            SchemaType::Int8 | SchemaType::Int16 => "SMALLINT",
            SchemaType::Int32 => "INT",
            SchemaType::Int64 => "BIGINT",
            SchemaType::Float32 if mysql => "FLOAT",
            SchemaType::Float32 => "REAL",
            SchemaType::Float64 if mysql => "DOUBLE",
            SchemaType::Float64 => "DOUBLE PRECISION",
            SchemaType::Boolean => "BOOLEAN",
            SchemaType::String if mysql && in_key => "VARCHAR(256)",
            SchemaType::String => "TEXT",
            SchemaType::Bytes if mysql && in_key => "VARBINARY(1024)",
            SchemaType::Bytes if mysql || self.dialect == Dialect::Sqlite => "BLOB",
            SchemaType::Bytes => "BYTEA",
            SchemaType::Struct => return Err(UnsupportedType::Struct),
            other @ (SchemaType::Array | SchemaType::Map) => return Err(UnsupportedType::Collection(other)),
        };
        Ok(name.to_owned())
    }

    fn logical_type(self, schema: &Schema) -> Option<String> {
        let mysql = self.mysql();
        Some(match schema.name.as_deref()? {
            // 65 is MySQL's widest DECIMAL; PostgreSQL's NUMERIC keeps any scale a record brings.
            DECIMAL if mysql => format!("DECIMAL(65,{})", schema.decimal_scale().unwrap_or(0)),
            DECIMAL => "NUMERIC".to_owned(),
            // Connect's Timestamp and Time carry milliseconds, which MySQL drops without (3).
            TIMESTAMP if mysql => "DATETIME(3)".to_owned(),
            TIMESTAMP => "TIMESTAMP".to_owned(),
            DATE => "DATE".to_owned(),
            TIME if mysql => "TIME(3)".to_owned(),
            TIME => "TIME".to_owned(),
            _ => return None,
        })
    }

    /// ` DEFAULT literal` for a column definition. MySQL takes a default for TEXT and BLOB
    /// only as an expression in parentheses.
    pub fn default_clause(self, schema: &Schema, in_key: bool, literal: &str) -> String {
        let lob = self.mysql() && !in_key && schema.name.is_none() && matches!(schema.schema_type, SchemaType::String | SchemaType::Bytes);
        if lob { format!(" DEFAULT ({literal})") } else { format!(" DEFAULT {literal}") }
    }

    /// A string literal. MySQL also treats backslashes as escapes (unless NO_BACKSLASH_ESCAPES
    /// is set), so they are doubled there; PostgreSQL's standard strings take them literally.
    pub fn string_literal(self, text: &str) -> String {
        let escaped = text.replace('\'', "''");
        match self.dialect {
            Dialect::Mysql => format!("'{}'", escaped.replace('\\', "\\\\")),
            Dialect::Postgres | Dialect::Sqlite => format!("'{escaped}'"),
        }
    }

    pub fn bytes_literal(self, bytes: &[u8]) -> String {
        let hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
        match self.dialect {
            Dialect::Mysql | Dialect::Sqlite => format!("X'{hex}'"),
            Dialect::Postgres => format!("'\\x{hex}'"),
        }
    }

    /// What follows a multi-row INSERT to make it an upsert on the primary key `key`, setting
    /// the other `columns` from the new row.
    pub fn upsert_clause(self, key: &[&str], columns: &[&str]) -> String {
        let rest: Vec<&&str> = columns.iter().filter(|c| !key.contains(c)).collect();
        match self.dialect {
            Dialect::Mysql => {
                // With nothing but key columns, re-setting the first key column is a no-op
                // that still turns a duplicate into "no change" rather than an error.
                let set: Vec<String> = if rest.is_empty() { vec![key[0]] } else { rest.iter().map(|c| **c).collect() }
                    .iter()
                    .map(|c| format!("{0} = VALUES({0})", self.ident(c)))
                    .collect();
                format!(" ON DUPLICATE KEY UPDATE {}", set.join(", "))
            }
            // SQLite took PostgreSQL's syntax (3.24).
            Dialect::Postgres | Dialect::Sqlite => {
                let conflict: Vec<String> = key.iter().map(|k| self.ident(k)).collect();
                if rest.is_empty() {
                    return format!(" ON CONFLICT ({}) DO NOTHING", conflict.join(", "));
                }
                let set: Vec<String> = rest.iter().map(|c| format!("{0} = EXCLUDED.{0}", self.ident(c))).collect();
                format!(" ON CONFLICT ({}) DO UPDATE SET {}", conflict.join(", "), set.join(", "))
            }
        }
    }
}

/// Whether a database error is worth trying the batch again for, by SQLSTATE: deadlocks and
/// serialization failures (40xxx), lock timeouts (55P03), cancelled statements (57014),
/// connection trouble (08xxx), a server shutting down (57P0x) or out of resources (53xxx).
/// MySQL's lock wait timeout has only the catch-all HY000, but it and MySQL's deadlock say
/// "try restarting transaction".
pub fn is_transient(e: &DatabaseError) -> bool {
    let by_code = e.code.as_deref().is_some_and(|code| {
        code.starts_with("40") || code.starts_with("08") || code.starts_with("53") || code.starts_with("57P") || matches!(code, "55P03" | "57014")
    });
    by_code || e.message.contains("try restarting transaction")
}

/// Whether a database error may be caused by the values of one record, so that the batch is
/// searched for it: data exceptions (22xxx), integrity violations (23xxx, 44000), MySQL's
/// catch-all HY000 (which "Incorrect integer value" uses), and values the host could not
/// convert for their parameter (no SQLSTATE: the database never saw them).
pub fn may_be_one_record(code: Option<&str>) -> bool {
    match code {
        None => true,
        Some(code) => code.starts_with("22") || code.starts_with("23") || code == "44000" || code == "HY000",
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    const MYSQL: Sql = Sql { dialect: Dialect::Mysql, quote_identifiers: true };
    const POSTGRES: Sql = Sql { dialect: Dialect::Postgres, quote_identifiers: true };

    fn both(schema: &Schema) -> (String, String) {
        (MYSQL.column_type(schema, false).unwrap(), POSTGRES.column_type(schema, false).unwrap())
    }

    #[test]
    fn primitive_types_per_dialect() {
        let expected = [
            (SchemaType::Int8, "TINYINT", "SMALLINT"),
            (SchemaType::Int16, "SMALLINT", "SMALLINT"),
            (SchemaType::Int32, "INT", "INT"),
            (SchemaType::Int64, "BIGINT", "BIGINT"),
            (SchemaType::Float32, "FLOAT", "REAL"),
            (SchemaType::Float64, "DOUBLE", "DOUBLE PRECISION"),
            (SchemaType::Boolean, "BOOLEAN", "BOOLEAN"),
            (SchemaType::String, "TEXT", "TEXT"),
            (SchemaType::Bytes, "BLOB", "BYTEA"),
        ];
        for (schema_type, mysql, postgres) in expected {
            assert_eq!(both(&Schema::new(schema_type)), (mysql.to_owned(), postgres.to_owned()), "{schema_type:?}");
        }
    }

    #[test]
    fn logical_types_per_dialect() {
        assert_eq!(both(&Schema::decimal(2)), ("DECIMAL(65,2)".into(), "NUMERIC".into()));
        assert_eq!(both(&Schema::timestamp()), ("DATETIME(3)".into(), "TIMESTAMP".into()));
        assert_eq!(both(&Schema::date()), ("DATE".into(), "DATE".into()));
        assert_eq!(both(&Schema::time()), ("TIME(3)".into(), "TIME".into()));
    }

    #[test]
    fn mysql_key_columns_are_indexable() {
        let string = Schema::new(SchemaType::String);
        assert_eq!(MYSQL.column_type(&string, true).unwrap(), "VARCHAR(256)");
        assert_eq!(POSTGRES.column_type(&string, true).unwrap(), "TEXT");
        assert_eq!(MYSQL.column_type(&Schema::new(SchemaType::Bytes), true).unwrap(), "VARBINARY(1024)");
        assert_eq!(MYSQL.default_clause(&string, false, "'x'"), " DEFAULT ('x')");
        assert_eq!(MYSQL.default_clause(&string, true, "'x'"), " DEFAULT 'x'");
        assert_eq!(POSTGRES.default_clause(&string, false, "'x'"), " DEFAULT 'x'");
    }

    #[test]
    fn nested_types_have_no_column_and_the_error_names_the_cure() {
        let array = Schema::array(Arc::new(Schema::new(SchemaType::String)));
        let err = POSTGRES.column_type(&array, false).unwrap_err();
        assert_eq!(err, UnsupportedType::Collection(SchemaType::Array));
        assert!(err.to_string().contains("array") && err.to_string().contains("ReplaceField$Value"), "{err}");
        let err = MYSQL.column_type(&Schema::structure(vec![]), false).unwrap_err();
        assert!(err.to_string().contains("org.apache.kafka.connect.transforms.Flatten$Value"), "{err}");
    }

    #[test]
    fn identifiers_are_quoted_or_left_to_the_database() {
        assert_eq!(MYSQL.ident("my`t"), "`my``t`");
        assert_eq!(POSTGRES.ident("Users"), "\"Users\"");
        let bare = Sql::new(Dialect::Postgres, false);
        assert_eq!(bare.ident("Users"), "Users");
        assert_eq!(bare.stored_name("Users"), "users");
        assert!(bare.same_column("Name", "name"));
        assert!(!POSTGRES.same_column("Name", "name"));
        assert!(MYSQL.same_column("Name", "NAME"));
    }

    #[test]
    fn upserts_per_dialect() {
        assert_eq!(MYSQL.upsert_clause(&["id"], &["id", "a", "b"]), " ON DUPLICATE KEY UPDATE `a` = VALUES(`a`), `b` = VALUES(`b`)");
        assert_eq!(MYSQL.upsert_clause(&["id"], &["id"]), " ON DUPLICATE KEY UPDATE `id` = VALUES(`id`)");
        assert_eq!(POSTGRES.upsert_clause(&["k1", "k2"], &["k1", "k2", "v"]), " ON CONFLICT (\"k1\", \"k2\") DO UPDATE SET \"v\" = EXCLUDED.\"v\"");
        assert_eq!(POSTGRES.upsert_clause(&["id"], &["id"]), " ON CONFLICT (\"id\") DO NOTHING");
    }

    #[test]
    fn literals_and_wall_clock_columns() {
        assert_eq!(MYSQL.string_literal("it's a\\b"), "'it''s a\\\\b'");
        assert_eq!(POSTGRES.string_literal("it's a\\b"), "'it''s a\\b'");
        assert_eq!(MYSQL.bytes_literal(&[0xDE, 0x0A]), "X'DE0A'");
        assert_eq!(POSTGRES.bytes_literal(&[0xDE]), "'\\xDE'");
        assert!(MYSQL.is_wall_clock("datetime") && !MYSQL.is_wall_clock("timestamp"));
        assert!(POSTGRES.is_wall_clock("timestamp without time zone") && !POSTGRES.is_wall_clock("timestamp with time zone"));
    }

    #[test]
    fn errors_are_sorted_by_sqlstate() {
        let error = |code: &str, message: &str| DatabaseError { code: Some(code.into()), message: message.into() };
        for code in ["40001", "40P01", "55P03", "08006", "57P01", "53300"] {
            assert!(is_transient(&error(code, "")), "{code}");
        }
        assert!(is_transient(&error("HY000", "Lock wait timeout exceeded; try restarting transaction")));
        assert!(!is_transient(&error("23505", "duplicate key")) && !is_transient(&error("42P01", "no table")));
        for code in [None, Some("22001"), Some("23000"), Some("HY000")] {
            assert!(may_be_one_record(code), "{code:?}");
        }
        assert!(!may_be_one_record(Some("42S02")));
    }
}
