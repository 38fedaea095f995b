//! InsertHeader: adds a header with a literal string value to every record.
//!
//! Kafka infers the literal's type (`Values.parseString`: "42" becomes an int8, "true" a
//! boolean); here it is always a string, which is what the literal was written as.

use std::sync::Arc;

use wasmconnect_sdk::{ConnectRecord, ConnectorError, Data, Schema, SchemaType, Transform, Value};

use crate::config::Keys;

pub struct InsertHeader {
    header: String,
    value: Data,
}

impl InsertHeader {
    pub fn new(keys: &Keys) -> Result<InsertHeader, ConnectorError> {
        let header = keys.required("header", "the name of the header to add")?.to_owned();
        let literal = keys.required("value.literal", "the text of the header's value")?;
        let value = Data { schema: Some(Arc::new(Schema::new(SchemaType::String))), value: Value::String(literal.to_owned()) };
        Ok(InsertHeader { header, value })
    }
}

impl Transform for InsertHeader {
    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>, String> {
        record.headers.push((self.header.clone(), self.value.clone()));
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;

    #[test]
    fn header_is_appended_after_existing_ones() {
        let mut t = transform("InsertHeader", &[("header", "dummy header"), ("value.literal", "dummy value")]);
        let mut r = value_record(None);
        let existing = ("dummy header".to_owned(), Data::schemaless(string("old")));
        r.headers = vec![existing.clone()];
        let expected = Data { schema: Some(Arc::new(Schema::new(SchemaType::String))), value: string("dummy value") };
        assert_eq!(apply(&mut t, r).headers, vec![existing, ("dummy header".to_owned(), expected)]);
    }

    #[test]
    fn keys_are_required_but_may_be_empty() {
        assert!(transform_error("InsertHeader", &[("value.literal", "v")]).contains("\"header\" is missing"));
        assert!(transform_error("InsertHeader", &[("header", "h")]).contains("\"value.literal\" is missing"));
        let mut t = transform("InsertHeader", &[("header", "h"), ("value.literal", "")]);
        assert_eq!(apply(&mut t, value_record(None)).headers[0].1.value, string(""));
    }
}
