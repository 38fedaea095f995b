//! DropHeaders: removes every header with one of the configured names.

use wasmconnect_sdk::{ConnectRecord, ConnectorError, Transform};

use crate::config::Keys;

pub struct DropHeaders {
    headers: Vec<String>,
}

impl DropHeaders {
    pub fn new(keys: &Keys) -> Result<DropHeaders, ConnectorError> {
        Ok(DropHeaders { headers: keys.non_empty_list("headers", "the names of the headers to remove")? })
    }
}

impl Transform for DropHeaders {
    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>, String> {
        record.headers.retain(|(name, _)| !self.headers.contains(name));
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use wasmconnect_sdk::Data;

    use crate::testing::*;

    fn header(name: &str, value: &str) -> (String, Data) {
        (name.into(), Data::schemaless(string(value)))
    }

    #[test]
    fn named_headers_are_removed_and_others_kept_in_order() {
        let mut t = transform("DropHeaders", &[("headers", "dummy header,other")]);
        let mut r = value_record(None);
        r.headers = vec![
            header("dummy header", "a"),
            header("keep", "b"),
            header("other", "c"),
            header("dummy header", "d"),
            header("also", "e"),
        ];
        assert_eq!(apply(&mut t, r).headers, vec![header("keep", "b"), header("also", "e")]);
    }

    #[test]
    fn headers_are_required() {
        assert!(transform_error("DropHeaders", &[]).contains("\"headers\" is missing"));
        assert!(transform_error("DropHeaders", &[("headers", "")]).contains("\"headers\" is empty"));
    }
}
