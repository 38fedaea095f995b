//! HasHeaderKey: true for records with at least one header of the configured name.

use wasmconnect_sdk::{ConnectRecord, ConnectorError, Predicate};

use crate::config::Keys;

pub struct HasHeaderKey {
    name: String,
}

impl HasHeaderKey {
    pub fn new(keys: &Keys) -> Result<HasHeaderKey, ConnectorError> {
        Ok(HasHeaderKey { name: keys.required_non_empty("name", "the header name to look for")?.to_owned() })
    }
}

impl Predicate for HasHeaderKey {
    fn test(&mut self, record: &ConnectRecord) -> Result<bool, String> {
        Ok(record.headers.iter().any(|(name, _)| *name == self.name))
    }
}

#[cfg(test)]
mod tests {
    use wasmconnect_sdk::Data;

    use crate::testing::*;

    #[test]
    fn matches_any_header_of_the_name() {
        let mut p = predicate("HasHeaderKey", &[("name", "foo")]);
        let mut r = value_record(None);
        assert_eq!(p.test(&r), Ok(false));
        r.headers =
            vec![("bar".into(), Data::null()), ("foo".into(), Data::null()), ("foo".into(), Data::schemaless(string("x")))];
        assert_eq!(p.test(&r), Ok(true));
        // With negate=true the host keeps exactly the records this rejects.
        r.headers.retain(|(n, _)| n != "foo");
        assert_eq!(p.test(&r).map(|b| !b), Ok(true));
    }

    #[test]
    fn name_is_required_and_not_empty() {
        assert!(predicate_error("HasHeaderKey", &[]).contains("HasHeaderKey: \"name\" is missing"));
        assert!(predicate_error("HasHeaderKey", &[("name", "")]).contains("\"name\" is empty"));
    }
}
