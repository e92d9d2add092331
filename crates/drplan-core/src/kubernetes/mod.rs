//! Kubernetes objects as resources: manifests from files, generated Namespaces, and
//! the CronJobs and restore Jobs that `backup` policies compile to.
//!
//! [`lower`] turns the topology's `kubernetes` and `backup` blocks into
//! `Kind::K8sObject` resources; [`live_form`] puts objects read from a cluster into
//! the same form so `plan::diff` compares like with like.
//!
//! **Architecture invariant:** this module reads manifest files under the project
//! root and nothing else; it knows nothing about API servers or clients.

pub mod backup_jobs;
pub mod engines;
pub mod failback;
mod interpolate;
pub mod live_form;
mod manifest;
mod object;

pub use engines::AWS_CLI_IMAGE;
pub use interpolate::Names;
pub use object::{is_cluster_scoped, manifest_address};

use crate::address::Address;
use crate::model::{Environment, SiteRole, Topology};
use crate::resource::{Resource, SourceRef};
use engines::BackupType;
use object::Target;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// Kinds drplan itself generates: the live readers list them in every cluster, so
/// an orphaned CronJob is found even when the spec generates none any more.
pub const GENERATED_KINDS: &[(&str, &str)] = &[
    ("v1", "Namespace"),
    ("batch/v1", "CronJob"),
    ("batch/v1", "Job"),
];

/// A problem with a `kubernetes` block, a manifest or a backup policy's objects.
/// Never carries a manifest's values, so a Secret cannot leak through it.
#[derive(Clone, Debug, PartialEq)]
pub struct KubernetesError {
    /// The spec block at fault (`kubernetes.base`, `backup.neo4j`).
    pub block: String,
    /// Manifest file relative to the project root, with a 1-based position.
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    pub help: Option<String>,
}

impl KubernetesError {
    fn new(block: &str, message: impl Into<String>) -> Self {
        KubernetesError {
            block: block.to_string(),
            file: None,
            line: None,
            column: None,
            message: message.into(),
            help: None,
        }
    }

    fn at(mut self, file: &str, line: usize, column: Option<usize>) -> Self {
        self.file = Some(file.to_string());
        self.line = Some(line);
        self.column = column;
        self
    }

    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

impl KubernetesError {
    /// Where and what, without the help line (diagnostics carry help separately).
    pub fn headline(&self) -> String {
        let at = match (&self.file, self.line, self.column) {
            (Some(file), Some(line), Some(col)) => format!("{file}:{line}:{col}: "),
            (Some(file), Some(line), None) => format!("{file}:{line}: "),
            (Some(file), None, _) => format!("{file}: "),
            _ => String::new(),
        };
        format!("{at}{}: {}", self.block, self.message)
    }
}

impl fmt::Display for KubernetesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.headline())?;
        if let Some(help) = &self.help {
            write!(f, " (help: {help})")?;
        }
        Ok(())
    }
}

impl std::error::Error for KubernetesError {}

/// The names manifests may interpolate: `vars` holds one map per root (`var`,
/// `local`, `env`), as the spec loader evaluated them. Variables missing there are
/// taken from the topology, and `env.stack` / `env.active_site` from `env`.
pub fn names(topology: &Topology, env: &Environment, vars: &Map<String, Value>) -> Names {
    let mut roots = vars.clone();
    let root = |roots: &mut Map<String, Value>, name: &str| -> Map<String, Value> {
        match roots.remove(name) {
            Some(Value::Object(m)) => m,
            _ => Map::new(),
        }
    };
    let mut var = root(&mut roots, "var");
    for (name, v) in &topology.variables {
        var.entry(name.clone()).or_insert_with(|| v.value.clone());
    }
    let local = root(&mut roots, "local");
    let mut env_root = root(&mut roots, "env");
    env_root
        .entry("stack")
        .or_insert_with(|| Value::from(env.stack.clone()));
    env_root
        .entry("active_site")
        .or_insert_with(|| Value::from(active_site(topology, env).unwrap_or_default()));
    roots.insert("var".into(), Value::Object(var));
    roots.insert("local".into(), Value::Object(local));
    roots.insert("env".into(), Value::Object(env_root));
    Names { roots }
}

/// The environment's active site: `active_site`, else the site marked active, else
/// the primary one.
pub fn active_site(topology: &Topology, env: &Environment) -> Option<String> {
    if !env.active_site.is_empty() {
        return Some(env.active_site.clone());
    }
    topology
        .sites
        .values()
        .find(|s| s.active)
        .or_else(|| {
            topology
                .sites
                .values()
                .find(|s| s.role == SiteRole::Primary)
        })
        .map(|s| s.name.clone())
}

/// Every Kubernetes object the topology describes, or every problem found (all of
/// them, not just the first).
pub fn lower(
    topology: &Topology,
    env: &Environment,
    sources: &crate::spec::files::Sources,
    vars: &Map<String, Value>,
) -> Result<Vec<Resource>, Vec<KubernetesError>> {
    let mut out: Vec<Resource> = Vec::new();
    let mut errors = Vec::new();
    if !object::is_label_value(&env.stack) {
        errors.push(
            KubernetesError::new("environment", format!("stack name `{}` cannot be a Kubernetes label value", env.stack))
                .help("use at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"),
        );
        return Err(errors);
    }
    let names = names(topology, env, vars);

    let enabled: Vec<_> = topology.kubernetes.values().filter(|k| k.enabled).collect();
    for k in &enabled {
        let block = format!("kubernetes.{}", k.label);
        let Some(target) = target(topology, &k.cluster) else {
            errors.push(KubernetesError::new(
                &block,
                format!("cluster `{}` is not defined", k.cluster),
            ));
            continue;
        };
        let from = out.len();
        for file in &k.manifests {
            manifest_file(
                sources,
                file,
                &block,
                &k.label,
                &target,
                &env.stack,
                &names,
                &mut out,
                &mut errors,
            );
        }
        // `lifecycle { ignore_changes }`: manifest paths, in every object of the block.
        for r in &mut out[from..] {
            r.ignore_changes = k
                .ignore_changes
                .iter()
                .map(|p| format!("manifest.{p}"))
                .collect();
        }
    }
    // Generated namespaces come after every manifest, so a Namespace a manifest spells
    // out (with labels, say) wins over the bare generated one.
    for k in &enabled {
        let Some(target) = target(topology, &k.cluster) else {
            continue;
        };
        for ns in &k.namespaces {
            let taken = out.iter().any(|r| {
                r.attrs["cluster"] == target.cluster.as_str()
                    && r.attrs["kind"] == "Namespace"
                    && r.attrs["name"] == ns.as_str()
            });
            if taken {
                continue;
            }
            let manifest = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
            let label = k.label.as_str();
            out.push(object::resource(
                manifest,
                |kind, nsp, name| object::manifest_address(label, kind, nsp, name),
                &target,
                &env.stack,
                Some(k.source.clone()),
            ));
        }
    }

    backups(topology, env, &mut out, &mut errors);
    wire_namespaces(&mut out);
    duplicates(&out, &mut errors);

    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn target(topology: &Topology, cluster_label: &str) -> Option<Target> {
    let cluster = topology.clusters.get(cluster_label)?;
    let address = Address::block("cluster", &cluster.label);
    let needs = if cluster.node_groups.is_empty() {
        vec![address.clone()]
    } else {
        cluster
            .node_groups
            .keys()
            .map(|g| address.child("node_group", g))
            .collect()
    };
    Some(Target {
        cluster: address,
        site: cluster.site.clone(),
        region: topology.sites.get(&cluster.site).map(|s| s.region.clone()),
        needs,
    })
}

#[allow(clippy::too_many_arguments)]
fn manifest_file(
    sources: &crate::spec::files::Sources,
    file: &str,
    block: &str,
    label: &str,
    target: &Target,
    stack: &str,
    names: &Names,
    out: &mut Vec<Resource>,
    errors: &mut Vec<KubernetesError>,
) {
    // The bytes the spec check read for the digest: one read per file per load.
    let read = sources.bytes(Path::new(file)).and_then(|b| {
        String::from_utf8(b.to_vec())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    });
    let text = match read {
        Ok(t) => crate::spec::files::strip_bom(t),
        Err(e) => {
            errors.push(
                KubernetesError::new(block, format!("cannot read manifest `{file}`: {e}"))
                    .help("manifest paths are relative to the project root"),
            );
            return;
        }
    };
    let text = match interpolate::interpolate(&text, names) {
        Ok(t) => t,
        Err(unknown) => {
            for u in unknown {
                errors.push(
                    KubernetesError::new(block, format!("{} names nothing", u.reference))
                        .at(file, u.line, Some(u.column))
                        .help(u.help),
                );
            }
            return;
        }
    };
    let (docs, doc_errors) = manifest::parse(&text);
    for e in doc_errors {
        errors.push(KubernetesError::new(block, e.message).at(file, e.line, None));
    }
    for doc in docs {
        // Fields made from sensitive values are found by the loader (`spec::sensitivity`).
        let source = SourceRef {
            file: file.to_string(),
            line: doc.line,
            column: 1,
        };
        out.push(object::resource(
            doc.object,
            |kind, ns, name| object::manifest_address(label, kind, ns, name),
            target,
            stack,
            Some(source),
        ));
    }
}

fn backups(
    topology: &Topology,
    env: &Environment,
    out: &mut Vec<Resource>,
    errors: &mut Vec<KubernetesError>,
) {
    let Some(active) = active_site(topology, env) else {
        return;
    };
    let dr_active = topology
        .sites
        .get(&active)
        .is_some_and(|s| s.role == SiteRole::Dr);
    for b in topology.backups.values() {
        let block = format!("backup.{}", b.label);
        // A policy with no placement in the active site runs nowhere while that site
        // serves; the objectives check reports the missing copy.
        let Some(placement) = b.placements.get(&active) else {
            continue;
        };
        let Some(target) = target(topology, &placement.cluster) else {
            errors.push(KubernetesError::new(
                &block,
                format!(
                    "placement `{active}` names cluster `{}`, which is not defined",
                    placement.cluster
                ),
            ));
            continue;
        };
        let Some(bucket) = topology.buckets.get(&placement.bucket) else {
            errors.push(KubernetesError::new(
                &block,
                format!(
                    "placement `{active}` names bucket `{}`, which is not defined",
                    placement.bucket
                ),
            ));
            continue;
        };
        let region = topology
            .sites
            .get(&bucket.site)
            .map(|s| s.region.clone())
            .unwrap_or_default();
        // The site is part of the address: the same policy runs in another cluster
        // when another site is active, and both objects may exist at once while one
        // is pruned and the other created.
        let address = Address::block("backup", &b.label).child("placement", &active);
        let mut restore = None;
        if dr_active {
            match backup_jobs::restore_job(b, &bucket.name, &region) {
                Ok(manifest) => {
                    let addr = address.child("job", "restore");
                    restore = Some(addr.clone());
                    out.push(object::resource(manifest, |_, _, _| addr, &target, &env.stack, Some(b.source.clone())));
                }
                Err(why) => errors.push(
                    KubernetesError::new(&block, format!("DR activation needs a restore Job, and {why}"))
                        .at(&b.source.file, b.source.line, Some(b.source.column))
                        .help("set restore_command = [...] to the command that loads the files found in $BACKUP_DIR"),
                ),
            }
        }
        for (kind, schedule) in [
            (BackupType::Full, &b.full_schedule),
            (BackupType::Incremental, &b.incremental_schedule),
        ] {
            let Some(schedule) = schedule else { continue };
            let manifest = backup_jobs::cronjob(b, kind, schedule, &bucket.name, &region, &active);
            let addr = address.child("cronjob", kind.as_str());
            let mut cronjob = object::resource(
                manifest,
                |_, _, _| addr,
                &target,
                &env.stack,
                Some(schedule.source.clone()),
            );
            // Under activation the backups start once the restore has completed (apply
            // reports a Job applied only then): a backup of the still-empty store must
            // never become the newest recovery point.
            cronjob.depends_on.extend(restore.clone());
            out.push(cronjob);
        }
    }
}

/// A namespaced object waits for its Namespace when drplan creates that Namespace in
/// the same cluster.
fn wire_namespaces(out: &mut [Resource]) {
    let namespaces: BTreeMap<(String, String), Address> = out
        .iter()
        .filter(|r| r.attrs["kind"] == "Namespace")
        .map(|r| {
            (
                (text(&r.attrs["cluster"]), text(&r.attrs["name"])),
                r.address.clone(),
            )
        })
        .collect();
    for r in out.iter_mut() {
        let Some(ns) = r.attrs["namespace"].as_str() else {
            continue;
        };
        if let Some(addr) = namespaces.get(&(text(&r.attrs["cluster"]), ns.to_string())) {
            if !r.depends_on.contains(addr) {
                r.depends_on.push(addr.clone());
            }
        }
    }
}

fn duplicates(out: &[Resource], errors: &mut Vec<KubernetesError>) {
    let mut seen: BTreeMap<String, &Resource> = BTreeMap::new();
    for r in out {
        if let Some(first) = seen.get(&r.identity()) {
            let mut e = KubernetesError::new(
                r.address.root_block().as_str(),
                format!(
                    "{} `{}` in cluster `{}` is declared twice (also as `{}`)",
                    text(&r.attrs["kind"]),
                    qualified_name(r),
                    text(&r.attrs["cluster"]),
                    first.address
                ),
            )
            .help("declare each object once per cluster");
            if let Some(s) = &r.source {
                e = e.at(&s.file, s.line, None);
            }
            errors.push(e);
        } else {
            seen.insert(r.identity(), r);
        }
    }
}

fn qualified_name(r: &Resource) -> String {
    match r.attrs["namespace"].as_str() {
        Some(ns) => format!("{ns}/{}", text(&r.attrs["name"])),
        None => text(&r.attrs["name"]),
    }
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests;
