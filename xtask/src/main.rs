//! Build tasks: `cargo xtask dist | run | test`.
//!
//! Plugins are WebAssembly components, so building the project means two targets: the host
//! for this machine and every bundled plugin for `wasm32-wasip2`. These tasks do both and
//! lay the plugins out as the host expects them (`NAME.wasm`, and `NAME.toml` for a 1.0 plugin).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// Bundled plugins: (cargo package, its directory under `plugins/`). The package name is the
/// file stem of the component and of its manifest.
const PLUGINS: &[(&str, &str)] = &[("jdbc-source", "jdbc-source"), ("jdbc-sink", "jdbc-sink"), ("connect-transforms", "transforms")];
/// Plugins the tests use besides the bundled ones; they are not shipped in dist/.
const TEST_PLUGINS: &[(&str, &str)] = &[("chaos-source", "chaos-source"), ("compat-source", "compat-source"), ("legacy-transforms", "legacy-transforms")];
const WASM_TARGET: &str = "wasm32-wasip2";

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let task = args.next().unwrap_or_default();
    let rest: Vec<String> = args.collect();
    match task.as_str() {
        "dist" => dist().map(|_| ()),
        "run" => run(&rest),
        "test" => test(&rest),
        "bench" => bench(&rest),
        "plugins" => plugins(Profile::Dev, &target_dir().join("plugins"), &all_plugins()),
        _ => bail!(
            "usage: cargo xtask <task>\n  dist     build dist/bin/wasmconnect and dist/plugins (release)\n  \
             run      dist, then start a standalone worker on :8083 (extra args go to `standalone`)\n  \
             test     build the plugins and run every test (extra args go to `cargo test`)\n  \
             plugins  build the plugins, test ones included, into <target>/plugins (dev profile)\n  \
             bench    release-build, then compare wasmconnect with raw baselines; [ROWS] (default 100000);\n           \
                      --only transforms [RECORDS] runs the transform chain alone (default 1000000);\n           \
                      --only scale [CONNECTORS] the idle connectors on one worker process (default 200);\n           \
                      --only mariadb-sink [ROWS] the JDBC sink into MariaDB alone;\n           \
                      --only eos [ROWS] exactly-once beside at-least-once (source onto Kafka, sink into MariaDB)"
        ),
    }
}

#[derive(Clone, Copy)]
enum Profile {
    Dev,
    Release,
}

impl Profile {
    fn dir(self) -> &'static str {
        match self {
            Profile::Dev => "debug",
            Profile::Release => "release",
        }
    }

    fn args(self) -> &'static [&'static str] {
        match self {
            Profile::Dev => &[],
            Profile::Release => &["--release"],
        }
    }
}

/// The workspace root. `cargo run` sets CARGO_MANIFEST_DIR for the process, which is right
/// even when the binary was built from another checkout sharing the target directory.
fn root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest_dir.parent().expect("xtask lives in the workspace").to_owned()
}

fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root().join(dir),
        None => root().join("target"),
    }
}

fn cargo(args: &[&str]) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo).args(args).current_dir(root()).status().with_context(|| format!("cannot run {cargo}"))?;
    if !status.success() {
        bail!("`cargo {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

/// Builds every bundled plugin and copies its component into `out`, with the `NAME.toml`
/// manifest of a plugin that has one (a 1.0 plugin: newer ones export their manifest). Each
/// plugin is built on its own: they enable different SDK features (one world each), which a
/// shared build would merge.
fn plugins(profile: Profile, out: &Path, plugins: &[(&str, &str)]) -> anyhow::Result<()> {
    std::fs::create_dir_all(out)?;
    for (package, dir) in plugins {
        let mut args = vec!["build", "--target", WASM_TARGET, "-p", package];
        args.extend(profile.args());
        cargo(&args).context("building the plugins needs the wasm32-wasip2 target: rustup target add wasm32-wasip2")?;
        let wasm = target_dir().join(WASM_TARGET).join(profile.dir()).join(format!("{}.wasm", package.replace('-', "_")));
        copy(&wasm, &out.join(format!("{package}.wasm")))?;
        let manifest = root().join("plugins").join(dir).join(format!("{package}.toml"));
        let installed = out.join(format!("{package}.toml"));
        if manifest.exists() {
            copy(&manifest, &installed)?;
        } else if installed.exists() {
            // Left by an older build: beside a component that exports its manifest, the host
            // refuses a second one.
            std::fs::remove_file(&installed)?;
        }
    }
    Ok(())
}

fn all_plugins() -> Vec<(&'static str, &'static str)> {
    PLUGINS.iter().chain(TEST_PLUGINS).copied().collect()
}

fn copy(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::copy(from, to).with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
    Ok(())
}

fn dist() -> anyhow::Result<PathBuf> {
    let dist = root().join("dist");
    plugins(Profile::Release, &dist.join("plugins"), PLUGINS)?;
    cargo(&["build", "--release", "-p", "wasmconnect"])?;
    std::fs::create_dir_all(dist.join("bin"))?;
    let binary = dist.join("bin").join("wasmconnect");
    copy(&target_dir().join("release").join("wasmconnect"), &binary)?;
    println!("built {} and {}", binary.display(), dist.join("plugins").display());
    Ok(binary)
}

fn run(extra: &[String]) -> anyhow::Result<()> {
    let binary = dist()?;
    let plugin_path = root().join("dist").join("plugins");
    let status = Command::new(binary)
        .arg("standalone")
        .arg("--plugin-path")
        .arg(plugin_path)
        .args(extra)
        .current_dir(root())
        .status()?;
    if !status.success() {
        bail!("wasmconnect exited with {status}");
    }
    Ok(())
}

fn test(extra: &[String]) -> anyhow::Result<()> {
    let plugin_dir = target_dir().join("plugins");
    plugins(Profile::Dev, &plugin_dir, &all_plugins())?;
    // SAFETY: single-threaded at this point; the variable is read by the test processes.
    unsafe { std::env::set_var("WASMCONNECT_TEST_PLUGIN_PATH", &plugin_dir) };
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    // The host and its tests; then the SDK with each plugin, as each enables its own world.
    let mut runs: Vec<Vec<&str>> = vec![vec!["test", "--workspace"]];
    let plugins = all_plugins();
    runs[0].extend(plugins.iter().flat_map(|(package, _)| ["--exclude", package]));
    runs[0].extend(["--exclude", "wasmconnect-sdk"]);
    for (package, _) in &plugins {
        runs.push(vec!["test", "-p", "wasmconnect-sdk", "-p", package]);
    }
    for mut args in runs {
        args.extend(&extra);
        cargo(&args)?;
    }
    Ok(())
}

/// Builds the benchmark binary (tests/src/bin/bench/) and the worker against release builds
/// and runs the benchmark; it writes bench/RESULTS.md.
fn bench(extra: &[String]) -> anyhow::Result<()> {
    let plugin_dir = target_dir().join("plugins-release");
    plugins(Profile::Release, &plugin_dir, PLUGINS)?;
    // SAFETY: single-threaded at this point; the variable is read by the benchmark process.
    unsafe { std::env::set_var("WASMCONNECT_TEST_PLUGIN_PATH", &plugin_dir) };
    // The scale scenario runs `wasmconnect` as a process of its own, found beside the bench.
    // One build for both keeps one set of features for their shared crates: built apart,
    // each build would recompile the host crate the other one left.
    cargo(&["build", "--release", "-p", "wasmconnect-e2e", "--bin", "bench", "-p", "wasmconnect", "--bin", "wasmconnect"])?;
    let mut bench = Command::new(target_dir().join("release").join("bench"));
    if !extra.iter().any(|a| a == "--results") {
        bench.arg("--results").arg(root().join("bench").join("RESULTS.md"));
    }
    let status = bench.args(extra).current_dir(root()).status()?;
    if !status.success() {
        bail!("the benchmark failed ({status})");
    }
    Ok(())
}
