//! Columns as Connect schema fields, and column values as Connect values: the mapping the
//! Confluent JDBC source applies to JDBC types, here from the catalogs' type names (tables)
//! or the result's type names (query mode).

use wasmconnect_sdk::data::decimal::{to_bytes as decimal_bytes, unscaled_from_text};
use wasmconnect_sdk::data::{Field, Schema, SchemaType, Value};
use wasmconnect_sdk::sql::{Dialect, SqlValue};

use crate::settings::NumericMapping;
use crate::zone::Zone;

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
    /// A column with a time zone (or MySQL's TIMESTAMP, read in UTC): the host gives the instant.
    Timestamp,
    /// A wall-clock column (DATETIME, TIMESTAMP WITHOUT TIME ZONE), in `db.timezone`.
    LocalTimestamp,
    Date,
    Time,
}

impl Mapping {
    pub fn is_integer(self) -> bool {
        matches!(self, Mapping::Int8 | Mapping::Int16 | Mapping::Int32 | Mapping::Int64)
    }

    pub fn is_timestamp(self) -> bool {
        matches!(self, Mapping::Timestamp | Mapping::LocalTimestamp)
    }
}

/// A column as the catalogs describe it.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnInfo {
    pub name: String,
    /// `DATA_TYPE`, lower case: `int`, `varchar`, `timestamp without time zone`, `enum`, ...
    pub data_type: String,
    /// MySQL's `COLUMN_TYPE` (`int(10) unsigned`, `tinyint(1)`, `bit(1)`); the data type elsewhere.
    pub column_type: String,
    pub nullable: bool,
    pub precision: Option<u32>,
    pub scale: Option<u32>,
    /// An AUTO_INCREMENT, SERIAL or identity column.
    pub auto_increment: bool,
}

/// The Connect mapping of a column, or `None` for types the source does not read.
pub fn mapping(column: &ColumnInfo, numeric: NumericMapping) -> Option<Mapping> {
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
        // Beyond INT64: Connect's only exact type for it is a Decimal of scale 0.
        "bigint" if unsigned => Mapping::Decimal(0),
        "bigint" => Mapping::Int64,
        "year" => Mapping::Int32,
        "float" | "real" => Mapping::Float32,
        "double" | "double precision" => Mapping::Float64,
        "decimal" | "numeric" => match (column.precision, column.scale) {
            (Some(precision), Some(scale)) => numeric_mapping(numeric, precision, scale),
            // PostgreSQL's NUMERIC without a precision has no fixed scale, which a Connect
            // Decimal needs.
            _ => Mapping::Float64,
        },
        "bit" if column_type == "bit" || column_type == "bit(1)" => Mapping::Boolean,
        "bit" => Mapping::Int64,
        "bool" | "boolean" => Mapping::Boolean,
        "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" | "enum" | "set" | "json" | "character"
        | "character varying" | "uuid" | "jsonb" | "xml" | "name" => Mapping::String,
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" | "bytea" => Mapping::Bytes,
        // MySQL's TIMESTAMP is stored as an instant and read in the session's zone, UTC.
        "timestamp" | "timestamp with time zone" => Mapping::Timestamp,
        "datetime" | "timestamp without time zone" => Mapping::LocalTimestamp,
        "date" => Mapping::Date,
        "time" | "time without time zone" => Mapping::Time,
        _ => return None,
    })
}

/// `numeric.mapping` for a DECIMAL or NUMERIC of this precision and scale.
fn numeric_mapping(numeric: NumericMapping, precision: u32, scale: u32) -> Mapping {
    let integer = || match precision {
        0..=2 => Mapping::Int8,
        3..=4 => Mapping::Int16,
        5..=9 => Mapping::Int32,
        _ => Mapping::Int64,
    };
    match numeric {
        NumericMapping::PrecisionOnly | NumericMapping::BestFit if scale == 0 && precision <= 18 => integer(),
        NumericMapping::BestFit if precision <= 18 => Mapping::Float64,
        _ => Mapping::Decimal(scale),
    }
}

/// The mapping of a result column of query mode, from the type name the database reports
/// (`INT UNSIGNED`, `DATETIME`, `INT8`, `TIMESTAMPTZ`, ...). A DECIMAL's scale is not part
/// of its name: it is the largest scale among `values` (the first rows read).
pub fn result_mapping(dialect: Dialect, type_name: &str, values: &[&SqlValue], numeric: NumericMapping) -> Mapping {
    let name = type_name.to_ascii_uppercase();
    let unsigned = name.ends_with("UNSIGNED");
    match name.trim_end_matches(" UNSIGNED") {
        "BOOLEAN" | "BOOL" => Mapping::Boolean,
        "TINYINT" if unsigned => Mapping::Int16,
        "TINYINT" => Mapping::Int8,
        "SMALLINT" if unsigned => Mapping::Int32,
        "SMALLINT" | "INT2" => Mapping::Int16,
        "MEDIUMINT" | "INT4" | "YEAR" => Mapping::Int32,
        "INT" if unsigned => Mapping::Int64,
        "INT" => Mapping::Int32,
        "BIGINT" if unsigned => Mapping::Decimal(0),
        "BIGINT" | "INT8" | "BIT" => Mapping::Int64,
        "FLOAT" | "FLOAT4" => Mapping::Float32,
        "DOUBLE" | "FLOAT8" => Mapping::Float64,
        "DECIMAL" | "NUMERIC" => {
            let scale = values.iter().filter_map(|v| if let SqlValue::Decimal(d) = v { d.split_once('.').map(|(_, f)| f.len() as u32) } else { None }).max();
            numeric_mapping(numeric, 38, scale.unwrap_or(0))
        }
        "DATE" => Mapping::Date,
        "TIME" => Mapping::Time,
        "TIMESTAMPTZ" => Mapping::Timestamp,
        // MySQL's TIMESTAMP is read in the session's zone, UTC; PostgreSQL's has no zone.
        "TIMESTAMP" if dialect == Dialect::Mysql => Mapping::Timestamp,
        "TIMESTAMP" | "DATETIME" => Mapping::LocalTimestamp,
        "BYTEA" | "BINARY" | "VARBINARY" | "BLOB" | "TINYBLOB" | "MEDIUMBLOB" | "LONGBLOB" => Mapping::Bytes,
        // Text of every kind, JSON, UUID, enums and anything else the host reads as text.
        _ => Mapping::String,
    }
}

pub fn field(name: &str, mapping: Mapping, optional: bool) -> Field {
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
        Mapping::Timestamp | Mapping::LocalTimestamp => Schema::timestamp(),
        Mapping::Date => Schema::date(),
        Mapping::Time => Schema::time(),
    };
    Field::new(name, if optional { schema.optional() } else { schema })
}

/// The instant, in UTC microseconds, of a timestamp column's value.
pub fn instant(mapping: Mapping, value: &SqlValue, zone: Zone) -> Option<i64> {
    match (mapping, value) {
        (Mapping::Timestamp, SqlValue::Timestamp(micros)) => Some(*micros),
        (Mapping::LocalTimestamp, SqlValue::Timestamp(micros)) => Some(zone.instant(*micros)),
        _ => None,
    }
}

/// Converts one column value; an error names what did not fit.
pub fn value(mapping: Mapping, sql: SqlValue, zone: Zone) -> Result<Value, String> {
    let wrong = |sql: &SqlValue| format!("a {mapping:?} column returned {sql:?}");
    let integer = |text: &str| text.split('.').next().unwrap_or(text).parse::<i64>().map_err(|_| format!("{text:?} is not an integer"));
    Ok(match (mapping, sql) {
        (_, SqlValue::Null) => Value::Null,
        (Mapping::Boolean, SqlValue::Boolean(b)) => Value::Boolean(b),
        (Mapping::Boolean, SqlValue::Int(i)) => Value::Boolean(i != 0),
        (Mapping::Boolean, SqlValue::Uint(u)) => Value::Boolean(u != 0),
        (Mapping::Int8, SqlValue::Int(i)) => Value::Int8(i as i8),
        (Mapping::Int8, SqlValue::Decimal(d)) => Value::Int8(integer(&d)? as i8),
        (Mapping::Int16, SqlValue::Int(i)) => Value::Int16(i as i16),
        (Mapping::Int16, SqlValue::Uint(u)) => Value::Int16(u as i16),
        (Mapping::Int16, SqlValue::Decimal(d)) => Value::Int16(integer(&d)? as i16),
        (Mapping::Int32, SqlValue::Int(i)) => Value::Int32(i as i32),
        (Mapping::Int32, SqlValue::Uint(u)) => Value::Int32(u as i32),
        (Mapping::Int32, SqlValue::Decimal(d)) => Value::Int32(integer(&d)? as i32),
        (Mapping::Int64, SqlValue::Int(i)) => Value::Int64(i),
        (Mapping::Int64, SqlValue::Uint(u)) => Value::Int64(u as i64),
        (Mapping::Int64, SqlValue::Decimal(d)) => Value::Int64(integer(&d)?),
        (Mapping::Float32, SqlValue::Float(f)) => Value::Float32(f as f32),
        (Mapping::Float64, SqlValue::Float(f)) => Value::Float64(f),
        (Mapping::Float64, SqlValue::Decimal(d)) => Value::Float64(d.parse().map_err(|_| format!("bad decimal {d:?}"))?),
        (Mapping::Decimal(scale), SqlValue::Decimal(d)) => {
            Value::Bytes(decimal_bytes(unscaled_from_text(&d, scale).ok_or_else(|| format!("decimal {d:?} does not fit scale {scale}"))?))
        }
        (Mapping::Decimal(scale), SqlValue::Uint(u)) => Value::Bytes(decimal_bytes(i128::from(u) * 10i128.pow(scale))),
        (Mapping::Decimal(scale), SqlValue::Int(i)) => Value::Bytes(decimal_bytes(i128::from(i) * 10i128.pow(scale))),
        // SQLite keeps a DECIMAL column's numbers as integers or reals.
        (Mapping::Decimal(scale), SqlValue::Float(f)) => {
            let text = format!("{f:.prec$}", prec = scale as usize);
            Value::Bytes(decimal_bytes(unscaled_from_text(&text, scale).ok_or_else(|| format!("{f} does not fit a decimal of scale {scale}"))?))
        }
        (Mapping::String, SqlValue::Text(s)) => Value::String(s),
        (Mapping::String, SqlValue::Decimal(s)) => Value::String(s),
        (Mapping::String, SqlValue::Bytes(b)) => Value::String(String::from_utf8_lossy(&b).into_owned()),
        (Mapping::Bytes, SqlValue::Bytes(b)) => Value::Bytes(b),
        (Mapping::Bytes, SqlValue::Text(s)) => Value::Bytes(s.into_bytes()),
        (Mapping::Timestamp, SqlValue::Timestamp(micros)) => Value::Int64(micros.div_euclid(1000)),
        (Mapping::LocalTimestamp, SqlValue::Timestamp(micros)) => Value::Int64(zone.instant(micros).div_euclid(1000)),
        (Mapping::Date, SqlValue::Date(days)) => Value::Int32(days),
        (Mapping::Time, SqlValue::Time(micros)) => Value::Int32(micros.div_euclid(1000) as i32),
        (_, other) => return Err(wrong(&other)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(data_type: &str, column_type: &str, precision: Option<u32>, scale: Option<u32>) -> ColumnInfo {
        ColumnInfo {
            name: "c".into(),
            data_type: data_type.into(),
            column_type: column_type.into(),
            nullable: false,
            precision,
            scale,
            auto_increment: false,
        }
    }

    fn utc() -> Zone {
        Zone::parse("UTC").unwrap()
    }

    #[test]
    fn mysql_and_postgres_types_map_like_the_confluent_source() {
        let cases = [
            (col("int", "int(11)", None, Some(0)), Some(Mapping::Int32)),
            (col("int", "int(10) unsigned", None, Some(0)), Some(Mapping::Int64)),
            (col("tinyint", "tinyint(1)", None, Some(0)), Some(Mapping::Boolean)),
            (col("tinyint", "tinyint(4)", None, Some(0)), Some(Mapping::Int8)),
            (col("tinyint", "tinyint(3) unsigned", None, Some(0)), Some(Mapping::Int16)),
            (col("smallint", "smallint(5) unsigned", None, Some(0)), Some(Mapping::Int32)),
            (col("bigint", "bigint(20) unsigned", None, Some(0)), Some(Mapping::Decimal(0))),
            (col("bit", "bit(1)", None, None), Some(Mapping::Boolean)),
            (col("varchar", "varchar(20)", None, None), Some(Mapping::String)),
            (col("enum", "enum('a','b')", None, None), Some(Mapping::String)),
            (col("datetime", "datetime", None, None), Some(Mapping::LocalTimestamp)),
            (col("timestamp", "timestamp", None, None), Some(Mapping::Timestamp)),
            (col("decimal", "decimal(10,2)", Some(10), Some(2)), Some(Mapping::Decimal(2))),
            (col("numeric", "numeric", None, None), Some(Mapping::Float64)),
            (col("timestamp with time zone", "timestamp with time zone", None, None), Some(Mapping::Timestamp)),
            (col("timestamp without time zone", "timestamp without time zone", None, None), Some(Mapping::LocalTimestamp)),
            (col("character varying", "character varying", None, None), Some(Mapping::String)),
            (col("bytea", "bytea", None, None), Some(Mapping::Bytes)),
            (col("real", "real", None, None), Some(Mapping::Float32)),
            (col("geometry", "geometry", None, None), None),
        ];
        for (column, expected) in cases {
            assert_eq!(mapping(&column, NumericMapping::None), expected, "{column:?}");
        }
    }

    #[test]
    fn numeric_mapping_chooses_by_precision_and_scale() {
        let decimal = |p, s| col("decimal", "decimal", Some(p), Some(s));
        let map = |m, p, s| mapping(&decimal(p, s), m);
        assert_eq!(map(NumericMapping::None, 5, 0), Some(Mapping::Decimal(0)));
        assert_eq!(map(NumericMapping::PrecisionOnly, 2, 0), Some(Mapping::Int8));
        assert_eq!(map(NumericMapping::PrecisionOnly, 4, 0), Some(Mapping::Int16));
        assert_eq!(map(NumericMapping::PrecisionOnly, 9, 0), Some(Mapping::Int32));
        assert_eq!(map(NumericMapping::PrecisionOnly, 18, 0), Some(Mapping::Int64));
        assert_eq!(map(NumericMapping::PrecisionOnly, 19, 0), Some(Mapping::Decimal(0)));
        assert_eq!(map(NumericMapping::PrecisionOnly, 10, 2), Some(Mapping::Decimal(2)));
        assert_eq!(map(NumericMapping::BestFit, 10, 2), Some(Mapping::Float64));
        assert_eq!(map(NumericMapping::BestFit, 30, 2), Some(Mapping::Decimal(2)));
        assert_eq!(value(Mapping::Int32, SqlValue::Decimal("123".into()), utc()), Ok(Value::Int32(123)));
    }

    #[test]
    fn query_results_map_by_type_name() {
        let d = SqlValue::Decimal("1.250".into());
        assert_eq!(result_mapping(Dialect::Mysql, "INT UNSIGNED", &[], NumericMapping::None), Mapping::Int64);
        assert_eq!(result_mapping(Dialect::Mysql, "INT4", &[], NumericMapping::None), Mapping::Int32);
        assert_eq!(result_mapping(Dialect::Mysql, "DECIMAL", &[&d], NumericMapping::None), Mapping::Decimal(3));
        assert_eq!(result_mapping(Dialect::Mysql, "TIMESTAMPTZ", &[], NumericMapping::None), Mapping::Timestamp);
        assert_eq!(result_mapping(Dialect::Mysql, "DATETIME", &[], NumericMapping::None), Mapping::LocalTimestamp);
        assert_eq!(result_mapping(Dialect::Mysql, "TIMESTAMP", &[], NumericMapping::None), Mapping::Timestamp);
        assert_eq!(result_mapping(Dialect::Postgres, "TIMESTAMP", &[], NumericMapping::None), Mapping::LocalTimestamp);
        assert_eq!(result_mapping(Dialect::Postgres, "mood", &[], NumericMapping::None), Mapping::String);
    }

    #[test]
    fn nullable_columns_are_optional_and_logical_types_are_versioned() {
        let field = field("c", Mapping::LocalTimestamp, true);
        assert!(field.schema.optional);
        assert_eq!(field.schema.name.as_deref(), Some("org.apache.kafka.connect.data.Timestamp"));
        assert_eq!(field.schema.version, Some(1));
    }

    #[test]
    fn values_convert_with_logical_units_and_the_zone() {
        assert_eq!(value(Mapping::Timestamp, SqlValue::Timestamp(1_700_000_000_123_456), utc()), Ok(Value::Int64(1_700_000_000_123)));
        assert_eq!(value(Mapping::Timestamp, SqlValue::Timestamp(-1), utc()), Ok(Value::Int64(-1)));
        let paris = Zone::parse("Europe/Paris").unwrap();
        assert_eq!(value(Mapping::LocalTimestamp, SqlValue::Timestamp(1_705_320_000_000_000), paris), Ok(Value::Int64(1_705_316_400_000)));
        assert_eq!(value(Mapping::Timestamp, SqlValue::Timestamp(1_705_320_000_000_000), paris), Ok(Value::Int64(1_705_320_000_000)));
        assert_eq!(value(Mapping::Time, SqlValue::Time(3_600_000_500), utc()), Ok(Value::Int32(3_600_000)));
        assert_eq!(value(Mapping::Decimal(2), SqlValue::Decimal("12.34".into()), utc()), Ok(Value::Bytes(vec![0x04, 0xD2])));
        assert_eq!(value(Mapping::Int32, SqlValue::Null, utc()), Ok(Value::Null));
        assert!(value(Mapping::Int32, SqlValue::Text("x".into()), utc()).is_err());
    }
}
