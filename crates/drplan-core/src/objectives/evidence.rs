//! Live evidence for the verdicts (issue 12): the plan already says where the live
//! cloud differs from the spec, so it says whether the backup machinery runs as the
//! spec writes it. Pure: reads the plan, never the cloud.
//!
//! - `rpo`: the policy's backup CronJobs in the active site. Missing (the plan creates
//!   it), suspended, or running another schedule fails the check, naming the live
//!   cause — and so does a CronJob whose last Job failed (its status, observed by
//!   the reader: last scheduled after the last success, nothing running). While a
//!   whole deployment is under way (the CronJob's Namespace or a
//!   restore Job of the placement is created by the same plan: a first apply, a DR
//!   activation, a failback) a missing CronJob is a warning: nothing has run yet.
//! - `cross_region_copy`: the buckets on the copy path. Versioning suspended on either
//!   side, or the replication rule missing on the source, fails it (S3 replicates
//!   nothing without both).
//! - a cache's checks (`store`): the replication group as the plan found it. Its
//!   automatic snapshots off, or kept or timed otherwise than the spec says, fail the
//!   `rpo` check (apply corrects it); a group the plan creates is a warning.
//! - Objects that could not be read (a lost region, `plan.deferred`) make the check
//!   say so: `basis = live_not_read`, and a passing verdict becomes a warning.

use super::{Basis, Check, CheckName, ObjectivesReport, Verdict};
use crate::address::Address;
use crate::live::LiveState;
use crate::model::{Backup, Project};
use crate::plan::{Action, Plan, ResourceChange};
use chrono::{DateTime, Utc};
use serde_json::Value;

/// `report` with the evidence of `plan` (made for `project`) folded into its checks.
pub fn apply(report: &mut ObjectivesReport, project: &Project, plan: &Plan, live: &LiveState) {
    for check in &mut report.checks {
        if let (CheckName::Rpo, Some(store)) = (check.name, check.store.as_deref()) {
            let findings = cache_snapshots(plan, &Address::new(store));
            fold(check, findings);
            continue;
        }
        let Some(policy) = check
            .policy
            .as_ref()
            .and_then(|p| project.topology.backups.get(p))
        else {
            continue;
        };
        let findings = match check.name {
            CheckName::Rpo => backup_jobs(project, plan, live, policy),
            CheckName::CrossRegionCopy => copy_path(project, plan, policy),
            CheckName::Rto | CheckName::DrReadiness => continue,
        };
        fold(check, findings);
    }
}

/// What the live cloud says about one check.
#[derive(Default)]
pub(super) struct Findings {
    /// Looked at something live (else the check stays on the spec).
    pub looked: bool,
    pub broken: Vec<String>,
    pub pending: Vec<String>,
    pub not_read: Vec<String>,
    pub fine: Vec<String>,
}

pub(super) fn fold(check: &mut Check, f: Findings) {
    if !f.looked {
        return;
    }
    check.basis = Basis::Live;
    if !f.not_read.is_empty() {
        check.basis = Basis::LiveNotRead;
        if check.verdict == Verdict::Pass {
            check.verdict = Verdict::Warn;
        }
    }
    if !f.pending.is_empty() && check.verdict == Verdict::Pass {
        check.verdict = Verdict::Warn;
    }
    if !f.broken.is_empty() {
        check.verdict = Verdict::Fail;
        check.numbers = format!("{} — but live: {}", check.numbers, f.broken.join("; "));
    }
    let lines = f
        .broken
        .iter()
        .map(|b| format!("live: {b}"))
        .chain(f.pending.iter().map(|p| format!("live: {p}")))
        .chain(f.not_read.iter().map(|n| format!("live: not read: {n}")))
        .chain(f.fine.iter().map(|g| format!("live: {g}")));
    let mut details: Vec<String> = lines.collect();
    details.append(&mut check.details);
    check.details = details;
}

fn change<'a>(plan: &'a Plan, address: &Address) -> Option<&'a ResourceChange> {
    plan.changes.iter().find(|c| &c.address == address)
}

fn deferred(plan: &Plan, address: &Address) -> Option<String> {
    plan.deferred
        .iter()
        .find(|d| &d.address == address)
        .map(|d| format!("{} ({})", d.address, d.reason))
}

fn manifest_spec(attrs: Option<&serde_json::Map<String, Value>>) -> Option<&Value> {
    attrs?.get("manifest")?.get("spec")
}

/// The automatic snapshots of the cache at `address` as the plan found them live.
fn cache_snapshots(plan: &Plan, address: &Address) -> Findings {
    let mut f = Findings {
        looked: true,
        ..Findings::default()
    };
    if let Some(why) = deferred(plan, address) {
        f.not_read.push(why);
        return f;
    }
    let Some(c) = change(plan, address) else {
        f.looked = false;
        return f;
    };
    let attr = |side: Option<&serde_json::Map<String, Value>>, key: &str| {
        side.and_then(|a| a.get(key))
            .cloned()
            .unwrap_or(Value::Null)
    };
    match c.action {
        // Created by this plan: no snapshot until its first window, as a first
        // deployment's CronJobs have not run yet.
        Action::Create => f.pending.push(format!(
            "{address} does not exist yet: this plan creates it, its first automatic snapshot follows in its window"
        )),
        Action::Delete => f.looked = false,
        _ => {
            let before = f.broken.len();
            for (key, what) in [
                ("snapshot_retention_limit", "days kept"),
                ("snapshot_window", "window"),
            ] {
                let desired = attr(c.after.as_deref(), key);
                let live = attr(c.before.as_deref(), key);
                if !desired.is_null() && !crate::plan::compare::semantic_eq(&desired, &live) {
                    f.broken.push(format!(
                        "{address}'s automatic snapshots: {what} {live}, not {desired} (apply corrects it)"
                    ));
                }
            }
            if f.broken.len() == before {
                f.fine
                    .push(format!("{address} takes its automatic snapshots as written"));
            }
        }
    }
    f
}

fn backup_jobs(project: &Project, plan: &Plan, live: &LiveState, b: &Backup) -> Findings {
    let mut f = Findings::default();
    let active = &project.environment.active_site;
    if !b.placements.contains_key(active) {
        return f;
    }
    let placement = Address::block("backup", &b.label).child("placement", active);
    // A restore of this placement created by the same plan (DR activation's
    // `job.restore`, a failback's `job.failback`): its CronJobs start after it.
    let jobs = format!("{}.job.", placement.as_str());
    let restoring = plan
        .changes
        .iter()
        .any(|c| c.action == Action::Create && c.address.as_str().starts_with(&jobs));
    for (kind, schedule) in [
        ("full", &b.full_schedule),
        ("incremental", &b.incremental_schedule),
    ] {
        let Some(schedule) = schedule else { continue };
        let address = placement.child("cronjob", kind);
        f.looked = true;
        if let Some(why) = deferred(plan, &address) {
            f.not_read.push(why);
            continue;
        }
        let name = format!("CronJob {}-backup-{kind}", b.label.replace('_', "-"));
        let Some(c) = change(plan, &address) else {
            continue;
        };
        match c.action {
            Action::NoOp => match last_run_failed(live, &address) {
                Some(why) => f.broken.push(format!("{name}: {why}")),
                None => f
                    .fine
                    .push(format!("{name} runs \"{}\" as written", schedule.cron)),
            },
            Action::Create if restoring || namespace_created(plan, c) => f.pending.push(format!(
                "{name} does not run yet: this plan creates it{}",
                if restoring { " after the restore" } else { "" }
            )),
            Action::Create => f
                .broken
                .push(format!("{name} is missing (apply creates it)")),
            Action::Delete => {}
            _ => {
                let before = f.broken.len();
                let spec = manifest_spec(c.before.as_deref());
                if spec.and_then(|s| s.get("suspend")).and_then(Value::as_bool) == Some(true) {
                    f.broken
                        .push(format!("{name} is suspended (apply resumes it)"));
                }
                let live_schedule = spec.and_then(|s| s.get("schedule")).and_then(Value::as_str);
                if let Some(s) = live_schedule.filter(|s| *s != schedule.cron) {
                    f.broken.push(format!(
                        "{name} runs \"{s}\", not \"{}\" (apply corrects it)",
                        schedule.cron
                    ));
                }
                if let Some(why) = last_run_failed(live, &address) {
                    f.broken.push(format!("{name}: {why}"));
                }
                if f.broken.len() == before {
                    f.fine
                        .push(format!("{name} runs \"{}\" as written", schedule.cron));
                }
            }
        }
    }
    f
}

/// The CronJob at `address` last scheduled a Job that did not succeed: its status
/// (observed by the reader) says when it last scheduled one, nothing is running now,
/// and the last success (a completion time) is older than that or never was.
fn last_run_failed(live: &LiveState, address: &Address) -> Option<String> {
    let object = live
        .objects
        .iter()
        .find(|o| o.address.as_ref() == Some(address))?;
    let status = live.observed_of(object)?.get("status")?;
    let time = |key: &str| {
        status
            .get(key)
            .and_then(Value::as_str)
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
    };
    let scheduled = time("lastScheduleTime")?;
    let running = status
        .get("active")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    if running {
        return None;
    }
    match time("lastSuccessfulTime") {
        Some(success) if success >= scheduled => None,
        Some(success) => Some(format!(
            "the last Job, scheduled at {}, did not succeed (last success {}); the backups since then are missing",
            scheduled.format("%Y-%m-%d %H:%M UTC"),
            success.format("%Y-%m-%d %H:%M UTC")
        )),
        None => Some(format!(
            "the last Job, scheduled at {}, did not succeed, and none ever has",
            scheduled.format("%Y-%m-%d %H:%M UTC")
        )),
    }
}

/// The object's Namespace is created by the same plan: nothing of it runs yet.
fn namespace_created(plan: &Plan, c: &ResourceChange) -> bool {
    let after = c.after.as_ref();
    let (cluster, namespace) = (
        after.and_then(|a| a.get("cluster")),
        after.and_then(|a| a.get("namespace")),
    );
    plan.changes.iter().any(|n| {
        n.action == Action::Create
            && n.after.as_ref().is_some_and(|a| {
                a.get("kind").and_then(Value::as_str) == Some("Namespace")
                    && a.get("cluster") == cluster
                    && a.get("name") == namespace
            })
    })
}

fn copy_path(project: &Project, plan: &Plan, b: &Backup) -> Findings {
    let mut f = Findings::default();
    let t = &project.topology;
    let Some(primary) = t
        .sites
        .values()
        .find(|s| s.role == crate::model::SiteRole::Primary)
    else {
        return f;
    };
    let Some(home) = b.placements.get(&primary.name) else {
        return f;
    };
    let source = Address::block("bucket", &home.bucket);
    let Some(source_bucket) = t.buckets.get(&home.bucket) else {
        return f;
    };
    // The destinations of the source bucket's rules (the path the spec check found).
    let mut destinations: Vec<&str> = source_bucket
        .replication
        .iter()
        .flat_map(|r| r.rules.iter().map(|rule| rule.destination.as_str()))
        .collect();
    destinations.sort();
    destinations.dedup();
    let mut on_path = vec![(source.clone(), true)];
    on_path.extend(
        destinations
            .iter()
            .map(|d| (Address::block("bucket", d), false)),
    );
    for (address, is_source) in on_path {
        f.looked = true;
        if let Some(why) = deferred(plan, &address) {
            f.not_read.push(why);
            continue;
        }
        let Some(c) = change(plan, &address) else {
            continue;
        };
        let name = c
            .after
            .as_ref()
            .and_then(|a| a.get("name"))
            .and_then(Value::as_str)
            .unwrap_or(address.as_str())
            .to_string();
        match c.action {
            Action::Create => f.pending.push(format!(
                "bucket {name} does not exist yet: this plan creates it"
            )),
            Action::NoOp => f.fine.push(format!(
                "bucket {name}: versioning and replication as written"
            )),
            Action::Delete => {}
            _ => {
                let broken_before = f.broken.len();
                let before = c.before.as_deref();
                let after = c.after.as_deref();
                let versioned = |a: Option<&serde_json::Map<String, Value>>| {
                    a.and_then(|a| a.get("versioning")).and_then(Value::as_bool)
                };
                if versioned(after) == Some(true) && versioned(before) != Some(true) {
                    f.broken.push(format!(
                        "versioning is suspended on bucket {name}; S3 replicates nothing without it (apply enables it)"
                    ));
                }
                if is_source {
                    let rules = |a: Option<&serde_json::Map<String, Value>>| -> Vec<String> {
                        a.and_then(|a| a.get("replication"))
                            .and_then(|r| r.get("rules"))
                            .and_then(Value::as_array)
                            .map(|rules| {
                                rules
                                    .iter()
                                    .filter_map(|r| r.get("id").and_then(Value::as_str))
                                    .map(str::to_string)
                                    .collect()
                            })
                            .unwrap_or_default()
                    };
                    let live = rules(before);
                    for id in rules(after).into_iter().filter(|id| !live.contains(id)) {
                        f.broken.push(format!(
                            "replication rule {id} is missing on bucket {name} (apply restores it)"
                        ));
                    }
                }
                if f.broken.len() == broken_before {
                    f.fine.push(format!(
                        "bucket {name}: versioning and replication as written"
                    ));
                }
            }
        }
    }
    // A bucket of the path not created yet: the deployment is under way (a first
    // apply, or one an interruption left half done), so nothing replicates yet by
    // design: what is not as written is pending, not a breach.
    if f.pending.iter().any(|p| p.contains("does not exist yet")) {
        let broken = std::mem::take(&mut f.broken);
        f.pending.extend(broken);
    }
    f
}
