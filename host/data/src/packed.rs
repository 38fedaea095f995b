//! A batch of records packed into one byte string, so that it crosses the component boundary
//! in one copy instead of one guest allocation per string and list (the WIT `record-batch`
//! form). Host and plugins share this code; `docs/packed-batch.md` describes the format.
//!
//! Layout (integers little-endian, `str` is a `u32` length and UTF-8 bytes):
//!
//! ```text
//! batch   = u32 table_at, u32 record_count, record*, table      (table starts at byte table_at)
//! table   = u32 schema_count, schema*                           (children before parents)
//! record  = u8 flags, str topic, [i32 partition], [i64 offset], [data key], [data value],
//!           [i64 timestamp], u32 header_count, (str key, data value)*
//! data    = u32 schema (0: none, n: table entry n-1), value
//! value   = u8 tag, payload
//! ```

use std::sync::Arc;

use crate::{ConnectRecord, Data, Field, Schema, SchemaType, Value};

/// How deeply values may nest (arrays, maps and structs in one another); deeper input is
/// refused rather than risking the decoder's stack.
pub const MAX_DEPTH: usize = 128;

/// Bytes that are not a packed batch: a bug in whoever wrote them.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PackedError {
    #[error("the batch ends in the middle of {0}")]
    Truncated(&'static str),
    #[error("unknown {what} tag {tag} at byte {at}")]
    Tag { what: &'static str, tag: u8, at: usize },
    #[error("the string at byte {0} is not UTF-8")]
    Utf8(usize),
    #[error("schema {index} refers to schema {child}, which does not come before it")]
    SchemaOrder { index: u32, child: u32 },
    #[error("schema index {0} is out of range")]
    SchemaIndex(u32),
    #[error("values nest deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("the schema table offset {0} is outside the batch")]
    TableOffset(u32),
    #[error("{0} bytes follow the last record")]
    Trailing(usize),
}

// Record flags.
const PARTITION: u8 = 1;
const OFFSET: u8 = 2;
const KEY: u8 = 4;
const VALUE: u8 = 8;
const TIMESTAMP: u8 = 16;

// Schema flags.
const OPTIONAL: u8 = 1;
const NAME: u8 = 2;
const VERSION: u8 = 4;
const DOC: u8 = 8;
const DEFAULT: u8 = 16;
const KEY_SCHEMA: u8 = 32;
const VALUE_SCHEMA: u8 = 64;

// Value tags.
const NULL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const INT8: u8 = 3;
const INT16: u8 = 4;
const INT32: u8 = 5;
const INT64: u8 = 6;
const FLOAT32: u8 = 7;
const FLOAT64: u8 = 8;
const STRING: u8 = 9;
const BYTES: u8 = 10;
const ARRAY: u8 = 11;
const MAP: u8 = 12;
const STRUCT: u8 = 13;

/// Packs `records` into `out` (cleared first, so one buffer serves batch after batch).
/// Each distinct schema is written once; records sharing an `Arc` cost one pointer compare.
pub fn encode_batch(records: &[ConnectRecord], out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(&[0; 4]);
    put_u32(out, records.len() as u32);
    let mut schemas = SchemaWriter::default();
    for record in records {
        encode_record(record, &mut schemas, out);
    }
    let table_at = out.len() as u32;
    out[..4].copy_from_slice(&table_at.to_le_bytes());
    put_u32(out, schemas.count);
    out.extend_from_slice(&schemas.table);
}

fn encode_record(record: &ConnectRecord, schemas: &mut SchemaWriter, out: &mut Vec<u8>) {
    let flag = |present: bool, bit: u8| if present { bit } else { 0 };
    out.push(
        flag(record.kafka_partition.is_some(), PARTITION)
            | flag(record.kafka_offset.is_some(), OFFSET)
            | flag(record.key.is_some(), KEY)
            | flag(record.value.is_some(), VALUE)
            | flag(record.timestamp.is_some(), TIMESTAMP),
    );
    put_str(out, &record.topic);
    if let Some(p) = record.kafka_partition {
        out.extend_from_slice(&p.to_le_bytes());
    }
    if let Some(o) = record.kafka_offset {
        out.extend_from_slice(&o.to_le_bytes());
    }
    for data in [&record.key, &record.value].into_iter().flatten() {
        encode_data(data, schemas, out);
    }
    if let Some(t) = record.timestamp {
        out.extend_from_slice(&t.to_le_bytes());
    }
    put_u32(out, record.headers.len() as u32);
    for (key, value) in &record.headers {
        put_str(out, key);
        encode_data(value, schemas, out);
    }
}

fn encode_data(data: &Data, schemas: &mut SchemaWriter, out: &mut Vec<u8>) {
    put_u32(out, data.schema.as_ref().map_or(0, |s| schemas.intern(s) + 1));
    encode_value(&data.value, out);
}

fn encode_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.push(NULL),
        Value::Boolean(b) => out.push(if *b { TRUE } else { FALSE }),
        Value::Int8(v) => {
            out.push(INT8);
            out.extend_from_slice(&v.to_le_bytes());
        }
        Value::Int16(v) => {
            out.push(INT16);
            out.extend_from_slice(&v.to_le_bytes());
        }
        Value::Int32(v) => {
            out.push(INT32);
            out.extend_from_slice(&v.to_le_bytes());
        }
        Value::Int64(v) => {
            out.push(INT64);
            out.extend_from_slice(&v.to_le_bytes());
        }
        Value::Float32(v) => {
            out.push(FLOAT32);
            out.extend_from_slice(&v.to_le_bytes());
        }
        Value::Float64(v) => {
            out.push(FLOAT64);
            out.extend_from_slice(&v.to_le_bytes());
        }
        Value::String(s) => {
            out.push(STRING);
            put_str(out, s);
        }
        Value::Bytes(b) => {
            out.push(BYTES);
            put_u32(out, b.len() as u32);
            out.extend_from_slice(b);
        }
        Value::Array(items) | Value::Struct(items) => {
            out.push(if matches!(value, Value::Array(_)) { ARRAY } else { STRUCT });
            put_u32(out, items.len() as u32);
            for item in items {
                encode_value(item, out);
            }
        }
        Value::Map(entries) => {
            out.push(MAP);
            put_u32(out, entries.len() as u32);
            for (k, v) in entries {
                encode_value(k, out);
                encode_value(v, out);
            }
        }
    }
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_u32(out, s.len() as u32);
    out.extend_from_slice(s.as_bytes());
}

/// The schema table of the batch being written.
#[derive(Default)]
struct SchemaWriter {
    seen: Vec<(Arc<Schema>, u32)>,
    table: Vec<u8>,
    count: u32,
}

impl SchemaWriter {
    fn intern(&mut self, schema: &Arc<Schema>) -> u32 {
        // Records of a batch nearly always share their schemas' `Arc`s: look for the pointer
        // before comparing whole schemas, which merges equal copies.
        if let Some((_, i)) = self.seen.iter().find(|(s, _)| Arc::ptr_eq(s, schema)) {
            return *i;
        }
        if let Some((_, i)) = self.seen.iter().find(|(s, _)| s == schema) {
            let i = *i;
            self.seen.push((schema.clone(), i));
            return i;
        }
        let key = schema.key_schema.as_ref().map(|s| self.intern(s));
        let value = schema.value_schema.as_ref().map(|s| self.intern(s));
        let fields: Vec<u32> = schema.fields.iter().map(|f| self.intern(&f.schema)).collect();
        let out = &mut self.table;
        out.push(schema_type_tag(schema.schema_type));
        let flag = |present: bool, bit: u8| if present { bit } else { 0 };
        out.push(
            flag(schema.optional, OPTIONAL)
                | flag(schema.name.is_some(), NAME)
                | flag(schema.version.is_some(), VERSION)
                | flag(schema.doc.is_some(), DOC)
                | flag(schema.default.is_some(), DEFAULT)
                | flag(key.is_some(), KEY_SCHEMA)
                | flag(value.is_some(), VALUE_SCHEMA),
        );
        if let Some(name) = &schema.name {
            put_str(out, name);
        }
        if let Some(version) = schema.version {
            out.extend_from_slice(&version.to_le_bytes());
        }
        if let Some(doc) = &schema.doc {
            put_str(out, doc);
        }
        put_u32(out, schema.parameters.len() as u32);
        for (k, v) in &schema.parameters {
            put_str(out, k);
            put_str(out, v);
        }
        put_u32(out, fields.len() as u32);
        for (field, index) in schema.fields.iter().zip(fields) {
            put_str(out, &field.name);
            put_u32(out, index);
        }
        for index in [key, value].into_iter().flatten() {
            put_u32(out, index);
        }
        if let Some(default) = &schema.default {
            encode_value(default, out);
        }
        let index = self.count;
        self.count += 1;
        self.seen.push((schema.clone(), index));
        index
    }
}

fn schema_type_tag(t: SchemaType) -> u8 {
    match t {
        SchemaType::Int8 => 0,
        SchemaType::Int16 => 1,
        SchemaType::Int32 => 2,
        SchemaType::Int64 => 3,
        SchemaType::Float32 => 4,
        SchemaType::Float64 => 5,
        SchemaType::Boolean => 6,
        SchemaType::String => 7,
        SchemaType::Bytes => 8,
        SchemaType::Array => 9,
        SchemaType::Map => 10,
        SchemaType::Struct => 11,
    }
}

fn schema_type(tag: u8, at: usize) -> Result<SchemaType, PackedError> {
    Ok(match tag {
        0 => SchemaType::Int8,
        1 => SchemaType::Int16,
        2 => SchemaType::Int32,
        3 => SchemaType::Int64,
        4 => SchemaType::Float32,
        5 => SchemaType::Float64,
        6 => SchemaType::Boolean,
        7 => SchemaType::String,
        8 => SchemaType::Bytes,
        9 => SchemaType::Array,
        10 => SchemaType::Map,
        11 => SchemaType::Struct,
        tag => return Err(PackedError::Tag { what: "schema type", tag, at }),
    })
}

/// Unpacks batches. It keeps the schemas of the last batch: when the next one carries the
/// same schema table (the usual case), its records get the very same `Arc`s, so transforms
/// that cache what they derive from a schema find it by pointer.
#[derive(Default)]
pub struct BatchReader {
    table: Vec<u8>,
    schemas: Vec<Arc<Schema>>,
}

impl BatchReader {
    pub fn decode(&mut self, bytes: &[u8]) -> Result<Vec<ConnectRecord>, PackedError> {
        let mut header = Cursor { bytes, at: 0 };
        let table_at = header.u32("the header")?;
        let count = header.u32("the header")?;
        let table = bytes.get(table_at as usize..).filter(|_| table_at >= 8).ok_or(PackedError::TableOffset(table_at))?;
        if table != self.table.as_slice() {
            self.schemas = decode_table(&mut Cursor { bytes, at: table_at as usize })?;
            self.table.clear();
            self.table.extend_from_slice(table);
        }
        let mut cursor = Cursor { bytes: &bytes[..table_at as usize], at: 8 };
        // A record takes at least 9 bytes: a forged count cannot make this allocate much.
        let mut records = Vec::with_capacity((count as usize).min(bytes.len() / 9));
        for _ in 0..count {
            records.push(decode_record(&mut cursor, &self.schemas)?);
        }
        match cursor.bytes.len() - cursor.at {
            0 => Ok(records),
            left => Err(PackedError::Trailing(left)),
        }
    }
}

fn decode_table(cursor: &mut Cursor) -> Result<Vec<Arc<Schema>>, PackedError> {
    let count = cursor.u32("the schema table")?;
    let mut schemas: Vec<Arc<Schema>> = Vec::with_capacity((count as usize).min(cursor.left() / 10));
    for index in 0..count {
        let at = cursor.at;
        let schema_type = schema_type(cursor.u8("a schema")?, at)?;
        let flags = cursor.u8("a schema")?;
        let child = |cursor: &mut Cursor, schemas: &[Arc<Schema>]| -> Result<Arc<Schema>, PackedError> {
            let child = cursor.u32("a schema")?;
            schemas.get(child as usize).cloned().ok_or(PackedError::SchemaOrder { index, child })
        };
        let name = if flags & NAME != 0 { Some(cursor.string("a schema name")?) } else { None };
        let version = if flags & VERSION != 0 { Some(cursor.u32("a schema")? as i32) } else { None };
        let doc = if flags & DOC != 0 { Some(cursor.string("a schema doc")?) } else { None };
        let parameter_count = cursor.u32("schema parameters")?;
        let mut parameters = Vec::with_capacity((parameter_count as usize).min(cursor.left() / 8));
        for _ in 0..parameter_count {
            parameters.push((cursor.string("a schema parameter")?, cursor.string("a schema parameter")?));
        }
        let field_count = cursor.u32("schema fields")?;
        let mut fields = Vec::with_capacity((field_count as usize).min(cursor.left() / 8));
        for _ in 0..field_count {
            let name = cursor.string("a field name")?;
            fields.push(Field { name, schema: child(cursor, &schemas)? });
        }
        let key_schema = if flags & KEY_SCHEMA != 0 { Some(child(cursor, &schemas)?) } else { None };
        let value_schema = if flags & VALUE_SCHEMA != 0 { Some(child(cursor, &schemas)?) } else { None };
        let default = if flags & DEFAULT != 0 { Some(decode_value(cursor, 0)?) } else { None };
        schemas.push(Arc::new(Schema {
            schema_type,
            optional: flags & OPTIONAL != 0,
            name,
            version,
            doc,
            parameters,
            default,
            fields,
            key_schema,
            value_schema,
        }));
    }
    match cursor.left() {
        0 => Ok(schemas),
        left => Err(PackedError::Trailing(left)),
    }
}

fn decode_record(cursor: &mut Cursor, schemas: &[Arc<Schema>]) -> Result<ConnectRecord, PackedError> {
    let flags = cursor.u8("a record")?;
    let topic = cursor.string("a topic")?;
    let kafka_partition = if flags & PARTITION != 0 { Some(cursor.u32("a partition")? as i32) } else { None };
    let kafka_offset = if flags & OFFSET != 0 { Some(cursor.u64("an offset")? as i64) } else { None };
    let key = if flags & KEY != 0 { Some(decode_data(cursor, schemas)?) } else { None };
    let value = if flags & VALUE != 0 { Some(decode_data(cursor, schemas)?) } else { None };
    let timestamp = if flags & TIMESTAMP != 0 { Some(cursor.u64("a timestamp")? as i64) } else { None };
    let header_count = cursor.u32("headers")?;
    let mut headers = Vec::with_capacity((header_count as usize).min(cursor.left() / 9));
    for _ in 0..header_count {
        headers.push((cursor.string("a header key")?, decode_data(cursor, schemas)?));
    }
    Ok(ConnectRecord { topic, kafka_partition, kafka_offset, key, value, timestamp, headers })
}

fn decode_data(cursor: &mut Cursor, schemas: &[Arc<Schema>]) -> Result<Data, PackedError> {
    let schema = match cursor.u32("a schema reference")? {
        0 => None,
        n => Some(schemas.get(n as usize - 1).cloned().ok_or(PackedError::SchemaIndex(n - 1))?),
    };
    Ok(Data { schema, value: decode_value(cursor, 0)? })
}

fn decode_value(cursor: &mut Cursor, depth: usize) -> Result<Value, PackedError> {
    let at = cursor.at;
    Ok(match cursor.u8("a value")? {
        NULL => Value::Null,
        FALSE => Value::Boolean(false),
        TRUE => Value::Boolean(true),
        INT8 => Value::Int8(cursor.take::<1>("an int8")?[0] as i8),
        INT16 => Value::Int16(i16::from_le_bytes(cursor.take("an int16")?)),
        INT32 => Value::Int32(cursor.u32("an int32")? as i32),
        INT64 => Value::Int64(cursor.u64("an int64")? as i64),
        FLOAT32 => Value::Float32(f32::from_le_bytes(cursor.take("a float32")?)),
        FLOAT64 => Value::Float64(f64::from_le_bytes(cursor.take("a float64")?)),
        STRING => Value::String(cursor.string("a string")?),
        BYTES => {
            let len = cursor.u32("bytes")? as usize;
            Value::Bytes(cursor.slice(len, "bytes")?.to_vec())
        }
        tag @ (ARRAY | STRUCT | MAP) => {
            if depth == MAX_DEPTH {
                return Err(PackedError::TooDeep);
            }
            let count = cursor.u32("a container")? as usize;
            // Every element takes at least one byte.
            let capacity = count.min(cursor.left());
            if tag == MAP {
                let mut entries = Vec::with_capacity(capacity / 2);
                for _ in 0..count {
                    entries.push((decode_value(cursor, depth + 1)?, decode_value(cursor, depth + 1)?));
                }
                Value::Map(entries)
            } else {
                let mut items = Vec::with_capacity(capacity);
                for _ in 0..count {
                    items.push(decode_value(cursor, depth + 1)?);
                }
                if tag == ARRAY { Value::Array(items) } else { Value::Struct(items) }
            }
        }
        tag => return Err(PackedError::Tag { what: "value", tag, at }),
    })
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn left(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn slice(&mut self, len: usize, what: &'static str) -> Result<&'a [u8], PackedError> {
        let end = self.at.checked_add(len).filter(|end| *end <= self.bytes.len()).ok_or(PackedError::Truncated(what))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn take<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], PackedError> {
        Ok(self.slice(N, what)?.try_into().expect("N bytes"))
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, PackedError> {
        Ok(self.take::<1>(what)?[0])
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, PackedError> {
        Ok(u32::from_le_bytes(self.take(what)?))
    }

    fn u64(&mut self, what: &'static str) -> Result<u64, PackedError> {
        Ok(u64::from_le_bytes(self.take(what)?))
    }

    fn string(&mut self, what: &'static str) -> Result<String, PackedError> {
        let len = self.u32(what)? as usize;
        let at = self.at;
        let bytes = self.slice(len, what)?;
        std::str::from_utf8(bytes).map(str::to_owned).map_err(|_| PackedError::Utf8(at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_value_kind() -> (Arc<Schema>, Value) {
        let string = Arc::new(Schema::new(SchemaType::String));
        let address = Schema::structure(vec![Field::new("city", Schema::new(SchemaType::String))]).named("address");
        let schema = Schema::structure(vec![
            Field::new("i8", Schema::new(SchemaType::Int8)),
            Field::new("i16", Schema::new(SchemaType::Int16)),
            Field::new("i32", Schema { default: Some(Value::Int32(3)), ..Schema::new(SchemaType::Int32) }),
            Field::new("i64", Schema::timestamp().optional()),
            Field::new("f32", Schema::new(SchemaType::Float32)),
            Field::new("f64", Schema::new(SchemaType::Float64)),
            Field::new("yes", Schema::new(SchemaType::Boolean)),
            Field::new("no", Schema::new(SchemaType::Boolean)),
            Field::new("text", Schema { doc: Some("some text".into()), ..Schema::new(SchemaType::String) }),
            Field::new("price", Schema::decimal(2)),
            Field::new("tags", Schema::array(string.clone())),
            Field::new("attrs", Schema::map(string, Arc::new(Schema::new(SchemaType::Int64))).optional()),
            Field::new("home", address.optional()),
            Field::new("gone", Schema::new(SchemaType::String).optional()),
        ])
        .named("users");
        let value = Value::Struct(vec![
            Value::Int8(-8),
            Value::Int16(-1600),
            Value::Int32(i32::MIN),
            Value::Int64(1_700_000_000_000),
            Value::Float32(1.5),
            Value::Float64(-2.25e300),
            Value::Boolean(true),
            Value::Boolean(false),
            Value::String("zoë ✓".into()),
            Value::Bytes(vec![0, 255, 7]),
            Value::Array(vec![Value::String("a".into()), Value::String(String::new())]),
            Value::Map(vec![(Value::String("k".into()), Value::Int64(i64::MAX))]),
            Value::Struct(vec![Value::String("Oslo".into())]),
            Value::Null,
        ]);
        (Arc::new(schema), value)
    }

    fn records() -> Vec<ConnectRecord> {
        let (schema, value) = every_value_kind();
        let schemaless = Value::Map(vec![
            (Value::String("nested".into()), Value::Array(vec![Value::Map(vec![(Value::Int32(1), Value::Null)])])),
            (Value::String("f".into()), Value::Float32(f32::NAN)),
        ]);
        vec![
            ConnectRecord {
                topic: "users".into(),
                kafka_partition: Some(3),
                kafka_offset: Some(41),
                key: Some(Data::schemaless(Value::String("k".into()))),
                value: Some(Data { schema: Some(schema.clone()), value }),
                timestamp: Some(-5),
                headers: vec![
                    ("origin".into(), Data { schema: Some(Arc::new(Schema::new(SchemaType::String))), value: Value::String("db".into()) }),
                    ("empty".into(), Data::null()),
                ],
            },
            // A tombstone with a null key: both absent.
            ConnectRecord { topic: "users".into(), kafka_partition: None, kafka_offset: None, key: None, value: None, timestamp: None, headers: vec![] },
            // A null with a schema is not a schemaless null.
            ConnectRecord {
                topic: String::new(),
                kafka_partition: None,
                kafka_offset: None,
                key: Some(Data { schema: Some(Arc::new(Schema::new(SchemaType::Int32).optional())), value: Value::Null }),
                value: Some(Data::schemaless(schemaless)),
                timestamp: None,
                headers: vec![],
            },
            ConnectRecord { topic: "again".into(), value: Some(Data { schema: Some(schema), value: Value::Null }), ..Default::default() },
        ]
    }

    fn round_trip(records: &[ConnectRecord]) -> Vec<ConnectRecord> {
        let mut bytes = Vec::new();
        encode_batch(records, &mut bytes);
        BatchReader::default().decode(&bytes).unwrap()
    }

    /// `PartialEq` on values says NaN != NaN; compare the debug forms, which name every field.
    fn same(a: &[ConnectRecord], b: &[ConnectRecord]) -> bool {
        format!("{a:?}") == format!("{b:?}")
    }

    #[test]
    fn every_kind_of_value_schema_and_record_comes_back_the_same() {
        let input = records();
        let output = round_trip(&input);
        assert!(same(&input, &output), "{input:#?}\n!=\n{output:#?}");
        assert_eq!(round_trip(&[]), vec![]);
    }

    #[test]
    fn each_schema_is_written_once_and_shared_after_decoding() {
        let (schema, value) = every_value_kind();
        let copy = Arc::new((*schema).clone());
        let record = |schema: &Arc<Schema>| ConnectRecord { value: Some(Data { schema: Some(schema.clone()), value: value.clone() }), ..Default::default() };
        let mut bytes = Vec::new();
        encode_batch(&[record(&schema), record(&copy), record(&schema)], &mut bytes);
        let mut reader = BatchReader::default();
        let first = reader.decode(&bytes).unwrap();
        let schema_of = |r: &ConnectRecord| r.value.as_ref().unwrap().schema.clone().unwrap();
        assert!(Arc::ptr_eq(&schema_of(&first[0]), &schema_of(&first[1])), "equal schemas are merged");
        assert!(Arc::ptr_eq(&schema_of(&first[0]), &schema_of(&first[2])));
        // users and its 14 fields' schemas, less the second boolean and city (equal to the
        // boolean and the array's string element), plus the array element and map value.
        let table = &bytes[u32::from_le_bytes(bytes[..4].try_into().unwrap()) as usize..];
        assert_eq!(u32::from_le_bytes(table[..4].try_into().unwrap()), 16);

        // The next batch with the same table gets the same schema objects.
        let second = reader.decode(&bytes).unwrap();
        assert!(Arc::ptr_eq(&schema_of(&first[0]), &schema_of(&second[0])));
        // A batch with other schemas gets its own.
        encode_batch(&[ConnectRecord { key: Some(Data { schema: Some(Arc::new(Schema::new(SchemaType::Int8))), value: Value::Int8(1) }), ..Default::default() }], &mut bytes);
        let third = reader.decode(&bytes).unwrap();
        assert_eq!(third[0].key.as_ref().unwrap().schema.as_ref().unwrap().schema_type, SchemaType::Int8);
    }

    #[test]
    fn truncated_or_corrupt_batches_are_errors_not_panics() {
        let input = records();
        let mut bytes = Vec::new();
        encode_batch(&input, &mut bytes);
        for len in 0..bytes.len() {
            assert!(BatchReader::default().decode(&bytes[..len]).is_err(), "a batch cut at {len} bytes decoded");
        }
        for at in 0..bytes.len() {
            let mut corrupt = bytes.clone();
            corrupt[at] ^= 0xff;
            // Anything may come out of a flipped byte except a panic or a huge allocation.
            let _ = BatchReader::default().decode(&corrupt);
        }
        let mut trailing = bytes.clone();
        let table_at = u32::from_le_bytes(bytes[..4].try_into().unwrap()) as usize;
        trailing.insert(table_at, 0);
        trailing[..4].copy_from_slice(&(table_at as u32 + 1).to_le_bytes());
        assert_eq!(BatchReader::default().decode(&trailing), Err(PackedError::Trailing(1)));
    }

    #[test]
    fn schemas_must_refer_back_and_values_must_not_nest_too_deep() {
        // One array schema whose element is itself.
        let mut bytes = vec![0; 4];
        bytes.extend_from_slice(&0u32.to_le_bytes());
        let table_at = bytes.len() as u32;
        bytes[..4].copy_from_slice(&table_at.to_le_bytes());
        bytes.extend_from_slice(&1u32.to_le_bytes());
        bytes.extend_from_slice(&[9, VALUE_SCHEMA, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(BatchReader::default().decode(&bytes), Err(PackedError::SchemaOrder { index: 0, child: 0 }));

        let mut deep = Value::Null;
        for _ in 0..MAX_DEPTH {
            deep = Value::Array(vec![deep]);
        }
        let record = |value: Value| ConnectRecord { value: Some(Data::schemaless(value)), ..Default::default() };
        assert_eq!(round_trip(&[record(deep.clone())]), vec![record(deep.clone())]);
        let mut bytes = Vec::new();
        encode_batch(&[record(Value::Array(vec![deep]))], &mut bytes);
        assert_eq!(BatchReader::default().decode(&bytes), Err(PackedError::TooDeep));

        let mut bytes = Vec::new();
        encode_batch(&[ConnectRecord { value: Some(Data::schemaless(Value::String("é".into()))), ..Default::default() }], &mut bytes);
        let at = bytes.iter().position(|b| *b == 0xc3).unwrap();
        bytes[at] = 0xff;
        assert!(matches!(BatchReader::default().decode(&bytes), Err(PackedError::Utf8(_))));
    }
}
