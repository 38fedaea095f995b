//! Field paths as `field.syntax.version` defines them (KIP-821): `V1` names a top-level
//! field; `V2` walks nested structs and maps with dots, backticks quoting names that contain
//! dots ("`a.b`.c"), and a backslash escaping a backtick inside them.

use wasmconnect_sdk::{ConnectorError, Field, Schema, Value};

use crate::config::Keys;
use crate::fields::{field_value, map_get};

pub const SYNTAX_VERSION_KEY: &str = "field.syntax.version";

#[derive(Clone, Debug, PartialEq)]
pub struct FieldPath {
    steps: Vec<String>,
}

impl FieldPath {
    /// The path in `key`, read with the syntax `field.syntax.version` chooses (default V1).
    pub fn from_config(keys: &Keys, key: &str, path: &str) -> Result<FieldPath, ConnectorError> {
        let version = keys.string_or(SYNTAX_VERSION_KEY, "V1");
        match version.to_ascii_uppercase().as_str() {
            "V1" => Ok(FieldPath { steps: vec![path.to_owned()] }),
            "V2" => parse_v2(path).map(|steps| FieldPath { steps }).map_err(|problem| keys.error(key, problem)),
            _ => Err(keys.error(SYNTAX_VERSION_KEY, format_args!("is {version:?}: set it to V1 or V2"))),
        }
    }

    fn split(&self) -> (&[String], &str) {
        let (last, parents) = self.steps.split_last().expect("a path has at least one step");
        (parents, last)
    }

    /// The field the path names in `schema`, if every step exists.
    pub fn field_from<'a>(&self, schema: &'a Schema) -> Option<&'a Field> {
        let (parents, last) = self.split();
        let mut current = schema;
        for step in parents {
            current = &current.field(step)?.1.schema;
        }
        current.field(last).map(|(_, f)| f)
    }

    /// The value at the path in a struct; null where a step is missing or null. Nested
    /// structs' defaults stand in for their nulls, as Kafka's `Struct.get` does.
    pub fn value_from_struct(&self, schema: &Schema, value: &Value, with_default: bool) -> Value {
        let (parents, last) = self.split();
        let (mut schema, mut value) = (schema, value);
        for step in parents {
            let Some((at, field)) = schema.field(step) else { return Value::Null };
            let nested = struct_field(value, at);
            let nested = match (nested, &field.schema.default) {
                (Value::Null, Some(default)) => default,
                (nested, _) => nested,
            };
            if !matches!(nested, Value::Struct(_)) {
                return Value::Null;
            }
            (schema, value) = (&field.schema, nested);
        }
        match schema.field(last) {
            Some((at, field)) => field_value(field, struct_field(value, at).clone(), with_default),
            None => Value::Null,
        }
    }

    /// The value at the path in a schemaless map; null where a step is missing or not a map.
    pub fn value_from_map(&self, entries: &[(Value, Value)]) -> Value {
        let (parents, last) = self.split();
        let mut current = entries;
        for step in parents {
            match map_get(current, step) {
                Some(Value::Map(nested)) => current = nested,
                _ => return Value::Null,
            }
        }
        map_get(current, last).cloned().unwrap_or(Value::Null)
    }
}

fn struct_field(value: &Value, at: usize) -> &Value {
    match value {
        Value::Struct(values) => values.get(at).unwrap_or(&Value::Null),
        _ => &Value::Null,
    }
}

fn parse_v2(path: &str) -> Result<Vec<String>, String> {
    let chars: Vec<char> = path.chars().collect();
    let mut steps = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '`' {
            let end = chars[i..].iter().position(|c| *c == '.').map_or(chars.len(), |p| i + p);
            steps.push(chars[i..end].iter().collect());
            i = end + 1;
            continue;
        }
        let opened_at = i;
        let mut name = String::new();
        i += 1;
        loop {
            let Some(close) = chars[i..].iter().position(|c| *c == '`').map(|p| i + p) else {
                return Err(unclosed(path, opened_at));
            };
            let escaped = chars[close - 1] == '\\';
            if close + 1 == chars.len() {
                if escaped {
                    return Err(unclosed(path, opened_at));
                }
                name.extend(&chars[i..close]);
                i = close + 1;
                break;
            }
            if chars[close + 1] != '.' {
                // A backtick inside the name: only one followed by a dot closes it.
                name.extend(&chars[i..=close]);
                i = close + 1;
                continue;
            }
            if escaped {
                name.extend(&chars[i..close - 1]);
                name.push('`');
                i = close + 1;
                continue;
            }
            name.extend(&chars[i..close]);
            i = close + 2;
            break;
        }
        steps.push(name);
    }
    if path.is_empty() || path.ends_with('.') {
        steps.push(String::new());
    }
    Ok(steps)
}

fn unclosed(path: &str, at: usize) -> String {
    format!("has an unclosed backtick at position {at} in {path:?}: close it, or escape it with a backslash")
}

#[cfg(test)]
mod tests {
    use wasmconnect_sdk::SchemaType;

    use super::*;
    use crate::testing::{config, map, string};

    fn v2(path: &str) -> Vec<String> {
        parse_v2(path).unwrap()
    }

    #[test]
    fn v2_splits_on_dots_and_honours_backticks() {
        assert_eq!(v2("foo"), ["foo"]);
        assert_eq!(v2("foo.bar.baz"), ["foo", "bar", "baz"]);
        assert_eq!(v2("`foo.bar`.baz"), ["foo.bar", "baz"]);
        assert_eq!(v2("foo.`bar.baz`"), ["foo", "bar.baz"]);
        assert_eq!(v2("`a`b`.c"), ["a`b", "c"]);
        assert_eq!(v2("`a\\`.b`.c"), ["a`.b", "c"]);
        assert_eq!(v2("foo."), ["foo", ""]);
        assert_eq!(v2(".foo"), ["", "foo"]);
        assert!(parse_v2("`foo.bar").unwrap_err().contains("position 0"));
        assert!(parse_v2("a.`b\\`").is_err());
    }

    #[test]
    fn syntax_version_is_validated_case_insensitively() {
        let c = config(&[(SYNTAX_VERSION_KEY, "v2")]);
        let keys = Keys::new("x.ExtractField$Value", &c);
        assert_eq!(FieldPath::from_config(&keys, "field", "a.b").unwrap().steps, ["a", "b"]);
        let c = config(&[(SYNTAX_VERSION_KEY, "V3")]);
        let keys = Keys::new("x.ExtractField$Value", &c);
        assert!(FieldPath::from_config(&keys, "field", "a").is_err());
    }

    #[test]
    fn nested_values_from_structs_and_maps() {
        let inner = Schema::structure(vec![Field::new("c", Schema::new(SchemaType::Int32).optional())]).optional();
        let outer = Schema::structure(vec![Field::new("b", inner)]);
        let path = FieldPath { steps: vec!["b".into(), "c".into()] };
        assert_eq!(path.field_from(&outer).map(|f| f.schema.schema_type), Some(SchemaType::Int32));
        let value = Value::Struct(vec![Value::Struct(vec![Value::Int32(5)])]);
        assert_eq!(path.value_from_struct(&outer, &value, true), Value::Int32(5));
        assert_eq!(path.value_from_struct(&outer, &Value::Struct(vec![Value::Null]), true), Value::Null);
        assert!(FieldPath { steps: vec!["b".into(), "x".into()] }.field_from(&outer).is_none());

        let m = match map(&[("b", map(&[("c", string("x"))]))]) {
            Value::Map(entries) => entries,
            _ => unreachable!(),
        };
        assert_eq!(path.value_from_map(&m), string("x"));
        assert_eq!(FieldPath { steps: vec!["b".into(), "c".into(), "d".into()] }.value_from_map(&m), Value::Null);
    }
}
