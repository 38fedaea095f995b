//! Config providers (KIP-297 syntax): `${env:VAR}` takes an environment variable of the
//! worker, `${file:PATH:KEY}` a key of a properties file on the worker. They are resolved
//! only here, when a plugin instance gets its config, so the stored config, the REST API and
//! the logs only ever hold the reference.

use std::collections::HashMap;

use crate::herder::config_store::Config;

/// Resolves every `${provider:...}` reference of a known provider; others stay as written.
pub fn resolve(config: &Config) -> Result<Config, String> {
    let mut files: HashMap<String, HashMap<String, String>> = HashMap::new();
    config
        .iter()
        .map(|(key, value)| Ok((key.clone(), resolve_value(key, value, &mut files)?)))
        .collect()
}

fn resolve_value(key: &str, value: &str, files: &mut HashMap<String, HashMap<String, String>>) -> Result<String, String> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let reference = &after[..end];
        match lookup(reference, files) {
            Some(resolved) => out.push_str(&resolved.map_err(|e| format!("cannot resolve ${{{reference}}} in \"{key}\": {e}"))?),
            None => out.push_str(&rest[start..start + 2 + end + 1]),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Whether the value refers to one of this worker's providers (`${env:...}`, `${file:...}`).
pub fn has_reference(value: &str) -> bool {
    value.match_indices("${").any(|(at, _)| {
        let reference = &value[at + 2..];
        ["env:", "file:"].iter().any(|provider| reference.starts_with(provider))
    })
}

/// `None` for a reference to a provider this worker does not have.
fn lookup(reference: &str, files: &mut HashMap<String, HashMap<String, String>>) -> Option<Result<String, String>> {
    let (provider, target) = reference.split_once(':')?;
    match provider {
        "env" => Some(std::env::var(target).map_err(|_| format!("the worker has no environment variable {target}"))),
        "file" => {
            let Some((path, key)) = target.rsplit_once(':') else {
                return Some(Err("expected ${file:PATH:KEY}".to_owned()));
            };
            Some(file_key(path, key, files))
        }
        _ => None,
    }
}

fn file_key(path: &str, key: &str, files: &mut HashMap<String, HashMap<String, String>>) -> Result<String, String> {
    if !files.contains_key(path) {
        let file = std::fs::File::open(path).map_err(|e| format!("cannot open {path}: {e}"))?;
        let properties = java_properties::read(std::io::BufReader::new(file)).map_err(|e| format!("cannot parse {path}: {e}"))?;
        files.insert(path.to_owned(), properties);
    }
    files[path].get(key).cloned().ok_or_else(|| format!("{path} has no key {key}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Config {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn env_and_file_references_resolve_and_others_stay() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = dir.path().join("db.properties");
        std::fs::write(&secrets, "user=app\npassword=p:w\n").unwrap();
        let file = secrets.display();
        // SAFETY: the variable name is unique to this test.
        unsafe { std::env::set_var("WASMCONNECT_PROVIDER_TEST_HOST", "db.internal") };
        let resolved = resolve(&config(&[
            ("connection.url", "jdbc:mysql://${env:WASMCONNECT_PROVIDER_TEST_HOST}:3306/app"),
            ("connection.user", &format!("${{file:{file}:user}}")),
            ("connection.password", &format!("${{file:{file}:password}}")),
            ("table.name.format", "${topic}"),
            ("odd", "${unclosed"),
        ]))
        .unwrap();
        assert_eq!(resolved["connection.url"], "jdbc:mysql://db.internal:3306/app");
        assert_eq!(resolved["connection.user"], "app");
        assert_eq!(resolved["connection.password"], "p:w");
        assert_eq!(resolved["table.name.format"], "${topic}", "not a provider reference");
        assert_eq!(resolved["odd"], "${unclosed");
        assert!(has_reference("jdbc:mysql://${env:HOST}/app") && has_reference("${file:/x:y}"));
        assert!(!has_reference("${topic}") && !has_reference("$env:X"));
    }

    #[test]
    fn unresolvable_references_name_the_key() {
        let err = resolve(&config(&[("connection.password", "${env:WASMCONNECT_NO_SUCH_VARIABLE}")])).unwrap_err();
        assert!(err.contains("connection.password") && err.contains("WASMCONNECT_NO_SUCH_VARIABLE"), "{err}");
        let err = resolve(&config(&[("k", "${file:/no/such/file.properties:x}")])).unwrap_err();
        assert!(err.contains("/no/such/file.properties"), "{err}");
    }
}
