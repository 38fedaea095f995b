//! Checking records and turning them into rows: which columns a record writes (its value's
//! fields as `fields.include.list` selects them, and the key columns `pk.mode` adds), which
//! of them form the primary key, and the SQL parameters for them.

use std::sync::Arc;

use thiserror::Error;
use wasmconnect_sdk::data::{Field, Schema, SchemaType, Value};
use wasmconnect_sdk::sql::SqlValue;
use wasmconnect_sdk::{Data, SinkRecord};

use crate::dialect::{Sql, UnsupportedType};
use crate::settings::{KAFKA_PK_COLUMNS, PkMode, Settings};
use crate::values::{ValueError, sql_value};

/// The columns a record writes, in order, and the names of those forming the primary key.
/// Records with the same key and value schemas share one shape, so a run of them becomes
/// one multi-row statement.
#[derive(Debug, PartialEq)]
pub struct RowShape {
    pub fields: Vec<Field>,
    pub key: Vec<String>,
}

impl RowShape {
    /// The positions of the key columns among `fields`, in key order.
    pub fn key_positions(&self) -> Vec<usize> {
        self.key.iter().filter_map(|k| self.fields.iter().position(|f| &f.name == k)).collect()
    }
}

/// What one record asks the table for.
#[derive(Debug, PartialEq)]
pub enum Action {
    /// A row to write as `insert.mode` says: INSERT, upsert or UPDATE.
    Write { table: String, shape: Arc<RowShape>, params: Vec<SqlValue> },
    /// A tombstone with `delete.enabled`: `shape` holds just the key columns.
    Delete { table: String, shape: Arc<RowShape>, params: Vec<SqlValue> },
    /// A tombstone without `delete.enabled`; the sink says so in its log.
    SkipTombstone,
}

#[derive(Debug, Error, PartialEq)]
pub enum RecordProblem {
    #[error(
        "its value has no schema, and the JDBC sink needs one to know the table's columns. Produce the value as \
         {{\"schema\":{{\"type\":\"struct\",\"fields\":[{{\"field\":\"id\",\"type\":\"int64\"}},...]}},\"payload\":{{\"id\":1,...}}}} \
         and set value.converter.schemas.enable=true (the JsonConverter's default)"
    )]
    ValueWithoutSchema,
    #[error("its value is a {0}, but the JDBC sink writes structs (one field per column)")]
    NotAStruct(&'static str),
    #[error("pk.mode=record_key needs a key with a schema, and this record's key is null or schemaless")]
    KeyWithoutSchema,
    #[error("its key schema is a struct but the key is not")]
    KeyNotAStruct,
    #[error("pk.mode=record_key with a key of type {0} needs pk.fields to name its one column")]
    PrimitiveKeyNeedsOneName(&'static str),
    #[error("pk.fields names {field:?}, which its {side} has no field for")]
    PkFieldMissing { field: String, side: &'static str },
    #[error("its {0} struct has fewer values than its schema has fields")]
    ShortStruct(&'static str),
    #[error("primary key field {0:?} is null")]
    NullKey(String),
    #[error("field {field:?}: {source}")]
    Unstorable { field: String, source: UnsupportedType },
    #[error("field {field:?}: {source}")]
    Value { field: String, source: ValueError },
}

/// Where a column's value comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Source {
    /// The whole (primitive) key.
    Key,
    KeyField(usize),
    ValueField(usize),
    Topic,
    Partition,
    Offset,
}

/// A shape and how to fill it, worked out once per pair of key and value schemas.
struct Layout {
    key_schema: Option<Arc<Schema>>,
    value_schema: Option<Arc<Schema>>,
    shape: Arc<RowShape>,
    sources: Vec<Source>,
    /// Per column, whether it is part of the primary key (and so may not be null).
    in_key: Vec<bool>,
}

/// Turns the records of a batch into actions, remembering the layouts it has seen.
pub struct RowBuilder<'a> {
    settings: &'a Settings,
    sql: Sql,
    layouts: Vec<Layout>,
}

impl<'a> RowBuilder<'a> {
    pub fn new(settings: &'a Settings, sql: Sql) -> Self {
        RowBuilder { settings, sql, layouts: Vec::new() }
    }

    /// Checks a record and says what to write for it; the error says what is wrong with it.
    pub fn action(&mut self, record: &SinkRecord) -> Result<Action, RecordProblem> {
        let table = self.settings.table_for(&record.topic);
        let Some(value) = record.value.as_ref().filter(|v| v.value != Value::Null) else {
            if !self.settings.delete_enabled {
                return Ok(Action::SkipTombstone);
            }
            let (shape, params) = self.row(record, record.key.as_ref(), None)?;
            return Ok(Action::Delete { table, shape, params });
        };
        let schema = value.schema.as_ref().ok_or(RecordProblem::ValueWithoutSchema)?;
        if schema.schema_type != SchemaType::Struct {
            return Err(RecordProblem::NotAStruct(schema.schema_type.as_str()));
        }
        if !matches!(value.value, Value::Struct(_)) {
            return Err(RecordProblem::NotAStruct(kind_of(&value.value)));
        }
        let key = record.key.as_ref().filter(|_| self.settings.pk_mode == PkMode::RecordKey);
        let (shape, params) = self.row(record, key, Some(value))?;
        Ok(Action::Write { table, shape, params })
    }

    fn row(&mut self, record: &SinkRecord, key: Option<&Data>, value: Option<&Data>) -> Result<(Arc<RowShape>, Vec<SqlValue>), RecordProblem> {
        let key_schema = key.filter(|k| k.value != Value::Null).and_then(|k| k.schema.as_ref());
        if self.settings.pk_mode == PkMode::RecordKey && key_schema.is_none() {
            return Err(RecordProblem::KeyWithoutSchema);
        }
        let value_schema = value.and_then(|v| v.schema.as_ref());
        let layout = self.layout(key_schema, value_schema)?;
        let mut params = Vec::with_capacity(layout.sources.len());
        for ((field, source), in_key) in layout.shape.fields.iter().zip(&layout.sources).zip(&layout.in_key) {
            let param = match source {
                Source::Topic => SqlValue::Text(record.topic.clone()),
                Source::Partition => SqlValue::Int(record.kafka_partition.into()),
                Source::Offset => SqlValue::Int(record.kafka_offset),
                _ => {
                    let v = pick(*source, key, value)?;
                    if *in_key && *v == Value::Null {
                        return Err(RecordProblem::NullKey(field.name.clone()));
                    }
                    sql_value(&field.schema, v).map_err(|source| RecordProblem::Value { field: field.name.clone(), source })?
                }
            };
            params.push(param);
        }
        Ok((layout.shape.clone(), params))
    }

    fn layout(&mut self, key: Option<&Arc<Schema>>, value: Option<&Arc<Schema>>) -> Result<&Layout, RecordProblem> {
        let found = self.layouts.iter().position(|l| same(l.key_schema.as_ref(), key) && same(l.value_schema.as_ref(), value));
        let index = match found {
            Some(i) => i,
            None => {
                let layout = self.new_layout(key, value)?;
                self.layouts.push(layout);
                self.layouts.len() - 1
            }
        };
        Ok(&self.layouts[index])
    }

    fn new_layout(&self, key: Option<&Arc<Schema>>, value: Option<&Arc<Schema>>) -> Result<Layout, RecordProblem> {
        let settings = self.settings;
        let mut columns: Vec<(Field, Source)> = match (settings.pk_mode, key) {
            (PkMode::Kafka, _) => kafka_columns(&settings.pk_fields),
            (PkMode::RecordKey, Some(key)) => key_columns(key, &settings.pk_fields)?,
            _ => Vec::new(),
        };
        let mut pk: Vec<String> = columns.iter().map(|(f, _)| f.name.clone()).collect();
        if let Some(value) = value {
            if settings.pk_mode == PkMode::RecordValue {
                pk = value_key(value, &settings.pk_fields)?;
            }
            // Key fields are written whatever fields.include.list says, as in Confluent's sink.
            let wanted = |name: &String| pk.contains(name) || settings.fields.is_empty() || settings.fields.contains(name);
            for (i, field) in value.fields.iter().enumerate() {
                if wanted(&field.name) && !columns.iter().any(|(c, _)| c.name == field.name) {
                    columns.push((field.clone(), Source::ValueField(i)));
                }
            }
        }
        for (field, _) in &columns {
            self.sql.column_type(&field.schema, false).map_err(|source| RecordProblem::Unstorable { field: field.name.clone(), source })?;
        }
        let (fields, sources): (Vec<Field>, _) = columns.into_iter().unzip();
        let in_key = fields.iter().map(|f| pk.contains(&f.name)).collect();
        Ok(Layout {
            key_schema: key.cloned(),
            value_schema: value.cloned(),
            shape: Arc::new(RowShape { fields, key: pk }),
            sources,
            in_key,
        })
    }
}

/// The topic, partition and offset columns of `pk.mode=kafka`, named by `pk.fields` if it
/// gives three names.
fn kafka_columns(pk_fields: &[String]) -> Vec<(Field, Source)> {
    let names: Vec<String> = match pk_fields {
        [_, _, _] => pk_fields.to_vec(),
        _ => KAFKA_PK_COLUMNS.iter().map(|n| n.to_string()).collect(),
    };
    let types = [(SchemaType::String, Source::Topic), (SchemaType::Int32, Source::Partition), (SchemaType::Int64, Source::Offset)];
    names.into_iter().zip(types).map(|(name, (schema_type, source))| (Field::new(name, Schema::new(schema_type)), source)).collect()
}

/// The primary key columns from the record key: the named fields of a struct key (all of
/// them when `pk.fields` is empty), or a primitive key under its one `pk.fields` name.
fn key_columns(key: &Arc<Schema>, pk_fields: &[String]) -> Result<Vec<(Field, Source)>, RecordProblem> {
    if key.schema_type != SchemaType::Struct {
        let [name] = pk_fields else {
            return Err(RecordProblem::PrimitiveKeyNeedsOneName(key.schema_type.as_str()));
        };
        return Ok(vec![(Field { name: name.clone(), schema: key.clone() }, Source::Key)]);
    }
    if pk_fields.is_empty() {
        return Ok(key.fields.iter().enumerate().map(|(i, f)| (f.clone(), Source::KeyField(i))).collect());
    }
    pk_fields
        .iter()
        .map(|name| match key.field(name) {
            Some((i, f)) => Ok((f.clone(), Source::KeyField(i))),
            None => Err(RecordProblem::PkFieldMissing { field: name.clone(), side: "key" }),
        })
        .collect()
}

/// The primary key names with `pk.mode=record_value`: `pk.fields`, or every value field.
fn value_key(value: &Schema, pk_fields: &[String]) -> Result<Vec<String>, RecordProblem> {
    if pk_fields.is_empty() {
        return Ok(value.fields.iter().map(|f| f.name.clone()).collect());
    }
    match pk_fields.iter().find(|name| value.field(name).is_none()) {
        Some(missing) => Err(RecordProblem::PkFieldMissing { field: missing.clone(), side: "value" }),
        None => Ok(pk_fields.to_vec()),
    }
}

fn pick<'v>(source: Source, key: Option<&'v Data>, value: Option<&'v Data>) -> Result<&'v Value, RecordProblem> {
    match source {
        Source::Key => key.map(|k| &k.value).ok_or(RecordProblem::KeyWithoutSchema),
        Source::KeyField(i) => match key.map(|k| &k.value) {
            Some(Value::Struct(values)) => values.get(i).ok_or(RecordProblem::ShortStruct("key")),
            _ => Err(RecordProblem::KeyNotAStruct),
        },
        Source::ValueField(i) => match value.map(|v| &v.value) {
            Some(Value::Struct(values)) => values.get(i).ok_or(RecordProblem::ShortStruct("value")),
            _ => Err(RecordProblem::NotAStruct("non-struct")),
        },
        Source::Topic | Source::Partition | Source::Offset => unreachable!("record coordinates are not picked from key or value"),
    }
}

fn same(a: Option<&Arc<Schema>>, b: Option<&Arc<Schema>>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a == b,
        _ => false,
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Boolean(_) => "boolean",
        Value::Int8(_) | Value::Int16(_) | Value::Int32(_) | Value::Int64(_) => "integer",
        Value::Float32(_) | Value::Float64(_) => "floating point number",
        Value::String(_) => "string",
        Value::Bytes(_) => "bytes",
        Value::Array(_) => "array",
        Value::Map(_) => "map",
        Value::Struct(_) => "struct",
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use wasmconnect_sdk::Config;
    use wasmconnect_sdk::sql::Dialect;

    use super::*;

    const MYSQL: Sql = Sql { dialect: Dialect::Mysql, quote_identifiers: true };
    const POSTGRES: Sql = Sql { dialect: Dialect::Postgres, quote_identifiers: true };

    pub fn settings(pairs: &[(&str, &str)]) -> Settings {
        Settings::parse(&Config::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))).unwrap()
    }

    pub fn person_schema() -> Arc<Schema> {
        Arc::new(Schema::structure(vec![
            Field::new("id", Schema::new(SchemaType::Int64)),
            Field::new("name", Schema::new(SchemaType::String)),
            Field::new("email", Schema::new(SchemaType::String).optional()),
        ]))
    }

    pub fn person(schema: &Arc<Schema>, id: i64, email: Option<&str>) -> Data {
        let email = email.map_or(Value::Null, |e| Value::String(e.into()));
        Data { schema: Some(schema.clone()), value: Value::Struct(vec![Value::Int64(id), Value::String(format!("p{id}")), email]) }
    }

    pub fn record(topic: &str, key: Option<Data>, value: Option<Data>) -> SinkRecord {
        SinkRecord { topic: topic.into(), kafka_partition: 0, kafka_offset: 7, key, value, timestamp: None, headers: vec![] }
    }

    fn id_key(id: i64) -> Data {
        let schema = Arc::new(Schema::structure(vec![Field::new("id", Schema::new(SchemaType::Int64))]));
        Data { schema: Some(schema), value: Value::Struct(vec![Value::Int64(id)]) }
    }

    fn names(shape: &RowShape) -> Vec<&str> {
        shape.fields.iter().map(|f| f.name.as_str()).collect()
    }

    #[test]
    fn a_struct_value_becomes_a_row_in_the_topics_table() {
        let settings = settings(&[("table.name.format", "sink_${topic}")]);
        let mut rows = RowBuilder::new(&settings, MYSQL);
        let schema = person_schema();
        let Action::Write { table, shape, params } = rows.action(&record("people", None, Some(person(&schema, 1, None)))).unwrap() else {
            panic!("not an insert")
        };
        assert_eq!(table, "sink_people");
        assert_eq!((names(&shape), shape.key.len()), (vec!["id", "name", "email"], 0));
        assert_eq!(params, vec![SqlValue::Int(1), SqlValue::Text("p1".into()), SqlValue::Null]);
        let Action::Write { shape: again, .. } = rows.action(&record("people", None, Some(person(&schema, 2, Some("e"))))).unwrap() else {
            panic!("not an insert")
        };
        assert!(Arc::ptr_eq(&shape, &again), "records of one schema share their shape");
    }

    #[test]
    fn records_without_a_struct_schema_are_refused() {
        let settings = settings(&[]);
        let mut rows = RowBuilder::new(&settings, MYSQL);
        let schemaless = Data::schemaless(Value::Map(vec![]));
        let err = rows.action(&record("t", None, Some(schemaless))).unwrap_err();
        assert_eq!(err, RecordProblem::ValueWithoutSchema);
        let message = err.to_string();
        assert!(message.contains("value.converter.schemas.enable=true") && message.contains("\"payload\""), "{message}");
        let string = Data { schema: Some(Arc::new(Schema::new(SchemaType::String))), value: Value::String("x".into()) };
        assert_eq!(rows.action(&record("t", None, Some(string))).unwrap_err(), RecordProblem::NotAStruct("string"));
    }

    #[test]
    fn tombstones_are_skipped_or_deleted_by_key() {
        let keep = settings(&[]);
        assert_eq!(RowBuilder::new(&keep, MYSQL).action(&record("t", Some(id_key(3)), None)).unwrap(), Action::SkipTombstone);
        let delete = settings(&[("pk.mode", "record_key"), ("delete.enabled", "true")]);
        let mut rows = RowBuilder::new(&delete, POSTGRES);
        let null_with_schema = Data { schema: Some(person_schema()), value: Value::Null };
        let Action::Delete { table, shape, params } = rows.action(&record("t", Some(id_key(3)), Some(null_with_schema))).unwrap() else {
            panic!("not a delete")
        };
        assert_eq!((table.as_str(), names(&shape), shape.key.clone(), params), ("t", vec!["id"], vec!["id".to_owned()], vec![SqlValue::Int(3)]));
        assert_eq!(rows.action(&record("t", None, None)).unwrap_err(), RecordProblem::KeyWithoutSchema);
    }

    #[test]
    fn record_key_columns_come_first() {
        let settings = settings(&[("pk.mode", "record_key")]);
        let mut rows = RowBuilder::new(&settings, MYSQL);
        let value_schema = Arc::new(Schema::structure(vec![
            Field::new("name", Schema::new(SchemaType::String)),
            Field::new("id", Schema::new(SchemaType::Int64)),
        ]));
        let value = Data { schema: Some(value_schema), value: Value::Struct(vec![Value::String("ann".into()), Value::Int64(9)]) };
        let Action::Write { shape, params, .. } = rows.action(&record("t", Some(id_key(5)), Some(value.clone()))).unwrap() else {
            panic!("not an insert")
        };
        assert_eq!((names(&shape), shape.key.clone()), (vec!["id", "name"], vec!["id".to_owned()]));
        assert_eq!(params, vec![SqlValue::Int(5), SqlValue::Text("ann".into())]);
        assert_eq!(rows.action(&record("t", None, Some(value))).unwrap_err(), RecordProblem::KeyWithoutSchema);
    }

    #[test]
    fn a_primitive_key_needs_one_pk_field_name() {
        let key = Data { schema: Some(Arc::new(Schema::new(SchemaType::String))), value: Value::String("k1".into()) };
        let value = person(&person_schema(), 1, None);
        let unnamed = settings(&[("pk.mode", "record_key")]);
        let err = RowBuilder::new(&unnamed, MYSQL).action(&record("t", Some(key.clone()), Some(value.clone()))).unwrap_err();
        assert_eq!(err, RecordProblem::PrimitiveKeyNeedsOneName("string"));
        let named = settings(&[("pk.mode", "record_key"), ("pk.fields", "kafka_key")]);
        let Action::Write { shape, params, .. } = RowBuilder::new(&named, MYSQL).action(&record("t", Some(key), Some(value))).unwrap() else {
            panic!("not an insert")
        };
        assert_eq!(names(&shape), vec!["kafka_key", "id", "name", "email"]);
        assert_eq!(params[0], SqlValue::Text("k1".into()));
    }

    #[test]
    fn record_value_keys_must_name_value_fields() {
        let value = person(&person_schema(), 1, Some("e"));
        let all = settings(&[("pk.mode", "record_value")]);
        let Action::Write { shape, .. } = RowBuilder::new(&all, MYSQL).action(&record("t", None, Some(value.clone()))).unwrap() else {
            panic!("not an insert")
        };
        assert_eq!(shape.key, vec!["id", "name", "email"]);
        let named = settings(&[("pk.mode", "record_value"), ("pk.fields", "id")]);
        let Action::Write { shape, .. } = RowBuilder::new(&named, MYSQL).action(&record("t", None, Some(value.clone()))).unwrap() else {
            panic!("not an insert")
        };
        assert_eq!((names(&shape).len(), shape.key.clone()), (3, vec!["id".to_owned()]));
        let wrong = settings(&[("pk.mode", "record_value"), ("pk.fields", "uuid")]);
        let err = RowBuilder::new(&wrong, MYSQL).action(&record("t", None, Some(value.clone()))).unwrap_err();
        assert_eq!(err, RecordProblem::PkFieldMissing { field: "uuid".into(), side: "value" });
        let no_email = person(&person_schema(), 1, None);
        let Err(RecordProblem::NullKey(field)) = RowBuilder::new(&all, MYSQL).action(&record("t", None, Some(no_email))) else {
            panic!("a null key column must be refused")
        };
        assert_eq!(field, "email");
    }

    #[test]
    fn bad_fields_are_named() {
        let settings = settings(&[]);
        let mut rows = RowBuilder::new(&settings, MYSQL);
        let nested = Arc::new(Schema::structure(vec![Field::new("tags", Schema::array(Arc::new(Schema::new(SchemaType::String))))]));
        let value = Data { schema: Some(nested), value: Value::Struct(vec![Value::Array(vec![])]) };
        let err = rows.action(&record("t", None, Some(value))).unwrap_err();
        assert!(matches!(&err, RecordProblem::Unstorable { field, .. } if field == "tags"), "{err:?}");
        let schema = person_schema();
        let null_name = Data { schema: Some(schema), value: Value::Struct(vec![Value::Int64(1), Value::Null, Value::Null]) };
        let err = rows.action(&record("t", None, Some(null_name))).unwrap_err();
        assert_eq!(err, RecordProblem::Value { field: "name".into(), source: ValueError::NullInRequired });
    }

    #[test]
    fn kafka_keys_are_the_records_coordinates() {
        let schema = person_schema();
        let mut at = record("people", None, Some(person(&schema, 1, None)));
        (at.kafka_partition, at.kafka_offset) = (2, 41);
        let default = settings(&[("pk.mode", "kafka")]);
        let Action::Write { shape, params, .. } = RowBuilder::new(&default, MYSQL).action(&at).unwrap() else { panic!("not a write") };
        assert_eq!(names(&shape), vec!["__connect_topic", "__connect_partition", "__connect_offset", "id", "name", "email"]);
        assert_eq!(shape.key, vec!["__connect_topic", "__connect_partition", "__connect_offset"]);
        assert_eq!(params[..3], [SqlValue::Text("people".into()), SqlValue::Int(2), SqlValue::Int(41)]);
        assert_eq!(shape.key_positions(), vec![0, 1, 2]);
        let renamed = settings(&[("pk.mode", "kafka"), ("pk.fields", "t,p,o")]);
        let Action::Write { shape, .. } = RowBuilder::new(&renamed, MYSQL).action(&at).unwrap() else { panic!("not a write") };
        assert_eq!(shape.key, vec!["t", "p", "o"]);
    }

    #[test]
    fn the_include_list_picks_value_fields_but_keeps_the_key() {
        let value = person(&person_schema(), 1, Some("e"));
        let some = settings(&[("pk.mode", "record_value"), ("pk.fields", "id"), ("fields.include.list", "email")]);
        let Action::Write { shape, params, .. } = RowBuilder::new(&some, MYSQL).action(&record("t", None, Some(value))).unwrap() else {
            panic!("not a write")
        };
        assert_eq!(names(&shape), vec!["id", "email"]);
        assert_eq!(params, vec![SqlValue::Int(1), SqlValue::Text("e".into())]);
    }

    #[test]
    fn nested_values_are_refused_naming_the_flatten_transform() {
        let settings = settings(&[]);
        let inner = Schema::structure(vec![Field::new("city", Schema::new(SchemaType::String))]);
        let nested = Arc::new(Schema::structure(vec![Field::new("address", inner)]));
        let value = Data { schema: Some(nested), value: Value::Struct(vec![Value::Struct(vec![Value::String("x".into())])]) };
        let err = RowBuilder::new(&settings, MYSQL).action(&record("t", None, Some(value))).unwrap_err();
        assert!(err.to_string().contains("field \"address\"") && err.to_string().contains("Flatten$Value"), "{err}");
    }
}
