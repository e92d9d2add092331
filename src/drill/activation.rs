//! The record of a real DR activation (issue 13): an apply that makes a dr-role site
//! active writes, beside the drill records, what it did and how long it took — each
//! node group's scale-up, each restore Job, the DNS flip — and the recovery time from
//! the start of the apply to the last DNS change. `drill history -e <env>` lists it;
//! its restore durations count as measured for the RTO like a drill's.

use super::record::{Record, Step};
use crate::apply::report::{ApplyReport, Status};
use drplan_core::model::{Project, SiteRole};
use drplan_core::resource::Kind;

/// The record of `report`, an apply of `project` started at `started`, when the
/// environment activates a dr-role site and the apply changed something.
pub fn record(
    project: &Project,
    report: &ApplyReport,
    started: chrono::DateTime<chrono::Utc>,
    by: String,
) -> Option<Record> {
    let t = &project.topology;
    let site = t
        .sites
        .get(&project.environment.active_site)
        .filter(|s| s.role == SiteRole::Dr)?;
    if report.entries.is_empty() {
        return None;
    }
    let cluster = t
        .clusters
        .values()
        .find(|c| c.site == site.name)
        .map(|c| c.name.clone())
        .unwrap_or_default();
    let seconds = |d: Option<std::time::Duration>| d.map(|d| d.as_secs_f64()).unwrap_or_default();
    let outcome = |s: &Status| if *s == Status::Done { "ok" } else { "failed" };
    let mut steps = Vec::new();
    for e in &report.entries {
        let address = e.address.as_str();
        let (step, policy) = match e.kind {
            Kind::NodeGroup => ("scale_node_group", None),
            Kind::DnsRecord => ("dns_flip", None),
            Kind::K8sObject if address.ends_with(".job.restore") => (
                "restore",
                address
                    .strip_prefix("backup.")
                    .and_then(|rest| rest.split('.').next())
                    .map(str::to_string),
            ),
            _ => continue,
        };
        let component = policy
            .as_ref()
            .and_then(|p| t.backups.get(p))
            .map(|b| b.component.clone());
        steps.push(Step {
            step: step.to_string(),
            component,
            policy,
            what: address.to_string(),
            address: Some(address.to_string()),
            seconds: seconds(e.elapsed),
            outcome: outcome(&e.status).to_string(),
            detail: match &e.status {
                Status::Done => None,
                Status::Failed(why) => Some(why.clone()),
                other => Some(format!("{other:?}")),
            },
            estimate_seconds: None,
        });
    }
    // An apply while the DR site is active that scaled, restored and flipped nothing
    // (an image tag bumped during the failover) is not the event.
    if steps.is_empty() {
        return None;
    }
    let flipped = report
        .entries
        .iter()
        .filter(|e| e.kind == Kind::DnsRecord && e.status == Status::Done)
        .filter_map(|e| e.finished_after)
        .max();
    let finished = started
        + chrono::TimeDelta::from_std(report.wall_time)
            .unwrap_or_else(|_| chrono::TimeDelta::zero());
    Some(Record {
        format: 1,
        id: started.format("%Y%m%d-%H%M%S").to_string(),
        kind: "activation".into(),
        stack: project.environment.stack.clone(),
        environment: project.env_name.clone(),
        site: site.name.clone(),
        region: site.region.clone(),
        cluster,
        started,
        finished: Some(finished),
        by,
        outcome: if report.succeeded() {
            "passed"
        } else {
            "failed"
        }
        .into(),
        steps,
        skipped: Vec::new(),
        cleaned_up: false,
        recovery_seconds: flipped.map(|d| d.as_secs_f64()),
    })
}
