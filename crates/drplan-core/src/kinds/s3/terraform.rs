//! The S3 family in Terraform's terms (see `kinds::network::terraform`): the
//! provider's inline bucket shape (`versioning`, `server_side_encryption_configuration`,
//! `lifecycle_rule`, `replication_configuration`), which policy tools' S3 checks read.

use crate::kinds::{get, TfState};
use crate::live::LiveObject;
use serde_json::{json, Map, Value};

/// An S3 bucket in the AWS provider's inline shape.
pub fn values(a: &Map<String, Value>) -> Value {
    let versioning =
        json!([{"enabled": get(a, "versioning").as_bool().unwrap_or(false), "mfa_delete": false}]);
    let encryption = match a.get("encryption").and_then(Value::as_object) {
        Some(e) => json!([{"rule": [{
            "apply_server_side_encryption_by_default": [{
                "sse_algorithm": get(e, "algorithm"),
                "kms_master_key_id": get(e, "kms_key_id"),
            }],
            "bucket_key_enabled": false,
        }]}]),
        None => json!([]),
    };
    let lifecycle: Vec<Value> = get(a, "lifecycle_rules")
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let days = |k: &str| r.get(k).filter(|v| !v.is_null()).map(|d| json!([{"days": d}]));
            json!({
                "id": r.get("id"),
                "enabled": true,
                "prefix": r.get("prefix"),
                "expiration": days("expiration_days").unwrap_or(json!([])),
                "noncurrent_version_expiration": days("noncurrent_expiration_days").unwrap_or(json!([])),
                "transition": r.get("transitions").cloned().unwrap_or(json!([])),
            })
        })
        .collect();
    let replication = match a.get("replication").and_then(Value::as_object) {
        Some(r) => json!([{
            "role": get(r, "role_arn"),
            "rules": get(r, "rules").as_array().into_iter().flatten().map(|rule| json!({
                "id": rule.get("id"),
                "status": "Enabled",
                "prefix": rule.get("prefix"),
                "destination": [{
                    "bucket": format!("arn:aws:s3:::{}", rule.get("destination_bucket").and_then(Value::as_str).unwrap_or_default()),
                    "storage_class": rule.get("storage_class"),
                }],
            })).collect::<Vec<_>>(),
        }]),
        None => json!([]),
    };
    let logging = match a.get("logging").and_then(Value::as_object) {
        Some(l) => json!([{
            "target_bucket": get(l, "target_bucket"),
            "target_prefix": get(l, "prefix"),
        }]),
        None => json!([]),
    };
    let mut values = json!({
        "bucket": get(a, "name"),
        "versioning": versioning,
        "server_side_encryption_configuration": encryption,
        "lifecycle_rule": lifecycle,
        "replication_configuration": replication,
        "tags": get(a, "tags"),
    });
    // Only where the bucket logs: checkov reads an empty `logging` as logging on.
    if logging.as_array().is_some_and(|l| !l.is_empty()) {
        values["logging"] = logging;
    }
    values
}

/// A live bucket as state: its inline settings, the public access block and Object
/// Lock as the provider's resources of their own; its replication is not written.
pub fn state(o: &LiveObject) -> TfState {
    let mut s = TfState::default();
    bucket(o, &mut s.attributes);
    if o.attrs.get("replication").is_some_and(|r| !r.is_null()) {
        s.unwritten = Some(
            "its replication is not written from the live object: add the `replication` block by hand",
        );
    }
    if o.attrs.get("public_access_block") == Some(&Value::Bool(true)) {
        s.companions.push((
            "aws_s3_bucket_public_access_block",
            json!({"bucket": o.id, "block_public_acls": true,
                   "ignore_public_acls": true, "block_public_policy": true,
                   "restrict_public_buckets": true}),
        ));
    }
    if let Some(lock) = o.attrs.get("object_lock").filter(|l| l.is_object()) {
        s.companions.push((
            "aws_s3_bucket_object_lock_configuration",
            json!({"bucket": o.id, "object_lock_enabled": "Enabled",
                   "rule": [{"default_retention": [{
                       "mode": lock.get("mode"), "days": lock.get("days")}]}]}),
        ));
    }
    s
}

fn bucket(o: &LiveObject, a: &mut Map<String, Value>) {
    a.insert("bucket".into(), json!(o.id));
    a.insert(
        "versioning".into(),
        json!([{"enabled": o.attrs.get("versioning").and_then(Value::as_bool).unwrap_or(false)}]),
    );
    if let Some(e) = o.attrs.get("encryption").and_then(Value::as_object) {
        a.insert(
            "server_side_encryption_configuration".into(),
            json!([{"rule": [{"apply_server_side_encryption_by_default": [{
                "sse_algorithm": e.get("algorithm"),
                "kms_master_key_id": e.get("kms_key_id"),
            }]}]}]),
        );
    }
    let rules: Vec<Value> = o
        .attrs
        .get("lifecycle_rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|r| {
            let days = |k: &str| r.get(k).cloned().unwrap_or(Value::Null);
            let transitions: Vec<Value> = r
                .get("transitions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|t| json!({"days": t.get("days"), "storage_class": t.get("storage_class")}))
                .collect();
            let expiration = match days("expiration_days") {
                Value::Null => json!([]),
                d => json!([{"days": d}]),
            };
            let noncurrent = match days("noncurrent_expiration_days") {
                Value::Null => json!([]),
                d => json!([{"days": d}]),
            };
            json!({
                "id": r.get("id"),
                "enabled": true,
                "prefix": r.get("prefix"),
                "expiration": expiration,
                "noncurrent_version_expiration": noncurrent,
                "transition": transitions,
            })
        })
        .collect();
    a.insert("lifecycle_rule".into(), Value::Array(rules));
}
