//! Moves Connect data across the component boundary: the flat WIT form (a schema table per
//! batch, values as node arenas) to and from the host's recursive `wasmconnect_data` model.

use std::sync::Arc;

use wasmconnect_data::{Data, Field, Schema, SchemaType, Value};

use super::bindings::types as wit;

/// Malformed data from a plugin: a bug in the plugin, reported as such.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("schema index {0} is out of range")]
    SchemaIndex(u32),
    #[error("schema {0} refers to itself")]
    SchemaCycle(u32),
    #[error("value node {0} is out of range or used twice")]
    NodeIndex(u32),
    #[error("a value has no nodes (the root must be node 0)")]
    EmptyValue,
    #[error("default value of schema {index} is not valid: {message}")]
    Default { index: u32, message: String },
    /// An answer that does not fit the batch it answers.
    #[error("{0}")]
    Batch(String),
    /// A packed batch (`packed-transform`) that does not unpack.
    #[error("{0}")]
    Packed(#[from] wasmconnect_data::packed::PackedError),
}

/// Rebuilds a batch's schema table; nested schemas are shared, not copied.
pub fn decode_schemas(table: &[wit::Schema]) -> Result<Vec<Arc<Schema>>, DecodeError> {
    let mut done: Vec<Option<Arc<Schema>>> = vec![None; table.len()];
    let mut visiting = vec![false; table.len()];
    for i in 0..table.len() {
        decode_schema(table, i as u32, &mut done, &mut visiting)?;
    }
    Ok(done.into_iter().map(|s| s.expect("every schema decoded")).collect())
}

fn decode_schema(
    table: &[wit::Schema],
    index: u32,
    done: &mut [Option<Arc<Schema>>],
    visiting: &mut [bool],
) -> Result<Arc<Schema>, DecodeError> {
    let i = index as usize;
    let wit = table.get(i).ok_or(DecodeError::SchemaIndex(index))?;
    if let Some(schema) = &done[i] {
        return Ok(schema.clone());
    }
    if visiting[i] {
        return Err(DecodeError::SchemaCycle(index));
    }
    visiting[i] = true;
    let mut child = |idx: Option<u32>| idx.map(|c| decode_schema(table, c, done, visiting)).transpose();
    let key_schema = child(wit.key_schema)?;
    let value_schema = child(wit.value_schema)?;
    let mut fields = Vec::with_capacity(wit.fields.len());
    for f in &wit.fields {
        fields.push(Field { name: f.name.clone(), schema: decode_schema(table, f.schema, done, visiting)? });
    }
    let mut schema = Schema {
        schema_type: schema_type(wit.type_),
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
        let bad = |message: String| DecodeError::Default { index, message };
        let parsed: serde_json::Value = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
        schema.default =
            Some(wasmconnect_data::json::value_from_json(Some(&schema), &parsed).map_err(|e| bad(e.to_string()))?);
    }
    let schema = Arc::new(schema);
    done[i] = Some(schema.clone());
    Ok(schema)
}

pub fn decode_headers(headers: Vec<wit::Header>, schemas: &[Arc<Schema>]) -> Result<Vec<(String, Data)>, DecodeError> {
    headers.into_iter().map(|h| Ok((h.key, decode_data(h.value, schemas)?))).collect()
}

pub fn decode_data(data: wit::Data, schemas: &[Arc<Schema>]) -> Result<Data, DecodeError> {
    let schema = data
        .schema
        .map(|i| schemas.get(i as usize).cloned().ok_or(DecodeError::SchemaIndex(i)))
        .transpose()?;
    if data.nodes.is_empty() {
        return Err(DecodeError::EmptyValue);
    }
    // Each node is taken once, which also rules out cycles.
    let mut nodes: Vec<Option<wit::ValueNode>> = data.nodes.into_iter().map(Some).collect();
    let value = take_value(&mut nodes, 0)?;
    Ok(Data { schema, value })
}

fn take_value(nodes: &mut [Option<wit::ValueNode>], index: u32) -> Result<Value, DecodeError> {
    let node = nodes
        .get_mut(index as usize)
        .and_then(Option::take)
        .ok_or(DecodeError::NodeIndex(index))?;
    let mut many = |children: Vec<u32>| -> Result<Vec<Value>, DecodeError> {
        children.into_iter().map(|c| take_value(nodes, c)).collect()
    };
    Ok(match node {
        wit::ValueNode::Null => Value::Null,
        wit::ValueNode::Boolean(b) => Value::Boolean(b),
        wit::ValueNode::Int8(v) => Value::Int8(v),
        wit::ValueNode::Int16(v) => Value::Int16(v),
        wit::ValueNode::Int32(v) => Value::Int32(v),
        wit::ValueNode::Int64(v) => Value::Int64(v),
        wit::ValueNode::Float32(v) => Value::Float32(v),
        wit::ValueNode::Float64(v) => Value::Float64(v),
        wit::ValueNode::String(s) => Value::String(s),
        wit::ValueNode::Bytes(b) => Value::Bytes(b),
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

/// Builds the schema table of one batch, sending each distinct schema once.
#[derive(Default)]
pub struct SchemaInterner {
    table: Vec<wit::Schema>,
    seen: Vec<(Arc<Schema>, u32)>,
}

impl SchemaInterner {
    pub fn into_table(self) -> Vec<wit::Schema> {
        self.table
    }

    pub fn intern(&mut self, schema: &Arc<Schema>) -> u32 {
        // Records of one batch usually share one `Arc`; equal copies are merged as well.
        if let Some((_, i)) = self.seen.iter().find(|(s, _)| Arc::ptr_eq(s, schema) || s == schema) {
            return *i;
        }
        let key_schema = schema.key_schema.as_ref().map(|s| self.intern(s));
        let value_schema = schema.value_schema.as_ref().map(|s| self.intern(s));
        let fields = schema
            .fields
            .iter()
            .map(|f| wit::Field { name: f.name.clone(), schema: self.intern(&f.schema) })
            .collect();
        // A default that does not fit its schema cannot be written; the converter that parsed
        // the schema has already checked it, so this only drops what was never valid.
        let default_json = schema
            .default
            .as_ref()
            .and_then(|d| wasmconnect_data::json::value_to_json(Some(schema), d).ok())
            .map(|json| json.to_string());
        let index = self.table.len() as u32;
        self.table.push(wit::Schema {
            type_: wit_schema_type(schema.schema_type),
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

    pub fn encode(&mut self, data: &Data) -> wit::Data {
        let schema = data.schema.as_ref().map(|s| self.intern(s));
        let mut nodes = Vec::new();
        push_value(&data.value, &mut nodes);
        wit::Data { schema, nodes }
    }

    pub fn encode_headers(&mut self, headers: &[(String, Data)]) -> Vec<wit::Header> {
        headers.iter().map(|(key, value)| wit::Header { key: key.clone(), value: self.encode(value) }).collect()
    }
}

/// Appends `value` and its children; returns the value's node index.
fn push_value(value: &Value, nodes: &mut Vec<wit::ValueNode>) -> u32 {
    let index = nodes.len();
    nodes.push(wit::ValueNode::Null);
    let node = match value {
        Value::Null => wit::ValueNode::Null,
        Value::Boolean(b) => wit::ValueNode::Boolean(*b),
        Value::Int8(v) => wit::ValueNode::Int8(*v),
        Value::Int16(v) => wit::ValueNode::Int16(*v),
        Value::Int32(v) => wit::ValueNode::Int32(*v),
        Value::Int64(v) => wit::ValueNode::Int64(*v),
        Value::Float32(v) => wit::ValueNode::Float32(*v),
        Value::Float64(v) => wit::ValueNode::Float64(*v),
        Value::String(s) => wit::ValueNode::String(s.clone()),
        Value::Bytes(b) => wit::ValueNode::Bytes(b.clone()),
        Value::Array(items) => wit::ValueNode::Array(items.iter().map(|v| push_value(v, nodes)).collect()),
        Value::Struct(items) => wit::ValueNode::Struct(items.iter().map(|v| push_value(v, nodes)).collect()),
        Value::Map(entries) => wit::ValueNode::Map(
            entries.iter().map(|(k, v)| (push_value(k, nodes), push_value(v, nodes))).collect(),
        ),
    };
    nodes[index] = node;
    index as u32
}

fn schema_type(t: wit::SchemaType) -> SchemaType {
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

fn wit_schema_type(t: SchemaType) -> wit::SchemaType {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn users_schema() -> Arc<Schema> {
        let address = Schema::structure(vec![Field::new("city", Schema::new(SchemaType::String))]).named("address");
        Arc::new(
            Schema::structure(vec![
                Field::new("id", Schema::new(SchemaType::Int32)),
                Field::new("tags", Schema::array(Arc::new(Schema::new(SchemaType::String)))),
                Field::new(
                    "scores",
                    Schema::map(Arc::new(Schema::new(SchemaType::String)), Arc::new(Schema::new(SchemaType::Int64))),
                ),
                Field::new("home", address.optional()),
            ])
            .named("users"),
        )
    }

    #[test]
    fn nested_data_survives_the_round_trip_and_schemas_are_sent_once() {
        let schema = users_schema();
        let value = Value::Struct(vec![
            Value::Int32(7),
            Value::Array(vec![Value::String("a".into()), Value::String("b".into())]),
            Value::Map(vec![(Value::String("x".into()), Value::Int64(1))]),
            Value::Struct(vec![Value::String("Oslo".into())]),
        ]);
        let data = Data { schema: Some(schema.clone()), value };
        let mut interner = SchemaInterner::default();
        let first = interner.encode(&data);
        let second = interner.encode(&data.clone());
        assert_eq!(first.schema, second.schema);
        let table = interner.into_table();
        // users, id int32, tags array + its string element (shared with the map key and
        // city: equal schemas are merged), scores map + int64, home struct.
        assert_eq!(table.len(), 7, "{table:#?}");

        let schemas = decode_schemas(&table).unwrap();
        assert_eq!(decode_data(first, &schemas).unwrap(), data);
    }

    #[test]
    fn malformed_arenas_are_errors_not_panics() {
        let schemas = decode_schemas(&[]).unwrap();
        let cyclic = wit::Data { schema: None, nodes: vec![wit::ValueNode::Array(vec![0])] };
        assert!(matches!(decode_data(cyclic, &schemas), Err(DecodeError::NodeIndex(0))));
        let dangling = wit::Data { schema: None, nodes: vec![wit::ValueNode::Array(vec![5])] };
        assert!(matches!(decode_data(dangling, &schemas), Err(DecodeError::NodeIndex(5))));
        let empty = wit::Data { schema: None, nodes: vec![] };
        assert!(matches!(decode_data(empty, &schemas), Err(DecodeError::EmptyValue)));
        let bad_schema = wit::Data { schema: Some(3), nodes: vec![wit::ValueNode::Null] };
        assert!(matches!(decode_data(bad_schema, &schemas), Err(DecodeError::SchemaIndex(3))));
    }

    #[test]
    fn a_schema_that_contains_itself_is_rejected() {
        let mut interner = SchemaInterner::default();
        interner.intern(&Arc::new(Schema::array(Arc::new(Schema::new(SchemaType::Int8)))));
        let mut table = interner.into_table();
        let last = table.len() - 1;
        table[last].value_schema = Some(last as u32);
        assert!(matches!(decode_schemas(&table), Err(DecodeError::SchemaCycle(_))));
    }
}
