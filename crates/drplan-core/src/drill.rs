//! Drills (issue 13): what a restore drill in the DR site creates, as a value. Pure:
//! `drplan::drill` executes it against the DR cluster and EKS, times each step,
//! and tears it down.
//!
//! A drill of a backup policy, in the DR site of the environment:
//! 1. node groups of the DR cluster that DR activation grows (a pilot light at 0) are
//!    scaled to their activated size, their previous size recorded first next to the
//!    lock (S3);
//! 2. an isolated Namespace `drplan-drill-<id>` is created;
//! 3. the policy namespace's workloads as DR activation deploys them (ConfigMaps,
//!    Secrets, ServiceAccounts, ClusterIP Services, PVCs, StatefulSets, Deployments —
//!    never Ingresses, LoadBalancers, CronJobs or anything cluster-scoped) are copied
//!    into it and waited on until rolled out;
//! 4. the restore Job DR activation would run, reading the newest full backup from the
//!    DR copy, runs there, pointed at the copy's host;
//! 5. a verify Job checks the restored data (built-in per engine, `verify_command`
//!    for custom engines);
//! 6. everything is deleted and the node groups return to their size.
//!
//! Every object it creates carries `drplan.io/drill=<id>` and
//! `drplan.io/drill-stack=<stack>` (and none of drplan's management marks, so a plan
//! never mistakes it for an orphan); `drill cleanup` finds leftovers by them.

use crate::address::Address;
use crate::kubernetes::backup_jobs::object_name;
use crate::kubernetes::engines;
use crate::marks::{K8S_ADDRESS_ANNOTATION, K8S_MANAGED_BY, K8S_STACK_LABEL};
use crate::model::{Backup, Project, SiteRole};
use crate::resource::{Kind, Resource};
use serde_json::{json, Map, Value};

pub const DRILL_LABEL: &str = "drplan.io/drill";
pub const DRILL_STACK_LABEL: &str = "drplan.io/drill-stack";

/// Kinds a drill copies into its namespace: what a data store and its app need to
/// run, and nothing that reaches outside the namespace.
const COPIED_KINDS: &[(&str, &str)] = &[
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("v1", "ServiceAccount"),
    ("v1", "Service"),
    ("v1", "PersistentVolumeClaim"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "Deployment"),
];

#[derive(Clone, Debug)]
pub struct DrillPlan {
    pub id: String,
    pub stack: String,
    /// The DR site, its region, and the cluster block label the drill runs in.
    pub site: String,
    pub region: String,
    pub cluster: String,
    pub namespace: Resource,
    pub components: Vec<ComponentDrill>,
    pub node_groups: Vec<NodeGroupScale>,
    /// Policies not drilled, and why.
    pub skipped: Vec<(String, String)>,
}

#[derive(Clone, Debug)]
pub struct ComponentDrill {
    pub policy: String,
    pub component: String,
    pub engine: String,
    /// The namespace the workloads are copied from.
    pub source_namespace: String,
    /// The workloads copied into the drill namespace, in apply order.
    pub workloads: Vec<Resource>,
    pub restore: Resource,
    pub verify: Resource,
    /// What the verify Job checks, for the record.
    pub verify_what: String,
    /// The RTO's estimate for this restore (`restore_estimate`, else `restore_job`).
    pub restore_estimate_seconds: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeGroupScale {
    pub address: Address,
    pub cluster_name: String,
    pub name: String,
    /// The activated scaling: min, desired, max.
    pub activated: (i64, i64, i64),
}

/// The drill of `project` (an environment in normal operation) with the resources
/// DR activation would have (`objectives::activation_pair`), for the policies whose
/// component is in `components` (all when empty).
pub fn plan(
    project: &Project,
    activated: &[Resource],
    id: &str,
    components: &[String],
) -> Result<DrillPlan, String> {
    let t = &project.topology;
    let stack = project.environment.stack.clone();
    let dr = t
        .sites
        .values()
        .find(|s| s.role == SiteRole::Dr)
        .ok_or("the topology has no site with role = \"dr\": there is nothing to drill")?;
    if project.environment.active_site == dr.name {
        return Err(format!(
            "environment {} activates the DR site {}: drill from the environment of normal operation",
            project.env_name, dr.name
        ));
    }
    let namespace = format!("drplan-drill-{id}");
    let mut cluster: Option<String> = None;
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    if let Some(unknown) = components.iter().find(|c| {
        !t.backups
            .values()
            .any(|b| &b.component == *c || &b.label == *c)
    }) {
        return Err(format!("no backup policy protects component `{unknown}`"));
    }
    for b in t.backups.values() {
        if !components.is_empty()
            && !components
                .iter()
                .any(|c| *c == b.component || *c == b.label)
        {
            continue;
        }
        let Some(placement) = b.placements.get(&dr.name) else {
            skipped.push((
                b.label.clone(),
                format!("no placement in the DR site {}", dr.name),
            ));
            continue;
        };
        match &cluster {
            Some(c) if *c != placement.cluster => {
                skipped.push((
                    b.label.clone(),
                    format!(
                        "its DR cluster {} is not the drill's ({c})",
                        placement.cluster
                    ),
                ));
                continue;
            }
            _ => cluster = Some(placement.cluster.clone()),
        }
        match component(
            b,
            activated,
            &dr.name,
            &placement.cluster,
            &namespace,
            id,
            &stack,
        ) {
            Ok(mut c) => {
                let estimates = crate::objectives::Estimates::for_topology(t);
                c.restore_estimate_seconds = Some(
                    b.restore_estimate
                        .unwrap_or_else(|| estimates.get(crate::objectives::RESTORE_JOB))
                        .as_secs(),
                );
                out.push(c)
            }
            Err(why) => skipped.push((b.label.clone(), why)),
        }
    }
    let Some(cluster) = cluster else {
        return Err(match skipped.first() {
            Some((p, why)) => format!("nothing to drill: backup.{p}: {why}"),
            None => "nothing to drill: no backup policy".into(),
        });
    };
    let node_groups = node_groups(project, activated, &cluster);
    let ns_manifest = json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": namespace, "labels": drill_labels(id, &stack)},
    });
    let namespace_resource = k8s_resource(
        Address::new(format!("drill.{id}.namespace")),
        &cluster,
        dr,
        ns_manifest,
    );
    Ok(DrillPlan {
        id: id.to_string(),
        stack,
        site: dr.name.clone(),
        region: dr.region.clone(),
        cluster,
        namespace: namespace_resource,
        components: out,
        node_groups,
        skipped,
    })
}

/// Secrets the component's workloads, restore and verify Jobs reference (`envFrom`
/// `secretRef`, `env` `secretKeyRef`, `secret` volumes, `imagePullSecrets`) that the
/// drill does not bring itself — those drplan does not manage, such as the backup
/// credentials `<label>-backup`: (name, optional), sorted. The runner copies each from
/// the policy's namespace of the DR cluster into the drill namespace.
pub fn referenced_secrets(c: &ComponentDrill) -> Vec<(String, bool)> {
    let brought: Vec<&str> = c
        .workloads
        .iter()
        .filter(|w| w.attrs.get("kind").and_then(Value::as_str) == Some("Secret"))
        .filter_map(|w| w.attrs.get("name").and_then(Value::as_str))
        .collect();
    let mut found: std::collections::BTreeMap<String, bool> = Default::default();
    let manifests = c
        .workloads
        .iter()
        .chain([&c.restore, &c.verify])
        .filter_map(|r| r.attrs.get("manifest"));
    for m in manifests {
        collect_secret_refs(m, &mut found);
    }
    found
        .into_iter()
        .filter(|(name, _)| !brought.contains(&name.as_str()))
        .collect()
}

fn note_secret(r: &Value, key: &str, out: &mut std::collections::BTreeMap<String, bool>) {
    if let Some(name) = r.get(key).and_then(Value::as_str) {
        let optional = r.get("optional").and_then(Value::as_bool).unwrap_or(false);
        // Required anywhere wins.
        let entry = out.entry(name.to_string()).or_insert(optional);
        *entry &= optional;
    }
}

fn collect_secret_refs(v: &Value, out: &mut std::collections::BTreeMap<String, bool>) {
    match v {
        Value::Object(map) => {
            for (k, inner) in map {
                match k.as_str() {
                    "secretRef" | "secretKeyRef" => note_secret(inner, "name", out),
                    "secret" => note_secret(inner, "secretName", out),
                    "imagePullSecrets" => {
                        for s in inner.as_array().into_iter().flatten() {
                            note_secret(s, "name", out);
                        }
                    }
                    _ => {}
                }
                collect_secret_refs(inner, out);
            }
        }
        Value::Array(items) => {
            for i in items {
                collect_secret_refs(i, out);
            }
        }
        _ => {}
    }
}

/// A copy of `secret` (as the DR cluster returned it) for the drill namespace: its
/// type and data, the drill's marks, nothing else of its metadata.
pub fn secret_copy(plan: &DrillPlan, secret: &Value) -> Resource {
    let name = secret
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let namespace = plan
        .namespace
        .attrs
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut manifest = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, "labels": drill_labels(&plan.id, &plan.stack)},
    });
    for key in ["type", "data", "stringData"] {
        if let Some(v) = secret.get(key) {
            manifest[key] = v.clone();
        }
    }
    let mut r = plan.namespace.clone();
    r.address = Address::new(format!("drill.{}.secret.{name}", plan.id));
    r.attrs.insert("api_version".into(), Value::from("v1"));
    r.attrs.insert("kind".into(), Value::from("Secret"));
    r.attrs.insert("namespace".into(), Value::from(namespace));
    r.attrs.insert("name".into(), Value::from(name));
    r.attrs.insert("manifest".into(), manifest);
    // Its data is secret: never shown.
    r.sensitive = vec!["manifest.data".into(), "manifest.stringData".into()];
    r
}

fn drill_labels(id: &str, stack: &str) -> Value {
    json!({DRILL_LABEL: id, DRILL_STACK_LABEL: stack})
}

fn k8s_resource(
    address: Address,
    cluster: &str,
    site: &crate::model::Site,
    manifest: Value,
) -> Resource {
    let s = |p: &str| {
        manifest
            .pointer(p)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let mut attrs = Map::new();
    attrs.insert("cluster".into(), Value::from(format!("cluster.{cluster}")));
    attrs.insert("api_version".into(), Value::from(s("/apiVersion")));
    attrs.insert("kind".into(), Value::from(s("/kind")));
    attrs.insert("namespace".into(), Value::from(s("/metadata/namespace")));
    attrs.insert("name".into(), Value::from(s("/metadata/name")));
    attrs.insert("manifest".into(), manifest);
    Resource {
        ignore_changes: Vec::new(),
        address,
        kind: Kind::K8sObject,
        site: Some(site.name.clone()),
        region: Some(site.region.clone()),
        attrs: attrs.into(),
        sensitive: Vec::new(),
        depends_on: Vec::new(),
        protect: false,
        source: None,
    }
}

/// `manifest` moved into the drill namespace: drplan's marks replaced by the drill's.
fn into_drill(manifest: &Value, namespace: &str, id: &str, stack: &str) -> Value {
    let mut m = manifest.clone();
    if let Some(meta) = m.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("namespace".into(), Value::from(namespace));
        let labels = meta
            .entry("labels")
            .or_insert_with(|| json!({}))
            .as_object_mut();
        if let Some(labels) = labels {
            labels.remove(K8S_MANAGED_BY.0);
            labels.remove(K8S_STACK_LABEL);
            labels.insert(DRILL_LABEL.into(), Value::from(id));
            labels.insert(DRILL_STACK_LABEL.into(), Value::from(stack));
        }
        if let Some(a) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            a.remove(K8S_ADDRESS_ANNOTATION);
        }
    }
    m
}

/// The host of `b`'s data store inside the drill namespace, or why there is none.
fn drill_host(b: &Backup, namespace: &str) -> Result<String, String> {
    let normal = engines::host(b);
    let suffix = format!(".{}.svc", b.namespace);
    match normal.find(&suffix) {
        Some(at) => Ok(format!("{}.{namespace}.svc{}", &normal[..at], &normal[at + suffix.len()..])),
        None => Err(format!(
            "its host {normal} is not a Service in namespace {}: a drill cannot point the restore at a copy, and never restores into production",
            b.namespace
        )),
    }
}

fn set_env(manifest: &mut Value, container_path: &str, key: &str, value: &str) {
    let Some(containers) = manifest
        .pointer_mut(container_path)
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    for c in containers {
        let Some(env) = c.get_mut("env").and_then(Value::as_array_mut) else {
            continue;
        };
        for e in env.iter_mut() {
            if e.get("name").and_then(Value::as_str) == Some(key) {
                e["value"] = Value::from(value);
            }
        }
    }
}

fn component(
    b: &Backup,
    activated: &[Resource],
    dr_site: &str,
    cluster: &str,
    namespace: &str,
    id: &str,
    stack: &str,
) -> Result<ComponentDrill, String> {
    let cluster_address = format!("cluster.{cluster}");
    let restore_address = Address::block("backup", &b.label)
        .child("placement", dr_site)
        .child("job", "restore");
    let restore = activated
        .iter()
        .find(|r| r.address == restore_address)
        .ok_or_else(|| {
            format!(
                "DR activation has no restore Job for it ({restore_address}): {}",
                engines::restore_command(b)
                    .err()
                    .unwrap_or_else(|| "is it placed in the DR site?".into())
            )
        })?;
    let site = crate::model::Site {
        name: dr_site.to_string(),
        region: restore.region.clone().unwrap_or_default(),
        role: SiteRole::Dr,
        active: false,
        source: b.source.clone(),
    };
    let host = drill_host(b, namespace)?;
    let mut workloads = Vec::new();
    for r in activated.iter().filter(|r| {
        r.kind == Kind::K8sObject
            && r.attrs.get("cluster").and_then(Value::as_str) == Some(cluster_address.as_str())
            && r.attrs.get("namespace").and_then(Value::as_str) == Some(b.namespace.as_str())
            && !r.address.as_str().starts_with("backup.")
    }) {
        let api = r
            .attrs
            .get("api_version")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let kind = r
            .attrs
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !COPIED_KINDS.contains(&(api, kind)) {
            continue;
        }
        let Some(manifest) = r.attrs.get("manifest") else {
            continue;
        };
        let mut m = into_drill(manifest, namespace, id, stack);
        if kind == "Service" {
            // Reachable inside the cluster only: no load balancer, no node port.
            if let Some(spec) = m.get_mut("spec").and_then(Value::as_object_mut) {
                spec.insert("type".into(), Value::from("ClusterIP"));
                spec.remove("loadBalancerIP");
                spec.remove("loadBalancerSourceRanges");
                spec.remove("externalTrafficPolicy");
                if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
                    for p in ports {
                        if let Some(p) = p.as_object_mut() {
                            p.remove("nodePort");
                        }
                    }
                }
            }
        }
        let address = Address::new(format!(
            "drill.{id}.{}.{}.{}",
            b.label,
            kind.to_ascii_lowercase(),
            r.attrs
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
        ));
        let mut res = k8s_resource(address, cluster, &site, m);
        res.sensitive = r.sensitive.clone();
        workloads.push(res);
    }
    // Config first, then what runs.
    workloads.sort_by_key(|r| {
        match r
            .attrs
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default()
        {
            "StatefulSet" | "Deployment" => 1,
            _ => 0,
        }
    });
    let restore_manifest = restore
        .attrs
        .get("manifest")
        .cloned()
        .unwrap_or(Value::Null);
    let mut rm = into_drill(&restore_manifest, namespace, id, stack);
    set_env(&mut rm, "/spec/template/spec/containers", "HOST", &host);
    let restore = k8s_resource(
        Address::new(format!("drill.{id}.{}.restore", b.label)),
        cluster,
        &site,
        rm,
    );
    let (command, verify_what) = verify_command(b)?;
    let image = b
        .image
        .clone()
        .unwrap_or_else(|| engines::default_image(&b.engine).to_string());
    let name = format!("{}-verify", object_name(&b.label));
    let verify_manifest = json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": namespace, "labels": drill_labels(id, stack)},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "metadata": {"labels": drill_labels(id, stack)},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{
                        "name": "verify",
                        "image": image,
                        "command": command,
                        "env": [{"name": "HOST", "value": host}],
                        "envFrom": [{"secretRef": {"name": format!("{}-backup", object_name(&b.label)), "optional": true}}],
                    }],
                },
            },
        },
    });
    let verify = k8s_resource(
        Address::new(format!("drill.{id}.{}.verify", b.label)),
        cluster,
        &site,
        verify_manifest,
    );
    Ok(ComponentDrill {
        policy: b.label.clone(),
        component: b.component.clone(),
        engine: b.engine.clone(),
        source_namespace: b.namespace.clone(),
        workloads,
        restore,
        verify,
        verify_what,
        restore_estimate_seconds: None,
    })
}

/// The built-in check per engine: the restored store holds data. Each exits non-zero
/// when it finds none, which fails the Job.
fn verify_command(b: &Backup) -> Result<(Vec<String>, String), String> {
    if !b.verify_command.is_empty() {
        return Ok((b.verify_command.clone(), "verify_command".into()));
    }
    let sh = |script: &str, what: &str| {
        Ok((
            vec!["/bin/sh".to_string(), "-c".to_string(), script.to_string()],
            what.to_string(),
        ))
    };
    match b.engine.as_str() {
        "neo4j" => sh(
            "set -eu\nn=$(cypher-shell -a \"neo4j://$HOST:7687\" --format plain \"MATCH (n) RETURN count(n)\" | tail -n 1)\necho \"nodes: $n\"\n[ \"$n\" -gt 0 ]",
            "node count > 0 (cypher-shell)",
        ),
        "postgres" => sh(
            "set -eu\nn=$(psql --host=\"$HOST\" --dbname=\"${PGDATABASE:-postgres}\" -tAc \"select count(*) from information_schema.tables where table_schema not in ('pg_catalog','information_schema')\")\necho \"tables: $n\"\n[ \"$n\" -gt 0 ]",
            "table count > 0 (psql)",
        ),
        "redis" => sh(
            "set -eu\nn=$(redis-cli -h \"$HOST\" DBSIZE)\necho \"keys: $n\"\n[ \"$n\" -gt 0 ]",
            "DBSIZE > 0 (redis-cli)",
        ),
        "qdrant" => sh(
            "set -eu\nauth=\"\"; [ -n \"${QDRANT_API_KEY:-}\" ] && auth=\"api-key: $QDRANT_API_KEY\"\ncurl -sf -H \"$auth\" \"http://$HOST:6333/collections\" | grep -q '\"name\"'",
            "at least one collection (Qdrant API)",
        ),
        _ => Err("a custom engine is verified by its own command: set verify_command = [...]".into()),
    }
}

/// Node groups of the drill's cluster that DR activation grows.
fn node_groups(project: &Project, activated: &[Resource], cluster: &str) -> Vec<NodeGroupScale> {
    let Some(c) = project.topology.clusters.get(cluster) else {
        return Vec::new();
    };
    let normal = &project.resources;
    let scaling = |r: &Resource| -> Option<(i64, i64, i64)> {
        let n = |k: &str| r.attrs.get(k).and_then(Value::as_i64);
        Some((n("min_size")?, n("desired_size")?, n("max_size")?))
    };
    activated
        .iter()
        .filter(|r| r.kind == Kind::NodeGroup)
        .filter(|r| r.attrs.get("cluster_name").and_then(Value::as_str) == Some(c.name.as_str()))
        .filter_map(|r| {
            let after = scaling(r)?;
            let before = normal
                .iter()
                .find(|n| n.address == r.address)
                .and_then(scaling);
            if before.is_some_and(|b| b.1 >= after.1) {
                return None;
            }
            Some(NodeGroupScale {
                address: r.address.clone(),
                cluster_name: c.name.clone(),
                name: r.attrs.get("name").and_then(Value::as_str)?.to_string(),
                activated: after,
            })
        })
        .collect()
}
