//! Drill records: what a drill did and measured, as JSON next to the lock
//! (`s3://<lock bucket>/drplan/drills/<stack>/<env>/<id>.json`), so CI runs build a
//! history (`drplan drill history`).

use crate::apply::context::aws_error;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub format: u32,
    pub id: String,
    /// `drill`, or `activation`: an apply of a DR activation, the real event
    /// (`drill::activation`). Older records have none: drills.
    #[serde(default = "drill_kind")]
    pub kind: String,
    pub stack: String,
    pub environment: String,
    pub site: String,
    pub region: String,
    pub cluster: String,
    pub started: DateTime<Utc>,
    #[serde(default)]
    pub finished: Option<DateTime<Utc>>,
    /// `user@host` that ran it.
    pub by: String,
    /// `passed`, `failed` or `stopped`.
    pub outcome: String,
    pub steps: Vec<Step>,
    /// Policies not drilled, and why.
    #[serde(default)]
    pub skipped: Vec<Skipped>,
    /// Whether teardown removed everything the drill created.
    #[serde(default)]
    pub cleaned_up: bool,
    /// An activation's recovery time: from the start of the apply to the last DNS
    /// change (the flip), in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_seconds: Option<f64>,
}

fn drill_kind() -> String {
    "drill".to_string()
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    pub policy: String,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// `scale_node_group`, `namespace`, `workloads`, `restore`, `verify`, `teardown`.
    pub step: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    /// The backup policy (`backup` label) the step is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// The spec address the step acted on (a node group scaled up), where there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    pub what: String,
    pub seconds: f64,
    /// `ok` or `failed`.
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The estimate the RTO uses for this step, in seconds, where there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimate_seconds: Option<u64>,
}

async fn keys(s3: &aws_sdk_s3::Client, bucket: &str, prefix: &str) -> anyhow::Result<Vec<String>> {
    crate::aws::objects::list_keys(s3, bucket, prefix, "ListObjectsV2 (drill records)").await
}

async fn get(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
    crate::aws::objects::get_bytes(s3, bucket, key, "GetObject (drill record)").await
}

pub fn prefix(stack: &str, env: &str) -> String {
    format!("drplan/drills/{stack}/{env}/")
}

pub async fn write(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    record: &Record,
) -> anyhow::Result<String> {
    let key = format!(
        "{}{}.json",
        prefix(&record.stack, &record.environment),
        record.id
    );
    let body = serde_json::to_vec_pretty(record)?;
    s3.put_object()
        .bucket(bucket)
        .key(&key)
        .content_type("application/json")
        .body(body.into())
        .send()
        .await
        .map_err(aws_error("PutObject (drill record)"))?;
    Ok(format!("s3://{bucket}/{key}"))
}

/// Every record of `stack`/`env`, oldest first (ids sort by time).
pub async fn list(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    stack: &str,
    env: &str,
) -> anyhow::Result<Vec<Record>> {
    let prefix = prefix(stack, env);
    let mut keys = keys(s3, bucket, &prefix).await?;
    keys.sort();
    let mut records = Vec::new();
    for key in keys {
        let Some(bytes) = get(s3, bucket, &key).await? else {
            continue;
        };
        match serde_json::from_slice(&bytes) {
            Ok(r) => records.push(r),
            Err(e) => eprintln!("Warning: s3://{bucket}/{key} is not a drill record: {e}"),
        }
    }
    Ok(records)
}

/// How long a drill's measurement stands in for the estimate.
pub const MEASUREMENT_WINDOW_DAYS: i64 = 90;

/// The restore durations (per backup label) and node-group scale-ups (per address) of
/// the newest passed drill or DR activation of the stack in one of `clusters` (the DR
/// clusters: a drill of `prod` measures what `prod-dr` restores), when it is recent
/// (`MEASUREMENT_WINDOW_DAYS`). One list and a read or two. An older one is a warning
/// to drill again.
pub async fn measured(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    stack: &str,
    clusters: &[String],
    now: DateTime<Utc>,
) -> drplan_core::objectives::MeasuredDurations {
    let mut out = drplan_core::objectives::MeasuredDurations::default();
    let record = match newest_passed(s3, bucket, stack, clusters).await {
        Ok(Some(r)) => r,
        Ok(None) => return out,
        Err(e) => {
            eprintln!("Warning: could not read the drill records of {stack}: {e:#}");
            return out;
        }
    };
    let age = now - record.started;
    if age.num_days() > MEASUREMENT_WINDOW_DAYS {
        eprintln!(
            "Warning: the newest drill of {stack} ({}, environment {}) is {} days old, older than {MEASUREMENT_WINDOW_DAYS}: the RTO uses estimates; drill again (`drplan drill -e {}`).",
            record.id,
            record.environment,
            age.num_days(),
            record.environment
        );
        return out;
    }
    let measurement = |s: &Step| drplan_core::objectives::Measured {
        duration: std::time::Duration::from_secs_f64(s.seconds.max(0.0)),
        drill: record.id.clone(),
        date: record.started.format("%Y-%m-%d").to_string(),
    };
    for s in record.steps.iter().filter(|s| s.outcome == "ok") {
        match (s.step.as_str(), &s.policy, &s.address) {
            ("restore", Some(policy), _) => {
                out.restores.insert(policy.clone(), measurement(s));
            }
            ("scale_node_group", _, Some(address)) => {
                out.scale_ups.insert(address.clone(), measurement(s));
            }
            _ => {}
        }
    }
    out
}

async fn newest_passed(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    stack: &str,
    clusters: &[String],
) -> anyhow::Result<Option<Record>> {
    let prefix = format!("drplan/drills/{stack}/");
    let mut keys = keys(s3, bucket, &prefix).await?;
    keys.retain(|k| !k[prefix.len()..].starts_with("scaled/"));
    // Newest first by id (the file name), whatever the environment; a failed drill
    // measured nothing, so look a few back.
    keys.sort_by(|a, b| file_name(b).cmp(file_name(a)));
    for key in keys.iter().take(5) {
        let Some(bytes) = get(s3, bucket, key).await? else {
            continue;
        };
        if let Ok(r) = serde_json::from_slice::<Record>(&bytes) {
            if r.outcome == "passed" && clusters.contains(&r.cluster) {
                return Ok(Some(r));
            }
        }
    }
    Ok(None)
}

fn file_name(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or(key)
}
