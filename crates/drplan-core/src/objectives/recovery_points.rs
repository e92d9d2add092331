//! Recovery points (issue 12): the RPO judged on the backups that really exist.
//!
//! Every backup Job drplan generates writes, after a complete upload, a small JSON
//! object at a well-known key per policy and backup kind
//! (`kubernetes::backup_jobs::recovery_point_key`): time, engine, kind, size, checksum,
//! source site. It lies under the policy's prefix, so the copy path replicates it with
//! the backups. A plan reads the newest one in every bucket that holds a copy — the
//! active site's bucket and the replication destinations — with one request per
//! (policy, bucket, kind), however long the history.
//!
//! **What a restore gets back.** The generated restore Job reads the newest *full*
//! backup and replays no incrementals (for every engine: neo4j's seed URI names one
//! full artifact; postgres restores a logical dump, its incrementals are physical base
//! backups for other tooling; redis and qdrant write full snapshots either way). So the
//! recovery point of a copy is its newest full backup, and that is what is judged
//! against the RPO. The incremental one is shown, and said not to count.
//!
//! Verdicts, folded into the policy's `rpo` check:
//! - a copy whose newest full backup is older than the RPO fails, naming the bucket,
//!   the site and the age; the replication lag (source newer than copy) is shown;
//! - a copy with no recovery point yet is a warning (the first backup may not be due);
//! - a copy that could not be read (a lost region) makes the basis `live_not_read`.
//!
//! Pure: the reads come in from `drplan::live::recovery_points`, `now` from the caller.

use super::evidence::{fold, Findings};
use super::{human_duration, CheckName, ObjectivesReport};
use crate::kubernetes::backup_jobs::recovery_point_key;
use crate::kubernetes::engines::BackupType;
use crate::model::{Backup, Project};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The object a backup Job writes (format 1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryPoint {
    pub time: DateTime<Utc>,
    pub engine: String,
    pub kind: String,
    #[serde(default)]
    pub size_bytes: Option<u64>,
    #[serde(default)]
    pub sha256: Option<String>,
    #[serde(default)]
    pub source_site: Option<String>,
    /// The S3 location of the run's files.
    #[serde(default)]
    pub run: Option<String>,
}

/// One place a recovery point is looked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    pub policy: String,
    /// The bucket block label and its name.
    pub bucket: String,
    pub bucket_name: String,
    pub site: String,
    pub region: String,
    /// The bucket the active site's backup Jobs write to (else a replicated copy).
    pub source: bool,
    pub kind: BackupType,
    pub key: String,
}

/// What was found at a [`Place`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    Point(RecoveryPoint),
    /// Read, and no recovery point there (or no bucket yet).
    Absent,
    /// Could not be read: the reason, one line.
    NotRead(String),
}

/// Where every policy of `project` keeps its recovery points: the active site's
/// bucket, then the buckets its replication rules copy to, per scheduled kind.
pub fn places(project: &Project) -> Vec<Place> {
    let t = &project.topology;
    let active = &project.environment.active_site;
    let mut out = Vec::new();
    for b in t.backups.values() {
        let Some(home) = b.placements.get(active) else {
            continue;
        };
        let mut buckets = vec![(home.bucket.clone(), true)];
        if let Some(bucket) = t.buckets.get(&home.bucket) {
            for rule in bucket.replication.iter().flat_map(|r| r.rules.iter()) {
                if !buckets.iter().any(|(l, _)| *l == rule.destination) {
                    buckets.push((rule.destination.clone(), false));
                }
            }
        }
        for (label, source) in buckets {
            let Some(bucket) = t.buckets.get(&label) else {
                continue;
            };
            let Some(site) = t.sites.get(&bucket.site) else {
                continue;
            };
            for kind in kinds(b) {
                out.push(Place {
                    policy: b.label.clone(),
                    bucket: label.clone(),
                    bucket_name: bucket.name.clone(),
                    site: site.name.clone(),
                    region: site.region.clone(),
                    source,
                    kind,
                    key: recovery_point_key(&b.prefix, kind),
                });
            }
        }
    }
    out
}

fn kinds(b: &Backup) -> Vec<BackupType> {
    let mut out = Vec::new();
    if b.full_schedule.is_some() {
        out.push(BackupType::Full);
    }
    if b.incremental_schedule.is_some() {
        out.push(BackupType::Incremental);
    }
    out
}

/// One recovery point as reported (JSON `objectives.recovery_points`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    pub policy: String,
    pub bucket: String,
    pub site: String,
    pub region: String,
    /// `source` (the bucket backups are written to) or `copy` (replicated).
    pub role: String,
    pub kind: String,
    /// `found`, `absent` or `not_read`.
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_seconds: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    /// Copies only: how far the copy's newest point trails the source's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag_seconds: Option<u64>,
    /// Whether a restore gets this point back (full backups: yes).
    pub restorable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Folds what was read into the `rpo` checks of `report` and lists it in
/// `report.recovery_points`.
pub fn apply(
    report: &mut ObjectivesReport,
    project: &Project,
    reads: &[(Place, Found)],
    now: DateTime<Utc>,
) {
    let age = |p: &RecoveryPoint| (now - p.time).to_std().unwrap_or(Duration::ZERO);
    for check in &mut report.checks {
        if check.name != CheckName::Rpo {
            continue;
        }
        let Some(policy) = check.policy.clone() else {
            continue;
        };
        let Some(rpo) = check.limit_seconds.map(Duration::from_secs) else {
            continue;
        };
        let mine: Vec<(&Place, &Found)> = reads
            .iter()
            .filter(|(p, _)| p.policy == policy)
            .map(|(p, f)| (p, f))
            .collect();
        if mine.is_empty() {
            continue;
        }
        let engine = project
            .topology
            .backups
            .get(&policy)
            .map(|b| b.engine.clone())
            .unwrap_or_default();
        let source_full = mine.iter().find_map(|&(p, f)| match f {
            Found::Point(r) if p.source && p.kind == BackupType::Full => Some(r.time),
            _ => None,
        });
        let mut f = Findings {
            looked: true,
            ..Findings::default()
        };
        for &(place, found) in &mine {
            let role = if place.source { "source" } else { "DR copy" };
            let what = format!(
                "{} bucket {} ({}, {})",
                role, place.bucket_name, place.site, place.region
            );
            match (found, place.kind) {
                (Found::NotRead(why), _) => f
                    .not_read
                    .push(format!("recovery point in {what}: {why}")),
                (Found::Absent, BackupType::Full) => f.pending.push(format!(
                    "no full backup recorded in {what} yet (s3://{}/{}): the first may not be due; a restore there has nothing to read",
                    place.bucket_name, place.key
                )),
                (Found::Absent, BackupType::Incremental) => {}
                (Found::Point(p), BackupType::Full) => {
                    let a = age(p);
                    let lag = match source_full {
                        Some(src) if !place.source && src > p.time => {
                            format!(
                                ", {} behind the source",
                                human_duration((src - p.time).to_std().unwrap_or_default())
                            )
                        }
                        _ => String::new(),
                    };
                    let line = format!(
                        "newest full backup in {what} is {} old{lag}",
                        human_duration(a)
                    );
                    if a > rpo {
                        f.broken.push(format!(
                            "{line} > RPO {} (a restore from it loses that much)",
                            human_duration(rpo)
                        ));
                    } else {
                        f.fine.push(format!("{line} <= RPO {}", human_duration(rpo)));
                    }
                }
                (Found::Point(p), BackupType::Incremental) => f.fine.push(format!(
                    "newest incremental backup in {what} is {} old (the {engine} restore replays no incrementals: it does not count)",
                    human_duration(age(p))
                )),
            }
        }
        fold(check, f);
    }
    for (place, found) in reads {
        let source_full = reads.iter().find_map(|(p, f)| match f {
            Found::Point(r) if p.policy == place.policy && p.source && p.kind == place.kind => {
                Some(r.time)
            }
            _ => None,
        });
        let (state, point, reason) = match found {
            Found::Point(p) => ("found", Some(p), None),
            Found::Absent => ("absent", None, None),
            Found::NotRead(why) => ("not_read", None, Some(why.clone())),
        };
        report.recovery_points.push(Seen {
            policy: place.policy.clone(),
            bucket: place.bucket_name.clone(),
            site: place.site.clone(),
            region: place.region.clone(),
            role: if place.source { "source" } else { "copy" }.into(),
            kind: place.kind.as_str().into(),
            state: state.into(),
            time: point.map(|p| p.time),
            age_seconds: point.map(|p| age(p).as_secs()),
            size_bytes: point.and_then(|p| p.size_bytes),
            lag_seconds: match (point, source_full) {
                (Some(p), Some(src)) if !place.source => {
                    Some((src - p.time).to_std().unwrap_or_default().as_secs())
                }
                _ => None,
            },
            restorable: place.kind == BackupType::Full,
            reason,
        });
    }
}
