//! Host-side bindings of the WIT contract in `wit/`.
//!
//! The `source` world generates the shared interfaces (types and host imports); the `sink`
//! and `transforms` worlds reuse them so every kind of plugin sees the very same Rust types.

pub mod source {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "wasmconnect:connector/source",
        additional_derives: [PartialEq],
    });
}

pub mod sink {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "wasmconnect:connector/sink",
        with: {
            "wasmconnect:connector/types": super::source::wasmconnect::connector::types,
            "wasmconnect:connector/log": super::source::wasmconnect::connector::log,
            "wasmconnect:connector/config": super::source::wasmconnect::connector::config,
            "wasmconnect:connector/offsets": super::source::wasmconnect::connector::offsets,
            "wasmconnect:connector/sql": super::source::wasmconnect::connector::sql,
            "wasmconnect:connector/progress": super::source::wasmconnect::connector::progress,
        },
    });
}

pub use source::wasmconnect::connector::{config, log, offsets, progress, sql, types};

pub mod transforms {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "wasmconnect:connector/transforms",
        with: {
            "wasmconnect:connector/types": super::source::wasmconnect::connector::types,
            "wasmconnect:connector/log": super::source::wasmconnect::connector::log,
            "wasmconnect:connector/config": super::source::wasmconnect::connector::config,
            "wasmconnect:connector/offsets": super::source::wasmconnect::connector::offsets,
            "wasmconnect:connector/sql": super::source::wasmconnect::connector::sql,
            "wasmconnect:connector/progress": super::source::wasmconnect::connector::progress,
        },
    });
}
