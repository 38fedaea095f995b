//! Data on the wire: the flat WIT form (a schema table per batch, values as node arenas)
//! to and from the SDK's recursive model.

use std::sync::Arc;

use wasmconnect_data::json::{value_from_json, value_to_json};

use crate::data::{ConnectRecord, Data, Field, Schema, SchemaType, SinkRecord, SourceRecord, Value};
use crate::wit::types as wit;
use crate::ConnectorError;

/// The records of one poll, and how long the host should wait before polling again.
#[derive(Default)]
pub struct SourceBatch {
    interner: Interner,
    records: Vec<wit::SourceRecord>,
    wait_ms: u32,
    /// The last source partition and its JSON text: a batch's records mostly share one, and
    /// writing it out anew for each record would cost more than comparing it.
    last_partition: Option<(serde_json::Value, String)>,
}

impl SourceBatch {
    pub fn new() -> SourceBatch {
        SourceBatch::default()
    }

    pub fn push(&mut self, record: SourceRecord) {
        let key = record.key.map(|d| self.interner.encode_owned(d));
        let value = record.value.map(|d| self.interner.encode_owned(d));
        let source_partition = match &self.last_partition {
            Some((last, text)) if *last == record.source_partition => text.clone(),
            _ => {
                let text = record.source_partition.to_string();
                self.last_partition = Some((record.source_partition, text.clone()));
                text
            }
        };
        self.records.push(wit::SourceRecord {
            source_partition,
            source_offset: record.source_offset.to_string(),
            topic: record.topic,
            kafka_partition: record.kafka_partition,
            key,
            value,
            timestamp: record.timestamp,
            headers: Vec::new(),
        });
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Asks the host to wait this long before the next poll (0: poll again at once).
    pub fn wait(mut self, millis: u32) -> SourceBatch {
        self.wait_ms = millis;
        self
    }

    #[doc(hidden)]
    pub fn into_wit(self) -> wit::SourceBatch {
        wit::SourceBatch { schemas: self.interner.table, records: self.records, wait_ms: self.wait_ms }
    }
}

/// Sends each distinct schema of a batch once.
#[derive(Default)]
struct Interner {
    table: Vec<wit::Schema>,
    seen: Vec<(Arc<Schema>, u32)>,
}

impl Interner {
    fn intern(&mut self, schema: &Arc<Schema>) -> u32 {
        if let Some((_, i)) = self.seen.iter().find(|(s, _)| Arc::ptr_eq(s, schema) || s == schema) {
            return *i;
        }
        let key_schema = schema.key_schema.as_ref().map(|s| self.intern(s));
        let value_schema = schema.value_schema.as_ref().map(|s| self.intern(s));
        let fields = schema.fields.iter().map(|f| wit::Field { name: f.name.clone(), schema: self.intern(&f.schema) }).collect();
        // A default that does not fit its schema cannot be written, so it is not sent.
        let default_json = schema.default.as_ref().and_then(|d| value_to_json(Some(schema), d).ok()).map(|j| j.to_string());
        let index = self.table.len() as u32;
        self.table.push(wit::Schema {
            type_: to_wit_type(schema.schema_type),
            optional: schema.optional,
            name: schema.name.clone(),
            version: schema.version,
            doc: schema.doc.clone(),
            parameters: schema.parameters.clone(),
            default_json,
            fields,
            key_schema,
            value_schema,
        });
        self.seen.push((schema.clone(), index));
        index
    }

    fn encode(&mut self, data: &Data) -> wit::Data {
        let schema = data.schema.as_ref().map(|s| self.intern(s));
        let mut nodes = Vec::new();
        push_value(&data.value, &mut nodes);
        wit::Data { schema, nodes }
    }

    /// As `encode`, moving the value's strings and bytes instead of copying them.
    fn encode_owned(&mut self, data: Data) -> wit::Data {
        let schema = data.schema.as_ref().map(|s| self.intern(s));
        // A struct of plain fields, the usual row, takes one node per field after its own.
        let mut nodes = Vec::with_capacity(match &data.value {
            Value::Struct(fields) => fields.len() + 1,
            _ => 1,
        });
        push_owned_value(data.value, &mut nodes);
        wit::Data { schema, nodes }
    }

    fn encode_headers(&mut self, headers: &[(String, Data)]) -> Vec<wit::Header> {
        headers.iter().map(|(key, value)| wit::Header { key: key.clone(), value: self.encode(value) }).collect()
    }
}

fn push_value(value: &Value, nodes: &mut Vec<wit::ValueNode>) -> u32 {
    let index = nodes.len();
    nodes.push(wit::ValueNode::Null);
    let node = match value {
        Value::Null => wit::ValueNode::Null,
        Value::Boolean(v) => wit::ValueNode::Boolean(*v),
        Value::Int8(v) => wit::ValueNode::Int8(*v),
        Value::Int16(v) => wit::ValueNode::Int16(*v),
        Value::Int32(v) => wit::ValueNode::Int32(*v),
        Value::Int64(v) => wit::ValueNode::Int64(*v),
        Value::Float32(v) => wit::ValueNode::Float32(*v),
        Value::Float64(v) => wit::ValueNode::Float64(*v),
        Value::String(v) => wit::ValueNode::String(v.clone()),
        Value::Bytes(v) => wit::ValueNode::Bytes(v.clone()),
        Value::Array(items) => wit::ValueNode::Array(items.iter().map(|v| push_value(v, nodes)).collect()),
        Value::Struct(items) => wit::ValueNode::Struct(items.iter().map(|v| push_value(v, nodes)).collect()),
        Value::Map(entries) => wit::ValueNode::Map(entries.iter().map(|(k, v)| (push_value(k, nodes), push_value(v, nodes))).collect()),
    };
    nodes[index] = node;
    index as u32
}

fn push_owned_value(value: Value, nodes: &mut Vec<wit::ValueNode>) -> u32 {
    let index = nodes.len();
    let node = match value {
        Value::String(v) => wit::ValueNode::String(v),
        Value::Bytes(v) => wit::ValueNode::Bytes(v),
        Value::Array(items) => {
            nodes.push(wit::ValueNode::Null);
            wit::ValueNode::Array(items.into_iter().map(|v| push_owned_value(v, nodes)).collect())
        }
        Value::Struct(items) => {
            nodes.push(wit::ValueNode::Null);
            wit::ValueNode::Struct(items.into_iter().map(|v| push_owned_value(v, nodes)).collect())
        }
        Value::Map(entries) => {
            nodes.push(wit::ValueNode::Null);
            wit::ValueNode::Map(entries.into_iter().map(|(k, v)| (push_owned_value(k, nodes), push_owned_value(v, nodes))).collect())
        }
        scalar => {
            push_value(&scalar, nodes);
            return index as u32;
        }
    };
    if index == nodes.len() {
        nodes.push(node);
    } else {
        nodes[index] = node;
    }
    index as u32
}

/// Rebuilds the records of a batch; malformed input is an error, never a panic.
pub fn decode_sink_batch(batch: wit::SinkBatch) -> Result<Vec<SinkRecord>, ConnectorError> {
    let schemas = decode_schemas(&batch.schemas)?;
    let data = |d: Option<wit::Data>| d.map(|d| decode_data(d, &schemas)).transpose();
    batch
        .records
        .into_iter()
        .map(|r| {
            Ok(SinkRecord {
                topic: r.topic,
                kafka_partition: r.kafka_partition,
                kafka_offset: r.kafka_offset,
                key: data(r.key)?,
                value: data(r.value)?,
                timestamp: r.timestamp,
                headers: decode_headers(r.headers, &schemas)?,
            })
        })
        .collect()
}

/// Rebuilds the records of a batch bound for a transform chain.
pub fn decode_record_batch(batch: wit::RecordBatch) -> Result<Vec<ConnectRecord>, ConnectorError> {
    let schemas = decode_schemas(&batch.schemas)?;
    let data = |d: Option<wit::Data>| d.map(|d| decode_data(d, &schemas)).transpose();
    batch
        .records
        .into_iter()
        .map(|r| {
            Ok(ConnectRecord {
                topic: r.topic,
                kafka_partition: r.kafka_partition,
                kafka_offset: r.kafka_offset,
                key: data(r.key)?,
                value: data(r.value)?,
                timestamp: r.timestamp,
                headers: decode_headers(r.headers, &schemas)?,
            })
        })
        .collect()
}

/// The flat form of the records that came through a chain, each schema sent once.
pub fn encode_record_batch(records: Vec<ConnectRecord>) -> wit::RecordBatch {
    let mut interner = Interner::default();
    let records = records
        .into_iter()
        .map(|r| wit::ConnectRecord {
            key: r.key.as_ref().map(|d| interner.encode(d)),
            value: r.value.as_ref().map(|d| interner.encode(d)),
            headers: interner.encode_headers(&r.headers),
            topic: r.topic,
            kafka_partition: r.kafka_partition,
            kafka_offset: r.kafka_offset,
            timestamp: r.timestamp,
        })
        .collect();
    wit::RecordBatch { schemas: interner.table, records }
}

fn malformed(what: String) -> ConnectorError {
    ConnectorError::Fatal(format!("the host sent a malformed batch: {what}"))
}

fn decode_schemas(table: &[wit::Schema]) -> Result<Vec<Arc<Schema>>, ConnectorError> {
    let mut done: Vec<Option<Arc<Schema>>> = vec![None; table.len()];
    let mut visiting = vec![false; table.len()];
    (0..table.len() as u32).map(|i| decode_schema(table, i, &mut done, &mut visiting)).collect()
}

fn decode_schema(table: &[wit::Schema], index: u32, done: &mut [Option<Arc<Schema>>], visiting: &mut [bool]) -> Result<Arc<Schema>, ConnectorError> {
    let i = index as usize;
    let wit = table.get(i).ok_or_else(|| malformed(format!("schema index {index} is out of range")))?;
    if let Some(schema) = &done[i] {
        return Ok(schema.clone());
    }
    if std::mem::replace(&mut visiting[i], true) {
        return Err(malformed(format!("schema {index} contains itself")));
    }
    let mut child = |c: Option<u32>| c.map(|c| decode_schema(table, c, done, visiting)).transpose();
    let key_schema = child(wit.key_schema)?;
    let value_schema = child(wit.value_schema)?;
    let fields = wit
        .fields
        .iter()
        .map(|f| Ok(Field { name: f.name.clone(), schema: decode_schema(table, f.schema, done, visiting)? }))
        .collect::<Result<_, ConnectorError>>()?;
    let mut schema = Schema {
        schema_type: from_wit_type(wit.type_),
        optional: wit.optional,
        name: wit.name.clone(),
        version: wit.version,
        doc: wit.doc.clone(),
        parameters: wit.parameters.clone(),
        default: None,
        fields,
        key_schema,
        value_schema,
    };
    if let Some(json) = &wit.default_json {
        let bad = |e: String| malformed(format!("the default of schema {index} is not valid: {e}"));
        let parsed: serde_json::Value = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
        schema.default = Some(value_from_json(Some(&schema), &parsed).map_err(|e| bad(e.to_string()))?);
    }
    let schema = Arc::new(schema);
    done[i] = Some(schema.clone());
    Ok(schema)
}

fn decode_headers(headers: Vec<wit::Header>, schemas: &[Arc<Schema>]) -> Result<Vec<(String, Data)>, ConnectorError> {
    headers.into_iter().map(|h| Ok((h.key, decode_data(h.value, schemas)?))).collect()
}

fn decode_data(data: wit::Data, schemas: &[Arc<Schema>]) -> Result<Data, ConnectorError> {
    let schema = data
        .schema
        .map(|i| schemas.get(i as usize).cloned().ok_or_else(|| malformed(format!("schema index {i} is out of range"))))
        .transpose()?;
    let mut nodes: Vec<Option<wit::ValueNode>> = data.nodes.into_iter().map(Some).collect();
    Ok(Data { schema, value: take_value(&mut nodes, 0)? })
}

fn take_value(nodes: &mut [Option<wit::ValueNode>], index: u32) -> Result<Value, ConnectorError> {
    let node = nodes
        .get_mut(index as usize)
        .and_then(Option::take)
        .ok_or_else(|| malformed(format!("value node {index} is out of range or used twice")))?;
    let mut many = |children: Vec<u32>| children.into_iter().map(|c| take_value(nodes, c)).collect::<Result<Vec<_>, _>>();
    Ok(match node {
        wit::ValueNode::Null => Value::Null,
        wit::ValueNode::Boolean(v) => Value::Boolean(v),
        wit::ValueNode::Int8(v) => Value::Int8(v),
        wit::ValueNode::Int16(v) => Value::Int16(v),
        wit::ValueNode::Int32(v) => Value::Int32(v),
        wit::ValueNode::Int64(v) => Value::Int64(v),
        wit::ValueNode::Float32(v) => Value::Float32(v),
        wit::ValueNode::Float64(v) => Value::Float64(v),
        wit::ValueNode::String(v) => Value::String(v),
        wit::ValueNode::Bytes(v) => Value::Bytes(v),
        wit::ValueNode::Array(children) => Value::Array(many(children)?),
        wit::ValueNode::Struct(children) => Value::Struct(many(children)?),
        wit::ValueNode::Map(entries) => {
            let mut out = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                out.push((take_value(nodes, k)?, take_value(nodes, v)?));
            }
            Value::Map(out)
        }
    })
}

fn to_wit_type(t: SchemaType) -> wit::SchemaType {
    match t {
        SchemaType::Int8 => wit::SchemaType::Int8,
        SchemaType::Int16 => wit::SchemaType::Int16,
        SchemaType::Int32 => wit::SchemaType::Int32,
        SchemaType::Int64 => wit::SchemaType::Int64,
        SchemaType::Float32 => wit::SchemaType::Float32,
        SchemaType::Float64 => wit::SchemaType::Float64,
        SchemaType::Boolean => wit::SchemaType::Boolean,
        SchemaType::String => wit::SchemaType::String,
        SchemaType::Bytes => wit::SchemaType::Bytes,
        SchemaType::Array => wit::SchemaType::Array,
        SchemaType::Map => wit::SchemaType::Map,
        SchemaType::Struct => wit::SchemaType::Struct,
    }
}

fn from_wit_type(t: wit::SchemaType) -> SchemaType {
    match t {
        wit::SchemaType::Int8 => SchemaType::Int8,
        wit::SchemaType::Int16 => SchemaType::Int16,
        wit::SchemaType::Int32 => SchemaType::Int32,
        wit::SchemaType::Int64 => SchemaType::Int64,
        wit::SchemaType::Float32 => SchemaType::Float32,
        wit::SchemaType::Float64 => SchemaType::Float64,
        wit::SchemaType::Boolean => SchemaType::Boolean,
        wit::SchemaType::String => SchemaType::String,
        wit::SchemaType::Bytes => SchemaType::Bytes,
        wit::SchemaType::Array => SchemaType::Array,
        wit::SchemaType::Map => SchemaType::Map,
        wit::SchemaType::Struct => SchemaType::Struct,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_record_keeps_its_own_source_partition() {
        let mut batch = SourceBatch::new();
        for table in ["a", "a", "b", "a"] {
            batch.push(SourceRecord {
                source_partition: serde_json::json!({"table": table}),
                source_offset: serde_json::json!({}),
                topic: "t".into(),
                kafka_partition: None,
                key: None,
                value: None,
                timestamp: None,
            });
        }
        let partitions: Vec<String> = batch.into_wit().records.into_iter().map(|r| r.source_partition).collect();
        assert_eq!(partitions, [r#"{"table":"a"}"#, r#"{"table":"a"}"#, r#"{"table":"b"}"#, r#"{"table":"a"}"#]);
    }

    #[test]
    fn a_source_batch_decodes_as_the_same_records_with_schemas_sent_once() {
        let string = Arc::new(Schema::new(SchemaType::String));
        let schema = Arc::new(
            Schema::structure(vec![
                Field::new("id", Schema::new(SchemaType::Int32)),
                Field::new("tags", Schema::array(string.clone())),
                Field::new("attrs", Schema::map(string, Arc::new(Schema::new(SchemaType::Int64))).optional()),
                Field::new("at", Schema::timestamp().optional()),
                Field::new("level", Schema { default: Some(Value::Int32(3)), ..Schema::new(SchemaType::Int32) }),
            ])
            .named("users"),
        );
        let value = |id| {
            Value::Struct(vec![
                Value::Int32(id),
                Value::Array(vec![Value::String("a".into())]),
                Value::Map(vec![(Value::String("k".into()), Value::Int64(1))]),
                Value::Null,
                Value::Int32(id),
            ])
        };
        let mut batch = SourceBatch::new();
        for id in [1, 2] {
            batch.push(SourceRecord {
                source_partition: serde_json::json!({"table": "users"}),
                source_offset: serde_json::json!({"incrementing": id}),
                topic: "t".into(),
                kafka_partition: None,
                key: None,
                value: Some(Data { schema: Some(schema.clone()), value: value(id) }),
                timestamp: None,
            });
        }
        let wire = batch.wait(25).into_wit();
        assert_eq!(wire.wait_ms, 25);
        // users, int32, array, string (shared with the map key), map, int64, timestamp, level.
        assert_eq!(wire.schemas.len(), 8);
        assert!(wire.schemas.iter().any(|s| s.default_json.as_deref() == Some("3")), "the default travels as JSON");
        assert_eq!(wire.records[1].source_offset, r#"{"incrementing":2}"#);

        let sink = wit::SinkBatch {
            schemas: wire.schemas,
            records: wire
                .records
                .into_iter()
                .enumerate()
                .map(|(i, r)| wit::SinkRecord { topic: r.topic, kafka_partition: 0, kafka_offset: i as i64, key: r.key, value: r.value, timestamp: None, headers: vec![] })
                .collect(),
        };
        let records = decode_sink_batch(sink).unwrap();
        assert_eq!(records[1].value, Some(Data { schema: Some(schema), value: value(2) }));
        assert_eq!(records[1].kafka_offset, 1);
    }

    #[test]
    fn a_record_batch_comes_back_as_the_same_records() {
        let schema = Arc::new(Schema::structure(vec![Field::new("id", Schema::new(SchemaType::Int32))]));
        let record = ConnectRecord {
            topic: "users".into(),
            kafka_partition: Some(2),
            kafka_offset: Some(41),
            key: Some(Data::schemaless(Value::String("k".into()))),
            value: Some(Data { schema: Some(schema.clone()), value: Value::Struct(vec![Value::Int32(7)]) }),
            timestamp: Some(1_700_000_000_000),
            headers: vec![("origin".into(), Data { schema: Some(schema), value: Value::Struct(vec![Value::Int32(1)]) })],
        };
        let tombstone = ConnectRecord { value: None, headers: vec![], ..record.clone() };
        let wire = encode_record_batch(vec![record.clone(), tombstone.clone()]);
        assert_eq!(wire.schemas.len(), 2, "the struct schema is sent once for value and header");
        assert_eq!(decode_record_batch(wire).unwrap(), vec![record, tombstone]);
    }

    #[test]
    fn malformed_batches_are_errors() {
        let bad_node = wit::SinkBatch {
            schemas: vec![],
            records: vec![wit::SinkRecord {
                topic: "t".into(),
                kafka_partition: 0,
                kafka_offset: 0,
                key: None,
                value: Some(wit::Data { schema: None, nodes: vec![wit::ValueNode::Array(vec![0])] }),
                timestamp: None,
                headers: vec![],
            }],
        };
        assert!(matches!(decode_sink_batch(bad_node), Err(ConnectorError::Fatal(_))));
        let mut schema = Interner::default();
        schema.intern(&Arc::new(Schema::array(Arc::new(Schema::new(SchemaType::Int8)))));
        let mut table = schema.table;
        table[1].value_schema = Some(1);
        assert!(decode_schemas(&table).is_err());
    }
}
