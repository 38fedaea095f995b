//! The WebAssembly runtime: one wasmtime `Engine` for the process, the plugin registry, the
//! compiled-component cache, and a sandboxed `Store` per connector task.

pub mod bindings;
mod cache;
mod host;
mod instance;
mod limits;
pub mod registry;
mod transform;
mod wit_data;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine, Store, StoreLimitsBuilder};

pub use host::{OffsetReader, TaskContext};
pub use instance::{PluginError, PolledRecord, SinkInstance, SinkRecord, SourceInstance, TaskSplit};
pub use limits::{CALL_TIMEOUT_KEY, MEMORY_KEY, TaskLimits, WorkerLimits};
pub use registry::{Plugin, PluginKind, PluginRegistry};
pub use transform::{Step, TransformInstance, TransformRecord, Transformed};

use cache::ComponentCache;
use host::TaskState;
use instance::Sandbox;

pub struct Runtime {
    engine: Engine,
    linker: Linker<TaskState>,
    cache: ComponentCache,
    limits: WorkerLimits,
    ticking: Arc<AtomicBool>,
}

impl Runtime {
    pub fn new(cache_dir: PathBuf, limits: WorkerLimits) -> anyhow::Result<Runtime> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        // Every call gets a deadline in epoch ticks: a plugin stuck in a loop traps instead
        // of holding its thread forever.
        config.epoch_interruption(true);
        let engine = Engine::new(&config).map_err(|e| anyhow::anyhow!("{e}"))?;

        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| anyhow::anyhow!("{e}"))?;
        // Every world imports exactly what the source world does, so one linker serves all.
        bindings::source::Source::add_to_linker::<TaskState, HasSelf<TaskState>>(&mut linker, |s| s)
            .map_err(|e| anyhow::anyhow!("{e}"))?;

        let ticking = Arc::new(AtomicBool::new(true));
        spawn_epoch_ticker(&engine, ticking.clone());
        Ok(Runtime { engine, linker, cache: ComponentCache::new(cache_dir), limits, ticking })
    }

    /// Compiles (or loads from the cache) every plugin, so the first connector starts at once
    /// and a broken component shows up at startup rather than at first use.
    pub fn precompile(&self, registry: &PluginRegistry) {
        for plugin in registry.plugins() {
            if let Err(e) = self.cache.load(&self.engine, &plugin.component_path) {
                tracing::error!(plugin = %plugin.manifest.name, "{e}");
            }
        }
    }

    pub fn source(&self, plugin: &Plugin, ctx: TaskContext) -> Result<SourceInstance, PluginError> {
        let mut store = self.store(ctx);
        let component = self.component(plugin)?;
        let bindings = bindings::source::Source::instantiate(&mut store, &component, &self.linker)
            .map_err(|e| PluginError::Instantiate(format!("{e:?}")))?;
        Ok(SourceInstance::new(Sandbox::new(store), bindings))
    }

    pub fn sink(&self, plugin: &Plugin, ctx: TaskContext) -> Result<SinkInstance, PluginError> {
        let mut store = self.store(ctx);
        let component = self.component(plugin)?;
        let bindings = bindings::sink::Sink::instantiate(&mut store, &component, &self.linker)
            .map_err(|e| PluginError::Instantiate(format!("{e:?}")))?;
        Ok(SinkInstance::new(Sandbox::new(store), bindings))
    }

    pub fn transforms(&self, plugin: &Plugin, ctx: TaskContext) -> Result<TransformInstance, PluginError> {
        let mut store = self.store(ctx);
        let component = self.component(plugin)?;
        let failed = |e: wasmtime::Error| PluginError::Instantiate(format!("{e:?}"));
        let pre = self.linker.instantiate_pre(&component).map_err(failed)?;
        // `packed-transform` is optional: components built before it was added export only
        // `transform`, and are called through it.
        let packed = bindings::transforms::exports::wasmconnect::connector::packed_transform::GuestIndices::new(&pre).ok();
        let typed = bindings::transforms::exports::wasmconnect::connector::transform::GuestIndices::new(&pre).map_err(failed)?;
        let instance = pre.instantiate(&mut store).map_err(failed)?;
        let packed = packed.map(|p| p.load(&mut store, &instance)).transpose().map_err(failed)?;
        let typed = typed.load(&mut store, &instance).map_err(failed)?;
        Ok(TransformInstance::new(Sandbox::new(store), typed, packed))
    }

    /// The limits of a connector's instances, from its config within the worker's maxima.
    pub fn limits_for(&self, config: &std::collections::BTreeMap<String, String>) -> Result<TaskLimits, limits::LimitError> {
        self.limits.for_connector(config)
    }

    /// The WIT interfaces a plugin's component imports and exports, by name.
    pub fn interfaces(&self, plugin: &Plugin) -> Result<(Vec<String>, Vec<String>), PluginError> {
        let component = self.component(plugin)?;
        let ty = component.component_type();
        let imports = ty.imports(&self.engine).map(|(name, _)| name.to_owned()).collect();
        let exports = ty.exports(&self.engine).map(|(name, _)| name.to_owned()).collect();
        Ok((imports, exports))
    }

    fn component(&self, plugin: &Plugin) -> Result<wasmtime::component::Component, PluginError> {
        self.cache
            .load(&self.engine, &plugin.component_path)
            .map_err(|e| PluginError::Instantiate(e.to_string()))
    }

    fn store(&self, ctx: TaskContext) -> Store<TaskState> {
        let deadline = ctx.limits.deadline_ticks();
        let limits = StoreLimitsBuilder::new()
            .memory_size(ctx.limits.memory_bytes)
            // A refused grow traps with a message naming the limit, instead of surfacing as
            // an allocation failure somewhere inside the plugin.
            .trap_on_grow_failure(true)
            .build();
        let mut store = Store::new(&self.engine, TaskState::new(ctx, limits::MeteredLimits::new(limits)));
        store.limiter(|state| &mut state.limits);
        // Instantiation runs the component's initialisers, under the same budget as a call.
        store.set_epoch_deadline(deadline);
        store
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.ticking.store(false, Ordering::Relaxed);
    }
}

fn spawn_epoch_ticker(engine: &Engine, ticking: Arc<AtomicBool>) {
    let engine = engine.weak();
    std::thread::Builder::new()
        .name("wasm-epoch".into())
        .spawn(move || {
            while ticking.load(Ordering::Relaxed) {
                std::thread::sleep(limits::EPOCH_TICK);
                match engine.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => break,
                }
            }
        })
        .expect("spawn epoch ticker thread");
}
