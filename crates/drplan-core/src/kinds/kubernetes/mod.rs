//! The Kubernetes family: `kubernetes` blocks (manifests) and the objects `backup`
//! blocks generate, applied to a cluster.

pub mod decode;

use super::{text, Family, Import, KindInfo, MarkPlace, Phase, Provider, Runbook, Terraform};
use crate::resource::Resource;
use serde_json::{Map, Value};

/// The family in the registry (`kinds::FAMILIES`): its spec blocks, lowering and
/// checks across blocks. Its objects are lowered with the manifests they read
/// (`crate::kubernetes::lower`).
pub(crate) const FAMILY: Family = Family {
    blocks: &[decode::KUBERNETES_BLOCK, decode::BACKUP_BLOCK],
    lower: None,
    check: Some(|t, spans, _, diags| decode::check(t, spans, diags)),
};

pub const OBJECT: KindInfo = KindInfo {
    type_name: "kubernetes_object",
    stateful: false,
    regional: false,
    in_cluster: true,
    force_new: &["cluster", "api_version", "kind", "namespace", "name"],
    unknown_after_apply: &["uid"],
    regional_service: None,
    apply_service: "kubernetes",
    identity: |_, _, attrs| {
        format!(
            "{}/{}/{}/{}/{}",
            text(attrs, "cluster"),
            text(attrs, "api_version"),
            text(attrs, "kind"),
            text(attrs, "namespace"),
            text(attrs, "name")
        )
    },
    identified_by_mark: false,
    mark: MarkPlace::Annotation,
    references: &[],
    name_key: None,
    forgettable: false,
    estimate_create: 30,
    estimate_update: 30,
    // Present only where enabled (often the active site alone).
    parity: None,
    deletion_means: None,
    terraform: Terraform {
        type_name: Some("kubernetes_manifest"),
        provider: Provider::Kubernetes,
        values: |a| serde_json::json!({"manifest": super::get(a, "manifest")}),
    },
    runbook: Runbook {
        what,
        phase,
        verify,
    },
    import: Import {
        address_shape: &["kubernetes", ".."],
        state: Err("a Kubernetes object's spec is its manifest: save it (kubectl get -o yaml) into a `kubernetes` block's manifests"),
    },
};

/// The runbook's phase of an object: namespaces with the capacity the workloads land
/// in, CronJobs (the DR site's own backups) once the data is restored.
fn phase(attrs: &Map<String, Value>) -> Phase {
    match text(attrs, "kind") {
        "Namespace" => Phase::Capacity,
        "CronJob" => Phase::BackupsResume,
        _ => Phase::Workloads,
    }
}

/// The runbook's check of an object: a Job complete, a workload rolled out, any
/// other object there; `context` is its cluster's kube context.
fn verify(r: &Resource, context: &dyn Fn(&str) -> String) -> String {
    let ctx = context(text(&r.attrs, "cluster"));
    let kind = text(&r.attrs, "kind");
    let name = text(&r.attrs, "name");
    let ns = r
        .attrs
        .get("namespace")
        .and_then(Value::as_str)
        .map(|n| format!(" -n {n}"))
        .unwrap_or_default();
    match kind {
        "Job" => format!(
            "kubectl --context {ctx}{ns} wait --for=condition=complete job/{name} --timeout=1h"
        ),
        "Deployment" | "StatefulSet" | "DaemonSet" => format!(
            "kubectl --context {ctx}{ns} rollout status {}/{name} --timeout=15m",
            kind.to_lowercase()
        ),
        _ => format!(
            "kubectl --context {ctx}{ns} get {} {name}",
            kind.to_lowercase()
        ),
    }
}

/// How the runbook names an object: its kind and `namespace/name`.
fn what(r: &Resource) -> String {
    let name = text(&r.attrs, "name");
    let qualified = match r.attrs.get("namespace").and_then(Value::as_str) {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    };
    format!(
        "{} `{qualified}`",
        r.attrs
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("object")
    )
}
