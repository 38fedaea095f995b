//! Secrets at rest: before a connector's or task's config is written to `connect-configs`,
//! every value that holds a secret (a password key's value, or a URL with a password in it)
//! is sealed with AES-256-GCM under the worker's config key, and opened again when the
//! config is read back. The topic, its segment files and Kafka's tools then never see a
//! password, only `sealed:v1:...`. Provider references (`${env:...}`) are not secrets and stay
//! as written.
//!
//! The key is 32 random bytes in hex, in `config.storage.encryption.key.file` (worker
//! config; the same file on every worker of a distributed group), or for a standalone worker
//! without it `<data-dir>/config.key`, made at first start and readable by its owner only.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

use super::config_store::Config;
use super::secrets;

const PREFIX: &str = "sealed:v1:";
/// The worker config key naming the key file.
pub const KEY_FILE: &str = "config.storage.encryption.key.file";

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("cannot read the config key {path}: {reason}")]
    Key { path: String, reason: String },
    #[error(
        "cannot open the sealed value of {key:?}: it was sealed with another config key (is {KEY_FILE} the same file on \
         every worker, and the one used when the connector was created?)"
    )]
    Open { key: String },
}

pub struct Sealer {
    key: LessSafeKey,
    random: SystemRandom,
}

impl Sealer {
    /// The key in `path`, made there first if `create` and the file does not exist.
    pub fn from_file(path: &Path, create: bool) -> Result<Sealer, SealError> {
        let failed = |reason: String| SealError::Key { path: path.display().to_string(), reason };
        if create && !path.exists() {
            write_new_key(path).map_err(|e| failed(e.to_string()))?;
        }
        let text = std::fs::read_to_string(path).map_err(|e| failed(e.to_string()))?;
        let bytes = decode_hex(text.trim()).ok_or_else(|| failed("it must hold 64 hex digits (32 bytes): make one with `openssl rand -hex 32`".into()))?;
        let key = UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| failed("not a 256-bit key".into()))?;
        Ok(Sealer { key: LessSafeKey::new(key), random: SystemRandom::new() })
    }

    /// The config as it is stored: every secret sealed. `aad` binds a sealed value to its
    /// key, so a value cannot be moved to another key unnoticed.
    pub fn seal(&self, config: &Config) -> Config {
        config
            .iter()
            .map(|(key, value)| {
                let stored = if secrets::holds_secret(key, value) && !value.starts_with(PREFIX) { self.seal_value(key, value) } else { value.clone() };
                (key.clone(), stored)
            })
            .collect()
    }

    /// The config as it was given: every sealed value opened.
    pub fn open(&self, config: Config) -> Result<Config, SealError> {
        config
            .into_iter()
            .map(|(key, value)| match value.strip_prefix(PREFIX) {
                Some(sealed) => self.open_value(&key, sealed).map(|opened| (key, opened)),
                None => Ok((key, value)),
            })
            .collect()
    }

    fn seal_value(&self, key: &str, value: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        self.random.fill(&mut nonce).expect("the system's random numbers");
        let mut sealed = value.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(key.as_bytes()), &mut sealed)
            .expect("sealing a config value");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        format!("{PREFIX}{}", STANDARD.encode(out))
    }

    fn open_value(&self, key: &str, sealed: &str) -> Result<String, SealError> {
        let failed = || SealError::Open { key: key.to_owned() };
        let mut bytes = STANDARD.decode(sealed).map_err(|_| failed())?;
        if bytes.len() < NONCE_LEN {
            return Err(failed());
        }
        let mut text = bytes.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&bytes).map_err(|_| failed())?;
        let opened = self.key.open_in_place(nonce, Aad::from(key.as_bytes()), &mut text).map_err(|_| failed())?;
        String::from_utf8(opened.to_vec()).map_err(|_| failed())
    }
}

fn write_new_key(path: &Path) -> std::io::Result<()> {
    let mut key = [0u8; 32];
    SystemRandom::new().fill(&mut key).map_err(|_| std::io::Error::other("no random numbers from the system"))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(path)?, format!("{hex}\n").as_bytes())
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Config {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn secrets_are_sealed_and_opened_the_rest_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let sealer = Sealer::from_file(&dir.path().join("config.key"), true).unwrap();
        let given = config(&[
            ("connection.password", "s3cret"),
            ("connection.url", "jdbc:mysql://db:3306/shop?user=app&password=hunter2"),
            ("connection.user", "app"),
            ("ssl.key.password", "${env:KEY_PW}"),
        ]);
        let stored = sealer.seal(&given);
        assert!(stored["connection.password"].starts_with(PREFIX) && !stored["connection.password"].contains("s3cret"));
        assert!(stored["connection.url"].starts_with(PREFIX), "a URL with a password is sealed whole");
        assert_eq!((stored["connection.user"].as_str(), stored["ssl.key.password"].as_str()), ("app", "${env:KEY_PW}"));
        assert_ne!(sealer.seal(&given)["connection.password"], stored["connection.password"], "a fresh nonce each time");
        assert_eq!(sealer.open(stored.clone()).unwrap(), given);
        assert_eq!(sealer.seal(&stored), stored, "sealed values are not sealed twice");

        let mut moved = stored.clone();
        moved.insert("other.password".into(), stored["connection.password"].clone());
        assert!(matches!(sealer.open(moved), Err(SealError::Open { key }) if key == "other.password"), "bound to its key");
        let other = Sealer::from_file(&dir.path().join("other.key"), true).unwrap();
        assert!(other.open(stored).unwrap_err().to_string().contains("sealed with another config key"));
    }

    #[test]
    fn a_key_file_is_made_private_and_must_hold_a_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data/config.key");
        Sealer::from_file(&path, true).unwrap();
        #[cfg(unix)]
        assert_eq!(std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path).unwrap().permissions()) & 0o777, 0o600);
        assert!(Sealer::from_file(&dir.path().join("missing.key"), false).is_err());
        std::fs::write(dir.path().join("short.key"), "abcd").unwrap();
        let short = Sealer::from_file(&dir.path().join("short.key"), false).err().unwrap().to_string();
        assert!(short.contains("64 hex digits") && short.contains("openssl rand -hex 32"), "{short}");
    }
}
