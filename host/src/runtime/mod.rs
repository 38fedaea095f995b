//! The WebAssembly runtime: one wasmtime `Engine` for the process, the plugin registry, the
//! compiled-component cache, and a sandboxed `Store` per connector task.

pub mod bindings;
mod cache;
pub mod contract;
mod host;
mod instance;
mod limits;
pub mod registry;
mod transform;
mod wit_data;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::sync::atomic::{AtomicBool, Ordering};

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, Store, StoreLimitsBuilder, UpdateDeadline};

pub use host::{NoOffsets, OffsetReader, TaskContext};
pub use instance::{PluginError, PolledRecord, SinkInstance, SinkRecord, SourceInstance, TaskSplit};
pub use limits::{CALL_TIMEOUT_KEY, CPU_SLICE_KEY, MEMORY_KEY, TaskLimits, WorkerLimits};
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
        // At every epoch tick a running plugin's call is checked against its budgets of
        // wall-clock and CPU time: a plugin stuck in a loop traps instead of holding its
        // thread forever.
        config.epoch_interruption(true);
        let engine = Engine::new(&config).map_err(|e| anyhow::anyhow!("{e}"))?;

        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| anyhow::anyhow!("{e}"))?;
        // One linker serves every world: the source world's imports are everyone's.
        bindings::source::SourceTask::add_to_linker::<TaskState, HasSelf<TaskState>>(&mut linker, |s| s)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        // Sinks import one interface more.
        bindings::sink_context::add_to_linker::<TaskState, HasSelf<TaskState>>(&mut linker, |s| s).map_err(|e| anyhow::anyhow!("{e}"))?;

        let ticking = Arc::new(AtomicBool::new(true));
        spawn_epoch_ticker(&engine, ticking.clone());
        Ok(Runtime { engine, linker, cache: ComponentCache::new(cache_dir), limits, ticking })
    }

    pub fn source(&self, plugin: &Plugin, ctx: TaskContext) -> Result<SourceInstance, PluginError> {
        let mut store = self.store(ctx);
        let component = self.component(plugin)?;
        let bindings = bindings::source::SourceTask::instantiate(&mut store, &component, &self.linker)
            .map_err(|e| PluginError::Instantiate(format!("{e:?}")))?;
        Ok(SourceInstance::new(Sandbox::new(store), bindings))
    }

    pub fn sink(&self, plugin: &Plugin, ctx: TaskContext) -> Result<SinkInstance, PluginError> {
        let mut store = self.store(ctx);
        let component = self.component(plugin)?;
        let bindings = bindings::sink::SinkTask::instantiate(&mut store, &component, &self.linker)
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

    /// Where a plugin's manifest call runs: no connector config, so no database; no offsets.
    fn describing(&self, component: &Path) -> TaskContext {
        // Nothing is ever driven on this runtime: without `connection.url` the `sql` import
        // refuses before it would block on one. It only fills the context's slot.
        static IDLE: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
        let tokio = tokio::runtime::Handle::try_current().unwrap_or_else(|_| {
            IDLE.get_or_init(|| tokio::runtime::Builder::new_current_thread().build().expect("a tokio runtime")).handle().clone()
        });
        TaskContext {
            connector: component.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
            task: None,
            config: Default::default(),
            offsets: Arc::new(NoOffsets),
            pools: Arc::new(wasmconnect_db::Pools::new()),
            tokio,
            limits: self.limits.default.clone(),
        }
    }

    fn compiled(&self, component: &Path) -> Result<Component, String> {
        let compiled = self.cache.load(&self.engine, component).map_err(|e| e.to_string())?;
        contract::check(&compiled.component_type(), &self.engine)?;
        Ok(compiled)
    }

    fn component(&self, plugin: &Plugin) -> Result<wasmtime::component::Component, PluginError> {
        self.cache
            .load(&self.engine, &plugin.component_path)
            .map_err(|e| PluginError::Instantiate(e.to_string()))
    }

    fn store(&self, ctx: TaskContext) -> Store<TaskState> {
        let limits = StoreLimitsBuilder::new()
            .memory_size(ctx.limits.memory_bytes)
            // A refused grow traps with a message naming the limit, instead of surfacing as
            // an allocation failure somewhere inside the plugin.
            .trap_on_grow_failure(true)
            .build();
        let mut store = Store::new(&self.engine, TaskState::new(ctx, limits::MeteredLimits::new(limits)));
        store.limiter(|state| &mut state.limits);
        // Runs on the plugin's own thread, so the budget reads that thread's CPU clock.
        store.epoch_deadline_callback(|mut store| {
            let state = store.data_mut();
            match state.call.exceeded(state.limits()) {
                None => Ok(UpdateDeadline::Continue(1)),
                Some(reason) => {
                    state.interrupted = Some(reason);
                    Ok(UpdateDeadline::Interrupt)
                }
            }
        });
        // Instantiation runs the component's initialisers, under a budget counted from here.
        store.set_epoch_deadline(1);
        store
    }
}

impl registry::Inspect for Runtime {
    fn embedded_manifest(&self, component: &Path) -> Result<Option<String>, String> {
        let compiled = self.compiled(component)?;
        if !contract::exports(&compiled.component_type(), &self.engine, "plugin") {
            return Ok(None);
        }
        let mut store = self.store(self.describing(component));
        let described = bindings::described::Described::instantiate(&mut store, &compiled, &self.linker)
            .map_err(|e| contract::explain_link_error(&e))?;
        let manifest = described.wasmconnect_connector_plugin().call_manifest(&mut store);
        manifest.map(Some).map_err(|e| format!("its manifest export failed: {e:#}{}", stderr_of(&store)))
    }

    fn check_world(&self, component: &Path, kind: PluginKind) -> Result<(), String> {
        let compiled = self.compiled(component)?;
        let pre = self.linker.instantiate_pre(&compiled).map_err(|e| contract::explain_link_error(&e))?;
        let checked = match kind {
            PluginKind::Source => bindings::source::SourceTaskPre::new(pre).map(drop),
            PluginKind::Sink => bindings::sink::SinkTaskPre::new(pre).map(drop),
            // Only `transform` is required of a transforms component (`packed-transform` is optional).
            PluginKind::Transforms => bindings::transforms::exports::wasmconnect::connector::transform::GuestIndices::new(&pre).map(drop),
        };
        checked.map_err(|e| {
            let exports = contract::interfaces(&compiled.component_type().exports(&self.engine).map(|(n, _)| n.to_owned()).collect::<Vec<_>>());
            format!("{e:#}; it exports {}", if exports.is_empty() { "none of the contract's interfaces".into() } else { exports.join(", ") })
        })
    }
}

fn stderr_of(store: &Store<TaskState>) -> String {
    let stderr = store.data().stderr_tail();
    if stderr.is_empty() { stderr } else { format!("\n{stderr}") }
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
