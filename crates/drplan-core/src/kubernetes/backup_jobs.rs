//! `backup` policies -> a CronJob per schedule in the active site's cluster, and
//! under DR activation a restore Job reading the latest backup from the DR bucket.
//!
//! Every pod has the same shape: an `emptyDir` at `/backup` shared by an AWS CLI
//! container (fetching from or uploading to S3) and the engine's own image (running
//! the backup or restore tool). The bucket and key prefix reach the scripts as
//! environment variables.

use super::engines::{self, BackupType, AWS_CLI_IMAGE, BACKUP_DIR};
use crate::model::{Backup, Schedule};
use serde_json::{json, Value};

/// `s3://<bucket>/<prefix>`, the prefix ending in `/` unless empty.
pub fn s3_base(bucket: &str, prefix: &str) -> String {
    let prefix = prefix.trim_start_matches('/');
    if prefix.is_empty() || prefix.ends_with('/') {
        format!("s3://{bucket}/{prefix}")
    } else {
        format!("s3://{bucket}/{prefix}/")
    }
}

fn labels(b: &Backup, component: &str) -> Value {
    json!({
        "app.kubernetes.io/name": format!("{}-{component}", object_name(&b.label)),
        "app.kubernetes.io/component": component,
    })
}

fn env(pairs: &[(&str, String)]) -> Value {
    Value::Array(
        pairs
            .iter()
            .map(|(k, v)| json!({"name": k, "value": v}))
            .collect(),
    )
}

fn volume_mount() -> Value {
    json!([{"name": "backup", "mountPath": BACKUP_DIR}])
}

fn credentials(b: &Backup) -> Value {
    json!([{"secretRef": {"name": format!("{}-backup", object_name(&b.label)), "optional": true}}])
}

fn aws_container(name: &str, script: String, pairs: &[(&str, String)]) -> Value {
    json!({
        "name": name,
        "image": AWS_CLI_IMAGE,
        "command": ["/bin/sh", "-c", script],
        "env": env(pairs),
        "volumeMounts": volume_mount(),
    })
}

fn tool_container(b: &Backup, name: &str, command: Vec<String>, extra: &[(&str, String)]) -> Value {
    let mut pairs = vec![
        ("HOST", engines::host(b)),
        ("BACKUP_DIR", BACKUP_DIR.to_string()),
    ];
    pairs.extend(extra.iter().cloned());
    json!({
        "name": name,
        "image": b.image.clone().unwrap_or_else(|| engines::default_image(&b.engine).to_string()),
        "command": command,
        "env": env(&pairs),
        "envFrom": credentials(b),
        "volumeMounts": volume_mount(),
    })
}

fn pod_spec(init: Vec<Value>, main: Value) -> Value {
    json!({
        "restartPolicy": "Never",
        "volumes": [{"name": "backup", "emptyDir": {}}],
        "initContainers": init,
        "containers": [main],
    })
}

/// Where a backup run of `kind` records its recovery point, under the policy's prefix
/// (so the copy path replicates it with the backups): `<prefix>recovery-points/<kind>.json`.
pub fn recovery_point_key(prefix: &str, kind: BackupType) -> String {
    let base = s3_base("", prefix);
    let prefix = base.trim_start_matches("s3:///");
    format!("{prefix}recovery-points/{}.json", kind.as_str())
}

/// The CronJob for one schedule of `b` running in `site`, writing into `bucket` (a
/// bucket name) in `region`.
pub fn cronjob(
    b: &Backup,
    kind: BackupType,
    schedule: &Schedule,
    bucket: &str,
    region: &str,
    site: &str,
) -> Value {
    let base = s3_base(bucket, &b.prefix);
    let destination = format!("{base}{}/", kind.as_str());
    let steps = engines::backup_steps(b, kind);
    let aws_env =
        |key: &'static str, value: String| vec![("AWS_REGION", region.to_string()), (key, value)];
    let mut init = Vec::new();
    if steps.fetch_base {
        init.push(aws_container(
            "fetch-base",
            engines::fetch_latest_script(&b.engine),
            &aws_env("SOURCE", format!("{base}full/")),
        ));
    }
    init.push(tool_container(
        b,
        "backup",
        steps.command,
        &[("BACKUP_TYPE", kind.as_str().to_string())],
    ));
    let mut upload_env = aws_env("DESTINATION", destination);
    upload_env.extend([
        (
            "RECOVERY_POINT",
            format!("s3://{bucket}/{}", recovery_point_key(&b.prefix, kind)),
        ),
        ("ENGINE", b.engine.clone()),
        ("BACKUP_TYPE", kind.as_str().to_string()),
        ("SOURCE_SITE", site.to_string()),
    ]);
    let upload = aws_container(
        "upload",
        engines::upload_script(steps.fetch_base),
        &upload_env,
    );
    let name = format!("{}-backup-{}", object_name(&b.label), kind.as_str());
    json!({
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name, "namespace": b.namespace, "labels": labels(b, "backup")},
        "spec": {
            "schedule": schedule.cron,
            // Written out so that a CronJob suspended by hand is drift apply reverts:
            // every field deciding whether backups run is managed.
            "suspend": false,
            "timeZone": "Etc/UTC",
            "concurrencyPolicy": "Forbid",
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "metadata": {"labels": labels(b, "backup")},
                "spec": {
                    "backoffLimit": 2,
                    "template": {
                        "metadata": {"labels": labels(b, "backup")},
                        "spec": pod_spec(init, upload),
                    },
                },
            },
        },
    })
}

/// The restore Job reading the latest full backup of `b` from `bucket`, or why the
/// engine cannot be restored without a `restore_command`.
pub fn restore_job(b: &Backup, bucket: &str, region: &str) -> Result<Value, String> {
    let command = engines::restore_command(b)?;
    let source = format!("{}full/", s3_base(bucket, &b.prefix));
    let fetch = aws_container(
        "fetch",
        engines::fetch_latest_script(&b.engine),
        &[("AWS_REGION", region.to_string()), ("SOURCE", source)],
    );
    let restore = tool_container(b, "restore", command, &[]);
    Ok(json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": format!("{}-restore", object_name(&b.label)), "namespace": b.namespace, "labels": labels(b, "restore")},
        "spec": {
            "backoffLimit": 2,
            "template": {
                "metadata": {"labels": labels(b, "restore")},
                "spec": pod_spec(vec![fetch], restore),
            },
        },
    }))
}

/// Kubernetes object names are DNS-1123 subdomains; spec labels may hold `_` and
/// upper case (`backup "orders_db"`), which become `orders-db`.
pub fn object_name(label: &str) -> String {
    label.to_ascii_lowercase().replace('_', "-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_base_normalizes_the_prefix() {
        assert_eq!(s3_base("b", "neo4j/"), "s3://b/neo4j/");
        assert_eq!(s3_base("b", "neo4j"), "s3://b/neo4j/");
        assert_eq!(s3_base("b", ""), "s3://b/");
    }

    #[test]
    fn recovery_points_live_under_the_policy_prefix() {
        assert_eq!(
            recovery_point_key("orders-db/", BackupType::Full),
            "orders-db/recovery-points/full.json"
        );
        assert_eq!(
            recovery_point_key("/neo4j", BackupType::Incremental),
            "neo4j/recovery-points/incremental.json"
        );
        assert_eq!(
            recovery_point_key("", BackupType::Full),
            "recovery-points/full.json"
        );
    }
}
