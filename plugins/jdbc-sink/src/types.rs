//! Which SQL column type holds a Connect schema, per dialect (Connect -> SQL, as Confluent's
//! MySQL and PostgreSQL dialects map them).

use thiserror::Error;
use wasmconnect_sdk::data::{DATE, DECIMAL, Schema, SchemaType, TIME, TIMESTAMP};
use wasmconnect_sdk::sql::Dialect;

/// Arrays, maps and structs have no column type: they must be flattened first.
#[derive(Debug, Error, PartialEq)]
#[error("a field of type {} cannot be stored in a column (flatten it, or drop it, with a transform)", .0.as_str())]
pub struct UnsupportedType(pub SchemaType);

/// The column type for a field; `in_key` when the column is part of the primary key, because
/// MySQL cannot index TEXT or BLOB without a prefix length.
pub fn column_type(dialect: Dialect, schema: &Schema, in_key: bool) -> Result<String, UnsupportedType> {
    if let Some(logical) = logical_type(dialect, schema) {
        return Ok(logical);
    }
    let mysql = dialect == Dialect::Mysql;
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
        SchemaType::Bytes if mysql => "BLOB",
        SchemaType::Bytes => "BYTEA",
        other @ (SchemaType::Array | SchemaType::Map | SchemaType::Struct) => return Err(UnsupportedType(other)),
    };
    Ok(name.to_owned())
}

fn logical_type(dialect: Dialect, schema: &Schema) -> Option<String> {
    let mysql = dialect == Dialect::Mysql;
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

/// Whether MySQL keeps the column in a TEXT or BLOB, whose default must be an expression.
pub fn is_mysql_lob(dialect: Dialect, schema: &Schema, in_key: bool) -> bool {
    dialect == Dialect::Mysql && !in_key && schema.name.is_none() && matches!(schema.schema_type, SchemaType::String | SchemaType::Bytes)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn both(schema: &Schema) -> (String, String) {
        (column_type(Dialect::Mysql, schema, false).unwrap(), column_type(Dialect::Postgres, schema, false).unwrap())
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
        assert_eq!(column_type(Dialect::Mysql, &string, true).unwrap(), "VARCHAR(256)");
        assert_eq!(column_type(Dialect::Postgres, &string, true).unwrap(), "TEXT");
        assert_eq!(column_type(Dialect::Mysql, &Schema::new(SchemaType::Bytes), true).unwrap(), "VARBINARY(1024)");
        assert!(is_mysql_lob(Dialect::Mysql, &string, false));
        assert!(!is_mysql_lob(Dialect::Mysql, &string, true));
        assert!(!is_mysql_lob(Dialect::Postgres, &string, false));
    }

    #[test]
    fn nested_types_have_no_column() {
        let array = Schema::array(Arc::new(Schema::new(SchemaType::String)));
        let err = column_type(Dialect::Postgres, &array, false).unwrap_err();
        assert_eq!(err, UnsupportedType(SchemaType::Array));
        assert!(err.to_string().contains("array"), "{err}");
        assert!(column_type(Dialect::Mysql, &Schema::structure(vec![]), false).is_err());
    }
}
