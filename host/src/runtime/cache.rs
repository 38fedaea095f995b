//! Compiled components, cached on disk by content hash.
//!
//! Compiling a component with cranelift takes far longer than loading it, so a restart
//! reuses the native code compiled last time. The cache key covers the component bytes and
//! the engine's compatibility hash, so a different wasmtime or different settings never
//! load stale code.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

pub struct ComponentCache {
    dir: PathBuf,
    loaded: Mutex<HashMap<String, Component>>,
}

impl ComponentCache {
    pub fn new(dir: PathBuf) -> ComponentCache {
        ComponentCache { dir, loaded: Mutex::new(HashMap::new()) }
    }

    pub fn load(&self, engine: &Engine, wasm_path: &Path) -> anyhow::Result<Component> {
        let bytes = std::fs::read(wasm_path)
            .map_err(|e| anyhow::anyhow!("cannot read plugin {}: {e}", wasm_path.display()))?;
        let key = cache_key(engine, &bytes);
        if let Some(component) = self.loaded.lock().unwrap().get(&key) {
            return Ok(component.clone());
        }
        let component = self.load_or_compile(engine, &key, &bytes, wasm_path)?;
        self.loaded.lock().unwrap().insert(key, component.clone());
        Ok(component)
    }

    fn load_or_compile(
        &self,
        engine: &Engine,
        key: &str,
        bytes: &[u8],
        wasm_path: &Path,
    ) -> anyhow::Result<Component> {
        let cached = self.dir.join(format!("{key}.cwasm"));
        if cached.exists() {
            // SAFETY: the file was written by `Component::serialize` of an engine with the
            // same compatibility hash (it is part of the name), into our own cache dir.
            match unsafe { Component::deserialize_file(engine, &cached) } {
                Ok(component) => return Ok(component),
                Err(e) => tracing::warn!(path = %cached.display(), "discarding unreadable compiled component: {e}"),
            }
        }
        let started = std::time::Instant::now();
        let component = Component::new(engine, bytes)
            .map_err(|e| anyhow::anyhow!("{} is not a valid component: {e:?}", wasm_path.display()))?;
        tracing::info!(plugin = %wasm_path.display(), elapsed_ms = started.elapsed().as_millis() as u64, "compiled plugin");
        if let Err(e) = self.store(&cached, &component) {
            tracing::warn!(path = %cached.display(), "cannot cache compiled component: {e}");
        }
        Ok(component)
    }

    fn store(&self, path: &Path, component: &Component) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let bytes = component.serialize().map_err(|e| anyhow::anyhow!("{e}"))?;
        // Write then rename, so a crash never leaves a truncated file under the final name;
        // the temporary name is unique, as other workers may share the cache directory.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let unique = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = path.with_extension(format!("tmp-{}-{unique}", std::process::id()));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(tmp, path)?;
        Ok(())
    }
}

fn cache_key(engine: &Engine, bytes: &[u8]) -> String {
    let mut engine_hash = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut engine_hash);
    let digest = Sha256::new().chain_update(bytes).chain_update(engine_hash.finish().to_le_bytes()).finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
