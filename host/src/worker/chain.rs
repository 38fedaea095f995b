//! Single message transform chains, configured as in Kafka Connect: `transforms=a,b`,
//! `transforms.a.type=<class>`, `transforms.a.<key>=...`, `transforms.a.predicate=p`,
//! `transforms.a.negate=true`, `predicates=p`, `predicates.p.type=<class>`.
//!
//! Each transforms component used by a chain gets one instance per task, which holds that
//! task's transform and predicate instances; consecutive steps of one component run in one
//! call per batch.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::herder::config_store::Config;
use crate::herder::validate::{ConfigProblem, problem, type_mismatch};
use crate::runtime::registry::{ClassManifest, ClassRef};
use crate::runtime::{Plugin, PluginRegistry, Runtime, Step, TaskContext, TransformInstance, TransformRecord, Transformed};

use super::{TaskSpec, WorkerContext};
use crate::metrics::TaskMetrics;

/// A connector's chain, resolved against the installed plugins.
#[derive(Clone, Debug, Default)]
pub struct ChainSpec {
    steps: Vec<StepSpec>,
}

#[derive(Clone, Debug)]
struct StepSpec {
    alias: String,
    transform: ClassRef,
    config: Config,
    predicate: Option<PredicateSpec>,
}

#[derive(Clone, Debug)]
struct PredicateSpec {
    class: ClassRef,
    config: Config,
    negate: bool,
}

/// A transform or predicate alias with its class and own keys (the prefix removed).
struct Configured {
    class: Option<ClassRef>,
    config: Config,
}

impl ChainSpec {
    /// Resolves the chain a connector config describes; every problem is reported at once,
    /// under the key to fix.
    pub fn parse(config: &Config, registry: &PluginRegistry) -> Result<ChainSpec, Vec<ConfigProblem>> {
        let mut problems = Vec::new();
        let predicates: BTreeMap<String, Configured> = aliases(config, "predicates", &mut problems)
            .into_iter()
            .map(|alias| {
                let configured = configure(config, "predicates", &alias, |c| registry.predicate(c), &mut problems);
                (alias, configured)
            })
            .collect();
        let mut steps = Vec::new();
        for alias in aliases(config, "transforms", &mut problems) {
            let Configured { class, config: own } = configure(config, "transforms", &alias, |c| registry.transform(c), &mut problems);
            let predicate = step_predicate(config, &alias, &predicates, class.as_ref(), &mut problems);
            if let (Some(transform), Ok(predicate)) = (class, predicate) {
                steps.push(StepSpec { alias, transform, config: own, predicate });
            }
        }
        if problems.is_empty() { Ok(ChainSpec { steps }) } else { Err(problems) }
    }
}

/// The aliases listed under `key`, each once.
fn aliases(config: &Config, key: &str, problems: &mut Vec<ConfigProblem>) -> Vec<String> {
    let mut seen = Vec::new();
    for alias in config.get(key).map(|v| v.split(',').map(str::trim).filter(|a| !a.is_empty())).into_iter().flatten() {
        if seen.iter().any(|s| s == alias) {
            problems.push(problem(key, format!("{alias:?} is listed twice; give each one its own name")));
        } else {
            seen.push(alias.to_owned());
        }
    }
    seen
}

/// Finds the class of `<kind>.<alias>.type` and checks the alias's keys against its manifest.
fn configure(
    config: &Config,
    kind: &str,
    alias: &str,
    find: impl Fn(&str) -> Option<ClassRef>,
    problems: &mut Vec<ConfigProblem>,
) -> Configured {
    let prefix = format!("{kind}.{alias}.");
    let own: Config = config
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|k| (k.to_owned(), v.clone())))
        .filter(|(k, _)| !matches!(k.as_str(), "type" | "predicate" | "negate"))
        .collect();
    let type_key = format!("{prefix}type");
    let what = if kind == "transforms" { "transform" } else { "predicate" };
    let class = match config.get(&type_key).map(|t| t.trim()) {
        None | Some("") => {
            problems.push(problem(&type_key, format!("missing: the class of {what} {alias:?}")));
            None
        }
        Some(name) => {
            let found = find(name);
            if found.is_none() {
                problems.push(problem(
                    &type_key,
                    format!("no installed plugin offers the {what} {name}; GET /connector-plugins?connectorsOnly=false lists them"),
                ));
            }
            found
        }
    };
    if let Some(class) = &class {
        check_keys(&class.class, &prefix, &own, problems);
    }
    Configured { class, config: own }
}

fn check_keys(class: &ClassManifest, prefix: &str, own: &Config, problems: &mut Vec<ConfigProblem>) {
    for key in &class.config {
        let full = format!("{prefix}{}", key.name);
        match own.get(&key.name) {
            None if key.required && key.default.is_none() => {
                problems.push(problem(&full, format!("missing required configuration of {}: {}", class.class, key.documentation)))
            }
            Some(value) => problems.extend(type_mismatch(key.kind, value).map(|m| problem(&full, m))),
            None => {}
        }
    }
}

fn step_predicate(
    config: &Config,
    alias: &str,
    predicates: &BTreeMap<String, Configured>,
    transform: Option<&ClassRef>,
    problems: &mut Vec<ConfigProblem>,
) -> Result<Option<PredicateSpec>, ()> {
    let predicate_key = format!("transforms.{alias}.predicate");
    let negate_key = format!("transforms.{alias}.negate");
    let negate = match config.get(&negate_key).map(|v| v.trim().to_ascii_lowercase()) {
        None => false,
        Some(v) if v == "true" => true,
        Some(v) if v == "false" => false,
        Some(v) => {
            problems.push(problem(&negate_key, format!("must be true or false, not {v:?}")));
            return Err(());
        }
    };
    let Some(name) = config.get(&predicate_key).map(|p| p.trim()).filter(|p| !p.is_empty()) else {
        if config.contains_key(&negate_key) {
            problems.push(problem(&negate_key, format!("negates a predicate, but transform {alias:?} has none: set {predicate_key}")));
            return Err(());
        }
        return Ok(None);
    };
    let Some(configured) = predicates.get(name) else {
        problems.push(problem(&predicate_key, format!("{name:?} is not listed in \"predicates\"; add it there with predicates.{name}.type")));
        return Err(());
    };
    // A missing or unknown predicate class is already reported under its own key.
    let class = configured.class.clone().ok_or(())?;
    if let Some(transform) = transform
        && !same_component(&transform.plugin, &class.plugin)
    {
        problems.push(problem(
            &predicate_key,
            format!(
                "predicate {name:?} comes from plugin {} and transform {alias:?} from {}; a predicate must come from the plugin of the transform it guards",
                class.plugin.manifest.name, transform.plugin.manifest.name
            ),
        ));
        return Err(());
    }
    Ok(Some(PredicateSpec { class, config: configured.config.clone(), negate }))
}

fn same_component(a: &Plugin, b: &Plugin) -> bool {
    a.component_path == b.component_path
}

/// A task's running chain.
pub struct TransformChain {
    instances: Vec<(Arc<Plugin>, TransformInstance)>,
    /// Consecutive steps of one component: (index into `instances`, steps).
    stages: Vec<(usize, Vec<Step>)>,
}

impl TransformChain {
    /// Makes the task's instances; `None` when the connector has no transforms.
    pub fn start(ctx: &WorkerContext, spec: &TaskSpec) -> Result<Option<TransformChain>, String> {
        let chain = spec.chain.as_ref().as_ref().map_err(Clone::clone)?;
        TransformChain::with_runtime(&ctx.runtime, chain, &|| ctx.task_context(&spec.connector, Some(spec.id), &spec.config))
    }

    /// The instances of `chain`, each in a store with the context `context` gives.
    pub fn with_runtime(
        runtime: &Runtime,
        chain: &ChainSpec,
        context: &dyn Fn() -> Result<TaskContext, String>,
    ) -> Result<Option<TransformChain>, String> {
        if chain.steps.is_empty() {
            return Ok(None);
        }
        let mut built = TransformChain { instances: Vec::new(), stages: Vec::new() };
        for step in &chain.steps {
            let at = built.instance(runtime, context, &step.transform.plugin)?;
            let failed = |e: crate::runtime::PluginError| format!("cannot configure transform {:?} ({}): {e}", step.alias, step.transform.class.class);
            let instance = &mut built.instances[at].1;
            let transform = instance.configure_transform(&step.transform.class.class, &step.config).map_err(failed)?;
            let predicate = match &step.predicate {
                Some(p) => Some((instance.configure_predicate(&p.class.class.class, &p.config).map_err(failed)?, p.negate)),
                None => None,
            };
            let step = Step { transform, predicate };
            match built.stages.last_mut() {
                Some((last, steps)) if *last == at => steps.push(step),
                _ => built.stages.push((at, vec![step])),
            }
        }
        Ok(Some(built))
    }

    fn instance(&mut self, runtime: &Runtime, context: &dyn Fn() -> Result<TaskContext, String>, plugin: &Arc<Plugin>) -> Result<usize, String> {
        if let Some(at) = self.instances.iter().position(|(p, _)| same_component(p, plugin)) {
            return Ok(at);
        }
        let instance = runtime.transforms(plugin, context()?).map_err(|e| format!("cannot start transforms plugin {}: {e}", plugin.manifest.name))?;
        self.instances.push((plugin.clone(), instance));
        Ok(self.instances.len() - 1)
    }

    /// Runs the chain; origins and failures index `records`.
    pub fn apply(&mut self, records: Vec<TransformRecord>, metrics: &TaskMetrics) -> Result<Transformed, String> {
        let mut current: Vec<(usize, TransformRecord)> = records.into_iter().enumerate().collect();
        let mut failures = Vec::new();
        for (at, steps) in &self.stages {
            let (origins, inputs): (Vec<usize>, Vec<TransformRecord>) = current.into_iter().unzip();
            let (plugin, instance) = &mut self.instances[*at];
            let started = std::time::Instant::now();
            let out = instance.apply(steps, &inputs);
            metrics.call("apply", started.elapsed(), instance.memory_bytes());
            let out = out.map_err(|e| {
                metrics.failed_call(&e);
                format!("the transforms of plugin {} failed: {e}", plugin.manifest.name)
            })?;
            failures.extend(out.failures.into_iter().map(|(i, message)| (origins[i], message)));
            current = out.records.into_iter().map(|(i, record)| (origins[i], record)).collect();
        }
        Ok(Transformed { records: current, failures })
    }
}
