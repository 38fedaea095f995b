//! The plugin contract's version, and the check that a component was built against one this
//! host runs: any 1.x. Within a major version the contract only grows (see `wit/connector.wit`),
//! and wasmtime links a plugin's `@1.M` names to the host's `@1.2.0` ones by semver.

use std::collections::BTreeSet;

use wasmtime::Engine;
use wasmtime::component::types::Component as ComponentType;

/// The contract this host implements, as in `package wasmconnect:connector@...;`.
pub const VERSION: &str = "1.2.0";
const MAJOR: &str = "1";
const PACKAGE: &str = "wasmconnect:connector/";

/// The contract's interfaces among `names` (a component's imports or exports).
pub fn interfaces(names: &[String]) -> Vec<String> {
    names.iter().filter(|n| n.starts_with(PACKAGE)).cloned().collect()
}

/// Whether the component exports the contract interface `interface` (any version).
pub fn exports(ty: &ComponentType, engine: &Engine, interface: &str) -> bool {
    let prefix = format!("{PACKAGE}{interface}@");
    ty.exports(engine).any(|(name, _)| name.starts_with(&prefix))
}

/// The contract versions among `names`: what a component was built against.
pub fn versions<'a>(names: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    names.into_iter().filter_map(|n| n.strip_prefix(PACKAGE)?.split_once('@').map(|(_, v)| v.to_owned())).collect()
}

/// Refuses a component built against another major version of the contract, with what to do.
pub fn check(ty: &ComponentType, engine: &Engine) -> Result<(), String> {
    let names: Vec<&str> = ty.imports(engine).map(|(n, _)| n).chain(ty.exports(engine).map(|(n, _)| n)).collect();
    let foreign: Vec<String> = versions(names).into_iter().filter(|v| v.split('.').next() != Some(MAJOR)).collect();
    if foreign.is_empty() {
        return Ok(());
    }
    Err(format!(
        "it was built against wasmconnect:connector@{}, and this host runs plugins built against 1.0.0 to {VERSION}: \
         rebuild it with the current SDK (docs/plugin-authors.md, \"Compatibility\")",
        foreign.join(", @")
    ))
}

/// A failure to link a component, with a hint when it wants what this host does not offer.
pub fn explain_link_error(e: &wasmtime::Error) -> String {
    let message = format!("{e:#}");
    if message.contains("matching implementation was not found") {
        format!(
            "{message}: it imports something this host does not provide (plugins get the contract's imports up to \
             {VERSION} and WASI 0.2; a plugin built against a newer contract needs a newer host)"
        )
    } else {
        message
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_contracts_interfaces_and_versions_count() {
        let names = ["wasi:io/streams@0.2.6".to_owned(), "wasmconnect:connector/sql@1.0.0".to_owned(), "wasmconnect:connector/log@1.0.0".to_owned()];
        assert_eq!(interfaces(&names), ["wasmconnect:connector/sql@1.0.0", "wasmconnect:connector/log@1.0.0"]);
        assert_eq!(versions(names.iter().map(String::as_str)).into_iter().collect::<Vec<_>>(), ["1.0.0"]);
    }
}
