//! Struct and map plumbing the transforms share: field values with defaults, derived schemas
//! and their cache, schemaless maps with string keys, and how values are named in messages.

use std::cell::RefCell;
use std::sync::Arc;

use wasmconnect_sdk::{Field, Schema, SchemaType, Value};

/// A struct field's value as Kafka's `Struct.get` (default for null) or
/// `Struct.getWithoutDefault` returns it; `replace.null.with.default` picks one.
pub fn field_value(field: &Field, value: Value, with_default: bool) -> Value {
    match (value, &field.schema.default) {
        (Value::Null, Some(default)) if with_default => default.clone(),
        (value, _) => value,
    }
}

/// The field values of a struct, checked against its schema.
pub fn struct_values(owner: &str, schema: &Schema, value: Value) -> Result<Vec<Value>, String> {
    match value {
        Value::Struct(values) if values.len() == schema.fields.len() => Ok(values),
        other => Err(struct_fields(owner, schema, &other).expect_err("not a struct of the schema")),
    }
}

/// The field values of a struct, checked against its schema, without taking them.
pub fn struct_fields<'a>(owner: &str, schema: &Schema, value: &'a Value) -> Result<&'a [Value], String> {
    match value {
        Value::Struct(values) if values.len() == schema.fields.len() => Ok(values),
        Value::Struct(values) => {
            Err(format!("{owner}: the struct has {} values but its schema has {} fields", values.len(), schema.fields.len()))
        }
        other => Err(format!(
            "{owner} needs a struct, but the schema is {} and the value is {}",
            describe_schema(schema),
            describe(other)
        )),
    }
}

/// The entries of a schemaless map whose keys are all strings, without taking them.
pub fn schemaless_entries<'a>(owner: &str, side: &str, value: &'a Value) -> Result<&'a [(Value, Value)], String> {
    match value {
        Value::Map(entries) if entries.iter().all(|(k, _)| matches!(k, Value::String(_))) => Ok(entries),
        Value::Map(_) => Err(format!("{owner} needs a schemaless {side} with string keys, but the map has other keys")),
        other => Err(format!(
            "{owner} needs the {side} to be a map when it has no schema (or a struct with a schema), but it is {}",
            describe(other)
        )),
    }
}

/// The entries of a schemaless map whose keys are all strings.
pub fn schemaless_map(owner: &str, side: &str, value: Value) -> Result<Vec<(Value, Value)>, String> {
    match value {
        Value::Map(entries) if entries.iter().all(|(k, _)| matches!(k, Value::String(_))) => Ok(entries),
        other => Err(schemaless_entries(owner, side, &other).expect_err("not a map with string keys")),
    }
}

pub fn map_get<'a>(entries: &'a [(Value, Value)], name: &str) -> Option<&'a Value> {
    entries.iter().find(|(k, _)| matches!(k, Value::String(s) if s == name)).map(|(_, v)| v)
}

/// Replaces the entry of `name` where it is, or appends it.
pub fn map_put(entries: &mut Vec<(Value, Value)>, name: &str, value: Value) {
    match entries.iter_mut().find(|(k, _)| matches!(k, Value::String(s) if s == name)) {
        Some((_, v)) => *v = value,
        None => entries.push((Value::String(name.to_owned()), value)),
    }
}

pub fn map_remove(entries: &mut Vec<(Value, Value)>, name: &str) -> Option<Value> {
    let at = entries.iter().position(|(k, _)| matches!(k, Value::String(s) if s == name))?;
    Some(entries.remove(at).1)
}

/// A new schema of `schema_type` with `source`'s name, version, doc and parameters, but
/// neither its optionality nor its default (Kafka's `SchemaUtil.copySchemaBasics`).
pub fn copy_basics(source: &Schema, schema_type: SchemaType) -> Schema {
    Schema {
        name: source.name.clone(),
        version: source.version,
        doc: source.doc.clone(),
        parameters: source.parameters.clone(),
        ..Schema::new(schema_type)
    }
}

/// Appends a struct field, refusing a second field of the same name as Connect's
/// `SchemaBuilder` does.
pub fn push_field(owner: &str, fields: &mut Vec<Field>, name: &str, schema: Arc<Schema>) -> Result<(), String> {
    if fields.iter().any(|f| f.name == name) {
        return Err(format!("{owner} would create two fields named \"{name}\"; choose a name the struct does not have"));
    }
    fields.push(Field { name: name.to_owned(), schema });
    Ok(())
}

/// What a transform derives from an input schema (by default the output schema), by input
/// schema. Lookups compare by pointer first, then by value (a host may send equal schemas
/// as new objects); like Kafka's, the cache keeps the 16 most recent. It is a `RefCell` so
/// that deriving may borrow the transform that owns it.
const CACHE_CAPACITY: usize = 16;

pub struct SchemaCache<D = Arc<Schema>> {
    entries: RefCell<Vec<(Arc<Schema>, D)>>,
}

impl<D> Default for SchemaCache<D> {
    fn default() -> Self {
        SchemaCache { entries: RefCell::new(Vec::new()) }
    }
}

impl SchemaCache {
    pub fn get_or_build(
        &self,
        input: &Arc<Schema>,
        build: impl FnOnce(&Schema) -> Result<Schema, String>,
    ) -> Result<Arc<Schema>, String> {
        self.get_or_derive(input, |s| build(s).map(Arc::new))
    }
}

impl<D: Clone> SchemaCache<D> {
    pub fn get_or_derive(&self, input: &Arc<Schema>, derive: impl FnOnce(&Schema) -> Result<D, String>) -> Result<D, String> {
        {
            let mut entries = self.entries.borrow_mut();
            // Nearly every record of a task has the schema of the one before.
            if let Some((k, derived)) = entries.first()
                && Arc::ptr_eq(k, input)
            {
                return Ok(derived.clone());
            }
            let at = entries.iter().position(|(k, _)| Arc::ptr_eq(k, input)).or_else(|| {
                let at = entries.iter().position(|(k, _)| **k == **input)?;
                // Found by value: from now on the pointer finds it.
                entries[at].0 = input.clone();
                Some(at)
            });
            if let Some(at) = at {
                let hit = entries.remove(at);
                let derived = hit.1.clone();
                entries.insert(0, hit);
                return Ok(derived);
            }
        }
        let derived = derive(input)?;
        let mut entries = self.entries.borrow_mut();
        entries.truncate(CACHE_CAPACITY - 1);
        entries.insert(0, (input.clone(), derived.clone()));
        Ok(derived)
    }
}

/// "a string", "an int32", … for messages.
pub fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Boolean(_) => "a boolean",
        Value::Int8(_) => "an int8",
        Value::Int16(_) => "an int16",
        Value::Int32(_) => "an int32",
        Value::Int64(_) => "an int64",
        Value::Float32(_) => "a float32",
        Value::Float64(_) => "a float64",
        Value::String(_) => "a string",
        Value::Bytes(_) => "bytes",
        Value::Array(_) => "an array",
        Value::Map(_) => "a map",
        Value::Struct(_) => "a struct",
    }
}

/// The schema's type, with its logical name if it has one.
pub fn describe_schema(schema: &Schema) -> String {
    let kind = type_name(schema.schema_type);
    match &schema.name {
        Some(name) => format!("{kind} ({name})"),
        None => kind.to_owned(),
    }
}

/// Connect's `Schema.Type` names as users write them in `Cast.spec` and see in docs.
pub fn type_name(schema_type: SchemaType) -> &'static str {
    match schema_type {
        SchemaType::Float32 => "float32",
        SchemaType::Float64 => "float64",
        other => other.as_str(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_value_uses_the_default_only_when_asked() {
        let field = Field::new("n", Schema { default: Some(Value::Int32(7)), ..Schema::new(SchemaType::Int32).optional() });
        assert_eq!(field_value(&field, Value::Null, true), Value::Int32(7));
        assert_eq!(field_value(&field, Value::Null, false), Value::Null);
        assert_eq!(field_value(&field, Value::Int32(1), true), Value::Int32(1));
    }

    #[test]
    fn maps_keep_order_and_replace_in_place() {
        let mut entries = vec![(Value::String("a".into()), Value::Int32(1)), (Value::String("b".into()), Value::Int32(2))];
        map_put(&mut entries, "a", Value::Int32(3));
        map_put(&mut entries, "c", Value::Int32(4));
        assert_eq!(map_get(&entries, "a"), Some(&Value::Int32(3)));
        assert_eq!(map_remove(&mut entries, "b"), Some(Value::Int32(2)));
        assert_eq!(
            entries.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
            [Value::String("a".into()), Value::String("c".into())]
        );
        assert!(schemaless_map("X", "value", Value::Map(vec![(Value::Int32(1), Value::Null)])).is_err());
        assert!(schemaless_map("X", "value", Value::Int32(1)).unwrap_err().contains("it is an int32"));
    }

    #[test]
    fn cache_builds_once_per_schema_and_evicts_the_oldest() {
        let cache = SchemaCache::default();
        let mut builds = 0;
        let schema = |n: usize| Arc::new(Schema::structure(vec![Field::new(format!("f{n}"), Schema::new(SchemaType::Int8))]));
        for round in 0..2 {
            for n in 0..CACHE_CAPACITY {
                cache
                    .get_or_build(&schema(n), |s| {
                        builds += 1;
                        Ok(s.clone())
                    })
                    .unwrap();
            }
            assert_eq!(builds, CACHE_CAPACITY, "round {round}");
        }
        cache.get_or_build(&schema(99), |s| Ok(s.clone())).unwrap();
        cache
            .get_or_build(&schema(0), |s| {
                builds += 1;
                Ok(s.clone())
            })
            .unwrap();
        assert_eq!(builds, CACHE_CAPACITY + 1);
    }

    #[test]
    fn duplicate_fields_are_refused() {
        let mut fields = vec![Field::new("a", Schema::new(SchemaType::Int8))];
        let err = push_field("InsertField$Value", &mut fields, "a", Arc::new(Schema::new(SchemaType::String))).unwrap_err();
        assert!(err.contains("two fields named \"a\""), "{err}");
    }
}
