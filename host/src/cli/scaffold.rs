//! `wasmconnect plugin new|build`: a new plugin crate that builds to a component as it is,
//! and the build that lays it out for the plugin path (`NAME.wasm`, which carries its
//! manifest).

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use anyhow::{Context, bail};

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Kind {
    Source,
    Sink,
    Transform,
}

impl Kind {
    /// The crate source and the SDK feature of this kind.
    fn template(self) -> (&'static str, &'static str) {
        match self {
            Kind::Source => (include_str!("templates/source.rs.tmpl"), "source"),
            Kind::Sink => (include_str!("templates/sink.rs.tmpl"), "sink"),
            Kind::Transform => (include_str!("templates/transform.rs.tmpl"), "transform"),
        }
    }
}

/// Where this binary's own SDK is, when it runs from a wasmconnect checkout.
const BUNDLED_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../plugins/sdk");

/// Writes the crate `name` of `kind` into `dir` (default `./name`) and returns its path.
pub fn new(name: &str, kind: Kind, dir: Option<PathBuf>, sdk: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_') || name.starts_with(|c: char| c.is_ascii_digit()) {
        bail!("{name:?} cannot name a plugin crate: use lower-case letters, digits, - and _, starting with a letter");
    }
    let sdk = sdk.unwrap_or_else(|| PathBuf::from(BUNDLED_SDK));
    let sdk = sdk
        .canonicalize()
        .with_context(|| format!("the wasmconnect-sdk crate is not at {}: pass --sdk PATH to it", sdk.display()))?;
    let dir = dir.unwrap_or_else(|| PathBuf::from(name));
    if dir.exists() {
        bail!("{} exists already; choose another --dir", dir.display());
    }
    let (source, feature) = kind.template();
    std::fs::create_dir_all(dir.join("src"))?;
    std::fs::write(dir.join("Cargo.toml"), fill(include_str!("templates/Cargo.toml.tmpl"), name, feature, &sdk))?;
    std::fs::write(dir.join("src/lib.rs"), fill(source, name, feature, &sdk))?;
    Ok(dir)
}

/// A template with the plugin's names: `my-source` is the crate and plugin name, `MySource`
/// its type and `com.example.MySource` its class.
fn fill(template: &str, name: &str, feature: &str, sdk: &Path) -> String {
    let type_name: String = name.split(['-', '_']).filter(|p| !p.is_empty()).map(|p| p[..1].to_ascii_uppercase() + &p[1..]).collect();
    template
        .replace("{{name}}", name)
        .replace("{{struct}}", &type_name)
        .replace("{{class}}", &format!("com.example.{type_name}"))
        .replace("{{feature}}", feature)
        .replace("{{sdk}}", &sdk.display().to_string())
}

/// Builds the crate in `dir` for wasm32-wasip2 (release) and puts `NAME.wasm` into
/// `dir/dist`, ready for the plugin path. Returns the component's path.
/// `target_dir` is cargo's; by default `CARGO_TARGET_DIR` or `dir/target`.
pub fn build(dir: &Path, target_dir: Option<&Path>) -> anyhow::Result<PathBuf> {
    let manifest_path = dir.join("Cargo.toml");
    let cargo_toml: toml::Table = toml::from_str(&std::fs::read_to_string(&manifest_path).with_context(|| {
        format!("{} has no Cargo.toml: run this in a plugin crate, or create one with `wasmconnect plugin new`", dir.display())
    })?)?;
    let name = cargo_toml.get("package").and_then(|p| p.get("name")).and_then(|n| n.as_str()).context("Cargo.toml has no package name")?;
    let target = match target_dir {
        Some(target) => target.to_owned(),
        None => std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| dir.join("target")),
    };
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo.args(["build", "--release", "--target", "wasm32-wasip2", "--manifest-path"]).arg(&manifest_path).arg("--target-dir").arg(&target);
    let status = if std::io::stderr().is_terminal() { build_with_spinner(&mut cargo, name)? } else { cargo.status().map_err(cannot_run)? };
    if !status.success() {
        bail!("cargo build failed (is the target installed? rustup target add wasm32-wasip2)");
    }
    let built = target.join("wasm32-wasip2/release").join(format!("{}.wasm", name.replace('-', "_")));
    let dist = dir.join("dist");
    std::fs::create_dir_all(&dist)?;
    let component = dist.join(format!("{name}.wasm"));
    std::fs::copy(&built, &component).with_context(|| format!("the build left no component at {}", built.display()))?;
    Ok(component)
}

fn cannot_run(e: std::io::Error) -> anyhow::Error {
    anyhow::anyhow!("cannot run cargo: a plugin builds with Rust's cargo and the wasm32-wasip2 target ({e})")
}

/// Whether a line of cargo's is one of its steps ("   Compiling serde v1.0.0"): a verb
/// right-aligned in twelve columns, not a line of a compiler message.
fn is_step(line: &str) -> bool {
    let verb = line.trim_start().split(' ').next().unwrap_or_default();
    line.starts_with(' ') && verb.chars().next().is_some_and(char::is_uppercase) && verb.chars().all(char::is_alphabetic)
}

/// Runs the build under a spinner that shows cargo's current step ("Compiling serde ...");
/// when the build fails, everything cargo wrote is shown, as without the spinner.
fn build_with_spinner(cargo: &mut Command, name: &str) -> anyhow::Result<ExitStatus> {
    let mut child = cargo.stderr(Stdio::piped()).spawn().map_err(cannot_run)?;
    let spinner = indicatif::ProgressBar::new_spinner().with_prefix(format!("building {name}"));
    spinner.set_style(indicatif::ProgressStyle::with_template("{spinner} {prefix}: {wide_msg}").expect("the template is valid"));
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let mut output = Vec::new();
    if let Some(stderr) = child.stderr.take() {
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            if is_step(&line) {
                spinner.set_message(line.trim().to_owned());
            }
            output.push(line);
        }
    }
    let status = child.wait().map_err(cannot_run)?;
    spinner.finish_and_clear();
    if !status.success() {
        eprintln!("{}", output.join("\n"));
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/plugin-authors.md walks through the crates `plugin new` writes; it must show them
    /// exactly, or a newcomer following it would read one thing and get another.
    #[test]
    fn the_authors_guide_shows_the_generated_code() {
        let guide = include_str!("../../../docs/plugin-authors.md");
        for (name, kind) in [("gen-source", Kind::Source), ("redact", Kind::Transform), ("log-sink", Kind::Sink)] {
            let (template, feature) = kind.template();
            let code = fill(template, name, feature, Path::new("unused"));
            assert!(guide.contains(code.trim_end()), "docs/plugin-authors.md does not show what `plugin new {name} --kind {kind:?}` writes");
        }
    }

    #[test]
    fn the_spinner_shows_cargos_steps_not_its_error_messages() {
        assert!(is_step("   Compiling serde v1.0.228"));
        assert!(is_step("  Downloaded 3 crates (1.2 MB) in 0.4s"));
        for line in ["error[E0308]: mismatched types", " --> src/lib.rs:1:21", "  |", "For more information about this error"] {
            assert!(!is_step(line), "{line}");
        }
    }
}
