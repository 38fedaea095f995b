//! What a tenant's connectors may do. Checked when a tenant creates or changes one (every
//! problem at once, a 400 naming the keys), and again whenever a plugin instance gets its
//! config, with provider references resolved: the plugin may have changed its task configs,
//! and the tenants file may have changed since the connector was created.

use std::time::Duration;

use wasmconnect_db::{ConnectionConfig, Dialect};

use super::{Caller, OWNER_KEY, Tenant};
use crate::herder::config_store::Config;
use crate::herder::{Herder, HerderError};
use crate::runtime::{CALL_TIMEOUT_KEY, CPU_SLICE_KEY, MEMORY_KEY, TaskLimits};
use crate::worker::providers;

use crate::worker::dead_letter::TOPIC_KEY as DEAD_LETTER_KEY;

/// The config to store for connector `name`. A tenant's is checked against the tenant's
/// limits and marked as its own; an admin's is taken as given, except that a connector keeps
/// its owner when the new config names none.
pub fn admit(herder: &Herder, caller: &Caller, name: &str, mut config: Config) -> Result<Config, HerderError> {
    let previous = herder.config(name).ok();
    let tenant = match caller {
        Caller::Admin => {
            if let Some(owner) = previous.as_ref().and_then(|p| p.get(OWNER_KEY)) {
                config.entry(OWNER_KEY.to_owned()).or_insert_with(|| owner.clone());
            }
            return Ok(config);
        }
        Caller::Tenant(tenant) => tenant,
    };
    if previous.as_ref().is_some_and(|p| !caller.owns(p)) {
        // Connector names are one namespace per worker: the name is taken.
        return Err(HerderError::AlreadyExists(name.to_owned()));
    }
    let others: Vec<Config> = herder
        .connector_names()
        .into_iter()
        .filter(|other| other != name)
        .filter_map(|other| herder.config(&other).ok())
        .filter(|c| caller.owns(c))
        .collect();
    let problems = tenant.problems(&config, previous.as_ref(), &others);
    if !problems.is_empty() {
        return Err(HerderError::BadRequest(format!(
            "The config has {} problem(s) with what tenant {} may do:\n{}",
            problems.len(),
            tenant.name,
            problems.join("\n")
        )));
    }
    config.insert(OWNER_KEY.to_owned(), tenant.name.clone());
    Ok(config)
}

impl Tenant {
    /// Everything wrong with a new or changed config, each as `key: what is allowed`.
    fn problems(&self, config: &Config, previous: Option<&Config>, others: &[Config]) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(owner) = config.get(OWNER_KEY).filter(|o| **o != self.name) {
            problems.push(format!("{OWNER_KEY}: the worker sets it to the connector's tenant, {}, not {owner}", self.name));
        }
        if previous.is_none()
            && let Some(max) = self.max_connectors
            && others.len() >= max
        {
            problems.push(format!("max-connectors: tenant {} may have {max} connector(s) and has {}; delete one first", self.name, others.len()));
        }
        if let Some(max) = self.max_tasks {
            let used: u32 = others.iter().map(tasks_max).sum();
            let asked = tasks_max(config);
            if used.saturating_add(asked) > max {
                problems.push(format!(
                    "tasks.max: tenant {} may run {max} task(s) in all; its other connectors take {used}, so at most {} is left, not {asked}",
                    self.name,
                    max.saturating_sub(used)
                ));
            }
        }
        // The worker's environment and files hold other tenants' secrets and its own.
        for (key, value) in config {
            let changed = previous.is_none_or(|p| p.get(key) != Some(value));
            if changed && providers::has_reference(value) {
                problems.push(format!(
                    "{key}: config providers (${{env:...}}, ${{file:...}}) read the worker's environment and files, which a \
                     tenant's connector may not; give the value itself, or ask an operator to set the reference"
                ));
            }
        }
        if let Some(url) = config.get("connection.url").filter(|u| !providers::has_reference(u))
            && let Err(e) = self.check_database(url)
        {
            problems.push(format!("connection.url: {e}"));
        }
        if let Some(prefix) = config.get("topic.prefix").filter(|p| !self.allows_topic(p)) {
            problems.push(format!("topic.prefix: {prefix:?} must start with {:?}, tenant {}'s topic prefix", self.topic_prefix, self.name));
        }
        if config.contains_key("topics.regex") {
            problems.push(format!("topics.regex: not available to tenants; list the topics in \"topics\", each starting with {:?}", self.topic_prefix));
        }
        problems.extend(self.check_topics(config).err());
        if let Some(e) = self.check_limit(config, MEMORY_KEY, self.max_memory_bytes) {
            problems.push(e);
        }
        if let Some(e) = self.check_limit(config, CALL_TIMEOUT_KEY, self.max_call_timeout_ms) {
            problems.push(e);
        }
        if let Some(e) = self.check_limit(config, CPU_SLICE_KEY, self.max_cpu_slice_ms) {
            problems.push(e);
        }
        problems
    }

    /// The check made each time a plugin instance gets its config (provider references
    /// resolved): the database it may reach and the topics it names. The topics a source
    /// actually writes are checked record by record where they are written.
    pub fn check_task(&self, config: &Config) -> Result<(), String> {
        let problem = |e: String| format!("tenant {}: {e}", self.name);
        if let Some(url) = config.get("connection.url") {
            self.check_database(url).map_err(|e| problem(format!("connection.url: {e}")))?;
        }
        self.check_topics(config).map_err(problem)
    }

    /// A task's limits within the tenant's caps, whatever the config says.
    pub fn cap(&self, limits: TaskLimits) -> TaskLimits {
        let memory_bytes = self.max_memory_bytes.map_or(limits.memory_bytes, |max| limits.memory_bytes.min(max as usize));
        let call_timeout = self.max_call_timeout_ms.map_or(limits.call_timeout, |max| limits.call_timeout.min(Duration::from_millis(max)));
        let cpu_slice = self.max_cpu_slice_ms.map_or(limits.cpu_slice, |max| limits.cpu_slice.min(Duration::from_millis(max)));
        TaskLimits { memory_bytes, call_timeout, cpu_slice }
    }

    /// A sink's `topics` and the dead-letter topic of any connector, source or sink, must be
    /// the tenant's.
    fn check_topics(&self, config: &Config) -> Result<(), String> {
        let topics: Vec<&str> = config.get("topics").map(|t| t.split(',').map(str::trim).filter(|t| !t.is_empty()).collect()).unwrap_or_default();
        if let Some(topic) = topics.iter().find(|t| !self.allows_topic(t)) {
            return Err(format!("topics: {topic:?} must start with {:?}, tenant {}'s topic prefix", self.topic_prefix, self.name));
        }
        if let Some(topic) = config.get(DEAD_LETTER_KEY).filter(|t| !t.is_empty() && !self.allows_topic(t)) {
            return Err(format!("{DEAD_LETTER_KEY}: {topic:?} must start with {:?}, tenant {}'s topic prefix", self.topic_prefix, self.name));
        }
        Ok(())
    }

    fn check_database(&self, url: &str) -> Result<(), String> {
        let database = ConnectionConfig::from_connector_config(url, None, None).map_err(|e| e.to_string())?;
        let allowed: Vec<String> = self.allowed_hosts.iter().map(ToString::to_string).collect();
        let allowed = if allowed.is_empty() { "none".to_owned() } else { allowed.join(", ") };
        if database.dialect() == Dialect::Sqlite {
            return Err(format!("SQLite files on the worker are not available to tenant {}; it may use the database hosts {allowed}", self.name));
        }
        if self.allowed_hosts.iter().any(|p| p.matches(database.host(), database.port())) {
            return Ok(());
        }
        Err(format!(
            "{}:{} is not a database host tenant {} may use; its allowed hosts are {allowed}",
            database.host(),
            database.port(),
            self.name
        ))
    }

    /// A limit the config sets above the tenant's cap. (A malformed value is reported by the
    /// worker's own check of the key.)
    fn check_limit(&self, config: &Config, key: &str, cap: Option<u64>) -> Option<String> {
        let asked = config.get(key)?.trim().parse::<u64>().ok()?;
        let cap = cap.filter(|cap| asked > *cap)?;
        Some(format!("{key}: tenant {} may set at most {cap}, not {asked}", self.name))
    }
}

fn tasks_max(config: &Config) -> u32 {
    config.get("tasks.max").and_then(|m| m.trim().parse().ok()).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::super::{Tenants, hash_token};
    use super::*;

    fn acme() -> std::sync::Arc<Tenant> {
        let text = format!(
            "[tenants.acme]\ntokens = [\"{}\"]\ntopic-prefix = \"acme.\"\nallowed-hosts = [\"db.acme\", \"10.0.0.7:5432\"]\n\
             max-connectors = 2\nmax-tasks = 3\nmax-memory-bytes = 67108864\nmax-call-timeout-ms = 5000\nmax-cpu-slice-ms = 1000\n",
            hash_token("t")
        );
        match Tenants::parse(&text).unwrap().authenticate("t") {
            Some(Caller::Tenant(tenant)) => tenant,
            _ => unreachable!(),
        }
    }

    fn config(pairs: &[(&str, &str)]) -> Config {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn a_config_within_the_limits_passes() {
        let ok = config(&[
            ("connection.url", "jdbc:mysql://DB.acme:3306/app"),
            ("topic.prefix", "acme.users_"),
            ("tasks.max", "2"),
            (MEMORY_KEY, "67108864"),
        ]);
        assert_eq!(acme().problems(&ok, None, &[config(&[])]), Vec::<String>::new());
        let sink = config(&[("connection.url", "jdbc:postgresql://10.0.0.7/app"), ("topics", "acme.a, acme.b"), (DEAD_LETTER_KEY, "acme.dlq")]);
        assert_eq!(acme().problems(&sink, None, &[]), Vec::<String>::new());
    }

    #[test]
    fn each_problem_names_its_key() {
        let bad = config(&[
            (OWNER_KEY, "globex"),
            ("connection.url", "jdbc:mysql://db.globex:3306/app"),
            ("connection.password", "${file:/etc/globex.properties:password}"),
            ("topics", "acme.a,globex.b"),
            ("topics.regex", "acme\\..*"),
            ("topic.prefix", "globex."),
            ("tasks.max", "2"),
            (MEMORY_KEY, "1073741824"),
            (CALL_TIMEOUT_KEY, "60000"),
            (CPU_SLICE_KEY, "2000"),
        ]);
        let problems = acme().problems(&bad, None, &[config(&[]), config(&[("tasks.max", "2")])]);
        let keys: Vec<&str> = problems.iter().map(|p| p.split(':').next().unwrap()).collect();
        assert_eq!(
            keys,
            [OWNER_KEY, "max-connectors", "tasks.max", "connection.password", "connection.url", "topic.prefix", "topics.regex", "topics", MEMORY_KEY, CALL_TIMEOUT_KEY, CPU_SLICE_KEY],
            "{problems:#?}"
        );
        assert!(problems[4].contains("db.globex:3306") && problems[4].contains("db.acme, 10.0.0.7:5432"), "{}", problems[4]);
    }

    #[test]
    fn a_sources_dead_letter_topic_is_held_to_the_prefix_too() {
        let source = config(&[("connection.url", "jdbc:mysql://db.acme/app"), ("topic.prefix", "acme.users_"), ("errors.tolerance", "all")]);
        let with_dlq = |topic: &str| {
            let mut c = source.clone();
            c.insert(DEAD_LETTER_KEY.to_owned(), topic.to_owned());
            c
        };
        assert_eq!(acme().problems(&with_dlq("acme.dlq"), None, &[]), Vec::<String>::new());
        let problems = acme().problems(&with_dlq("globex.dlq"), None, &[]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with(DEAD_LETTER_KEY) && problems[0].contains("acme."), "{problems:?}");
        assert!(acme().check_task(&with_dlq("globex.dlq")).unwrap_err().contains(DEAD_LETTER_KEY), "checked again when a task starts");
    }

    #[test]
    fn ports_sqlite_and_unchanged_references() {
        let tenant = acme();
        assert!(tenant.check_database("jdbc:postgresql://10.0.0.7:5433/app").is_err(), "only port 5432 is allowed there");
        assert!(tenant.check_database("jdbc:sqlite:/var/lib/wasmconnect/other.db").unwrap_err().contains("SQLite"));
        // A reference an operator set stays when the tenant changes something else.
        let stored = config(&[("connection.password", "${env:ACME_DB_PASSWORD}")]);
        let changed = config(&[("connection.password", "${env:ACME_DB_PASSWORD}"), ("batch.size", "10")]);
        assert_eq!(tenant.problems(&changed, Some(&stored), &[]), Vec::<String>::new());
    }

    #[test]
    fn task_limits_are_capped() {
        let limits = acme().cap(TaskLimits { memory_bytes: 256 << 20, call_timeout: Duration::from_secs(60), cpu_slice: Duration::from_secs(30) });
        assert_eq!((limits.memory_bytes, limits.call_timeout, limits.cpu_slice), (64 << 20, Duration::from_secs(5), Duration::from_secs(1)));
    }
}
