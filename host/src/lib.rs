//! wasmconnect: a Kafka-Connect-compatible connector host whose connectors run as sandboxed
//! WebAssembly components.

pub mod cli;
pub mod herder;
pub mod log_flush;
pub mod loggers;
pub mod metrics;
pub mod rest;
pub mod runtime;
pub mod standalone;
pub mod tenancy;
pub mod worker;
