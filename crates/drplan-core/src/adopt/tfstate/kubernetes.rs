//! kubernetes_manifest -> a `kubernetes` block with its manifest in
//! `k8s/<label>.yaml`, applied to the state's one EKS cluster (a manifest's cluster
//! is the provider's configuration, which the state does not hold). Import id:
//! `<namespace>/<name>`, or `<name>` for a cluster-scoped object.

use super::state::Instance;
use super::Out;
use crate::adopt::config::{Block, Value};
use crate::kubernetes::{is_cluster_scoped, manifest_address};
use crate::resource::Kind;
use serde_json::{Map, Value as Json};

/// Fields the API server fills in, never part of what is applied.
const SERVER_FIELDS: &[&str] = &[
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "managedFields",
    "generation",
    "selfLink",
];

pub(super) fn convert(manifests: &[Instance], clusters: &[String], out: &mut Out) {
    for m in manifests {
        let [cluster] = clusters else {
            out.uncover(
                &m.source,
                format!(
                    "its cluster is not in the state: a kubernetes block names one, and the state converts to {} clusters",
                    clusters.len()
                ),
            );
            continue;
        };
        let Some(manifest) = manifest(m) else {
            out.uncover(&m.source, "the state has no manifest");
            continue;
        };
        let text = |p: &str| {
            manifest
                .pointer(p)
                .and_then(Json::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let (Some(_), Some(kind), Some(name)) =
            (text("/apiVersion"), text("/kind"), text("/metadata/name"))
        else {
            out.uncover(
                &m.source,
                "its manifest lacks apiVersion, kind or metadata.name",
            );
            continue;
        };
        let namespace = (!is_cluster_scoped(&kind))
            .then(|| text("/metadata/namespace").unwrap_or_else(|| "default".to_string()));
        let parts_ok = [Some(&kind), namespace.as_ref(), Some(&name)]
            .into_iter()
            .flatten()
            .all(|p| {
                p.split('.').all(|s| {
                    !s.is_empty()
                        && s.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                })
            });
        if !parts_ok {
            out.uncover(
                &m.source,
                format!(
                    "`{name}` does not fit in a drplan address (letters, digits, `_`, `-`, `.`)"
                ),
            );
            continue;
        }
        let yaml = match serde_yaml_ng::to_string(&manifest) {
            Ok(y) => y,
            Err(e) => {
                out.uncover(
                    &m.source,
                    format!("its manifest cannot be written as YAML: {e}"),
                );
                continue;
            }
        };
        let label = out.label("kubernetes", &m.name);
        let file = format!("k8s/{label}.yaml");
        out.adopt(
            manifest_address(&label, &kind, namespace.as_deref(), &name),
            Kind::K8sObject,
            match &namespace {
                Some(ns) => format!("{ns}/{name}"),
                None => name.clone(),
            },
            &m.source,
        );
        out.manifest(file.clone(), yaml);
        out.block(
            Block::new("kubernetes")
                .label(&label)
                .attr("cluster", Value::raw(format!("cluster.{cluster}")))
                .attr("manifests", Value::strings([file])),
        );
    }
}

/// The object as applied: `manifest` (else `object`), unwrapped from Terraform's
/// dynamic-value encoding (`{"type": ..., "value": ...}`), without nulls, status and
/// the fields the API server sets.
fn manifest(m: &Instance) -> Option<Json> {
    let raw = m.get("manifest").or_else(|| m.get("object"))?;
    let value = match raw.as_object() {
        Some(o) if o.contains_key("value") && o.contains_key("type") => o.get("value")?,
        _ => raw,
    };
    let mut v = without_nulls(value)?;
    let o = v.as_object_mut()?;
    o.remove("status");
    if let Some(meta) = o.get_mut("metadata").and_then(Json::as_object_mut) {
        for f in SERVER_FIELDS {
            meta.remove(*f);
        }
    }
    Some(v)
}

fn without_nulls(v: &Json) -> Option<Json> {
    match v {
        Json::Null => None,
        Json::Object(o) => Some(Json::Object(
            o.iter()
                .filter_map(|(k, v)| Some((k.clone(), without_nulls(v)?)))
                .collect::<Map<_, _>>(),
        )),
        Json::Array(a) => Some(Json::Array(a.iter().filter_map(without_nulls).collect())),
        other => Some(other.clone()),
    }
}
