//! RTO: the estimated DR bring-up time is the critical path (longest path by estimated
//! duration) through the dependency graph of what DR **activation** changes: the same
//! spec and environment evaluated in normal operation and with the DR site active,
//! compared resource by resource (see [`Activation`]).
//!
//! - a resource only the activated evaluation has is created (restore Jobs, the
//!   objects of `kubernetes` blocks with `enabled = site.dr.active`, a DR cluster that
//!   only exists under activation);
//! - one whose attributes differ is updated in place (a pilot-light node group scaled
//!   up, a Route53 record's failover flipped), or replaced when a force-new attribute
//!   differs (estimated as its creation);
//! - what is the same in both already runs when disaster strikes and costs nothing;
//! - deletions (the primary's workloads) are not on the way to serving from DR.
//!
//! Only the DR sites and global (Route53) objects count: the primary region is the one
//! that was lost. The path itself is computed by the shared
//! [`ResourceGraph::critical_path`].

use super::estimates::Operation;
use super::{human_duration, Activation, Basis, Check, CheckName, Estimates, PathStep, Verdict};
use crate::address::Address;
use crate::graph::{GraphError, ResourceGraph};
use crate::model::{SiteRole, Topology};
use crate::plan::compare::changed_attrs;
use crate::resource::{Resource, SourceRef};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// What DR activation changes, as resources whose dependencies all lie inside it (a
/// dependency that does not change is already there).
struct BringUp {
    steps: Vec<Resource>,
    operation: BTreeMap<Address, Operation>,
    creates: usize,
    updates: usize,
}

/// True when the spec asks for an RTO anywhere (only then is a second evaluation of
/// the environment worth loading).
pub fn wanted(t: &Topology) -> bool {
    t.objectives
        .as_ref()
        .is_some_and(|o| o.rto.is_some() || o.components.values().any(|c| c.rto.is_some()))
}

pub fn check(t: &Topology, activation: &Activation<'_>, estimates: &Estimates) -> Vec<Check> {
    let Some(objectives) = &t.objectives else {
        return Vec::new();
    };
    if !wanted(t) {
        return Vec::new();
    }
    let has_dr_site = t.sites.values().any(|s| s.role == SiteRole::Dr);
    let cannot = |why: String| Check {
        name: CheckName::Rto,
        component: None,
        verdict: Verdict::Fail,
        numbers: format!("cannot estimate: {why}"),
        measured_seconds: None,
        limit_seconds: objectives.rto.map(|d| d.as_secs()),
        details: Vec::new(),
        path: Vec::new(),
        source: objectives.source.clone(),
        basis: Basis::Spec,
        policy: None,
        store: None,
    };
    let bring_up = match activation {
        Activation::Compared { normal, activated } => BringUp::new(t, normal, activated),
        Activation::Unavailable(why) => return vec![cannot(why.to_string())],
    };
    let graph = match ResourceGraph::new(&bring_up.steps) {
        Ok(g) => g,
        Err(GraphError::Cycle(at)) => {
            return vec![cannot(format!("dependency cycle through {at}"))]
        }
        Err(other) => return vec![cannot(other.to_string())],
    };

    let mut out = Vec::new();
    for c in objectives.components.values() {
        let Some(rto) = c.rto else { continue };
        let mut blocks: BTreeSet<Address> = c
            .resources
            .iter()
            .map(|b| Address::new(b.clone()))
            .collect();
        blocks.extend(
            t.backups
                .values()
                .filter(|b| b.component == c.name)
                .map(|b| Address::block("backup", &b.label)),
        );
        let source = Some(c.source.clone());
        if blocks.is_empty() || !has_dr_site {
            out.push(nothing_to_estimate(
                Some(c.name.clone()),
                blocks.is_empty(),
                rto,
                "RTO",
                source,
            ));
            continue;
        }
        let ends: BTreeSet<Address> = bring_up
            .steps
            .iter()
            .filter(|r| blocks.contains(&r.address.root_block()))
            .map(|r| r.address.clone())
            .collect();
        let needed = bring_up.needed_for(&graph, &ends);
        // Every step here leads to one of `ends`, so the longest path ends at one of them.
        let estimate = match ResourceGraph::new(&needed) {
            Ok(sub) => bring_up.critical_path(&sub, estimates),
            Err(_) => bring_up.critical_path(&graph, estimates),
        };
        let mut check = verdict(Some(c.name.clone()), estimate, rto, "RTO", source);
        if ends.is_empty() {
            check.details.push(
                "nothing of it changes under DR activation: it already runs in the DR site"
                    .to_string(),
            );
        }
        out.push(check);
    }
    if let Some(rto) = objectives.rto {
        let source = objectives.source.clone();
        out.push(if has_dr_site {
            let mut check = verdict(None, bring_up.critical_path(&graph, estimates), rto, "overall RTO", source);
            check.details.push(format!(
                "DR activation: {} to create, {} to update in place; what already runs costs nothing",
                bring_up.creates, bring_up.updates
            ));
            check
        } else {
            nothing_to_estimate(None, false, rto, "overall RTO", source)
        });
    }
    out
}

impl BringUp {
    fn new(t: &Topology, normal: &[Resource], activated: &[Resource]) -> Self {
        let dr_sites: BTreeSet<&str> = t
            .sites
            .values()
            .filter(|s| s.role == SiteRole::Dr)
            .map(|s| s.name.as_str())
            .collect();
        let counts = |r: &Resource| r.site.as_deref().is_none_or(|s| dr_sites.contains(s));
        let restores: BTreeMap<Address, &str> = t
            .backups
            .values()
            .flat_map(|b| {
                b.placements.keys().map(move |site| {
                    let job = Address::block("backup", &b.label)
                        .child("placement", site)
                        .child("job", "restore");
                    (job, b.label.as_str())
                })
            })
            .collect();
        let before: BTreeMap<&Address, &Resource> =
            normal.iter().map(|r| (&r.address, r)).collect();

        let mut b = BringUp {
            steps: Vec::new(),
            operation: BTreeMap::new(),
            creates: 0,
            updates: 0,
        };
        for r in activated.iter().filter(|r| counts(r)) {
            let op = match (restores.get(&r.address), before.get(&r.address)) {
                (Some(label), None) => Operation::Restore((*label).to_string()),
                (_, None) => Operation::Create(r.kind),
                (_, Some(old)) => {
                    let changed = changed_attrs(&old.attrs, &r.attrs);
                    if changed.is_empty() && old.kind == r.kind {
                        continue;
                    }
                    let force_new = r.kind.force_new_attrs();
                    if old.kind != r.kind || changed.iter().any(|a| force_new.contains(&a.as_str()))
                    {
                        Operation::Create(r.kind)
                    } else {
                        Operation::Update(r.kind)
                    }
                }
            };
            match op {
                Operation::Update(_) => b.updates += 1,
                _ => b.creates += 1,
            }
            b.operation.insert(r.address.clone(), op);
            b.steps.push(r.clone());
        }
        let changing: BTreeSet<Address> = b.steps.iter().map(|s| s.address.clone()).collect();
        for s in &mut b.steps {
            s.depends_on.retain(|d| changing.contains(d));
            // A policy's DR backups start once its restore has completed, but serving
            // does not wait for them: that edge is not part of the bring-up.
            if s.address.as_str().starts_with("backup.") && s.address.as_str().contains(".cronjob.")
            {
                s.depends_on.retain(|d| !restores.contains_key(d));
            }
        }
        b
    }

    /// `ends` and everything they wait for.
    fn needed_for(&self, graph: &ResourceGraph<'_>, ends: &BTreeSet<Address>) -> Vec<Resource> {
        let mut needed: BTreeSet<Address> = BTreeSet::new();
        let mut todo: Vec<Address> = ends.iter().cloned().collect();
        while let Some(a) = todo.pop() {
            if needed.insert(a.clone()) {
                todo.extend(
                    graph
                        .dependencies(&a)
                        .into_iter()
                        .map(|r| r.address.clone()),
                );
            }
        }
        self.steps
            .iter()
            .filter(|s| needed.contains(&s.address))
            .cloned()
            .collect()
    }

    fn estimate(&self, r: &Resource, estimates: &Estimates) -> (String, Duration) {
        let op = self
            .operation
            .get(&r.address)
            .cloned()
            .unwrap_or(Operation::Create(r.kind));
        // A node group scaled up as a drill or a DR activation measured it.
        if op == Operation::Update(crate::resource::Kind::NodeGroup) {
            if let Some(measured) = estimates.measured_scale_up(r.address.as_str()) {
                return measured;
            }
        }
        estimates.operation(&op)
    }

    fn critical_path(
        &self,
        graph: &ResourceGraph<'_>,
        estimates: &Estimates,
    ) -> (Duration, Vec<PathStep>) {
        let (total, path) = graph.critical_path(|r| self.estimate(r, estimates).1);
        let steps = path
            .into_iter()
            .map(|r| {
                let (estimate, d) = self.estimate(r, estimates);
                PathStep {
                    address: r.address.to_string(),
                    estimate,
                    seconds: d.as_secs(),
                }
            })
            .collect();
        (total, steps)
    }
}

fn verdict(
    component: Option<String>,
    (total, path): (Duration, Vec<PathStep>),
    rto: Duration,
    whose: &str,
    source: Option<SourceRef>,
) -> Check {
    let ok = total <= rto;
    Check {
        name: CheckName::Rto,
        component,
        verdict: if ok { Verdict::Pass } else { Verdict::Fail },
        numbers: format!(
            "estimated DR bring-up {} {} {whose} {}",
            human_duration(total),
            if ok { "<=" } else { ">" },
            human_duration(rto)
        ),
        measured_seconds: Some(total.as_secs()),
        limit_seconds: Some(rto.as_secs()),
        details: Vec::new(),
        path,
        source,
        basis: Basis::Spec,
        policy: None,
        store: None,
    }
}

fn nothing_to_estimate(
    component: Option<String>,
    none_listed: bool,
    rto: Duration,
    whose: &str,
    source: Option<SourceRef>,
) -> Check {
    let why = if none_listed {
        "no resources listed: nothing to estimate"
    } else {
        "no dr-role site: nothing to estimate"
    };
    let help = if none_listed {
        "list the blocks the component is made of: resources = [kubernetes.dr_apps, backup.x]"
    } else {
        "declare the site DR activation brings up: site \"dr\" { role = \"dr\" }"
    };
    Check {
        name: CheckName::Rto,
        component,
        verdict: Verdict::Warn,
        numbers: format!("{why}, {whose} {}", human_duration(rto)),
        measured_seconds: None,
        limit_seconds: Some(rto.as_secs()),
        details: vec![help.to_string()],
        path: Vec::new(),
        source,
        basis: Basis::Spec,
        policy: None,
        store: None,
    }
}

/// `network.dr (30s) -> cluster.dr (15m) -> ... = 21m`
pub fn render_path(path: &[PathStep]) -> String {
    let total: u64 = path.iter().map(|s| s.seconds).sum();
    let steps: Vec<String> = path
        .iter()
        .map(|s| {
            format!(
                "{} ({})",
                s.address,
                human_duration(Duration::from_secs(s.seconds))
            )
        })
        .collect();
    format!(
        "{} = {}",
        steps.join(" -> "),
        human_duration(Duration::from_secs(total))
    )
}

/// One step of DR activation, for the generated runbook.
#[derive(Clone, Debug)]
pub struct ActivationStep {
    pub resource: Resource,
    /// The desired attributes' differences from normal operation (empty for a create).
    pub changed: Vec<String>,
    /// The normal-operation resource, for an update.
    pub before: Option<Resource>,
    pub operation: Operation,
    /// Estimate key and duration.
    pub estimate: (String, Duration),
    /// The steps it starts after (within the activation).
    pub after: Vec<Address>,
}

/// What DR activation changes in the DR sites and globally, in dependency order, and
/// its critical path: the same bring-up the RTO check measures.
pub fn activation_steps(
    t: &Topology,
    normal: &[Resource],
    activated: &[Resource],
    estimates: &Estimates,
) -> Result<(Vec<ActivationStep>, Duration, Vec<PathStep>), String> {
    let bring_up = BringUp::new(t, normal, activated);
    let graph = ResourceGraph::new(&bring_up.steps).map_err(|e| match e {
        GraphError::Cycle(at) => format!("dependency cycle through {at}"),
        other => other.to_string(),
    })?;
    let before: BTreeMap<&Address, &Resource> = normal.iter().map(|r| (&r.address, r)).collect();
    // What a step starts after is what apply waits for: every dependency that changes,
    // including the edges the estimate leaves out (DR backups after the restore).
    let changing: BTreeSet<&Address> = bring_up.steps.iter().map(|s| &s.address).collect();
    let declared: BTreeMap<&Address, &Resource> =
        activated.iter().map(|r| (&r.address, r)).collect();
    let steps = graph
        .topological_order()
        .into_iter()
        .map(|r| {
            let old = before.get(&r.address).copied();
            ActivationStep {
                changed: old
                    .map(|o| changed_attrs(&o.attrs, &r.attrs))
                    .unwrap_or_default(),
                before: old.cloned(),
                operation: bring_up
                    .operation
                    .get(&r.address)
                    .cloned()
                    .unwrap_or(Operation::Create(r.kind)),
                estimate: bring_up.estimate(r, estimates),
                after: declared
                    .get(&r.address)
                    .map(|d| {
                        d.depends_on
                            .iter()
                            .filter(|a| changing.contains(a))
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_else(|| r.depends_on.clone()),
                resource: r.clone(),
            }
        })
        .collect();
    let (total, path) = bring_up.critical_path(&graph, estimates);
    Ok((steps, total, path))
}
