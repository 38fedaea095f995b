//! Secrets in REST answers: the values of password keys (those the plugin's manifest types
//! `password`, and any `*.password`) are answered as `[hidden]`. Provider references such as
//! `${env:DB_PASSWORD}` are not secrets and are shown as written.

use crate::runtime::Plugin;
use crate::runtime::registry::ConfigType;

use super::config_store::Config;

pub const HIDDEN: &str = "[hidden]";

fn is_secret(plugin: Option<&Plugin>, key: &str) -> bool {
    key.ends_with("password") || plugin.and_then(|p| p.config_key(key)).is_some_and(|k| k.kind == ConfigType::Password)
}

fn is_reference(value: &str) -> bool {
    value.trim_start().starts_with("${") && value.trim_end().ends_with('}')
}

pub fn mask(config: &Config, plugin: Option<&Plugin>) -> Config {
    config
        .iter()
        .map(|(key, value)| {
            let shown = if is_secret(plugin, key) && !value.is_empty() && !is_reference(value) { HIDDEN } else { value };
            (key.clone(), shown.to_owned())
        })
        .collect()
}

/// Puts back the stored value of every key given as `[hidden]`.
pub fn unmask(config: &mut Config, stored: &Config) {
    for (key, value) in config.iter_mut() {
        if value == HIDDEN
            && let Some(original) = stored.get(key)
        {
            value.clone_from(original);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Config {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn passwords_are_masked_references_are_not_and_masks_round_trip() {
        let stored = config(&[("connection.password", "s3cret"), ("ssl.key.password", "${env:KEY_PW}"), ("connection.user", "app"), ("empty.password", "")]);
        let masked = mask(&stored, None);
        assert_eq!(masked["connection.password"], HIDDEN);
        assert_eq!(masked["ssl.key.password"], "${env:KEY_PW}");
        assert_eq!(masked["connection.user"], "app");
        assert_eq!(masked["empty.password"], "");
        let mut edited = masked.clone();
        edited.insert("connection.user".into(), "other".into());
        unmask(&mut edited, &stored);
        assert_eq!(edited["connection.password"], "s3cret");
        assert_eq!(edited["connection.user"], "other");
    }
}
