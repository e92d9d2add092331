//! `--target ADDRESS` (plan, apply): a partial plan for an incident — the DNS flip
//! alone, one node group — as Terraform's `-target`. The plan keeps the changes at or
//! under each target address (`cluster.dr` covers `cluster.dr.node_group.general`) and,
//! transitively, the changes they depend on or are ordered after; every other change
//! is left out and listed in `Plan::left_out`, and the renderers say loudly that the
//! plan is partial. No-op entries stay (they change nothing).

use super::{Action, Plan};
use crate::address::Address;
use std::collections::BTreeSet;

fn covers(target: &Address, address: &Address) -> bool {
    let (t, a) = (target.as_str(), address.as_str());
    a == t
        || a.strip_prefix(t)
            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('#'))
}

/// Restricts `plan` to `targets`. A target that names nothing in the plan (no
/// resource of the spec, no live object) is an error: a typo must not make an empty
/// plan that looks like "nothing to do".
pub fn restrict(plan: &mut Plan, targets: &[Address]) -> Result<(), String> {
    if targets.is_empty() {
        return Ok(());
    }
    // `module.app.network.main` names `network.app_main`.
    let targets: Vec<Address> = targets
        .iter()
        .map(|t| Address::from_user(t.as_str()))
        .collect();
    let targets = targets.as_slice();
    let unknown: Vec<&str> = targets
        .iter()
        .filter(|t| !plan.changes.iter().any(|c| covers(t, &c.address)))
        .map(Address::as_str)
        .collect();
    if !unknown.is_empty() {
        return Err(format!(
            "--target {}: nothing in the spec or the cloud has this address (see `drplan graph` for the addresses)",
            unknown.join(", ")
        ));
    }
    let changing = |a: &Address| {
        plan.changes
            .iter()
            .any(|c| &c.address == a && c.action != Action::NoOp)
    };
    let mut kept: BTreeSet<Address> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp && targets.iter().any(|t| covers(t, &c.address)))
        .map(|c| c.address.clone())
        .collect();
    // What the targeted changes need first comes along (a replication destination too).
    loop {
        let more: Vec<Address> = plan
            .changes
            .iter()
            .filter(|c| kept.contains(&c.address))
            .flat_map(|c| {
                c.depends_on
                    .iter()
                    .chain(&c.wait_for)
                    .chain(super::links::targets(plan, c))
            })
            .filter(|d| !kept.contains(*d) && changing(d))
            .cloned()
            .collect();
        if more.is_empty() {
            break;
        }
        kept.extend(more);
    }
    let mut left_out = Vec::new();
    plan.changes.retain(|c| {
        let keep = c.action == Action::NoOp || kept.contains(&c.address);
        if !keep {
            left_out.push(c.address.clone());
        }
        keep
    });
    left_out.sort();
    left_out.dedup();
    plan.left_out = left_out;
    plan.targets = targets.to_vec();
    Ok(())
}

/// The line the renderers put first on a partial plan.
pub fn banner(plan: &Plan) -> Option<String> {
    if plan.targets.is_empty() {
        return None;
    }
    let targets: Vec<&str> = plan.targets.iter().map(Address::as_str).collect();
    Some(format!(
        "Warning: this is a partial plan (--target {}): only those and what they depend on. {} other change(s) are left out, and the cloud will not match the spec until a full plan is applied.{}",
        targets.join(", --target "),
        plan.left_out.len(),
        if plan.left_out.is_empty() {
            String::new()
        } else {
            format!(
                " Left out: {}.",
                plan.left_out
                    .iter()
                    .map(Address::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    ))
}

/// `--replace` addresses the plan could not replace: not in it, or not existing yet
/// (a create). One message each, for the plan's errors.
pub fn replace_problems(plan: &Plan, replace: &[Address]) -> Vec<(Address, String)> {
    replace
        .iter()
        .filter_map(|a| {
            let change = plan.changes.iter().find(|c| &c.address == a);
            let why = match change.map(|c| c.action) {
                Some(Action::Replace) => return None,
                Some(Action::Create) => "it does not exist yet: this plan creates it",
                Some(Action::Delete) => "it is not in the spec: this plan deletes it",
                Some(_) => "it cannot be replaced",
                None => "nothing in the spec or the cloud has this address",
            };
            Some((a.clone(), format!("--replace {a}: {why}")))
        })
        .collect()
}
