//! Tenants: who may call the REST API (bearer tokens, stored as SHA-256 hashes) and what each
//! tenant's connectors may reach: database hosts, topics under the tenant's prefix, and caps
//! on connectors, tasks, memory and call time. Read from the TOML file that
//! `rest.auth.tenants.file` (or `--tenants-file`) names; `rest.auth=tenants` turns it on.
//!
//! A connector belongs to the tenant named by its [`OWNER_KEY`], which the worker sets when a
//! tenant creates it. The key travels with the config into `connect-configs`, so ownership
//! survives restarts and does not depend on how connectors are named.

mod policy;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

use crate::herder::config_store::Config;
use crate::standalone::InternalTopics;
pub use policy::admit;

/// The config key naming the tenant a connector belongs to.
pub const OWNER_KEY: &str = "wasmconnect.tenant";

const HASH_PREFIX: &str = "sha256:";

/// How a token is stored in the tenants file: `sha256:` and 64 lower-case hex digits. Tokens
/// are long random strings, so an unsalted fast hash is enough to keep a stolen file useless.
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{HASH_PREFIX}{hex}")
}

/// Who is calling: an admin (or anyone, when the worker has no `rest.auth`), or a tenant.
#[derive(Clone, Debug)]
pub enum Caller {
    Admin,
    Tenant(Arc<Tenant>),
}

impl Caller {
    /// Whether the caller may see and manage the connector with this config.
    pub fn owns(&self, config: &Config) -> bool {
        match self {
            Caller::Admin => true,
            Caller::Tenant(tenant) => config.get(OWNER_KEY) == Some(&tenant.name),
        }
    }

    /// Held while a tenant creates or changes a connector; admins need no such turn.
    pub async fn changing(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self {
            Caller::Admin => None,
            Caller::Tenant(tenant) => Some(tenant.changing.lock().await),
        }
    }

    pub fn sees_topic(&self, topic: &str) -> bool {
        match self {
            Caller::Admin => true,
            Caller::Tenant(tenant) => tenant.allows_topic(topic),
        }
    }
}

#[derive(Debug)]
pub struct Tenant {
    pub name: String,
    /// Every topic the tenant's connectors read or write starts with this.
    pub topic_prefix: String,
    allowed_hosts: Vec<HostPattern>,
    max_connectors: Option<usize>,
    /// The most tasks (the sum of `tasks.max`) over all the tenant's connectors.
    max_tasks: Option<u32>,
    max_memory_bytes: Option<u64>,
    max_call_timeout_ms: Option<u64>,
    max_cpu_slice_ms: Option<u64>,
    /// Held while one of the tenant's connectors is created or changed, so that two requests
    /// at once cannot both fit under a cap that only one of them fits under.
    pub changing: tokio::sync::Mutex<()>,
}

impl Tenant {
    pub fn allows_topic(&self, topic: &str) -> bool {
        topic.starts_with(&self.topic_prefix)
    }
}

/// An entry of `allowed-hosts`: `host` (any port) or `host:port`; IPv6 as `[::1]:5432`.
#[derive(Debug, PartialEq)]
struct HostPattern {
    host: String,
    port: Option<u16>,
}

impl HostPattern {
    fn parse(entry: &str) -> Result<HostPattern, String> {
        let entry = entry.trim();
        let (host, port) = match entry.strip_prefix('[') {
            Some(v6) => match v6.split_once(']') {
                Some((host, "")) => (host, None),
                Some((host, port)) => (host, Some(port.strip_prefix(':').unwrap_or(port))),
                None => return Err(format!("{entry:?} has no closing ]")),
            },
            // More than one colon: a bare IPv6 address.
            None => match entry.split_once(':') {
                Some((host, port)) if !port.contains(':') => (host, Some(port)),
                _ => (entry, None),
            },
        };
        let port = port.map(|p| p.parse::<u16>().map_err(|_| format!("{entry:?} has an invalid port {p:?}"))).transpose()?;
        if host.is_empty() {
            return Err(format!("{entry:?} names no host"));
        }
        Ok(HostPattern { host: host.to_ascii_lowercase(), port })
    }

    fn matches(&self, host: &str, port: u16) -> bool {
        self.host.eq_ignore_ascii_case(host) && self.port.is_none_or(|p| p == port)
    }
}

impl std::fmt::Display for HostPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        match self.port {
            Some(port) => write!(f, "{host}:{port}"),
            None => write!(f, "{host}"),
        }
    }
}

/// The tenants file, as written.
#[derive(serde::Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct TenantsFile {
    #[serde(default)]
    admin_tokens: Vec<String>,
    #[serde(default)]
    tenants: BTreeMap<String, TenantEntry>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct TenantEntry {
    tokens: Vec<String>,
    topic_prefix: String,
    #[serde(default)]
    allowed_hosts: Vec<String>,
    max_connectors: Option<usize>,
    max_tasks: Option<u32>,
    max_memory_bytes: Option<u64>,
    max_call_timeout_ms: Option<u64>,
    max_cpu_slice_ms: Option<u64>,
}

#[derive(Debug)]
pub struct Tenants {
    tenants: BTreeMap<String, Arc<Tenant>>,
    /// Token hash → who presents that token.
    tokens: HashMap<String, Caller>,
}

impl Tenants {
    pub fn load(path: &Path) -> anyhow::Result<Tenants> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the tenants file {}", path.display()))?;
        Tenants::parse(&text).with_context(|| format!("in the tenants file {}", path.display()))
    }

    pub fn parse(text: &str) -> anyhow::Result<Tenants> {
        let file: TenantsFile = toml::from_str(text)?;
        let mut tenants = BTreeMap::new();
        let mut tokens = HashMap::new();
        let mut add_token = |hash: String, caller: Caller, whose: &str| {
            if hash.len() != HASH_PREFIX.len() + 64
                || !hash.starts_with(HASH_PREFIX)
                || !hash[HASH_PREFIX.len()..].bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            {
                bail!(
                    "a token of {whose} is not stored as sha256:<64 lower-case hex digits>; tokens are kept only hashed: \
                     printf %s \"$TOKEN\" | wasmconnect tenants hash-token"
                );
            }
            if tokens.insert(hash, caller).is_some() {
                bail!("a token of {whose} is given twice (or also to someone else)");
            }
            Ok(())
        };
        for hash in file.admin_tokens {
            add_token(hash, Caller::Admin, "admin-tokens")?;
        }
        for (name, entry) in file.tenants {
            let tenant = Arc::new(tenant(&name, &entry)?);
            for hash in entry.tokens {
                add_token(hash, Caller::Tenant(tenant.clone()), &format!("tenant {name}"))?;
            }
            tenants.insert(name, tenant);
        }
        check_prefixes(&tenants)?;
        Ok(Tenants { tenants, tokens })
    }

    /// Who presents this token, if anyone.
    pub fn authenticate(&self, token: &str) -> Option<Caller> {
        self.tokens.get(&hash_token(token)).cloned()
    }

    /// The tenant a connector belongs to; an owner the file no longer names is an error, so
    /// that its connectors run with nothing rather than with everything.
    pub fn owner(&self, config: &Config) -> Result<Option<Arc<Tenant>>, String> {
        let Some(name) = config.get(OWNER_KEY) else { return Ok(None) };
        self.tenants
            .get(name)
            .cloned()
            .map(Some)
            .ok_or_else(|| format!("the connector belongs to tenant {name} ({OWNER_KEY}), which the tenants file does not name"))
    }
}

fn tenant(name: &str, entry: &TenantEntry) -> anyhow::Result<Tenant> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
        bail!("tenant name {name:?}: use ASCII letters, digits, '.', '_' and '-'");
    }
    if entry.tokens.is_empty() {
        bail!("tenant {name} has no tokens, so nobody could act for it");
    }
    if entry.topic_prefix.is_empty() {
        bail!("tenant {name} needs a topic-prefix: without one its connectors could use every topic");
    }
    // The default names: a distributed worker that renames its internal topics must keep
    // them outside every prefix itself.
    let defaults = InternalTopics::default();
    let internal = [&defaults.config.name, &defaults.offsets.name, &defaults.status.name];
    if let Some(topic) = internal.iter().find(|t| t.starts_with(&entry.topic_prefix)) {
        bail!("tenant {name}'s topic-prefix {:?} covers the worker's own topic {topic}", entry.topic_prefix);
    }
    let allowed_hosts: Vec<HostPattern> = entry
        .allowed_hosts
        .iter()
        .map(|h| HostPattern::parse(h))
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("tenant {name}'s allowed-hosts: {e}"))?;
    Ok(Tenant {
        name: name.to_owned(),
        topic_prefix: entry.topic_prefix.clone(),
        allowed_hosts,
        max_connectors: entry.max_connectors,
        max_tasks: entry.max_tasks,
        max_memory_bytes: entry.max_memory_bytes,
        max_call_timeout_ms: entry.max_call_timeout_ms,
        max_cpu_slice_ms: entry.max_cpu_slice_ms,
        changing: tokio::sync::Mutex::new(()),
    })
}

/// One tenant's prefix must not start another's, or the first could use the second's topics.
fn check_prefixes(tenants: &BTreeMap<String, Arc<Tenant>>) -> anyhow::Result<()> {
    for a in tenants.values() {
        for b in tenants.values() {
            if a.name != b.name && b.topic_prefix.starts_with(&a.topic_prefix) {
                bail!(
                    "tenant {}'s topic-prefix {:?} also covers tenant {}'s {:?}: give each tenant a prefix no other starts with",
                    a.name,
                    a.topic_prefix,
                    b.name,
                    b.topic_prefix
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(acme_extra: &str) -> String {
        format!(
            "admin-tokens = [\"{}\"]\n[tenants.acme]\ntokens = [\"{}\"]\ntopic-prefix = \"acme.\"\n{acme_extra}\n\
             [tenants.globex]\ntokens = [\"{}\"]\ntopic-prefix = \"globex.\"\nallowed-hosts = [\"db.globex\", \"10.0.0.7:5432\", \"[::1]:3306\"]\n",
            hash_token("root-token"),
            hash_token("acme-token"),
            hash_token("globex-token")
        )
    }

    #[test]
    fn tokens_are_found_by_their_hash_only() {
        let tenants = Tenants::parse(&file("")).unwrap();
        assert!(matches!(tenants.authenticate("root-token"), Some(Caller::Admin)));
        assert!(matches!(tenants.authenticate("acme-token"), Some(Caller::Tenant(t)) if t.name == "acme"));
        assert!(tenants.authenticate("wrong").is_none());
        assert!(tenants.authenticate(&hash_token("acme-token")).is_none(), "the stored hash is not itself a token");
        assert_eq!(hash_token(""), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    #[test]
    fn host_patterns_match_host_and_optional_port() {
        let any = HostPattern::parse("DB.Globex").unwrap();
        assert!(any.matches("db.globex", 5432) && any.matches("db.globex", 3306));
        let exact = HostPattern::parse("10.0.0.7:5432").unwrap();
        assert!(exact.matches("10.0.0.7", 5432) && !exact.matches("10.0.0.7", 3306));
        let v6 = HostPattern::parse("[::1]:3306").unwrap();
        assert_eq!(v6, HostPattern { host: "::1".into(), port: Some(3306) });
        assert_eq!(v6.to_string(), "[::1]:3306");
        assert_eq!(HostPattern::parse("::1").unwrap(), HostPattern { host: "::1".into(), port: None });
        assert!(HostPattern::parse("db:x").is_err());
    }

    #[test]
    fn unsafe_files_are_refused() {
        let err = |text: &str| format!("{:#}", Tenants::parse(text).unwrap_err());
        assert!(err("[tenants.a]\ntokens = [\"plain-token\"]\ntopic-prefix = \"a.\"\n").contains("hash-token"));
        assert!(err("[tenants.a]\ntokens = []\ntopic-prefix = \"a.\"\n").contains("no tokens"));
        let token = hash_token("t");
        assert!(err(&format!("[tenants.a]\ntokens = [\"{token}\"]\ntopic-prefix = \"\"\n")).contains("topic-prefix"));
        assert!(err(&format!("[tenants.a]\ntokens = [\"{token}\"]\ntopic-prefix = \"connect-\"\n")).contains("connect-configs"));
        let overlapping = format!(
            "[tenants.a]\ntokens = [\"{token}\"]\ntopic-prefix = \"a\"\n[tenants.b]\ntokens = [\"{}\"]\ntopic-prefix = \"ab\"\n",
            hash_token("u")
        );
        assert!(err(&overlapping).contains("also covers"));
        let shared = format!("admin-tokens = [\"{token}\"]\n[tenants.a]\ntokens = [\"{token}\"]\ntopic-prefix = \"a.\"\n");
        assert!(err(&shared).contains("twice"));
        assert!(err(&file("max-conectors = 3")).contains("max-conectors"), "a misspelt key is not ignored");
    }
}
