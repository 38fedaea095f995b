//! `decimal.format=NUMERIC`: Decimals written as JSON numbers, digit for digit as Kafka's
//! JsonConverter prints them (Java's `BigDecimal.toString()`: `12.34`, `1.00`, `1.234E-7`).
//!
//! A `serde_json::Value` cannot carry such number text (it would become an `f64` and lose
//! digits and trailing zeros), so the JSON built with Decimals as base64 is written out here
//! by walking it together with its schema, printing each Decimal's text in place of its string.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value as Json};
use wasmconnect_data::logical::DECIMAL;
use wasmconnect_data::{Schema, SchemaType, decimal};

use crate::{ConvertError, data_error};

/// Whether a Decimal occurs anywhere in `schema`, so JSON without one is written directly.
pub fn contains_decimal(schema: &Schema) -> bool {
    is_decimal(schema)
        || schema.fields.iter().any(|f| contains_decimal(&f.schema))
        || schema.key_schema.as_deref().is_some_and(contains_decimal)
        || schema.value_schema.as_deref().is_some_and(contains_decimal)
}

fn is_decimal(schema: &Schema) -> bool {
    schema.name.as_deref() == Some(DECIMAL)
}

/// Writes a payload built by `value_to_json` for `schema`.
pub fn write_value(schema: Option<&Schema>, json: &Json, out: &mut Vec<u8>) -> Result<(), ConvertError> {
    let Some(schema) = schema else { return write_plain(json, out) };
    let element = schema.value_schema.as_deref();
    match (schema.schema_type, json) {
        (SchemaType::Bytes, Json::String(base64)) if is_decimal(schema) => {
            out.extend_from_slice(decimal_text(schema, base64)?.as_bytes());
            Ok(())
        }
        (SchemaType::Array, Json::Array(items)) => write_array(items, out, |item, out| write_value(element, item, out)),
        // A map with non-string keys is an array of [key, value] pairs.
        (SchemaType::Map, Json::Array(pairs)) => {
            let key = schema.key_schema.as_deref();
            write_array(pairs, out, |pair, out| match pair {
                Json::Array(kv) if kv.len() == 2 => {
                    out.push(b'[');
                    write_value(key, &kv[0], out)?;
                    out.push(b',');
                    write_value(element, &kv[1], out)?;
                    out.push(b']');
                    Ok(())
                }
                _ => write_plain(pair, out),
            })
        }
        (SchemaType::Map, Json::Object(entries)) => write_object(entries, out, |_, _, v, out| write_value(element, v, out)),
        // Struct objects hold the fields in schema order.
        (SchemaType::Struct, Json::Object(entries)) => {
            write_object(entries, out, |i, _, v, out| write_value(schema.fields.get(i).map(|f| &*f.schema), v, out))
        }
        _ => write_plain(json, out),
    }
}

/// Writes a schema rendered by `schema_to_json`: its `default` holds a value of the schema.
pub fn write_schema(schema: &Schema, json: &Json, out: &mut Vec<u8>) -> Result<(), ConvertError> {
    let Json::Object(entries) = json else { return write_plain(json, out) };
    write_object(entries, out, |_, key, v, out| {
        let nested = match key {
            "items" | "values" => schema.value_schema.as_deref(),
            "keys" => schema.key_schema.as_deref(),
            "default" => return write_value(Some(schema), v, out),
            "fields" => {
                let Json::Array(fields) = v else { return write_plain(v, out) };
                return write_array(fields, out, |field, out| {
                    let name = field.get("field").and_then(Json::as_str).unwrap_or_default();
                    match schema.field(name) {
                        Some((_, f)) => write_schema(&f.schema, field, out),
                        None => write_plain(field, out),
                    }
                });
            }
            _ => None,
        };
        match nested {
            Some(nested) => write_schema(nested, v, out),
            None => write_plain(v, out),
        }
    })
}

type WriteResult = Result<(), ConvertError>;

fn write_array(items: &[Json], out: &mut Vec<u8>, mut item: impl FnMut(&Json, &mut Vec<u8>) -> WriteResult) -> WriteResult {
    out.push(b'[');
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        item(v, out)?;
    }
    out.push(b']');
    Ok(())
}

fn write_object(
    entries: &Map<String, Json>,
    out: &mut Vec<u8>,
    mut value: impl FnMut(usize, &str, &Json, &mut Vec<u8>) -> WriteResult,
) -> WriteResult {
    out.push(b'{');
    for (i, (name, v)) in entries.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut *out, name).expect("strings always serialize");
        out.push(b':');
        value(i, name, v, out)?;
    }
    out.push(b'}');
    Ok(())
}

fn write_plain(json: &Json, out: &mut Vec<u8>) -> WriteResult {
    serde_json::to_writer(out, json).expect("JSON values always serialize");
    Ok(())
}

fn decimal_text(schema: &Schema, base64: &str) -> Result<String, ConvertError> {
    let scale = schema.decimal_scale().ok_or_else(|| data_error("a Decimal schema needs a whole-number \"scale\" parameter"))?;
    let bytes = BASE64.decode(base64).map_err(|_| data_error(format!("a Decimal holds invalid base64 {base64:?}")))?;
    let unscaled = decimal::from_bytes(&bytes)
        .ok_or_else(|| data_error(format!("a Decimal of {} bytes is larger than 38 digits can hold", bytes.len())))?;
    Ok(java_decimal_text(unscaled, scale))
}

/// `unscaled / 10^scale` as Java's `BigDecimal.toString()` prints it: plain, unless the
/// number is so small that it needs more than six leading zeros after the point, in which
/// case it is written with an exponent (`1.234E-7`, `0E-10`).
pub fn java_decimal_text(unscaled: i128, scale: u32) -> String {
    let digits = unscaled.unsigned_abs().to_string();
    let adjusted = digits.len() as i64 - 1 - i64::from(scale);
    if adjusted >= -6 {
        return decimal::to_text(unscaled, scale);
    }
    let sign = if unscaled < 0 { "-" } else { "" };
    let (first, rest) = digits.split_at(1);
    let point = if rest.is_empty() { "" } else { "." };
    format!("{sign}{first}{point}{rest}E{adjusted}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_print_as_java_big_decimal_does() {
        assert_eq!(java_decimal_text(1234, 2), "12.34");
        assert_eq!(java_decimal_text(100, 2), "1.00");
        assert_eq!(java_decimal_text(-5, 3), "-0.005");
        assert_eq!(java_decimal_text(42, 0), "42");
        assert_eq!(java_decimal_text(1, 6), "0.000001");
        assert_eq!(java_decimal_text(1234, 10), "1.234E-7");
        assert_eq!(java_decimal_text(-1, 7), "-1E-7");
        assert_eq!(java_decimal_text(0, 10), "0E-10");
        assert_eq!(java_decimal_text(0, 2), "0.00");
    }
}
