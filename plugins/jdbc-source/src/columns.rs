//! Table columns as Connect schema fields, and row values as Connect values: the mapping the
//! Confluent JDBC source applies to JDBC types, here from information_schema type names.

use wasmconnect_sdk::data::decimal::{to_bytes as decimal_bytes, unscaled_from_text};
use wasmconnect_sdk::data::{Field, Schema, SchemaType, Value};
use wasmconnect_sdk::sql::SqlValue;

/// What a column becomes in Connect.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mapping {
    Int8,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Boolean,
    String,
    Bytes,
    Decimal(u32),
    Timestamp,
    Date,
    Time,
}

/// A column as information_schema describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnInfo {
    pub name: String,
    /// `DATA_TYPE`, lower case: `int`, `varchar`, `timestamp without time zone`, ...
    pub data_type: String,
    /// MySQL's `COLUMN_TYPE` (`int(10) unsigned`, `tinyint(1)`); the data type elsewhere.
    pub column_type: String,
    pub nullable: bool,
    pub scale: Option<u32>,
}

/// The Connect mapping of a column, or `None` for types the source does not read.
pub fn mapping(column: &ColumnInfo) -> Option<Mapping> {
    let data_type = column.data_type.to_ascii_lowercase();
    let column_type = column.column_type.to_ascii_lowercase();
    let unsigned = column_type.contains("unsigned");
    Some(match data_type.as_str() {
        "tinyint" if column_type.starts_with("tinyint(1)") => Mapping::Boolean,
        "tinyint" if unsigned => Mapping::Int16,
        "tinyint" => Mapping::Int8,
        "smallint" if unsigned => Mapping::Int32,
        "smallint" => Mapping::Int16,
        "mediumint" => Mapping::Int32,
        "int" | "integer" if unsigned => Mapping::Int64,
        "int" | "integer" => Mapping::Int32,
        "bigint" if unsigned => Mapping::Decimal(0),
        "bigint" => Mapping::Int64,
        "float" | "real" => Mapping::Float32,
        "double" | "double precision" => Mapping::Float64,
        "decimal" | "numeric" => match column.scale {
            Some(scale) => Mapping::Decimal(scale),
            None => Mapping::Float64,
        },
        "bit" | "bool" | "boolean" => Mapping::Boolean,
        "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" | "enum" | "set" | "json" | "character"
        | "character varying" | "uuid" | "jsonb" => Mapping::String,
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" | "bytea" => Mapping::Bytes,
        "datetime" | "timestamp" | "timestamp without time zone" | "timestamp with time zone" => Mapping::Timestamp,
        "date" => Mapping::Date,
        "time" | "time without time zone" => Mapping::Time,
        _ => return None,
    })
}

pub fn field(column: &ColumnInfo, mapping: Mapping) -> Field {
    let schema = match mapping {
        Mapping::Int8 => Schema::new(SchemaType::Int8),
        Mapping::Int16 => Schema::new(SchemaType::Int16),
        Mapping::Int32 => Schema::new(SchemaType::Int32),
        Mapping::Int64 => Schema::new(SchemaType::Int64),
        Mapping::Float32 => Schema::new(SchemaType::Float32),
        Mapping::Float64 => Schema::new(SchemaType::Float64),
        Mapping::Boolean => Schema::new(SchemaType::Boolean),
        Mapping::String => Schema::new(SchemaType::String),
        Mapping::Bytes => Schema::new(SchemaType::Bytes),
        Mapping::Decimal(scale) => Schema::decimal(scale),
        Mapping::Timestamp => Schema::timestamp(),
        Mapping::Date => Schema::date(),
        Mapping::Time => Schema::time(),
    };
    Field::new(&column.name, if column.nullable { schema.optional() } else { schema })
}

/// Converts one column value; an error names what did not fit.
pub fn value(mapping: Mapping, sql: SqlValue) -> Result<Value, String> {
    let wrong = |sql: &SqlValue| format!("a {mapping:?} column returned {sql:?}");
    Ok(match (mapping, sql) {
        (_, SqlValue::Null) => Value::Null,
        (Mapping::Boolean, SqlValue::Boolean(b)) => Value::Boolean(b),
        (Mapping::Boolean, SqlValue::Int(i)) => Value::Boolean(i != 0),
        (Mapping::Boolean, SqlValue::Uint(u)) => Value::Boolean(u != 0),
        (Mapping::Int8, SqlValue::Int(i)) => Value::Int8(i as i8),
        (Mapping::Int16, SqlValue::Int(i)) => Value::Int16(i as i16),
        (Mapping::Int16, SqlValue::Uint(u)) => Value::Int16(u as i16),
        (Mapping::Int32, SqlValue::Int(i)) => Value::Int32(i as i32),
        (Mapping::Int32, SqlValue::Uint(u)) => Value::Int32(u as i32),
        (Mapping::Int64, SqlValue::Int(i)) => Value::Int64(i),
        (Mapping::Int64, SqlValue::Uint(u)) => Value::Int64(u as i64),
        (Mapping::Float32, SqlValue::Float(f)) => Value::Float32(f as f32),
        (Mapping::Float64, SqlValue::Float(f)) => Value::Float64(f),
        (Mapping::Float64, SqlValue::Decimal(d)) => Value::Float64(d.parse().map_err(|_| format!("bad decimal {d:?}"))?),
        (Mapping::Decimal(scale), SqlValue::Decimal(d)) => {
            Value::Bytes(decimal_bytes(unscaled_from_text(&d, scale).ok_or_else(|| format!("decimal {d:?} does not fit scale {scale}"))?))
        }
        (Mapping::Decimal(scale), SqlValue::Uint(u)) => Value::Bytes(decimal_bytes(i128::from(u) * 10i128.pow(scale))),
        (Mapping::Decimal(scale), SqlValue::Int(i)) => Value::Bytes(decimal_bytes(i128::from(i) * 10i128.pow(scale))),
        (Mapping::String, SqlValue::Text(s)) => Value::String(s),
        (Mapping::String, SqlValue::Decimal(s)) => Value::String(s),
        (Mapping::String, SqlValue::Bytes(b)) => Value::String(String::from_utf8_lossy(&b).into_owned()),
        (Mapping::Bytes, SqlValue::Bytes(b)) => Value::Bytes(b),
        (Mapping::Timestamp, SqlValue::Timestamp(micros)) => Value::Int64(micros.div_euclid(1000)),
        (Mapping::Date, SqlValue::Date(days)) => Value::Int32(days),
        (Mapping::Time, SqlValue::Time(micros)) => Value::Int32(micros.div_euclid(1000) as i32),
        (_, other) => return Err(wrong(&other)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(data_type: &str, column_type: &str, scale: Option<u32>) -> ColumnInfo {
        ColumnInfo { name: "c".into(), data_type: data_type.into(), column_type: column_type.into(), nullable: false, scale }
    }

    #[test]
    fn mysql_and_postgres_types_map_like_the_confluent_source() {
        let cases = [
            (col("int", "int(11)", Some(0)), Some(Mapping::Int32)),
            (col("int", "int(10) unsigned", Some(0)), Some(Mapping::Int64)),
            (col("tinyint", "tinyint(1)", Some(0)), Some(Mapping::Boolean)),
            (col("tinyint", "tinyint(4)", Some(0)), Some(Mapping::Int8)),
            (col("bigint", "bigint(20) unsigned", Some(0)), Some(Mapping::Decimal(0))),
            (col("varchar", "varchar(20)", None), Some(Mapping::String)),
            (col("datetime", "datetime", None), Some(Mapping::Timestamp)),
            (col("decimal", "decimal(10,2)", Some(2)), Some(Mapping::Decimal(2))),
            (col("numeric", "numeric", None), Some(Mapping::Float64)),
            (col("timestamp with time zone", "timestamp with time zone", None), Some(Mapping::Timestamp)),
            (col("character varying", "character varying", None), Some(Mapping::String)),
            (col("geometry", "geometry", None), None),
        ];
        for (column, expected) in cases {
            assert_eq!(mapping(&column), expected, "{column:?}");
        }
    }

    #[test]
    fn nullable_columns_are_optional_and_logical_types_are_versioned() {
        let mut column = col("datetime", "datetime", None);
        column.nullable = true;
        let field = field(&column, Mapping::Timestamp);
        assert!(field.schema.optional);
        assert_eq!(field.schema.name.as_deref(), Some("org.apache.kafka.connect.data.Timestamp"));
        assert_eq!(field.schema.version, Some(1));
    }

    #[test]
    fn values_convert_with_logical_units() {
        assert_eq!(value(Mapping::Timestamp, SqlValue::Timestamp(1_700_000_000_123_456)), Ok(Value::Int64(1_700_000_000_123)));
        assert_eq!(value(Mapping::Timestamp, SqlValue::Timestamp(-1)), Ok(Value::Int64(-1)));
        assert_eq!(value(Mapping::Time, SqlValue::Time(3_600_000_500)), Ok(Value::Int32(3_600_000)));
        assert_eq!(value(Mapping::Decimal(2), SqlValue::Decimal("12.34".into())), Ok(Value::Bytes(vec![0x04, 0xD2])));
        assert_eq!(value(Mapping::Int32, SqlValue::Null), Ok(Value::Null));
        assert!(value(Mapping::Int32, SqlValue::Text("x".into())).is_err());
    }
}
