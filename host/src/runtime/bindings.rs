//! Host-side bindings of the WIT contract in `wit/`, through the host's own worlds in
//! `host/wit/worlds.wit` (task exports without `plugin`, so 1.0 plugins run too).
//!
//! The `source` world generates the shared interfaces (types and host imports); the others
//! reuse them so every kind of plugin sees the very same Rust types.

pub mod source {
    wasmtime::component::bindgen!({
        path: ["../wit", "wit/worlds.wit"],
        world: "wasmconnect:host/source-task",
        additional_derives: [PartialEq],
    });
}

pub mod sink {
    wasmtime::component::bindgen!({
        path: ["../wit", "wit/worlds.wit"],
        world: "wasmconnect:host/sink-task",
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

pub use sink::wasmconnect::connector::sink_context;
pub use source::wasmconnect::connector::{config, log, offsets, progress, sql, types};

pub mod transforms {
    wasmtime::component::bindgen!({
        path: ["../wit", "wit/worlds.wit"],
        world: "wasmconnect:host/transform-chain",
        with: {
            "wasmconnect:connector/types": super::source::wasmconnect::connector::types,
            "wasmconnect:connector/log": super::source::wasmconnect::connector::log,
            "wasmconnect:connector/config": super::source::wasmconnect::connector::config,
            "wasmconnect:connector/offsets": super::source::wasmconnect::connector::offsets,
            "wasmconnect:connector/sql": super::source::wasmconnect::connector::sql,
        },
    });
}

/// A plugin's `manifest` export, read once when the component is loaded.
pub mod described {
    wasmtime::component::bindgen!({
        path: ["../wit", "wit/worlds.wit"],
        world: "wasmconnect:host/described",
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
