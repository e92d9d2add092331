//! Cross-region copy: a backup policy's data (see [`must_leave_region`]) must reach a bucket in another site and
//! be kept there at least as long as the policy's cross-region retention.
//!
//! Two copy paths count: the primary placement writes straight into a bucket of
//! another site, or the primary placement's bucket replicates the policy's prefix to a
//! bucket in another site (a replication rule whose prefix covers the backup prefix).

use super::{human_days, Basis, Check, CheckName, Verdict};
use crate::model::{Backup, Bucket, SiteRole, Topology};

pub fn check(t: &Topology) -> Vec<Check> {
    t.backups
        .values()
        .filter(|b| must_leave_region(t, b))
        .map(|b| policy_check(t, b))
        .collect()
}

/// A policy must copy cross-region when it declares a cross-region retention, or when
/// it protects data with an RPO (its component's, or the overall one unless the
/// component opts out by having none, like a cache that is rebuilt).
fn must_leave_region(t: &Topology, b: &Backup) -> bool {
    if b.cross_region_retention.is_some() {
        return true;
    }
    let Some(o) = &t.objectives else { return false };
    match o.components.get(&b.component) {
        Some(c) => c.rpo.is_some(),
        None => o.rpo.is_some(),
    }
}

/// One way the backups leave the primary site, and how long they stay there.
struct CopyPath {
    description: String,
    /// Days the destination keeps the prefix; `None` = forever.
    kept_days: Option<u64>,
}

fn policy_check(t: &Topology, b: &Backup) -> Check {
    let wanted_days = b
        .cross_region_retention
        .map(|d| d.as_secs().div_ceil(86_400));
    let base = Check {
        name: CheckName::CrossRegionCopy,
        component: Some(b.component.clone()),
        verdict: Verdict::Fail,
        numbers: String::new(),
        measured_seconds: None,
        limit_seconds: wanted_days.map(|d| d * 86_400),
        details: Vec::new(),
        path: Vec::new(),
        source: Some(b.source.clone()),
        basis: Basis::Spec,
        policy: Some(b.label.clone()),
    };

    let primary = b.placements.values().find(|p| {
        t.sites
            .get(&p.site)
            .is_some_and(|s| s.role == SiteRole::Primary)
    });
    let Some(primary) = primary else {
        return Check {
            numbers: format!("backup.{} has no placement in the primary site", b.label),
            ..base
        };
    };
    let Some(source) = t.buckets.get(&primary.bucket) else {
        return Check {
            numbers: format!("bucket.{} is not declared", primary.bucket),
            ..base
        };
    };

    let mut paths = Vec::new();
    if source.site != primary.site {
        paths.push(CopyPath {
            description: format!(
                "written directly to bucket.{} in site {}",
                source.label, source.site
            ),
            kept_days: kept_days(source, &b.prefix),
        });
    }
    if let Some(rep) = &source.replication {
        for rule in rep.rules.iter().filter(|r| b.prefix.starts_with(&r.prefix)) {
            let Some(dest) = t.buckets.get(&rule.destination) else {
                continue;
            };
            if dest.site == primary.site {
                continue;
            }
            let prefix = if rule.prefix.is_empty() {
                "everything".to_string()
            } else {
                format!("prefix {}", rule.prefix)
            };
            paths.push(CopyPath {
                description: format!(
                    "bucket.{} -> bucket.{} in {}site {} (replication rule {}, {prefix}){}",
                    source.label,
                    dest.label,
                    match t.sites.get(&dest.site).map(|s| s.role) {
                        Some(SiteRole::Vault) => "vault ",
                        _ => "",
                    },
                    dest.site,
                    rule.id,
                    immutable(dest)
                ),
                kept_days: kept_days(dest, &b.prefix),
            });
        }
    }

    if paths.is_empty() {
        return Check {
            numbers: format!(
                "no copy outside site {}: bucket.{} does not replicate {}",
                primary.site, source.label, b.prefix
            ),
            details: vec![
                "set replication_role_arn on the backup policy (with a placement in the DR site), or a replication block on the bucket".to_string(),
            ],
            ..base
        };
    }

    let long_enough = |p: &CopyPath| match (p.kept_days, wanted_days) {
        (None, _) | (_, None) => true,
        (Some(kept), Some(wanted)) => kept >= wanted,
    };
    // Best path first: one that keeps the data long enough, then the longest-keeping.
    paths.sort_by_key(|p| {
        (
            !long_enough(p),
            std::cmp::Reverse(p.kept_days.unwrap_or(u64::MAX)),
        )
    });
    let best = &paths[0];
    let kept = best.kept_days.map_or("forever".to_string(), human_days);
    let ok = long_enough(best);
    let numbers = match wanted_days {
        None => format!("copied, kept {kept} (no cross_region retention set)"),
        Some(w) => format!(
            "kept {kept} {} cross_region retention {}",
            if ok { ">=" } else { "<" },
            human_days(w)
        ),
    };
    Check {
        verdict: if ok { Verdict::Pass } else { Verdict::Fail },
        numbers,
        measured_seconds: best.kept_days.map(|d| d * 86_400),
        details: paths.iter().map(|p| p.description.clone()).collect(),
        ..base
    }
}

/// `, immutable N days (Object Lock MODE)` for a bucket whose new objects are locked:
/// the answer to ransomware is a copy nobody can delete.
fn immutable(bucket: &Bucket) -> String {
    bucket.object_lock.as_ref().map_or(String::new(), |l| {
        format!(
            ", immutable {} (Object Lock {})",
            human_days(l.days.max(0) as u64),
            l.mode
        )
    })
}

/// The shortest expiration among the bucket's lifecycle rules that touch `prefix`
/// (rules on a parent prefix and rules on a part of it both expire backups).
fn kept_days(bucket: &Bucket, prefix: &str) -> Option<u64> {
    bucket
        .lifecycle_rules
        .iter()
        .filter(|r| prefix.starts_with(&r.prefix) || r.prefix.starts_with(prefix))
        .filter_map(|r| r.expiration_days)
        .map(|d| d.max(0) as u64)
        .min()
}
