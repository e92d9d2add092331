//! RTO: the estimated DR bring-up time is the critical path (longest path by estimated
//! duration) through the dependency graph of what DR activation creates: every
//! resource in a dr-role site, the DNS records pointing at it, and each backup
//! policy's restore Job in its DR placement cluster. The path itself is computed by
//! the shared [`ResourceGraph::critical_path`].
//!
//! Objects that exist only under DR activation (restore Jobs, `kubernetes` blocks
//! with `enabled = site.dr.active`) are missing from a normal environment's
//! resources; they are added here as estimated steps so the estimate is the same
//! whichever environment is planned.

use super::{human_duration, Check, CheckName, Estimates, PathStep, Verdict, RESTORE_JOB};
use crate::address::Address;
use crate::graph::{GraphError, ResourceGraph};
use crate::model::{SiteRole, Topology};
use crate::resource::{Kind, Resource, SourceRef};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// What DR activation creates, as resources whose dependencies all lie inside it
/// (what lives outside the DR site already exists when DR is activated).
struct BringUp {
    steps: Vec<Resource>,
    /// Estimate key per step (`restore_job` for restores, else the type name).
    estimate: BTreeMap<Address, String>,
    /// `backup.<label>` -> that policy's restore steps.
    restores: BTreeMap<String, Vec<Address>>,
}

pub fn check(t: &Topology, resources: &[Resource], estimates: &Estimates) -> Vec<Check> {
    let Some(objectives) = &t.objectives else { return Vec::new() };
    let wants_rto = objectives.rto.is_some() || objectives.components.values().any(|c| c.rto.is_some());
    if !wants_rto {
        return Vec::new();
    }
    let bring_up = BringUp::new(t, resources);
    let graph = match ResourceGraph::new(&bring_up.steps) {
        Ok(g) => g,
        Err(e) => {
            let why = match e {
                GraphError::Cycle(at) => format!("dependency cycle through {at}"),
                other => other.to_string(),
            };
            return vec![Check {
                name: CheckName::Rto,
                component: None,
                verdict: Verdict::Fail,
                numbers: format!("cannot estimate: {why}"),
                measured_seconds: None,
                limit_seconds: objectives.rto.map(|d| d.as_secs()),
                details: Vec::new(),
                path: Vec::new(),
                source: objectives.source.clone(),
            }];
        }
    };

    let mut out = Vec::new();
    for c in objectives.components.values() {
        let Some(rto) = c.rto else { continue };
        let mut ends: BTreeSet<Address> = BTreeSet::new();
        for block in &c.resources {
            let block = Address::new(block.clone());
            ends.extend(bring_up.steps.iter().filter(|r| r.address.root_block() == block).map(|r| r.address.clone()));
            ends.extend(bring_up.restores.get(block.as_str()).into_iter().flatten().cloned());
        }
        for b in t.backups.values().filter(|b| b.component == c.name) {
            ends.extend(bring_up.restores.get(&format!("backup.{}", b.label)).into_iter().flatten().cloned());
        }
        let Some(component_steps) = bring_up.needed_for(&graph, &ends) else {
            out.push(nothing_to_estimate(Some(c.name.clone()), c.resources.is_empty(), rto, "RTO", Some(c.source.clone())));
            continue;
        };
        // Every step here leads to one of `ends`, so the longest path ends at one of them.
        let estimate = match ResourceGraph::new(&component_steps) {
            Ok(sub) => bring_up.critical_path(&sub, estimates),
            Err(_) => bring_up.critical_path(&graph, estimates),
        };
        out.push(verdict(Some(c.name.clone()), estimate, rto, "RTO", Some(c.source.clone())));
    }
    if let Some(rto) = objectives.rto {
        let source = objectives.source.clone();
        out.push(if graph.is_empty() {
            nothing_to_estimate(None, false, rto, "overall RTO", source)
        } else {
            verdict(None, bring_up.critical_path(&graph, estimates), rto, "overall RTO", source)
        });
    }
    out
}

impl BringUp {
    fn new(t: &Topology, resources: &[Resource]) -> Self {
        let dr_sites: BTreeSet<&str> =
            t.sites.values().filter(|s| s.role == SiteRole::Dr).map(|s| s.name.as_str()).collect();
        // Global records belong to the DR bring-up when they point at a DR site.
        let dr_dns: BTreeSet<String> = t
            .dns
            .values()
            .flat_map(|d| {
                d.targets
                    .iter()
                    .filter(|tg| dr_sites.contains(tg.site.as_str()))
                    .map(move |tg| format!("dns.{}.target.{}", d.label, tg.name))
            })
            .collect();
        let in_dr = |r: &Resource| match &r.site {
            Some(s) => dr_sites.contains(s.as_str()),
            None => dr_dns.iter().any(|d| r.address.as_str() == d || r.address.as_str().starts_with(&format!("{d}."))),
        };

        let mut b = BringUp { steps: Vec::new(), estimate: BTreeMap::new(), restores: BTreeMap::new() };
        for r in resources.iter().filter(|r| in_dr(r)) {
            match restore_job_label(t, r) {
                Some(label) => b.add_restore(r.clone(), &label),
                None => b.add(r.clone(), r.kind.type_name()),
            }
        }

        let present: BTreeSet<Address> = b.steps.iter().map(|s| s.address.clone()).collect();
        // What runs in a cluster waits for its nodes.
        let ready = |cluster: &str| -> Vec<Address> {
            let c = Address::block("cluster", cluster);
            let prefix = format!("{c}.node_group.");
            let groups: Vec<Address> = present.iter().filter(|a| a.as_str().starts_with(&prefix)).cloned().collect();
            match (groups.is_empty(), present.contains(&c)) {
                (false, _) => groups,
                (true, true) => vec![c],
                (true, false) => Vec::new(),
            }
        };

        for backup in t.backups.values() {
            for p in backup.placements.values().filter(|p| dr_sites.contains(p.site.as_str())) {
                if resources.iter().any(|r| in_dr(r) && is_restore_job_of(r, &backup.label, &p.cluster)) {
                    continue;
                }
                let step = synthetic(format!("backup.{}.restore", backup.label), &p.site, ready(&p.cluster), &backup.source);
                b.add_restore(step, &backup.label);
            }
        }
        for k in t.kubernetes.values() {
            let Some(cluster) = t.clusters.get(&k.cluster) else { continue };
            let block = Address::block("kubernetes", &k.label);
            if !dr_sites.contains(cluster.site.as_str()) || present.iter().any(|a| a.root_block() == block) {
                continue;
            }
            let step = synthetic(block.to_string(), &cluster.site, ready(&k.cluster), &k.source);
            b.add(step, Kind::K8sObject.type_name());
        }

        let all: BTreeSet<Address> = b.steps.iter().map(|s| s.address.clone()).collect();
        for s in &mut b.steps {
            s.depends_on.retain(|d| all.contains(d));
        }
        b
    }

    fn add(&mut self, r: Resource, estimate: &str) {
        self.estimate.insert(r.address.clone(), estimate.to_string());
        self.steps.push(r);
    }

    fn add_restore(&mut self, r: Resource, label: &str) {
        self.restores.entry(format!("backup.{label}")).or_default().push(r.address.clone());
        self.add(r, RESTORE_JOB);
    }

    /// `ends` and everything they wait for; `None` when `ends` is empty.
    fn needed_for(&self, graph: &ResourceGraph<'_>, ends: &BTreeSet<Address>) -> Option<Vec<Resource>> {
        if ends.is_empty() {
            return None;
        }
        let mut needed: BTreeSet<Address> = BTreeSet::new();
        let mut todo: Vec<Address> = ends.iter().cloned().collect();
        while let Some(a) = todo.pop() {
            if needed.insert(a.clone()) {
                todo.extend(graph.dependencies(&a).into_iter().map(|r| r.address.clone()));
            }
        }
        Some(self.steps.iter().filter(|s| needed.contains(&s.address)).cloned().collect())
    }

    fn critical_path(&self, graph: &ResourceGraph<'_>, estimates: &Estimates) -> (Duration, Vec<PathStep>) {
        let key = |r: &Resource| self.estimate.get(&r.address).cloned().unwrap_or_else(|| r.kind.type_name().to_string());
        let (total, path) = graph.critical_path(|r| estimates.get(&key(r)));
        let steps = path
            .into_iter()
            .map(|r| {
                let estimate = key(r);
                PathStep { address: r.address.to_string(), seconds: estimates.get(&estimate).as_secs(), estimate }
            })
            .collect();
        (total, steps)
    }
}

/// A step DR activation will take that the planned environment does not contain.
fn synthetic(address: String, site: &str, depends_on: Vec<Address>, source: &SourceRef) -> Resource {
    Resource {
        address: Address::new(address),
        kind: Kind::K8sObject,
        site: Some(site.to_string()),
        region: None,
        attrs: Default::default(),
        sensitive: Vec::new(),
        depends_on,
        protect: false,
        source: Some(source.clone()),
    }
}

fn restore_job_label(t: &Topology, r: &Resource) -> Option<String> {
    t.backups
        .values()
        .find(|b| b.placements.values().any(|p| is_restore_job_of(r, &b.label, &p.cluster)))
        .map(|b| b.label.clone())
}

/// The restore Job a policy gets under DR activation (docs/spec-reference.md, `backup`).
fn is_restore_job_of(r: &Resource, label: &str, cluster: &str) -> bool {
    let s = |k: &str| r.attrs.get(k).and_then(|v| v.as_str()).unwrap_or("");
    r.kind == Kind::K8sObject
        && s("kind") == "Job"
        && s("name") == format!("{label}-restore")
        && s("cluster") == Address::block("cluster", cluster).as_str()
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
    }
}

fn nothing_to_estimate(
    component: Option<String>,
    none_listed: bool,
    rto: Duration,
    whose: &str,
    source: Option<SourceRef>,
) -> Check {
    let why = if none_listed { "no resources listed: nothing to estimate" } else { "nothing in a dr-role site to estimate" };
    Check {
        name: CheckName::Rto,
        component,
        verdict: Verdict::Warn,
        numbers: format!("{why}, {whose} {}", human_duration(rto)),
        measured_seconds: None,
        limit_seconds: Some(rto.as_secs()),
        details: vec!["list the blocks the component is made of: resources = [cluster.dr, backup.x]".to_string()],
        path: Vec::new(),
        source,
    }
}

/// `network.dr (30s) -> cluster.dr (15m) -> ... = 21m`
pub fn render_path(path: &[PathStep]) -> String {
    let total: u64 = path.iter().map(|s| s.seconds).sum();
    let steps: Vec<String> =
        path.iter().map(|s| format!("{} ({})", s.address, human_duration(Duration::from_secs(s.seconds)))).collect();
    format!("{} = {}", steps.join(" -> "), human_duration(Duration::from_secs(total)))
}
