//! Failback: planning the primary-site environment (`-e prod`) while the live cloud
//! still shows DR activated. The diff alone would do everything at once: flip DNS
//! back while the primary's workloads roll out, and scale DR down while it still
//! serves. A failback plan is ordered so that nothing is lost:
//!
//! 1. **Data back first.** Each backup policy restored in DR (its DR restore Job is
//!    live) gets a restore Job in the primary cluster reading the newest full backup
//!    from the bucket DR wrote to (`kubernetes::failback`). The policy's CronJobs in
//!    the primary, and the blocks that name the policy in `depends_on`, wait for it.
//! 2. **Traffic returns once the primary is ready.** The DNS changes (the flip back)
//!    wait for every create or update in the primary site.
//! 3. **DR scales down last.** Updates and deletes in DR sites (node groups back to
//!    pilot-light size, DR-only workloads, CronJobs and restore Jobs removed) wait for
//!    the flip.
//!
//! Failback is recognised from the live state handed in, never by reading anything:
//! the environment activates a primary-role site and either a DR site's restore Job
//! is live or a failover record that is PRIMARY live becomes SECONDARY. A plan that
//! is not a failback is exactly the plain diff.
//!
//! The failback restore Job stays after a failback, as Kubernetes keeps a completed
//! Job: it is the record of the last failback. It is never planned for deletion; the
//! next failback recreates it (a replace), so its restore runs again.

use super::diff::{diff_with_moves, DiffContext};
use super::{Action, Plan};
use crate::address::Address;
use crate::kubernetes::{self, failback};
use crate::live::LiveState;
use crate::model::{Project, SiteRole};
use crate::resource::Kind;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The plan of `project` against `live`, ordered as a failback when `live` shows a DR
/// site still activated.
pub fn diff_project(project: &Project, live: &LiveState, ctx: &DiffContext) -> Plan {
    let owned: Vec<&Address> = live
        .objects
        .iter()
        .filter(|o| o.kind == Kind::K8sObject && o.is_owned_by(&ctx.stack))
        .filter_map(|o| o.address.as_ref())
        .collect();
    let restores = failback::failback_restores(&project.topology, &project.environment, &owned);
    let mut plan = if restores.is_empty() {
        diff_with_moves(&project.resources, live, ctx, &project.moved)
    } else {
        let mut desired = project.resources.clone();
        failback::add_failback_restores(&project.topology, &mut desired, &restores);
        diff_with_moves(&desired, live, ctx, &project.moved)
    };
    keep_failback_records(&mut plan);
    let Some(active) = kubernetes::active_site(&project.topology, &project.environment) else {
        return plan;
    };
    let primary = project
        .topology
        .sites
        .get(&active)
        .is_some_and(|s| s.role == SiteRole::Primary);
    if primary && (!restores.is_empty() || flips_back(&plan)) {
        rerun_failback_restores(&mut plan);
        let dr_sites: BTreeSet<&str> = project
            .topology
            .sites
            .values()
            .filter(|s| s.role == SiteRole::Dr && s.name != active)
            .map(|s| s.name.as_str())
            .collect();
        order(&mut plan, &active, &dr_sites);
    }
    plan
}

/// A failback restore Job left by an earlier failback is no orphan: it is kept.
fn keep_failback_records(plan: &mut Plan) {
    plan.changes
        .retain(|c| !(c.action == Action::Delete && failback::is_failback_job(&c.address)));
}

/// Whether a failover record that is PRIMARY live is planned SECONDARY: traffic is
/// served elsewhere than this environment says.
fn flips_back(plan: &Plan) -> bool {
    plan.changes.iter().any(|c| {
        let failover = |side: &Option<crate::resource::AttrMap>| {
            side.as_ref()
                .and_then(|a| a.get("failover"))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        c.kind == Kind::DnsRecord
            && matches!(c.action, Action::Update | Action::Replace)
            && failover(&c.before).as_deref() == Some("PRIMARY")
            && failover(&c.after).as_deref() == Some("SECONDARY")
    })
}

/// The Job of an earlier failback has completed; this failback's restore runs only if
/// it is created again.
fn rerun_failback_restores(plan: &mut Plan) {
    for c in &mut plan.changes {
        if failback::is_failback_job(&c.address)
            && matches!(c.action, Action::NoOp | Action::Update)
        {
            c.action = Action::Replace;
            c.refresh_attr_diff();
        }
    }
}

fn converging(action: Action) -> bool {
    matches!(action, Action::Create | Action::Update | Action::Replace)
}

/// The flip waits for the active site; the DR sites' scale-down waits for the flip.
fn order(plan: &mut Plan, active: &str, dr_sites: &BTreeSet<&str>) {
    let ready: Vec<Address> = plan
        .changes
        .iter()
        .filter(|c| converging(c.action) && c.site.as_deref() == Some(active))
        .map(|c| c.address.clone())
        .collect();
    let flip: Vec<Address> = plan
        .changes
        .iter()
        .filter(|c| converging(c.action) && c.kind == Kind::DnsRecord)
        .map(|c| c.address.clone())
        .collect();
    // Whatever the primary or the flip needs first cannot wait for the flip.
    let needed = needed_by(plan, ready.iter().chain(&flip));
    let gate = if flip.is_empty() {
        ready.clone()
    } else {
        flip.clone()
    };
    for c in &mut plan.changes {
        if flip.contains(&c.address) {
            extend(&mut c.wait_for, &ready);
        } else if matches!(c.action, Action::Update | Action::Delete | Action::Replace)
            && c.site.as_deref().is_some_and(|s| dr_sites.contains(s))
            && !needed.contains(&c.address)
        {
            extend(&mut c.wait_for, &gate);
        }
    }
}

fn extend(list: &mut Vec<Address>, more: &[Address]) {
    for a in more {
        if !list.contains(a) {
            list.push(a.clone());
        }
    }
    list.sort();
}

/// `from` and everything they depend on, transitively, through the plan's changes.
fn needed_by<'a>(plan: &Plan, from: impl Iterator<Item = &'a Address>) -> BTreeSet<Address> {
    let deps: BTreeMap<&Address, &Vec<Address>> = plan
        .changes
        .iter()
        .map(|c| (&c.address, &c.depends_on))
        .collect();
    let mut seen = BTreeSet::new();
    let mut stack: Vec<Address> = from.cloned().collect();
    while let Some(a) = stack.pop() {
        if !seen.insert(a.clone()) {
            continue;
        }
        if let Some(ds) = deps.get(&a) {
            stack.extend(ds.iter().cloned());
        }
    }
    seen
}
