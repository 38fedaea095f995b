//! The transforms, one per file, and the class names they answer to.

mod cast;
mod drop_headers;
mod extract_field;
mod filter;
mod flatten;
mod header_from;
mod hoist_field;
mod insert_field;
mod insert_header;
mod mask_field;
mod regex_router;
mod replace_field;
mod set_schema_metadata;
mod timestamp_converter;
mod timestamp_router;
mod value_to_key;

use wasmconnect_sdk::{ConnectorError, Transform};

use crate::config::Keys;
use crate::record::Side;

type Make = fn(&Keys) -> Result<Box<dyn Transform>, ConnectorError>;

fn boxed<T: Transform>(transform: Result<T, ConnectorError>) -> Result<Box<dyn Transform>, ConnectorError> {
    Ok(Box::new(transform?))
}

/// Every transform class this plugin provides, with its constructor.
pub const CLASSES: &[(&str, Make)] = &[
    ("org.apache.kafka.connect.transforms.Cast$Key", |k| boxed(cast::Cast::new(Side::Key, k))),
    ("org.apache.kafka.connect.transforms.Cast$Value", |k| boxed(cast::Cast::new(Side::Value, k))),
    ("org.apache.kafka.connect.transforms.DropHeaders", |k| boxed(drop_headers::DropHeaders::new(k))),
    ("org.apache.kafka.connect.transforms.ExtractField$Key", |k| boxed(extract_field::ExtractField::new(Side::Key, k))),
    ("org.apache.kafka.connect.transforms.ExtractField$Value", |k| boxed(extract_field::ExtractField::new(Side::Value, k))),
    ("org.apache.kafka.connect.transforms.Filter", |_| boxed(Ok(filter::Filter))),
    ("org.apache.kafka.connect.transforms.Flatten$Key", |k| boxed(flatten::Flatten::new(Side::Key, k))),
    ("org.apache.kafka.connect.transforms.Flatten$Value", |k| boxed(flatten::Flatten::new(Side::Value, k))),
    ("org.apache.kafka.connect.transforms.HeaderFrom$Key", |k| boxed(header_from::HeaderFrom::new(Side::Key, k))),
    ("org.apache.kafka.connect.transforms.HeaderFrom$Value", |k| boxed(header_from::HeaderFrom::new(Side::Value, k))),
    ("org.apache.kafka.connect.transforms.HoistField$Key", |k| boxed(hoist_field::HoistField::new(Side::Key, k))),
    ("org.apache.kafka.connect.transforms.HoistField$Value", |k| boxed(hoist_field::HoistField::new(Side::Value, k))),
    ("org.apache.kafka.connect.transforms.InsertField$Key", |k| boxed(insert_field::InsertField::new(Side::Key, k))),
    ("org.apache.kafka.connect.transforms.InsertField$Value", |k| boxed(insert_field::InsertField::new(Side::Value, k))),
    ("org.apache.kafka.connect.transforms.InsertHeader", |k| boxed(insert_header::InsertHeader::new(k))),
    ("org.apache.kafka.connect.transforms.MaskField$Key", |k| boxed(mask_field::MaskField::new(Side::Key, k))),
    ("org.apache.kafka.connect.transforms.MaskField$Value", |k| boxed(mask_field::MaskField::new(Side::Value, k))),
    ("org.apache.kafka.connect.transforms.RegexRouter", |k| boxed(regex_router::RegexRouter::new(k))),
    ("org.apache.kafka.connect.transforms.ReplaceField$Key", |k| boxed(replace_field::ReplaceField::new(Side::Key, k))),
    ("org.apache.kafka.connect.transforms.ReplaceField$Value", |k| boxed(replace_field::ReplaceField::new(Side::Value, k))),
    ("org.apache.kafka.connect.transforms.SetSchemaMetadata$Key", |k| {
        boxed(set_schema_metadata::SetSchemaMetadata::new(Side::Key, k))
    }),
    ("org.apache.kafka.connect.transforms.SetSchemaMetadata$Value", |k| {
        boxed(set_schema_metadata::SetSchemaMetadata::new(Side::Value, k))
    }),
    ("org.apache.kafka.connect.transforms.TimestampConverter$Key", |k| {
        boxed(timestamp_converter::TimestampConverter::new(Side::Key, k))
    }),
    ("org.apache.kafka.connect.transforms.TimestampConverter$Value", |k| {
        boxed(timestamp_converter::TimestampConverter::new(Side::Value, k))
    }),
    ("org.apache.kafka.connect.transforms.TimestampRouter", |k| boxed(timestamp_router::TimestampRouter::new(k))),
    ("org.apache.kafka.connect.transforms.ValueToKey", |k| boxed(value_to_key::ValueToKey::new(k))),
];
