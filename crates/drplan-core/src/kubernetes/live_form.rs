//! The live side of a Kubernetes object in the same form as the desired one: the
//! object the server returned, cut down to what drplan manages.
//!
//! The server adds defaults (a Deployment's `strategy`), bookkeeping (`uid`,
//! `managedFields`) and `status`; none of that is in the spec, so none of it may show
//! up as a difference. Only the fields the desired manifest sets are kept, recursively;
//! a list keeps its live length, so an extra or missing element is a real difference.

use crate::marks::{K8S_ADDRESS_ANNOTATION, K8S_MANAGED_BY, K8S_STACK_LABEL};
use serde_json::{Map, Value};

const SERVER_METADATA: &[&str] = &[
    "managedFields",
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "generation",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// `live` without status and server bookkeeping; restricted to the shape of
/// `desired` when there is one, otherwise (an orphan) also without drplan's marks.
pub fn live_manifest(live: &Value, desired: Option<&Value>) -> Value {
    let mut object = live.clone();
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
        if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            for key in SERVER_METADATA {
                meta.remove(*key);
            }
        }
    }
    match desired {
        Some(d) => restrict(&object, d),
        None => {
            strip_marks(&mut object);
            object
        }
    }
}

fn restrict(live: &Value, desired: &Value) -> Value {
    match (live, desired) {
        (Value::Object(l), Value::Object(d)) => {
            let kept: Map<String, Value> = d
                .iter()
                .filter_map(|(k, dv)| l.get(k).map(|lv| (k.clone(), restrict(lv, dv))))
                .collect();
            Value::Object(kept)
        }
        (Value::Array(l), Value::Array(d)) => Value::Array(
            l.iter()
                .enumerate()
                .map(|(i, lv)| match d.get(i) {
                    Some(dv) => restrict(lv, dv),
                    None => lv.clone(),
                })
                .collect(),
        ),
        // The server answers quantities and int-or-string fields as strings
        // (`cpu: 1` comes back `"1"`): the same text is the same value.
        (Value::String(l), Value::Number(d)) if *l == d.to_string() => desired.clone(),
        _ => live.clone(),
    }
}

fn strip_marks(object: &mut Value) {
    let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    for (field, keys) in [
        ("labels", &[K8S_MANAGED_BY.0, K8S_STACK_LABEL][..]),
        ("annotations", &[K8S_ADDRESS_ANNOTATION][..]),
    ] {
        if let Some(map) = meta.get_mut(field).and_then(Value::as_object_mut) {
            for key in keys {
                map.remove(*key);
            }
            if map.is_empty() {
                meta.remove(field);
            }
        }
    }
}

/// The ownership marks of a live object: (stack, address).
pub fn marks(live: &Value) -> (Option<String>, Option<String>) {
    let stack = live
        .pointer("/metadata/labels")
        .and_then(|l| l.get(K8S_STACK_LABEL))
        .and_then(Value::as_str)
        .map(str::to_string);
    let address = live
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(K8S_ADDRESS_ANNOTATION))
        .and_then(Value::as_str)
        .map(str::to_string);
    (stack, address)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_only_what_the_spec_sets() {
        let live = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "api", "uid": "u", "resourceVersion": "7", "labels": {"a": "1", "added": "x"}},
            "spec": {"replicas": 2, "strategy": {"type": "RollingUpdate"},
                     "template": {"spec": {"containers": [{"name": "c", "image": "i:2", "terminationMessagePath": "/dev/x"}]}}},
            "status": {"readyReplicas": 2},
        });
        let desired = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "api", "labels": {"a": "1"}},
            "spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "c", "image": "i:1"}]}}},
        });
        assert_eq!(
            live_manifest(&live, Some(&desired)),
            json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "api", "labels": {"a": "1"}},
                "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "c", "image": "i:2"}]}}},
            })
        );
    }

    #[test]
    fn numbers_the_server_returns_as_strings_compare_equal() {
        let live = json!({"spec": {"cpu": "1", "memory": "512Mi", "port": "http"}});
        let desired = json!({"spec": {"cpu": 1, "memory": 512, "port": 80}});
        assert_eq!(
            live_manifest(&live, Some(&desired)),
            json!({"spec": {"cpu": 1, "memory": "512Mi", "port": "http"}})
        );
    }

    #[test]
    fn orphans_lose_bookkeeping_and_marks() {
        let live = json!({"kind": "ConfigMap", "metadata": {"name": "x", "uid": "u",
            "labels": {"app.kubernetes.io/managed-by": "drplan", "drplan.io/stack": "s"},
            "annotations": {"drplan.io/address": "kubernetes.b.ConfigMap.default.x", "note": "n"}}, "data": {"k": "v"}});
        assert_eq!(
            live_manifest(&live, None),
            json!({"kind": "ConfigMap", "metadata": {"name": "x", "annotations": {"note": "n"}}, "data": {"k": "v"}})
        );
        assert_eq!(
            marks(&live),
            (
                Some("s".into()),
                Some("kubernetes.b.ConfigMap.default.x".into())
            )
        );
    }
}
