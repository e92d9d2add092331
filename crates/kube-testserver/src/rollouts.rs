//! Opt-in stand-in for the workload controllers (`Options::simulate_rollouts`):
//! a written deployment, statefulset, daemonset or job gets the status its
//! controller would report once everything is up, so readiness waits
//! (`kubectl rollout status`, `kubectl wait`, drplan's own) finish. No pods are
//! created.

use serde_json::{json, Value};

use crate::catalog::ResourceType;

/// The finished status for `object`, or None for types with no simulated controller.
pub fn settled_status(ty: &ResourceType, object: &Value, now: &str) -> Option<Value> {
    let generation = object
        .pointer("/metadata/generation")
        .cloned()
        .unwrap_or(json!(1));
    let replicas = object
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let condition = |kind: &str, reason: &str, message: &str| {
        json!({
            "type": kind, "status": "True", "reason": reason, "message": message,
            "lastUpdateTime": now, "lastTransitionTime": now,
        })
    };
    let status = match (ty.group.as_str(), ty.plural.as_str()) {
        ("apps", "deployments") => json!({
            "observedGeneration": generation,
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "conditions": [
                condition("Available", "MinimumReplicasAvailable", "Deployment has minimum availability."),
                condition("Progressing", "NewReplicaSetAvailable", "ReplicaSet has successfully progressed."),
            ],
        }),
        ("apps", "statefulsets") => {
            let revision = format!(
                "{}-{}",
                object
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or("sts"),
                generation
            );
            json!({
                "observedGeneration": generation,
                "replicas": replicas,
                "readyReplicas": replicas,
                "currentReplicas": replicas,
                "updatedReplicas": replicas,
                "availableReplicas": replicas,
                "currentRevision": revision,
                "updateRevision": revision,
            })
        }
        // One simulated node runs one pod of every daemonset.
        ("apps", "daemonsets") => json!({
            "observedGeneration": generation,
            "currentNumberScheduled": 1,
            "desiredNumberScheduled": 1,
            "numberAvailable": 1,
            "numberMisscheduled": 0,
            "numberReady": 1,
            "updatedNumberScheduled": 1,
        }),
        ("batch", "jobs") => {
            let completions = object
                .pointer("/spec/completions")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            let done = |kind: &str, reason: &str| json!({"type": kind, "status": "True", "reason": reason, "lastProbeTime": now, "lastTransitionTime": now});
            json!({
                "startTime": now,
                "completionTime": now,
                "succeeded": completions,
                "active": 0,
                "ready": 0,
                "conditions": [done("SuccessCriteriaMet", "CompletionsReached"), done("Complete", "CompletionsReached")],
            })
        }
        _ => return None,
    };
    Some(status)
}
