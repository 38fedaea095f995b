//! The SDK for wasmconnect plugins: write a Kafka-Connect-style source, sink or single
//! message transform in Rust and build it into a WebAssembly component
//! (`cargo build --target wasm32-wasip2`).
//!
//! A source implements [`Source`] and calls [`source_plugin!`]; a sink implements [`Sink`]
//! and calls [`sink_plugin!`]; transforms and predicates implement [`Transform`] and
//! [`Predicate`] and are exported with [`transform_plugin!`]. Enable the crate feature of
//! the same name (`source`, `sink` or `transform`). The plugin sees the outside world only through the host's imports: its
//! [`Config`], [`log`], committed [`offsets`], [`sql`], and [`progress`] to tell how much
//! it has still to read.

pub mod config;
pub mod data;
pub mod log;
pub mod manifest;
pub mod offsets;
pub mod progress;
pub mod sql;
pub mod transform;
#[doc(hidden)]
pub mod __wire {
    pub use crate::wire::{decode_record_batch, decode_sink_batch, encode_record_batch};
}
mod wire;

#[doc(hidden)]
pub use wit_bindgen;

// The generated export macros of the worlds share names, and a component may only claim the
// exports it really has.
#[cfg(any(all(feature = "source", feature = "sink"), all(feature = "source", feature = "transform"), all(feature = "sink", feature = "transform")))]
compile_error!("enable one of the features `source`, `sink` or `transform`: a plugin component exports one world");

mod host {
    wit_bindgen::generate!({
        path: "wit",
        world: "wasmconnect:connector/host",
        additional_derives: [PartialEq],
    });
}

/// The WIT types and imports, for plugins that need them directly.
pub mod wit {
    pub use crate::host::wasmconnect::connector::{config, log, offsets, progress, sql, types};
}

#[cfg(feature = "source")]
#[doc(hidden)]
pub mod source_bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "wasmconnect:connector/source",
        pub_export_macro: true,
        export_macro_name: "export_source_world",
        default_bindings_module: "wasmconnect_sdk::source_bindings",
        with: {
            "wasmconnect:connector/types@1.2.0": crate::wit::types,
            "wasmconnect:connector/log@1.2.0": crate::wit::log,
            "wasmconnect:connector/config@1.2.0": crate::wit::config,
            "wasmconnect:connector/offsets@1.2.0": crate::wit::offsets,
            "wasmconnect:connector/sql@1.2.0": crate::wit::sql,
            "wasmconnect:connector/progress@1.2.0": crate::wit::progress,
        },
    });
}

#[cfg(feature = "sink")]
#[doc(hidden)]
pub mod sink_bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "wasmconnect:connector/sink",
        pub_export_macro: true,
        export_macro_name: "export_sink_world",
        default_bindings_module: "wasmconnect_sdk::sink_bindings",
        with: {
            "wasmconnect:connector/types@1.2.0": crate::wit::types,
            "wasmconnect:connector/log@1.2.0": crate::wit::log,
            "wasmconnect:connector/config@1.2.0": crate::wit::config,
            "wasmconnect:connector/offsets@1.2.0": crate::wit::offsets,
            "wasmconnect:connector/sql@1.2.0": crate::wit::sql,
            "wasmconnect:connector/progress@1.2.0": crate::wit::progress,
        },
    });
}

#[cfg(feature = "transform")]
#[doc(hidden)]
pub mod transform_bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "wasmconnect:connector/transforms",
        pub_export_macro: true,
        export_macro_name: "export_transforms_world",
        default_bindings_module: "wasmconnect_sdk::transform_bindings",
        with: {
            "wasmconnect:connector/types@1.2.0": crate::wit::types,
            "wasmconnect:connector/log@1.2.0": crate::wit::log,
            "wasmconnect:connector/config@1.2.0": crate::wit::config,
            "wasmconnect:connector/offsets@1.2.0": crate::wit::offsets,
            "wasmconnect:connector/sql@1.2.0": crate::wit::sql,
            "wasmconnect:connector/progress@1.2.0": crate::wit::progress,
        },
    });
}

/// Kafka Connect's `SinkTaskContext`: what a sink task may ask of the worker.
#[cfg(feature = "sink")]
pub mod sink_context {
    use crate::sink_bindings::wasmconnect::connector::sink_context as wit;

    /// Read these partitions from these offsets, each `(topic, partition, offset of the next
    /// record)`, instead of the consumer group's committed positions. Call it from
    /// [`crate::Sink::start`] with offsets the sink stored in its own system together with the
    /// records they follow: a crash between that write and the group's commit then repeats
    /// nothing.
    pub fn offset(offsets: impl IntoIterator<Item = (String, i32, i64)>) {
        let offsets: Vec<wit::PartitionOffset> =
            offsets.into_iter().map(|(topic, partition, offset)| wit::PartitionOffset { topic, partition, offset }).collect();
        wit::offset(&offsets);
    }
}

pub use config::Config;
pub use manifest::{ClassDef, ConfigKey, Importance, Manifest};
pub use data::{ConnectRecord, Data, Field, Schema, SchemaType, SinkRecord, SourceRecord, Value, decimal};
pub use transform::{Predicate, Transform};
pub use wire::SourceBatch;
pub use wit::types::{ConnectorError, RecordError};

/// Task configurations, as `task-configs` returns them.
pub type TaskConfigs = Vec<Vec<(String, String)>>;

/// A source connector: reads an external system and produces records.
pub trait Source: Sized + 'static {
    /// Who the plugin is and the keys it understands; the host reads it when it loads the
    /// component.
    fn manifest() -> Manifest;

    /// Splits the connector's work into at most `max_tasks` task configs; by default one
    /// task with the connector's own config.
    fn task_configs(config: &Config, max_tasks: u32) -> Result<TaskConfigs, ConnectorError> {
        let _ = max_tasks;
        Ok(vec![config.to_pairs()])
    }

    /// How often the host should call [`Source::task_configs`] again, when the split can
    /// change while the connector runs (new tables appear, say). By default never.
    fn reconfigure_interval_ms(config: &Config) -> Option<u32> {
        let _ = config;
        None
    }

    fn start(config: Config) -> Result<Self, ConnectorError>;

    /// Returns what was read since the last poll. Keep it short: the host calls again, after
    /// the batch's `wait_ms` (see [`SourceBatch::wait`]).
    fn poll(&mut self) -> Result<SourceBatch, ConnectorError>;

    fn stop(&mut self) {}
}

/// A sink connector: writes records to an external system.
pub trait Sink: Sized + 'static {
    /// Who the plugin is and the keys it understands; the host reads it when it loads the
    /// component.
    fn manifest() -> Manifest;

    /// Splits the connector's work into at most `max_tasks` task configs; by default
    /// `max_tasks` copies of the connector's config.
    fn task_configs(config: &Config, max_tasks: u32) -> Result<TaskConfigs, ConnectorError> {
        Ok(vec![config.to_pairs(); max_tasks.max(1) as usize])
    }

    /// How often the host should call [`Sink::task_configs`] again; by default never.
    fn reconfigure_interval_ms(config: &Config) -> Option<u32> {
        let _ = config;
        None
    }

    fn start(config: Config) -> Result<Self, ConnectorError>;

    /// Writes the records; when it returns `Ok` they must be durable, because the host then
    /// commits their offsets. A bad record is reported as `ConnectorError::Record` with its
    /// index, and nothing of the batch may have been written.
    fn put(&mut self, records: Vec<SinkRecord>) -> Result<(), ConnectorError>;

    fn stop(&mut self) {}
}

/// Exports a [`Source`] implementation as the plugin's component.
#[cfg(feature = "source")]
#[macro_export]
macro_rules! source_plugin {
    ($plugin:ty) => {
        struct __WasmconnectSource;

        ::std::thread_local! {
            static __TASK: ::std::cell::RefCell<Option<$plugin>> = const { ::std::cell::RefCell::new(None) };
        }

        impl $crate::source_bindings::exports::wasmconnect::connector::plugin::Guest for __WasmconnectSource {
            fn manifest() -> String {
                <$plugin as $crate::Source>::manifest().to_json()
            }
        }

        impl $crate::source_bindings::exports::wasmconnect::connector::connector::Guest for __WasmconnectSource {
            fn task_configs(max_tasks: u32) -> Result<$crate::TaskConfigs, $crate::ConnectorError> {
                <$plugin as $crate::Source>::task_configs(&$crate::Config::load(), max_tasks)
            }

            fn reconfigure_interval_ms() -> Option<u32> {
                <$plugin as $crate::Source>::reconfigure_interval_ms(&$crate::Config::load())
            }
        }

        impl $crate::source_bindings::exports::wasmconnect::connector::source_task::Guest for __WasmconnectSource {
            fn start() -> Result<(), $crate::ConnectorError> {
                let task = <$plugin as $crate::Source>::start($crate::Config::load())?;
                __TASK.with(|t| *t.borrow_mut() = Some(task));
                Ok(())
            }

            fn poll() -> Result<$crate::wit::types::SourceBatch, $crate::ConnectorError> {
                __TASK.with(|t| match t.borrow_mut().as_mut() {
                    Some(task) => <$plugin as $crate::Source>::poll(task).map($crate::SourceBatch::into_wit),
                    None => Err($crate::ConnectorError::Fatal("poll was called before start".into())),
                })
            }

            fn stop() {
                if let Some(mut task) = __TASK.with(|t| t.borrow_mut().take()) {
                    <$plugin as $crate::Source>::stop(&mut task);
                }
            }
        }

        $crate::source_bindings::export_source_world!(__WasmconnectSource with_types_in $crate::source_bindings);
    };
}

/// Exports a [`Sink`] implementation as the plugin's component.
#[cfg(feature = "sink")]
#[macro_export]
macro_rules! sink_plugin {
    ($plugin:ty) => {
        struct __WasmconnectSink;

        ::std::thread_local! {
            static __TASK: ::std::cell::RefCell<Option<$plugin>> = const { ::std::cell::RefCell::new(None) };
        }

        impl $crate::sink_bindings::exports::wasmconnect::connector::plugin::Guest for __WasmconnectSink {
            fn manifest() -> String {
                <$plugin as $crate::Sink>::manifest().to_json()
            }
        }

        impl $crate::sink_bindings::exports::wasmconnect::connector::connector::Guest for __WasmconnectSink {
            fn task_configs(max_tasks: u32) -> Result<$crate::TaskConfigs, $crate::ConnectorError> {
                <$plugin as $crate::Sink>::task_configs(&$crate::Config::load(), max_tasks)
            }

            fn reconfigure_interval_ms() -> Option<u32> {
                <$plugin as $crate::Sink>::reconfigure_interval_ms(&$crate::Config::load())
            }
        }

        impl $crate::sink_bindings::exports::wasmconnect::connector::sink_task::Guest for __WasmconnectSink {
            fn start() -> Result<(), $crate::ConnectorError> {
                let task = <$plugin as $crate::Sink>::start($crate::Config::load())?;
                __TASK.with(|t| *t.borrow_mut() = Some(task));
                Ok(())
            }

            fn put(batch: $crate::wit::types::SinkBatch) -> Result<(), $crate::ConnectorError> {
                let records = $crate::__wire::decode_sink_batch(batch)?;
                __TASK.with(|t| match t.borrow_mut().as_mut() {
                    Some(task) => <$plugin as $crate::Sink>::put(task, records),
                    None => Err($crate::ConnectorError::Fatal("put was called before start".into())),
                })
            }

            fn stop() {
                if let Some(mut task) = __TASK.with(|t| t.borrow_mut().take()) {
                    <$plugin as $crate::Sink>::stop(&mut task);
                }
            }
        }

        $crate::sink_bindings::export_sink_world!(__WasmconnectSink with_types_in $crate::sink_bindings);
    };
}

/// Exports transforms and predicates as the plugin's component. Give the two factories that
/// make an instance of a class (one the manifest lists) from its config:
/// `fn(&str, &Config) -> Result<Box<dyn Transform>, ConnectorError>` and the same for
/// [`Predicate`], and `fn() -> Manifest` listing the classes.
#[cfg(feature = "transform")]
#[macro_export]
macro_rules! transform_plugin {
    ($transform:path, $predicate:path, $manifest:path) => {
        // Only a component exports: the crate also builds natively (its transforms linked
        // into benchmarks or other tools), where these export names are not valid symbols.
        #[cfg(target_arch = "wasm32")]
        struct __WasmconnectTransforms;

        #[cfg(target_arch = "wasm32")]
        impl $crate::transform_bindings::exports::wasmconnect::connector::plugin::Guest for __WasmconnectTransforms {
            fn manifest() -> String {
                $manifest().to_json()
            }
        }

        #[cfg(target_arch = "wasm32")]
        impl $crate::transform_bindings::exports::wasmconnect::connector::transform::Guest for __WasmconnectTransforms {
            fn configure_transform(class: String, config: $crate::wit::types::Config) -> Result<u32, $crate::ConnectorError> {
                $crate::transform::__chain::configure_transform($transform, class, config)
            }

            fn configure_predicate(class: String, config: $crate::wit::types::Config) -> Result<u32, $crate::ConnectorError> {
                $crate::transform::__chain::configure_predicate($predicate, class, config)
            }

            fn apply(
                steps: Vec<$crate::transform_bindings::exports::wasmconnect::connector::transform::Step>,
                batch: $crate::wit::types::RecordBatch,
            ) -> Result<$crate::transform_bindings::exports::wasmconnect::connector::transform::Transformed, $crate::ConnectorError> {
                $crate::transform::__chain::apply(steps, batch)
            }
        }

        #[cfg(target_arch = "wasm32")]
        impl $crate::transform_bindings::exports::wasmconnect::connector::packed_transform::Guest for __WasmconnectTransforms {
            fn apply_packed(
                steps: Vec<$crate::transform_bindings::exports::wasmconnect::connector::transform::Step>,
                batch: Vec<u8>,
            ) -> Result<$crate::transform_bindings::exports::wasmconnect::connector::packed_transform::PackedTransformed, $crate::ConnectorError> {
                $crate::transform::__chain::apply_packed(steps, batch)
            }
        }

        #[cfg(target_arch = "wasm32")]
        $crate::transform_bindings::export_transforms_world!(__WasmconnectTransforms with_types_in $crate::transform_bindings);
    };
}
