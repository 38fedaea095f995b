//! Connect values as JSON, guided by the schema (or inferred without one), as Kafka's
//! JsonConverter writes payloads and schema defaults. Host and plugins share it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Number, Value as Json};

use crate::logical::DECIMAL;
use crate::{Schema, SchemaType, Value, decimal};

/// A value that does not fit its schema, or JSON that does not fit a value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct JsonError(String);

type ConvertError = JsonError;

fn data_error(message: impl Into<String>) -> JsonError {
    JsonError(message.into())
}

pub fn value_to_json(schema: Option<&Schema>, value: &Value) -> Result<Json, JsonError> {
    to_json(schema, value, "")
}

pub fn value_from_json(schema: Option<&Schema>, json: &Json) -> Result<Value, JsonError> {
    from_json(schema, json, "")
}

/// Where in the value an error is, for messages ("field user_id", "element 3 of tags").
fn at(path: &str) -> String {
    if path.is_empty() { "the value".to_owned() } else { format!("field {path}") }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() { name.to_owned() } else { format!("{path}.{name}") }
}

fn mismatch(schema: &Schema, value: &Value, path: &str) -> ConvertError {
    data_error(format!("{} is declared {} but holds {value:?}", at(path), schema.schema_type.as_str()))
}

fn to_json(schema: Option<&Schema>, value: &Value, path: &str) -> Result<Json, ConvertError> {
    let Some(schema) = schema else { return schemaless_to_json(value, path) };
    if let Value::Null = value {
        return match &schema.default {
            Some(default) => to_json(Some(schema), default, path),
            None if schema.optional => Ok(Json::Null),
            None => Err(data_error(format!("{} is null, but its schema is required and has no default", at(path)))),
        };
    }
    Ok(match (schema.schema_type, value) {
        (SchemaType::Int8, Value::Int8(v)) => (*v).into(),
        (SchemaType::Int16, Value::Int16(v)) => (*v).into(),
        (SchemaType::Int32, Value::Int32(v)) => (*v).into(),
        (SchemaType::Int64, Value::Int64(v)) => (*v).into(),
        (SchemaType::Float32, Value::Float32(v)) => float32(*v, path)?,
        (SchemaType::Float64, Value::Float64(v)) => float64(*v, path)?,
        (SchemaType::Boolean, Value::Boolean(v)) => (*v).into(),
        (SchemaType::String, Value::String(v)) => v.clone().into(),
        (SchemaType::Bytes, Value::Bytes(v)) => BASE64.encode(v).into(),
        (SchemaType::Array, Value::Array(items)) => {
            let element = schema.value_schema.as_deref();
            let items = items.iter().enumerate().map(|(i, v)| to_json(element, v, &join(path, &i.to_string())));
            Json::Array(items.collect::<Result<_, _>>()?)
        }
        (SchemaType::Map, Value::Map(entries)) => map_to_json(schema, entries, path)?,
        (SchemaType::Struct, Value::Struct(values)) => {
            if values.len() != schema.fields.len() {
                return Err(data_error(format!(
                    "{} has {} values for a struct schema of {} fields",
                    at(path),
                    values.len(),
                    schema.fields.len()
                )));
            }
            let mut object = Map::new();
            for (field, v) in schema.fields.iter().zip(values) {
                object.insert(field.name.clone(), to_json(Some(&field.schema), v, &join(path, &field.name))?);
            }
            Json::Object(object)
        }
        _ => return Err(mismatch(schema, value, path)),
    })
}

fn map_to_json(schema: &Schema, entries: &[(Value, Value)], path: &str) -> Result<Json, ConvertError> {
    let key_schema = schema.key_schema.as_deref();
    let value_schema = schema.value_schema.as_deref();
    // Maps with string keys are JSON objects; any other key type is a list of pairs.
    if key_schema.is_some_and(|k| k.schema_type == SchemaType::String) {
        let mut object = Map::new();
        for (k, v) in entries {
            let Value::String(key) = k else { return Err(data_error(format!("{} has a map key that is not a string", at(path)))) };
            object.insert(key.clone(), to_json(value_schema, v, &join(path, key))?);
        }
        return Ok(Json::Object(object));
    }
    let pairs = entries
        .iter()
        .map(|(k, v)| Ok(Json::Array(vec![to_json(key_schema, k, path)?, to_json(value_schema, v, path)?])))
        .collect::<Result<_, ConvertError>>()?;
    Ok(Json::Array(pairs))
}

fn schemaless_to_json(value: &Value, path: &str) -> Result<Json, ConvertError> {
    Ok(match value {
        Value::Null => Json::Null,
        Value::Boolean(v) => (*v).into(),
        Value::Int8(v) => (*v).into(),
        Value::Int16(v) => (*v).into(),
        Value::Int32(v) => (*v).into(),
        Value::Int64(v) => (*v).into(),
        Value::Float32(v) => float32(*v, path)?,
        Value::Float64(v) => float64(*v, path)?,
        Value::String(v) => v.clone().into(),
        Value::Bytes(v) => BASE64.encode(v).into(),
        Value::Array(items) => Json::Array(items.iter().map(|v| schemaless_to_json(v, path)).collect::<Result<_, _>>()?),
        Value::Map(entries) if entries.iter().all(|(k, _)| matches!(k, Value::String(_))) => {
            let mut object = Map::new();
            for (k, v) in entries {
                let Value::String(key) = k else { unreachable!("checked above") };
                object.insert(key.clone(), schemaless_to_json(v, &join(path, key))?);
            }
            Json::Object(object)
        }
        Value::Map(entries) => Json::Array(
            entries
                .iter()
                .map(|(k, v)| Ok(Json::Array(vec![schemaless_to_json(k, path)?, schemaless_to_json(v, path)?])))
                .collect::<Result<_, ConvertError>>()?,
        ),
        Value::Struct(_) => return Err(data_error(format!("{} is a struct without a schema", at(path)))),
    })
}

/// Written as its shortest decimal form ("1.1", not 1.100000023841858), as Jackson does.
fn float32(v: f32, path: &str) -> Result<Json, ConvertError> {
    let shortest: f64 = v.to_string().parse().unwrap_or(f64::from(v));
    float64(shortest, path)
}

fn float64(v: f64, path: &str) -> Result<Json, ConvertError> {
    Number::from_f64(v).map(Json::Number).ok_or_else(|| data_error(format!("{} is {v}, which JSON cannot represent", at(path))))
}

fn from_json(schema: Option<&Schema>, json: &Json, path: &str) -> Result<Value, ConvertError> {
    let Some(schema) = schema else { return Ok(schemaless_from_json(json)) };
    if json.is_null() {
        return match &schema.default {
            Some(default) => Ok(default.clone()),
            None if schema.optional => Ok(Value::Null),
            None => Err(data_error(format!("{} is missing or null, but its schema is required and has no default", at(path)))),
        };
    }
    let wrong = || data_error(format!("{} should be {} but is {json}", at(path), describe(schema)));
    let int = |min: i64, max: i64| json.as_i64().filter(|v| (min..=max).contains(v)).ok_or_else(wrong);
    Ok(match schema.schema_type {
        SchemaType::Int8 => Value::Int8(int(i8::MIN.into(), i8::MAX.into())? as i8),
        SchemaType::Int16 => Value::Int16(int(i16::MIN.into(), i16::MAX.into())? as i16),
        SchemaType::Int32 => Value::Int32(int(i32::MIN.into(), i32::MAX.into())? as i32),
        SchemaType::Int64 => Value::Int64(json.as_i64().ok_or_else(wrong)?),
        SchemaType::Float32 => Value::Float32(json.as_f64().ok_or_else(wrong)? as f32),
        SchemaType::Float64 => Value::Float64(json.as_f64().ok_or_else(wrong)?),
        SchemaType::Boolean => Value::Boolean(json.as_bool().ok_or_else(wrong)?),
        SchemaType::String => Value::String(json.as_str().ok_or_else(wrong)?.to_owned()),
        SchemaType::Bytes => Value::Bytes(bytes_from_json(schema, json).ok_or_else(wrong)?),
        SchemaType::Array => {
            let items = json.as_array().ok_or_else(wrong)?;
            let element = schema.value_schema.as_deref();
            Value::Array(
                items.iter().enumerate().map(|(i, v)| from_json(element, v, &join(path, &i.to_string()))).collect::<Result<_, _>>()?,
            )
        }
        SchemaType::Map => map_from_json(schema, json, path).ok_or_else(wrong)??,
        SchemaType::Struct => {
            let object = json.as_object().ok_or_else(wrong)?;
            let values = schema.fields.iter().map(|f| {
                from_json(Some(&f.schema), object.get(&f.name).unwrap_or(&Json::Null), &join(path, &f.name))
            });
            Value::Struct(values.collect::<Result<_, _>>()?)
        }
    })
}

/// Bytes are base64 text; a Decimal may also come as a JSON number.
fn bytes_from_json(schema: &Schema, json: &Json) -> Option<Vec<u8>> {
    match json {
        Json::String(text) => BASE64.decode(text).ok(),
        Json::Number(n) if schema.name.as_deref() == Some(DECIMAL) => {
            let unscaled = decimal::unscaled_from_text(&n.to_string(), schema.decimal_scale()?)?;
            Some(decimal::to_bytes(unscaled))
        }
        _ => None,
    }
}

/// `None` when the JSON has the wrong shape altogether.
fn map_from_json(schema: &Schema, json: &Json, path: &str) -> Option<Result<Value, ConvertError>> {
    let key_schema = schema.key_schema.as_deref();
    let value_schema = schema.value_schema.as_deref();
    let entries: Result<Vec<(Value, Value)>, ConvertError> = match json {
        Json::Object(object) => object
            .iter()
            .map(|(k, v)| Ok((Value::String(k.clone()), from_json(value_schema, v, &join(path, k))?)))
            .collect(),
        Json::Array(pairs) => pairs
            .iter()
            .map(|pair| match pair.as_array().map(Vec::as_slice) {
                Some([k, v]) => Ok((from_json(key_schema, k, path)?, from_json(value_schema, v, path)?)),
                _ => Err(data_error(format!("{} should hold [key, value] pairs, not {pair}", at(path)))),
            })
            .collect(),
        _ => return None,
    };
    Some(entries.map(Value::Map))
}

fn schemaless_from_json(json: &Json) -> Value {
    match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Boolean(*b),
        Json::Number(n) => n.as_i64().map_or_else(|| Value::Float64(n.as_f64().unwrap_or(f64::NAN)), Value::Int64),
        Json::String(s) => Value::String(s.clone()),
        Json::Array(items) => Value::Array(items.iter().map(schemaless_from_json).collect()),
        Json::Object(object) => {
            Value::Map(object.iter().map(|(k, v)| (Value::String(k.clone()), schemaless_from_json(v))).collect())
        }
    }
}

fn describe(schema: &Schema) -> String {
    match &schema.name {
        Some(name) => format!("{} ({name})", schema.schema_type.as_str()),
        None => schema.schema_type.as_str().to_owned(),
    }
}
