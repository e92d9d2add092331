//! Waiting for a workload to be ready: a Deployment, StatefulSet or DaemonSet whose
//! controller reports every replica updated and available for the current
//! generation (what `kubectl rollout status` waits for). Apply waits so for the
//! workloads another change of the plan depends on (`depends_on`: a block's
//! `depends_on = [kubernetes.data]`, the runbook's `kubectl wait` before the API) or
//! is ordered after (`wait_for`: a failback's DNS flip waits for the primary's
//! workloads); a workload nothing waits for counts as applied once written. Each kind
//! has its own timeout ([`timeout`]).

use super::kinds::Kinds;
use super::live::api_for;
use serde_json::Value;
use std::time::Duration;

/// How long a rollout may take before apply gives up on it: a StatefulSet starts its
/// pods one by one, each with its volume, so it gets the longest.
pub fn timeout(kind: &str) -> Duration {
    match kind {
        "StatefulSet" => Duration::from_secs(30 * 60),
        "DaemonSet" => Duration::from_secs(10 * 60),
        _ => Duration::from_secs(15 * 60),
    }
}
const FIRST_POLL: Duration = Duration::from_millis(250);
const MAX_POLL: Duration = Duration::from_secs(10);

/// Whether `kind` is a workload with a rollout to wait for.
pub fn has_rollout(api_version: &str, kind: &str) -> bool {
    api_version == "apps/v1" && matches!(kind, "Deployment" | "StatefulSet" | "DaemonSet")
}

/// Whether the controller reports `object` (as the server returned it) rolled out.
pub fn rolled_out(object: &Value) -> bool {
    let n = |path: &str| object.pointer(path).and_then(Value::as_i64);
    let generation = n("/metadata/generation").unwrap_or(0);
    if n("/status/observedGeneration").unwrap_or(-1) < generation {
        return false;
    }
    match object.get("kind").and_then(Value::as_str) {
        Some("DaemonSet") => {
            let want = n("/status/desiredNumberScheduled").unwrap_or(0);
            n("/status/updatedNumberScheduled").unwrap_or(0) >= want
                && n("/status/numberAvailable").unwrap_or(0) >= want
        }
        Some("StatefulSet") => {
            let want = n("/spec/replicas").unwrap_or(1);
            n("/status/updatedReplicas").unwrap_or(0) >= want
                && n("/status/readyReplicas").unwrap_or(0) >= want
        }
        _ => {
            let want = n("/spec/replicas").unwrap_or(1);
            n("/status/updatedReplicas").unwrap_or(0) >= want
                && n("/status/availableReplicas").unwrap_or(0) >= want
        }
    }
}

/// Polls the workload `attrs` names (a `Kind::K8sObject`'s attributes) until it has
/// rolled out, backing off from 250 ms to 10 s between reads.
pub async fn wait_rolled_out(
    kinds: &Kinds,
    attrs: &serde_json::Map<String, Value>,
) -> Result<(), String> {
    let s = |k: &str| attrs.get(k).and_then(Value::as_str).unwrap_or_default();
    let (api_version, kind, name) = (s("api_version"), s("kind"), s("name"));
    if !has_rollout(api_version, kind) {
        return Ok(());
    }
    let served = kinds
        .resolve(api_version, kind)
        .await
        .map_err(|e| e.to_string())?;
    let api = api_for(
        kinds,
        &served,
        attrs.get("namespace").and_then(Value::as_str),
    );
    let started = tokio::time::Instant::now();
    let mut pause = FIRST_POLL;
    loop {
        let object = api.get(name).await.map_err(|e| e.to_string())?;
        let object = serde_json::to_value(&object).unwrap_or(Value::Null);
        if rolled_out(&object) {
            return Ok(());
        }
        if started.elapsed() >= timeout(kind) {
            return Err(format!(
                "the {kind} had not rolled out after {}s: check it with `kubectl rollout status {} {name}` and apply again once it is ready",
                timeout(kind).as_secs(),
                kind.to_ascii_lowercase()
            ));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(MAX_POLL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_deployment_is_ready_once_every_replica_of_its_generation_is_available() {
        let d = |generation: i64, observed: i64, updated: i64, available: i64| {
            json!({"kind": "Deployment", "metadata": {"generation": generation}, "spec": {"replicas": 3},
                   "status": {"observedGeneration": observed, "updatedReplicas": updated, "availableReplicas": available}})
        };
        assert!(rolled_out(&d(2, 2, 3, 3)));
        assert!(
            !rolled_out(&d(2, 1, 3, 3)),
            "the controller has not seen the new spec"
        );
        assert!(!rolled_out(&d(2, 2, 3, 2)), "one replica is not available");
        assert!(!rolled_out(
            &json!({"kind": "Deployment", "metadata": {"generation": 1}, "spec": {"replicas": 1}})
        ));
        let sts = json!({"kind": "StatefulSet", "metadata": {"generation": 1}, "spec": {"replicas": 2},
                         "status": {"observedGeneration": 1, "updatedReplicas": 2, "readyReplicas": 1}});
        assert!(!rolled_out(&sts));
        assert!(has_rollout("apps/v1", "StatefulSet") && !has_rollout("batch/v1", "Job"));
    }
}
