//! RecordIsTombstone: true for records whose value is null, with or without a schema.

use wasmconnect_sdk::{ConnectRecord, Predicate, Value};

pub struct RecordIsTombstone;

impl Predicate for RecordIsTombstone {
    fn test(&mut self, record: &ConnectRecord) -> Result<bool, String> {
        Ok(record.value.as_ref().is_none_or(|d| d.value == Value::Null))
    }
}

#[cfg(test)]
mod tests {
    use wasmconnect_sdk::{SchemaType, Value};

    use crate::testing::*;

    #[test]
    fn null_values_are_tombstones() {
        let mut p = predicate("RecordIsTombstone", &[]);
        assert_eq!(p.test(&value_record(None)), Ok(true));
        assert_eq!(p.test(&value_record(with_schema(optional(SchemaType::String), Value::Null))), Ok(true));
        assert_eq!(p.test(&record(schemaless(string("key")), None)), Ok(true));
        assert_eq!(p.test(&value_record(schemaless(string("")))), Ok(false));
        assert_eq!(p.test(&value_record(with_schema(schema(SchemaType::Int8), Value::Int8(0)))), Ok(false));
    }
}
