//! RPO: the longest gap between consecutive backups of a policy (the union of its full
//! and incremental schedules) must not exceed the component's RPO (else the overall
//! RPO). A cache's automatic snapshots count like a policy whose gap is a day
//! (`kinds::elasticache::SNAPSHOT_INTERVAL`). A component with an RPO and neither a
//! backup policy nor a cache fails.

use super::{human_duration, Basis, Check, CheckName, Verdict};
use crate::kinds::elasticache::SNAPSHOT_INTERVAL;
use crate::model::{Backup, Cache, Topology};
use chrono::{DateTime, TimeZone, Utc};
use croner::Cron;
use std::str::FromStr;
use std::time::Duration;

/// Occurrences are enumerated from a fixed Monday so the result never depends on when
/// drplan runs.
fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

/// At least eight days (every weekday plus one wrap), and for sparse schedules long
/// enough to see 2,000 runs or a whole (leap) year, whichever comes first.
const MIN_WINDOW: chrono::TimeDelta = chrono::TimeDelta::days(8);
const MAX_WINDOW: chrono::TimeDelta = chrono::TimeDelta::days(367);
const ENOUGH_RUNS: usize = 2_000;

pub fn check(t: &Topology) -> Vec<Check> {
    let mut out = Vec::new();
    let objectives = t.objectives.as_ref();
    let overall = objectives.and_then(|o| o.rpo);

    for b in t.backups.values() {
        let component = objectives.and_then(|o| o.components.get(&b.component));
        let (rpo, whose) = match component.and_then(|c| c.rpo) {
            Some(r) => (r, "RPO"),
            None => match overall {
                Some(r) => (r, "overall RPO"),
                None => continue,
            },
        };
        // A component explicitly without RPO ("cache rebuilt") is not measured even
        // when an overall RPO exists.
        if component.is_some_and(|c| c.rpo.is_none()) {
            continue;
        }
        out.push(policy_check(b, rpo, whose));
    }

    for c in t.caches.values() {
        let Some((rpo, whose)) = rpo_of(t, cache_component(t, c)) else {
            continue;
        };
        out.push(cache_check(c, cache_component(t, c), rpo, whose));
    }

    if let Some(o) = objectives {
        for c in o.components.values() {
            let Some(rpo) = c.rpo else { continue };
            let protected = t.backups.values().any(|b| b.component == c.name)
                || c.resources.iter().any(|r| {
                    r.strip_prefix("backup.")
                        .is_some_and(|l| t.backups.contains_key(l))
                })
                || t.caches.values().any(|k| cache_component(t, k) == c.name);
            if !protected {
                out.push(Check {
                    name: CheckName::Rpo,
                    component: Some(c.name.clone()),
                    verdict: Verdict::Fail,
                    numbers: format!("no backup policy, RPO {}", human_duration(rpo)),
                    measured_seconds: None,
                    limit_seconds: Some(rpo.as_secs()),
                    details: vec![format!(
                        "add a backup block (or a cache with a snapshot block) with component = \"{}\", or remove the component's rpo if its data is rebuilt",
                        c.name
                    )],
                    path: Vec::new(),
                    source: Some(c.source.clone()),
                    basis: Basis::Spec,
                    policy: None,
                    store: None,
                });
            }
        }
    }
    out
}

/// The objectives component a cache belongs to: the one whose `resources` name it,
/// else its `component` attribute (its label by default).
pub(super) fn cache_component<'a>(t: &'a Topology, c: &'a Cache) -> &'a str {
    let address = format!("cache.{}", c.label);
    t.objectives
        .as_ref()
        .and_then(|o| {
            o.components
                .values()
                .find(|k| k.resources.contains(&address))
        })
        .map_or(c.component.as_str(), |k| k.name.as_str())
}

/// The RPO that holds for `component`: its own, else the overall one, unless the
/// component is declared without one (data that is rebuilt).
pub(super) fn rpo_of(t: &Topology, component: &str) -> Option<(Duration, &'static str)> {
    let o = t.objectives.as_ref()?;
    match o.components.get(component) {
        Some(c) => c.rpo.map(|r| (r, "RPO")),
        None => o.rpo.map(|r| (r, "overall RPO")),
    }
}

/// A cache's automatic snapshots against its RPO: ElastiCache takes one a day.
fn cache_check(c: &Cache, component: &str, rpo: Duration, whose: &str) -> Check {
    let address = format!("cache.{}", c.label);
    let base = Check {
        name: CheckName::Rpo,
        component: Some(component.to_string()),
        verdict: Verdict::Fail,
        numbers: String::new(),
        measured_seconds: None,
        limit_seconds: Some(rpo.as_secs()),
        details: Vec::new(),
        path: Vec::new(),
        source: Some(c.source.clone()),
        basis: Basis::Spec,
        policy: None,
        store: Some(address.clone()),
    };
    let Some(s) = &c.snapshot else {
        return Check {
            numbers: format!(
                "{address} takes no automatic snapshots, {whose} {}",
                human_duration(rpo)
            ),
            details: vec![
                "add snapshot { retention_days = 7 } to the cache, or remove the component's rpo if its data is rebuilt".to_string(),
            ],
            ..base
        };
    };
    let gap = SNAPSHOT_INTERVAL;
    let ok = gap <= rpo;
    let window = s
        .window
        .as_deref()
        .map_or("in a window ElastiCache picks".to_string(), |w| {
            format!("in {w} UTC")
        });
    Check {
        verdict: if ok { Verdict::Pass } else { Verdict::Fail },
        numbers: format!(
            "automatic snapshots every {} {} {whose} {}",
            human_duration(gap),
            if ok { "<=" } else { ">" },
            human_duration(rpo)
        ),
        measured_seconds: Some(gap.as_secs()),
        details: std::iter::once(format!(
            "{address}: one automatic snapshot a day {window}, kept {}d",
            s.retention_days
        ))
        .chain((!ok).then(|| {
            "ElastiCache takes automatic snapshots once a day: a tighter RPO needs a backup policy of its own".to_string()
        }))
        .collect(),
        source: Some(s.source.clone()),
        ..base
    }
}

fn policy_check(b: &Backup, rpo: Duration, whose: &str) -> Check {
    let schedules: Vec<(&str, &str)> = [
        ("full", &b.full_schedule),
        ("incremental", &b.incremental_schedule),
    ]
    .into_iter()
    .filter_map(|(kind, s)| s.as_ref().map(|s| (kind, s.cron.as_str())))
    .collect();
    let details: Vec<String> = schedules
        .iter()
        .map(|(kind, cron)| format!("{kind} \"{cron}\""))
        .collect();
    let source = b
        .full_schedule
        .as_ref()
        .map(|s| s.source.clone())
        .or_else(|| Some(b.source.clone()));
    let base = Check {
        name: CheckName::Rpo,
        component: Some(b.component.clone()),
        verdict: Verdict::Fail,
        numbers: String::new(),
        measured_seconds: None,
        limit_seconds: Some(rpo.as_secs()),
        details,
        path: Vec::new(),
        source,
        basis: Basis::Spec,
        policy: Some(b.label.clone()),
        store: None,
    };
    if schedules.is_empty() {
        return Check {
            numbers: format!(
                "backup.{} has no schedule, {whose} {}",
                b.label,
                human_duration(rpo)
            ),
            ..base
        };
    }
    match longest_gap(schedules.iter().map(|(_, c)| *c)) {
        Err(e) => Check { numbers: e, ..base },
        Ok(gap) => {
            let ok = gap <= rpo;
            let op = if ok { "<=" } else { ">" };
            Check {
                verdict: if ok { Verdict::Pass } else { Verdict::Fail },
                numbers: format!(
                    "longest gap {} {op} {whose} {}",
                    human_duration(gap),
                    human_duration(rpo)
                ),
                measured_seconds: Some(gap.as_secs()),
                ..base
            }
        }
    }
}

/// The longest time between consecutive runs of the union of `crons`.
pub fn longest_gap<'a>(crons: impl IntoIterator<Item = &'a str>) -> Result<Duration, String> {
    let start = epoch();
    let mut runs: Vec<DateTime<Utc>> = Vec::new();
    let mut horizon: Option<DateTime<Utc>> = None;
    for expr in crons {
        let cron =
            Cron::from_str(expr).map_err(|e| format!("`{expr}` is not a cron schedule: {e}"))?;
        let mine = occurrences(&cron, start);
        if mine.len() < 2 {
            return Err(format!(
                "`{expr}` runs less than twice a year: no gap to measure"
            ));
        }
        let last = mine[mine.len() - 1];
        horizon = Some(horizon.map_or(last, |h| h.min(last)));
        runs.extend(mine);
    }
    let Some(horizon) = horizon else {
        return Err("no schedule".to_string());
    };
    // Past the first schedule's horizon the others were enumerated alone: cut there.
    runs.retain(|r| *r <= horizon);
    runs.sort();
    runs.dedup();
    let longest = runs
        .windows(2)
        .map(|w| w[1] - w[0])
        .max()
        .unwrap_or_default();
    Ok(longest.to_std().unwrap_or_default())
}

fn occurrences(cron: &Cron, start: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let mut out = Vec::new();
    for t in cron.iter_from(start, croner::Direction::Forward) {
        let elapsed = t - start;
        // The run that crosses the window's end is kept, so the gap across it counts.
        out.push(t);
        if elapsed > MAX_WINDOW || (elapsed > MIN_WINDOW && out.len() >= ENOUGH_RUNS) {
            break;
        }
    }
    out
}
