//! One Kubernetes object -> one `Kind::K8sObject` resource: its address, the marks
//! drplan writes into it, and the normalized attributes both sides compare.

use crate::address::Address;
use crate::marks::{K8S_ADDRESS_ANNOTATION, K8S_MANAGED_BY, K8S_STACK_LABEL};
use crate::resource::{Kind, Resource, SourceRef};
use base64::Engine;
use serde_json::{json, Map, Value};

/// Where an object goes: the cluster block and what it waits for.
#[derive(Clone, Debug)]
pub struct Target {
    /// `cluster.<label>`
    pub cluster: Address,
    pub site: String,
    pub region: Option<String>,
    /// The cluster's node groups (objects need nodes), or the cluster itself when it
    /// has none.
    pub needs: Vec<Address>,
}

/// Kinds served without a namespace. Anything else is namespaced, which is right for
/// every custom resource drplan users are likely to ship in a manifest folder.
const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "Node",
    "PersistentVolume",
    "StorageClass",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PriorityClass",
    "IngressClass",
    "RuntimeClass",
    "CSIDriver",
    "APIService",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
];

pub fn is_cluster_scoped(kind: &str) -> bool {
    CLUSTER_SCOPED.contains(&kind)
}

/// `kubernetes.<label>.<Kind>.<namespace>.<name>`, without the namespace for
/// cluster-scoped objects.
pub fn manifest_address(label: &str, kind: &str, namespace: Option<&str>, name: &str) -> Address {
    match namespace {
        Some(ns) => Address::new(format!("kubernetes.{label}.{kind}.{ns}.{name}")),
        None => Address::new(format!("kubernetes.{label}.{kind}.{name}")),
    }
}

/// Label values allow at most 63 characters of `[A-Za-z0-9._-]`, starting and
/// ending alphanumeric: the stack name goes into one.
pub fn is_label_value(s: &str) -> bool {
    s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && s.chars().next().is_none_or(|c| c.is_ascii_alphanumeric())
        && s.chars().last().is_none_or(|c| c.is_ascii_alphanumeric())
}

/// Builds the resource for `manifest`. Namespaced objects without a namespace go to
/// `default`, written into the manifest so apply never depends on a kubeconfig's
/// default namespace.
pub fn resource(
    mut manifest: Value,
    address_of: impl FnOnce(&str, Option<&str>, &str) -> Address,
    target: &Target,
    stack: &str,
    source: Option<SourceRef>,
) -> Resource {
    let api_version = manifest["apiVersion"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let kind = manifest["kind"].as_str().unwrap_or_default().to_string();
    let name = manifest
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let namespace = if is_cluster_scoped(&kind) {
        if let Some(meta) = manifest.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("namespace");
        }
        None
    } else {
        let ns = manifest
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("default")
            .to_string();
        manifest["metadata"]["namespace"] = Value::from(ns.clone());
        Some(ns)
    };
    let address = address_of(&kind, namespace.as_deref(), &name);
    mark(&mut manifest, stack, &address);
    let sensitive = if kind == "Secret" && api_version == "v1" {
        fold_string_data(&mut manifest);
        vec![
            "manifest.data".to_string(),
            "manifest.stringData".to_string(),
        ]
    } else {
        Vec::new()
    };
    let mut attrs = Map::new();
    attrs.insert("cluster".into(), Value::from(target.cluster.as_str()));
    attrs.insert("api_version".into(), Value::from(api_version));
    attrs.insert("kind".into(), Value::from(kind));
    attrs.insert(
        "namespace".into(),
        namespace.map(Value::from).unwrap_or(Value::Null),
    );
    attrs.insert("name".into(), Value::from(name));
    attrs.insert("manifest".into(), manifest);
    Resource {
        ignore_changes: Vec::new(),
        address,
        kind: Kind::K8sObject,
        site: Some(target.site.clone()),
        region: target.region.clone(),
        attrs: attrs.into(),
        sensitive,
        depends_on: target.needs.clone(),
        protect: false,
        source,
    }
}

fn mark(manifest: &mut Value, stack: &str, address: &Address) {
    let meta = &mut manifest["metadata"];
    if !meta["labels"].is_object() {
        meta["labels"] = json!({});
    }
    meta["labels"][K8S_MANAGED_BY.0] = Value::from(K8S_MANAGED_BY.1);
    meta["labels"][K8S_STACK_LABEL] = Value::from(stack);
    if !meta["annotations"].is_object() {
        meta["annotations"] = json!({});
    }
    meta["annotations"][K8S_ADDRESS_ANNOTATION] = Value::from(address.as_str());
}

/// The API server stores `stringData` as base64 `data` and never returns it, so the
/// desired side says it the way the live side will read it.
fn fold_string_data(manifest: &mut Value) {
    let Some(Value::Object(plain)) = manifest
        .as_object_mut()
        .and_then(|m| m.remove("stringData"))
    else {
        return;
    };
    if !manifest["data"].is_object() {
        manifest["data"] = json!({});
    }
    for (key, value) in plain {
        let text = match value {
            Value::String(s) => s,
            other => other.to_string(),
        };
        manifest["data"][key.as_str()] =
            Value::from(base64::engine::general_purpose::STANDARD.encode(text));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target {
            cluster: Address::new("cluster.dr"),
            site: "dr".into(),
            region: Some("us-east-1".into()),
            needs: vec![Address::new("cluster.dr.node_group.general")],
        }
    }

    #[test]
    fn secret_string_data_becomes_data_and_is_sensitive() {
        let manifest = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "app"}, "stringData": {"password": "hunter2"}});
        let r = resource(
            manifest,
            |k, ns, n| manifest_address("base", k, ns, n),
            &target(),
            "lanka",
            None,
        );
        assert_eq!(r.address.as_str(), "kubernetes.base.Secret.app.db");
        assert_eq!(r.attrs["manifest"]["data"]["password"], "aHVudGVyMg==");
        assert!(r.attrs["manifest"].get("stringData").is_none());
        assert_eq!(r.sensitive, vec!["manifest.data", "manifest.stringData"]);
    }

    #[test]
    fn cluster_scoped_objects_have_no_namespace_and_namespaced_default_to_default() {
        let ns = resource(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "namespace": "x"}}),
            |k, ns, n| manifest_address("b", k, ns, n),
            &target(),
            "s",
            None,
        );
        assert_eq!(ns.address.as_str(), "kubernetes.b.Namespace.a");
        assert_eq!(ns.attrs["namespace"], Value::Null);
        assert!(ns.attrs["manifest"]["metadata"].get("namespace").is_none());
        let cm = resource(
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}),
            |k, ns, n| manifest_address("b", k, ns, n),
            &target(),
            "s",
            None,
        );
        assert_eq!(cm.attrs["namespace"], "default");
        assert_eq!(
            cm.attrs["manifest"]["metadata"]["labels"]["drplan.io/stack"],
            "s"
        );
        assert_eq!(
            cm.attrs["manifest"]["metadata"]["annotations"]["drplan.io/address"],
            "kubernetes.b.ConfigMap.default.c"
        );
    }

    #[test]
    fn label_values() {
        assert!(is_label_value("lanka-platform"));
        assert!(!is_label_value("-x"));
        assert!(!is_label_value("a:b"));
        assert!(!is_label_value(&"a".repeat(64)));
    }
}
