//! Connect schemas as JSON, in exactly the shape and key order Kafka's JsonConverter writes.

use std::sync::Arc;

use serde_json::{Map, Value as Json};
use wasmconnect_data::{Field, Schema, SchemaType};

use wasmconnect_data::json::{value_from_json, value_to_json};
use crate::{ConvertError, data_error};

pub fn schema_to_json(schema: &Schema) -> Json {
    let mut out = Map::new();
    out.insert("type".into(), schema.schema_type.as_str().into());
    match schema.schema_type {
        SchemaType::Array => {
            if let Some(items) = &schema.value_schema {
                out.insert("items".into(), schema_to_json(items));
            }
        }
        SchemaType::Map => {
            if let Some(keys) = &schema.key_schema {
                out.insert("keys".into(), schema_to_json(keys));
            }
            if let Some(values) = &schema.value_schema {
                out.insert("values".into(), schema_to_json(values));
            }
        }
        SchemaType::Struct => {
            let fields = schema.fields.iter().map(|f| {
                let mut field = schema_to_json(&f.schema);
                field.as_object_mut().unwrap().insert("field".into(), f.name.clone().into());
                field
            });
            out.insert("fields".into(), Json::Array(fields.collect()));
        }
        _ => {}
    }
    out.insert("optional".into(), schema.optional.into());
    if let Some(name) = &schema.name {
        out.insert("name".into(), name.clone().into());
    }
    if let Some(version) = schema.version {
        out.insert("version".into(), version.into());
    }
    if let Some(doc) = &schema.doc {
        out.insert("doc".into(), doc.clone().into());
    }
    if !schema.parameters.is_empty() {
        let parameters = schema.parameters.iter().map(|(k, v)| (k.clone(), Json::String(v.clone())));
        out.insert("parameters".into(), Json::Object(parameters.collect()));
    }
    if let Some(default) = &schema.default
        && let Ok(json) = value_to_json(Some(schema), default)
    {
        out.insert("default".into(), json);
    }
    Json::Object(out)
}

pub fn schema_from_json(json: &Json) -> Result<Schema, ConvertError> {
    let object = json.as_object().ok_or_else(|| data_error(format!("a schema must be a JSON object, not {json}")))?;
    let type_name = object
        .get("type")
        .and_then(Json::as_str)
        .ok_or_else(|| data_error(format!("a schema needs a \"type\": {json}")))?;
    let schema_type = SchemaType::parse(type_name).ok_or_else(|| {
        data_error(format!(
            "unknown schema type {type_name:?}; expected one of int8, int16, int32, int64, float, double, boolean, string, bytes, array, map, struct"
        ))
    })?;
    let mut schema = Schema::new(schema_type);
    schema.optional = match object.get("optional") {
        None | Some(Json::Null) => false,
        Some(Json::Bool(b)) => *b,
        Some(other) => return Err(data_error(format!("schema \"optional\" must be true or false, not {other}"))),
    };
    schema.name = optional_str(object, "name")?;
    schema.doc = optional_str(object, "doc")?;
    schema.version = match object.get("version") {
        None | Some(Json::Null) => None,
        Some(v) => Some(v.as_i64().and_then(|v| i32::try_from(v).ok()).ok_or_else(|| data_error(format!("schema \"version\" must be an integer, not {v}")))?),
    };
    if let Some(parameters) = object.get("parameters").filter(|p| !p.is_null()) {
        let parameters = parameters.as_object().ok_or_else(|| data_error("schema \"parameters\" must be an object"))?;
        for (k, v) in parameters {
            let v = v.as_str().ok_or_else(|| data_error(format!("schema parameter {k:?} must be a string")))?;
            schema.parameters.push((k.clone(), v.to_owned()));
        }
    }
    match schema_type {
        SchemaType::Array => schema.value_schema = Some(Arc::new(child(object, "items", "an array schema")?)),
        SchemaType::Map => {
            schema.key_schema = Some(Arc::new(child(object, "keys", "a map schema")?));
            schema.value_schema = Some(Arc::new(child(object, "values", "a map schema")?));
        }
        SchemaType::Struct => schema.fields = fields(object)?,
        _ => {}
    }
    if let Some(default) = object.get("default").filter(|d| !d.is_null()) {
        schema.default = Some(value_from_json(Some(&schema), default)?);
    }
    Ok(schema)
}

fn optional_str(object: &Map<String, Json>, key: &str) -> Result<Option<String>, ConvertError> {
    match object.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(data_error(format!("schema {key:?} must be a string, not {other}"))),
    }
}

fn child(object: &Map<String, Json>, key: &str, what: &str) -> Result<Schema, ConvertError> {
    let json = object.get(key).ok_or_else(|| data_error(format!("{what} needs {key:?}")))?;
    schema_from_json(json)
}

fn fields(object: &Map<String, Json>) -> Result<Vec<Field>, ConvertError> {
    let fields = object
        .get("fields")
        .and_then(Json::as_array)
        .ok_or_else(|| data_error("a struct schema needs \"fields\": an array of field schemas, each with a \"field\" name"))?;
    fields
        .iter()
        .map(|f| {
            let name = f
                .get("field")
                .and_then(Json::as_str)
                .ok_or_else(|| data_error(format!("a struct field needs a \"field\" name: {f}")))?;
            Ok(Field { name: name.to_owned(), schema: Arc::new(schema_from_json(f)?) })
        })
        .collect()
}
