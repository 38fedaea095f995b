//! Secrets in REST answers: the values of password keys (those the plugin's manifest types
//! `password`, and any `*.password`) are answered as `[hidden]`, and so is a password inside
//! any value that is a URL (`?password=...`, `;password=...`, `user:password@host`).
//! Provider references such as `${env:DB_PASSWORD}` are not secrets and are shown as written.

use std::sync::LazyLock;

use regex::Regex;

use crate::runtime::Plugin;
use crate::runtime::registry::ConfigType;

use super::config_store::Config;

pub const HIDDEN: &str = "[hidden]";

fn is_secret(plugin: Option<&Plugin>, key: &str) -> bool {
    key.ends_with("password") || plugin.and_then(|p| p.config_key(key)).is_some_and(|k| k.kind == ConfigType::Password)
}

/// Whether `value` holds a secret when stored under `key`: a password key's non-empty value
/// that is not a provider reference, or a URL with a password in it.
pub fn holds_secret(key: &str, value: &str) -> bool {
    (is_secret(None, key) && !value.is_empty() && !is_reference(value)) || mask_url(value) != value
}

fn is_reference(value: &str) -> bool {
    value.trim_start().starts_with("${") && value.trim_end().ends_with('}')
}

/// `password=...` in a query string or JDBC property list, and `user:password@` before a host.
static URL_PASSWORDS: LazyLock<[(Regex, &str); 2]> = LazyLock::new(|| {
    [
        (Regex::new(r"(?i)([?&;]password=)[^&;]*").expect("a valid pattern"), "${1}[hidden]"),
        (Regex::new(r"(://[^:/@?]+:)[^@/?]+@").expect("a valid pattern"), "${1}[hidden]@"),
    ]
});

/// A URL's passwords hidden; other values as they are.
fn mask_url(value: &str) -> String {
    if !value.contains("://") {
        return value.to_owned();
    }
    URL_PASSWORDS.iter().fold(value.to_owned(), |shown, (pattern, with)| pattern.replace_all(&shown, *with).into_owned())
}

pub fn mask(config: &Config, plugin: Option<&Plugin>) -> Config {
    config
        .iter()
        .map(|(key, value)| {
            let shown = if is_secret(plugin, key) && !value.is_empty() && !is_reference(value) { HIDDEN.to_owned() } else { mask_url(value) };
            (key.clone(), shown)
        })
        .collect()
}

/// Puts back the stored value of every key given as `[hidden]`, and of every URL given with
/// its passwords hidden and otherwise unchanged.
pub fn unmask(config: &mut Config, stored: &Config) {
    for (key, value) in config.iter_mut() {
        if let Some(original) = stored.get(key)
            && (value == HIDDEN || (value != original && *value == mask_url(original)))
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

    #[test]
    fn passwords_inside_urls_are_masked_and_come_back_on_a_round_trip() {
        let stored = config(&[
            ("connection.url", "jdbc:mysql://db:3306/shop?user=app&password=s3cret&useSSL=false"),
            ("other.url", "jdbc:postgresql://app:s3cret@db/shop"),
            ("sqlserver.url", "jdbc:sqlserver://db;user=app;password=s3cret;encrypt=true"),
            ("topic", "password=not-a-url"),
        ]);
        let masked = mask(&stored, None);
        assert_eq!(masked["connection.url"], "jdbc:mysql://db:3306/shop?user=app&password=[hidden]&useSSL=false");
        assert_eq!(masked["other.url"], "jdbc:postgresql://app:[hidden]@db/shop");
        assert_eq!(masked["sqlserver.url"], "jdbc:sqlserver://db;user=app;password=[hidden];encrypt=true");
        assert_eq!(masked["topic"], "password=not-a-url");
        let mut edited = masked.clone();
        edited.insert("other.url".into(), "jdbc:postgresql://app:n3w@db/shop".into());
        unmask(&mut edited, &stored);
        assert_eq!(edited["connection.url"], stored["connection.url"], "the hidden password is kept");
        assert_eq!(edited["other.url"], "jdbc:postgresql://app:n3w@db/shop", "a new password is taken");
    }
}
