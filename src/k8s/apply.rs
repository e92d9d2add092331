//! Changing one cluster object: server-side apply as field manager `drplan` (forced,
//! so drplan's spec wins over fields another manager took), and deletion with
//! background propagation. Ordering is the executor's job (`depends_on`); a
//! Namespace is only reported applied once the server calls it Active, and a Job once
//! it has completed (a restore must have put the data back before the workloads that
//! depend on it start), so dependents can start the moment this returns.

use super::kinds::Kinds;
use super::live::api_for;
use base64::Engine;
use drplan_core::resource::Resource;
use kube::api::{DeleteParams, Patch, PatchParams};
use serde_json::Value;
use std::time::Duration;

pub const FIELD_MANAGER: &str = "drplan";
const NAMESPACE_READY_TIMEOUT: Duration = Duration::from_secs(60);
const NAMESPACE_POLL: Duration = Duration::from_millis(250);
const REDACTED: &str = "(sensitive)";
/// Long enough for a large restore; a Job that needs longer should be split, or run
/// outside drplan and waited for by hand.
const JOB_TIMEOUT: Duration = Duration::from_secs(3 * 60 * 60);
const JOB_FIRST_POLL: Duration = Duration::from_millis(250);
const JOB_MAX_POLL: Duration = Duration::from_secs(10);

/// A failed change. Its text never holds a Secret's values: the server's message is
/// scrubbed of them before it is stored.
#[derive(Debug, thiserror::Error)]
#[error("{address}: {action} {object} failed: {reason}")]
pub struct ApplyError {
    pub address: String,
    pub action: &'static str,
    /// `Kind namespace/name`
    pub object: String,
    pub reason: String,
}

/// The object a change is about, from `Kind::K8sObject` attributes.
struct Target<'a> {
    api_version: &'a str,
    kind: &'a str,
    namespace: Option<&'a str>,
    name: &'a str,
}

impl<'a> Target<'a> {
    fn from_attrs(attrs: &'a serde_json::Map<String, Value>) -> Target<'a> {
        let s = |k: &str| attrs.get(k).and_then(Value::as_str).unwrap_or_default();
        Target {
            api_version: s("api_version"),
            kind: s("kind"),
            namespace: attrs.get("namespace").and_then(Value::as_str),
            name: s("name"),
        }
    }

    fn describe(&self) -> String {
        match self.namespace {
            Some(ns) => format!("{} {ns}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }
}

/// Creates or updates `resource` (a `Kind::K8sObject`) by server-side apply and
/// returns the object as the server stored it.
pub async fn apply(kinds: &Kinds, resource: &Resource) -> Result<Value, ApplyError> {
    let target = Target::from_attrs(&resource.attrs);
    let manifest = resource
        .attrs
        .get("manifest")
        .cloned()
        .unwrap_or(Value::Null);
    let fail = |reason: String| ApplyError {
        address: resource.address.to_string(),
        action: "apply",
        object: target.describe(),
        reason: scrub(&reason, &manifest),
    };
    let served = kinds
        .resolve(target.api_version, target.kind)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let api = api_for(kinds, &served, target.namespace);
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let applied = api
        .patch(target.name, &params, &Patch::Apply(&manifest))
        .await
        .map_err(|e| fail(explain(&e, target.kind)))?;
    if target.kind == "Namespace" && target.api_version == "v1" {
        wait_active(&api, target.name).await.map_err(fail)?;
    }
    if target.kind == "Job" && target.api_version == "batch/v1" {
        wait_complete(&api, target.name, JOB_TIMEOUT)
            .await
            .map_err(fail)?;
    }
    Ok(serde_json::to_value(applied).unwrap_or(Value::Null))
}

/// Deletes the object `attrs` name (the attributes of a live `Kind::K8sObject`),
/// letting the garbage collector remove what it owns. Already gone is success:
/// rerunning an interrupted apply must converge.
pub async fn delete(
    kinds: &Kinds,
    address: &str,
    attrs: &serde_json::Map<String, Value>,
) -> Result<(), ApplyError> {
    let target = Target::from_attrs(attrs);
    let fail = |reason: String| ApplyError {
        address: address.to_string(),
        action: "delete",
        object: target.describe(),
        reason,
    };
    let served = kinds
        .resolve(target.api_version, target.kind)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let api = api_for(kinds, &served, target.namespace);
    match api.delete(target.name, &DeleteParams::background()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(e) => Err(fail(e.to_string())),
    }
}

async fn wait_active(api: &kube::Api<kube::api::DynamicObject>, name: &str) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + NAMESPACE_READY_TIMEOUT;
    loop {
        let ns = api.get(name).await.map_err(|e| e.to_string())?;
        match ns.data.pointer("/status/phase").and_then(Value::as_str) {
            Some("Active") => return Ok(()),
            Some("Terminating") => {
                return Err("the namespace is being deleted; apply again once it is gone".into())
            }
            _ => {}
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(format!(
                "the namespace was not Active after {}s",
                NAMESPACE_READY_TIMEOUT.as_secs()
            ));
        }
        tokio::time::sleep(NAMESPACE_POLL).await;
    }
}

/// Polls a Job until its `Complete` or `Failed` condition is set, backing off from
/// 250 ms to 10 s between reads.
pub async fn wait_complete(
    api: &kube::Api<kube::api::DynamicObject>,
    name: &str,
    timeout: Duration,
) -> Result<(), String> {
    let started = tokio::time::Instant::now();
    let mut pause = JOB_FIRST_POLL;
    loop {
        let job = api.get(name).await.map_err(|e| e.to_string())?;
        if let Some(outcome) = job_outcome(&job.data) {
            return outcome;
        }
        if started.elapsed() >= timeout {
            return Err(format!(
                "the Job had not completed after {}s; it may still be running: check it with `kubectl get job {name}` and apply again once it is done",
                timeout.as_secs()
            ));
        }
        tokio::time::sleep(pause.min(timeout.saturating_sub(started.elapsed()))).await;
        pause = (pause * 2).min(JOB_MAX_POLL);
    }
}

/// `Some(Ok)` once a Job has completed, `Some(Err)` once it has failed, `None` while
/// it runs (from the conditions the Job controller sets).
fn job_outcome(job: &Value) -> Option<Result<(), String>> {
    let conditions = job
        .pointer("/status/conditions")
        .and_then(Value::as_array)?;
    let set = |kind: &str| {
        conditions.iter().find(|c| {
            c.get("type").and_then(Value::as_str) == Some(kind)
                && c.get("status").and_then(Value::as_str) == Some("True")
        })
    };
    if set("Complete").is_some() {
        return Some(Ok(()));
    }
    let failed = set("Failed")?;
    let field = |k: &str| failed.get(k).and_then(Value::as_str).unwrap_or_default();
    Some(Err(format!(
        "the Job failed ({}): {}",
        field("reason"),
        field("message")
    )))
}

fn explain(e: &kube::Error, kind: &str) -> String {
    let text = e.to_string();
    if kind == "Job" && text.contains("immutable") {
        return format!(
            "{text} (a Job's pod template cannot change in place: delete the Job and apply again)"
        );
    }
    text
}

/// Removes every value of a Secret's `data` (encoded and decoded) from `text`.
fn scrub(text: &str, manifest: &Value) -> String {
    let Some(data) = manifest.get("data").and_then(Value::as_object) else {
        return text.to_string();
    };
    let mut out = text.to_string();
    let mut secrets: Vec<String> = Vec::new();
    for v in data.values().filter_map(Value::as_str) {
        secrets.push(v.to_string());
        if let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(v) {
            if let Ok(plain) = String::from_utf8(decoded) {
                secrets.push(plain);
            }
        }
    }
    // Longest first, so a value containing another is removed whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for s in secrets.iter().filter(|s| s.len() >= 3) {
        out = out.replace(s.as_str(), REDACTED);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_job_is_done_when_complete_or_failed_and_running_otherwise() {
        let with = |conditions: Value| json!({"kind": "Job", "status": {"conditions": conditions}});
        assert_eq!(job_outcome(&json!({"kind": "Job"})), None);
        assert_eq!(
            job_outcome(&with(json!([{"type": "Complete", "status": "False"}]))),
            None
        );
        assert_eq!(
            job_outcome(&with(json!([{"type": "Complete", "status": "True"}]))),
            Some(Ok(()))
        );
        assert_eq!(
            job_outcome(&with(json!([{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]))),
            Some(Err("the Job failed (BackoffLimitExceeded): Job has reached the specified backoff limit".into()))
        );
    }

    #[test]
    fn scrub_removes_secret_values_in_both_forms() {
        let manifest = json!({"kind": "Secret", "data": {"password": "aHVudGVyMg=="}});
        let text =
            "Secret \"db\" is invalid: data[password]: Invalid value: \"hunter2\" (aHVudGVyMg==)";
        assert_eq!(scrub(text, &manifest), "Secret \"db\" is invalid: data[password]: Invalid value: \"(sensitive)\" ((sensitive))");
    }
}
