//! Connect values as SQL parameters, logical types included.

use wasmconnect_sdk::data::{DATE, DECIMAL, Schema, TIME, TIMESTAMP, Value, decimal};
use wasmconnect_sdk::sql::SqlValue;

pub fn sql_value(schema: &Schema, value: &Value) -> Result<SqlValue, String> {
    let logical = schema.name.as_deref();
    Ok(match (logical, value) {
        (_, Value::Null) => SqlValue::Null,
        (Some(TIMESTAMP), Value::Int64(ms)) => SqlValue::Timestamp(ms.checked_mul(1000).ok_or("timestamp out of range")?),
        (Some(DATE), Value::Int32(days)) => SqlValue::Date(*days),
        (Some(TIME), Value::Int32(ms)) => SqlValue::Time(i64::from(*ms) * 1000),
        (Some(DECIMAL), Value::Bytes(bytes)) => {
            let scale = schema.decimal_scale().ok_or("a Decimal schema without a scale parameter")?;
            let unscaled = decimal::from_bytes(bytes).ok_or("a decimal too large for 38 digits")?;
            SqlValue::Decimal(decimal::to_text(unscaled, scale))
        }
        (_, Value::Boolean(b)) => SqlValue::Boolean(*b),
        (_, Value::Int8(v)) => SqlValue::Int((*v).into()),
        (_, Value::Int16(v)) => SqlValue::Int((*v).into()),
        (_, Value::Int32(v)) => SqlValue::Int((*v).into()),
        (_, Value::Int64(v)) => SqlValue::Int(*v),
        (_, Value::Float32(v)) => SqlValue::Float((*v).into()),
        (_, Value::Float64(v)) => SqlValue::Float(*v),
        (_, Value::String(s)) => SqlValue::Text(s.clone()),
        (_, Value::Bytes(b)) => SqlValue::Bytes(b.clone()),
        (_, other) => return Err(format!("a {other:?} cannot be written to a column")),
    })
}

#[cfg(test)]
mod tests {
    use wasmconnect_sdk::data::SchemaType;
    use wasmconnect_sdk::data::decimal::to_bytes as decimal_bytes;

    use super::*;

    #[test]
    fn logical_types_become_sql_values_in_their_units() {
        assert_eq!(sql_value(&Schema::timestamp(), &Value::Int64(1_700_000_000_123)), Ok(SqlValue::Timestamp(1_700_000_000_123_000)));
        assert_eq!(sql_value(&Schema::date(), &Value::Int32(19_700)), Ok(SqlValue::Date(19_700)));
        assert_eq!(sql_value(&Schema::time(), &Value::Int32(1_500)), Ok(SqlValue::Time(1_500_000)));
        assert_eq!(sql_value(&Schema::decimal(2), &Value::Bytes(decimal_bytes(-1234))), Ok(SqlValue::Decimal("-12.34".into())));
        assert_eq!(sql_value(&Schema::decimal(3), &Value::Bytes(decimal_bytes(5))), Ok(SqlValue::Decimal("0.005".into())));
        assert_eq!(sql_value(&Schema::new(SchemaType::Int16), &Value::Int16(7)), Ok(SqlValue::Int(7)));
        assert_eq!(sql_value(&Schema::new(SchemaType::String).optional(), &Value::Null), Ok(SqlValue::Null));
        assert!(sql_value(&Schema::new(SchemaType::Array), &Value::Array(vec![])).is_err());
    }
}
