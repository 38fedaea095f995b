//! ReplaceField: keeps (`include`) or drops (`exclude`) top-level fields and renames them.

use wasmconnect_sdk::{ConnectRecord, ConnectorError, Schema, SchemaType, Transform, Value};

use crate::config::Keys;
use crate::fields::{SchemaCache, copy_basics, field_value, map_put, push_field, schemaless_map, struct_values};
use crate::record::{Operand, Side, data, update};

pub struct ReplaceField {
    owner: String,
    side: Side,
    exclude: Vec<String>,
    include: Vec<String>,
    renames: Vec<(String, String)>,
    replace_null_with_default: bool,
    schemas: SchemaCache,
}

impl ReplaceField {
    pub fn new(side: Side, keys: &Keys) -> Result<ReplaceField, ConnectorError> {
        // Kafka 3.x still honours the names before KIP-629 when the new ones are unset.
        let list = |key: &str, legacy: &str| match keys.optional(key) {
            Some(_) => keys.list(key),
            None => keys.list(legacy),
        };
        let renames =
            keys.list("renames")
                .iter()
                .map(|mapping| match mapping.split(':').collect::<Vec<_>>()[..] {
                    [from, to] if !to.is_empty() => Ok((from.to_owned(), to.to_owned())),
                    _ => Err(keys
                        .error("renames", format_args!("has {mapping:?}: write each rename as old:new, e.g. foo:bar,abc:xyz"))),
                })
                .collect::<Result<_, _>>()?;
        Ok(ReplaceField {
            owner: keys.owner().to_owned(),
            side,
            exclude: list("exclude", "blacklist"),
            include: list("include", "whitelist"),
            renames,
            replace_null_with_default: keys.bool_or("replace.null.with.default", true)?,
            schemas: SchemaCache::default(),
        })
    }

    /// Exclusion wins over inclusion; an empty include list keeps everything else.
    fn keeps(&self, name: &str) -> bool {
        !self.exclude.iter().any(|e| e == name) && (self.include.is_empty() || self.include.iter().any(|i| i == name))
    }

    fn renamed<'a>(&'a self, name: &'a str) -> &'a str {
        self.renames.iter().find(|(from, _)| from == name).map_or(name, |(_, to)| to.as_str())
    }

    fn updated_schema(&self, schema: &Schema) -> Result<Schema, String> {
        let mut fields = Vec::new();
        for field in schema.fields.iter().filter(|f| self.keeps(&f.name)) {
            push_field(&self.owner, &mut fields, self.renamed(&field.name), field.schema.clone())?;
        }
        Ok(Schema { fields, ..copy_basics(schema, SchemaType::Struct) })
    }
}

impl Transform for ReplaceField {
    fn apply(&mut self, record: ConnectRecord) -> Result<Option<ConnectRecord>, String> {
        update(self.side, record, |operand, _| match operand {
            null @ Operand::Null(_) => Ok(null.into_data()),
            Operand::Schemaless(value) => {
                let mut kept = Vec::new();
                for (key, value) in schemaless_map(&self.owner, self.side.noun(), value)? {
                    if let Value::String(name) = key
                        && self.keeps(&name)
                    {
                        map_put(&mut kept, self.renamed(&name), value);
                    }
                }
                Ok(data(None, Value::Map(kept)))
            }
            Operand::WithSchema(schema, value) => {
                let values = struct_values(&self.owner, &schema, value)?;
                let updated = self.schemas.get_or_build(&schema, |s| self.updated_schema(s))?;
                let kept = schema
                    .fields
                    .iter()
                    .zip(values)
                    .filter(|(f, _)| self.keeps(&f.name))
                    .map(|(f, v)| field_value(f, v, self.replace_null_with_default))
                    .collect();
                Ok(data(Some(updated), Value::Struct(kept)))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use wasmconnect_sdk::SchemaType;

    use super::*;
    use crate::testing::*;

    fn sample_map() -> Value {
        map(&[("dont", string("whatever")), ("abc", Value::Int32(42)), ("foo", Value::Boolean(true)), ("etc", string("etc"))])
    }

    #[test]
    fn schemaless_exclude_and_rename() {
        let mut t = transform("ReplaceField$Value", &[("exclude", "dont"), ("renames", "abc:xyz,foo:bar")]);
        let out = apply(&mut t, value_record(schemaless(sample_map())));
        assert_eq!(
            out.value,
            schemaless(map(&[("xyz", Value::Int32(42)), ("bar", Value::Boolean(true)), ("etc", string("etc"))]))
        );
    }

    #[test]
    fn schemaless_include_and_rename() {
        let mut t = transform("ReplaceField$Value", &[("include", "abc,foo"), ("renames", "abc:xyz,foo:bar")]);
        let out = apply(&mut t, value_record(schemaless(sample_map())));
        assert_eq!(out.value, schemaless(map(&[("xyz", Value::Int32(42)), ("bar", Value::Boolean(true))])));
    }

    #[test]
    fn struct_include_and_rename() {
        let mut t = transform("ReplaceField$Value", &[("include", "abc,foo,bar"), ("renames", "abc:xyz,foo:bar")]);
        let input = structure(&[
            ("dont", schema(SchemaType::String)),
            ("abc", schema(SchemaType::Int32)),
            ("foo", schema(SchemaType::Boolean)),
            ("etc", schema(SchemaType::String)),
        ])
        .named("Rec");
        let value = struct_value(vec![string("whatever"), Value::Int32(42), Value::Boolean(true), string("etc")]);
        let out = apply(&mut t, value_record(with_schema(input, value)));
        assert_eq!(
            schema_of(&out.value),
            &structure(&[("xyz", schema(SchemaType::Int32)), ("bar", schema(SchemaType::Boolean))]).named("Rec")
        );
        assert_eq!(value_of(&out.value), &struct_value(vec![Value::Int32(42), Value::Boolean(true)]));
    }

    #[test]
    fn exclusion_wins_and_legacy_names_still_work() {
        let mut t = transform("ReplaceField$Key", &[("whitelist", "abc,dont"), ("blacklist", "dont")]);
        let out = apply(&mut t, key_record(schemaless(sample_map())));
        assert_eq!(out.key, schemaless(map(&[("abc", Value::Int32(42))])));
        let mut t = transform("ReplaceField$Key", &[("include", "foo"), ("whitelist", "abc")]);
        assert_eq!(apply(&mut t, key_record(schemaless(sample_map()))).key, schemaless(map(&[("foo", Value::Boolean(true))])));
    }

    #[test]
    fn documentation_example_renames() {
        let mut t = transform("ReplaceField$Value", &[("renames", "foo:c1,bar:c2")]);
        let input = schemaless(map(&[("foo", Value::Int32(1)), ("bar", Value::Int32(2)), ("baz", Value::Int32(3))]));
        let out = apply(&mut t, value_record(input));
        assert_eq!(out.value, schemaless(map(&[("c1", Value::Int32(1)), ("c2", Value::Int32(2)), ("baz", Value::Int32(3))])));
    }

    #[test]
    fn nulls_defaults_and_errors() {
        let mut t = transform("ReplaceField$Value", &[("exclude", "x")]);
        assert_eq!(apply(&mut t, value_record(None)).value, None);
        let with_default = Schema { default: Some(Value::Int8(1)), ..optional(SchemaType::Int8) };
        let input = || value_record(with_schema(structure(&[("n", with_default.clone())]), struct_value(vec![Value::Null])));
        assert_eq!(value_of(&apply(&mut t, input()).value), &struct_value(vec![Value::Int8(1)]));
        let mut t = transform("ReplaceField$Value", &[("exclude", "x"), ("replace.null.with.default", "false")]);
        assert_eq!(value_of(&apply(&mut t, input()).value), &struct_value(vec![Value::Null]));

        assert!(transform_error("ReplaceField$Value", &[("renames", "a:b:c")]).contains("old:new"));
        assert!(transform_error("ReplaceField$Value", &[("renames", "a")]).contains("\"renames\" has \"a\""));
        let mut t = transform("ReplaceField$Value", &[("renames", "a:b")]);
        let clash = with_schema(
            structure(&[("a", schema(SchemaType::Int8)), ("b", schema(SchemaType::Int8))]),
            struct_value(vec![Value::Int8(1), Value::Int8(2)]),
        );
        assert!(apply_error(&mut t, value_record(clash)).contains("two fields named \"b\""));
        assert!(apply_error(&mut t, value_record(schemaless(string("x")))).contains("it is a string"));
    }
}
