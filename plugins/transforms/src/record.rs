//! Which part of a record a `$Key`/`$Value` transform works on, and that part's shapes.

use std::sync::Arc;

use wasmconnect_sdk::{ConnectRecord, Data, Schema, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Key,
    Value,
}

impl Side {
    pub fn noun(self) -> &'static str {
        match self {
            Side::Key => "key",
            Side::Value => "value",
        }
    }

    pub fn take(self, record: &mut ConnectRecord) -> Option<Data> {
        match self {
            Side::Key => record.key.take(),
            Side::Value => record.value.take(),
        }
    }

    pub fn put(self, record: &mut ConnectRecord, data: Option<Data>) {
        match self {
            Side::Key => record.key = data,
            Side::Value => record.value = data,
        }
    }
}

/// A key or value as Connect's transforms distinguish it.
pub enum Operand {
    /// Null, with the schema it had (if any).
    Null(Option<Arc<Schema>>),
    Schemaless(Value),
    WithSchema(Arc<Schema>, Value),
}

impl Operand {
    pub fn of(data: Option<Data>) -> Operand {
        match data {
            None => Operand::Null(None),
            Some(Data { schema, value: Value::Null }) => Operand::Null(schema),
            Some(Data { schema: None, value }) => Operand::Schemaless(value),
            Some(Data { schema: Some(schema), value }) => Operand::WithSchema(schema, value),
        }
    }

    /// Back into a record's key or value; a schemaless null is `None`, as records carry it.
    pub fn into_data(self) -> Option<Data> {
        match self {
            Operand::Null(None) => None,
            Operand::Null(Some(schema)) => Some(Data { schema: Some(schema), value: Value::Null }),
            Operand::Schemaless(value) => Some(Data::schemaless(value)),
            Operand::WithSchema(schema, value) => Some(Data { schema: Some(schema), value }),
        }
    }
}

/// `Some(data)` unless it is a schemaless null.
pub fn data(schema: Option<Arc<Schema>>, value: Value) -> Option<Data> {
    match (schema, value) {
        (None, Value::Null) => None,
        (schema, value) => Some(Data { schema, value }),
    }
}

/// Takes the `side` of `record` out, lets `change` make the new one (it may also edit the
/// rest of the record, e.g. its headers), and puts that back.
pub fn update(
    side: Side,
    mut record: ConnectRecord,
    change: impl FnOnce(Operand, &mut ConnectRecord) -> Result<Option<Data>, String>,
) -> Result<Option<ConnectRecord>, String> {
    let operand = Operand::of(side.take(&mut record));
    let data = change(operand, &mut record)?;
    side.put(&mut record, data);
    Ok(Some(record))
}
