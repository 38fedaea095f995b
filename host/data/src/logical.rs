//! Names and parameters of Connect's logical types.

pub const TIMESTAMP: &str = "org.apache.kafka.connect.data.Timestamp";
pub const DATE: &str = "org.apache.kafka.connect.data.Date";
pub const TIME: &str = "org.apache.kafka.connect.data.Time";
pub const DECIMAL: &str = "org.apache.kafka.connect.data.Decimal";
/// The `Decimal` parameter holding the scale.
pub const DECIMAL_SCALE: &str = "scale";
