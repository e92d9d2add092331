//! RTO: the estimated DR bring-up time is the critical path (longest path by estimated
//! duration) through the dependency graph of what DR activation creates: every
//! resource in a dr-role site, the DNS records pointing at it, and each backup
//! policy's restore Job in its DR placement cluster.
//!
//! Objects that exist only under DR activation (restore Jobs, `kubernetes` blocks
//! with `enabled = site.dr.active`) are missing from a normal environment's
//! resources; they are added here as estimated steps so the estimate is the same
//! whichever environment is planned.

use super::{human_duration, Check, CheckName, Estimates, PathStep, Verdict, RESTORE_JOB};
use crate::address::Address;
use crate::model::{SiteRole, Topology};
use crate::resource::{Kind, Resource, SourceRef};
use petgraph::algo::toposort;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::Direction;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

struct Step {
    address: Address,
    estimate: String,
    duration: Duration,
    depends_on: Vec<Address>,
    /// The backup policy label, for restore steps.
    restore_of: Option<String>,
}

/// The DR bring-up graph with, per node, the longest path ending there.
struct CriticalPaths {
    graph: DiGraph<Step, ()>,
    by_address: BTreeMap<Address, NodeIndex>,
    finish: BTreeMap<NodeIndex, Duration>,
    via: BTreeMap<NodeIndex, NodeIndex>,
    /// `backup.<label>` -> the restore step for that policy.
    restores: BTreeMap<String, Vec<NodeIndex>>,
}

pub fn check(t: &Topology, resources: &[Resource], estimates: &Estimates) -> Vec<Check> {
    let Some(objectives) = &t.objectives else { return Vec::new() };
    let wants_rto = objectives.rto.is_some() || objectives.components.values().any(|c| c.rto.is_some());
    if !wants_rto {
        return Vec::new();
    }
    let steps = dr_steps(t, resources, estimates);
    let paths = match CriticalPaths::build(steps) {
        Ok(p) => p,
        Err(cycle_at) => {
            return vec![Check {
                name: CheckName::Rto,
                component: None,
                verdict: Verdict::Fail,
                numbers: format!("cannot estimate: dependency cycle through {cycle_at}"),
                measured_seconds: None,
                limit_seconds: objectives.rto.map(|d| d.as_secs()),
                details: Vec::new(),
                path: Vec::new(),
                source: objectives.source.clone(),
            }]
        }
    };

    let mut out = Vec::new();
    for c in objectives.components.values() {
        let Some(rto) = c.rto else { continue };
        let mut nodes: BTreeSet<NodeIndex> = BTreeSet::new();
        for block in &c.resources {
            let block = Address::new(block.clone());
            nodes.extend(paths.by_address.iter().filter(|(a, _)| a.root_block() == block).map(|(_, i)| *i));
            nodes.extend(paths.restores.get(block.as_str()).into_iter().flatten());
        }
        for b in t.backups.values().filter(|b| b.component == c.name) {
            nodes.extend(paths.restores.get(&format!("backup.{}", b.label)).into_iter().flatten());
        }
        out.push(paths.verdict(Some(c.name.clone()), nodes, rto, "RTO", Some(c.source.clone()), &c.resources));
    }
    if let Some(rto) = objectives.rto {
        let all: BTreeSet<NodeIndex> = paths.graph.node_indices().collect();
        out.push(paths.verdict(None, all, rto, "overall RTO", objectives.source.clone(), &[]));
    }
    out
}

fn dr_steps(t: &Topology, resources: &[Resource], estimates: &Estimates) -> Vec<Step> {
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

    let mut steps: Vec<Step> = Vec::new();
    for r in resources.iter().filter(|r| in_dr(r)) {
        let restore_of = restore_job_label(t, r);
        let estimate = if restore_of.is_some() { RESTORE_JOB.to_string() } else { r.kind.type_name().to_string() };
        steps.push(Step {
            address: r.address.clone(),
            duration: estimates.get(&estimate),
            estimate,
            depends_on: r.depends_on.clone(),
            restore_of,
        });
    }

    let present: BTreeSet<Address> = steps.iter().map(|s| s.address.clone()).collect();
    // What runs in a cluster waits for its nodes.
    let ready = |cluster: &str| -> Vec<Address> {
        let c = Address::block("cluster", cluster);
        let groups: Vec<Address> = present
            .iter()
            .filter(|a| a.as_str().starts_with(&format!("{c}.node_group.")))
            .cloned()
            .collect();
        if groups.is_empty() {
            vec![c]
        } else {
            groups
        }
    };

    for b in t.backups.values() {
        for p in b.placements.values().filter(|p| dr_sites.contains(p.site.as_str())) {
            let has_job = resources.iter().any(|r| in_dr(r) && is_restore_job_of(r, &b.label, &p.cluster));
            if has_job {
                continue;
            }
            steps.push(Step {
                address: Address::new(format!("backup.{}.restore", b.label)),
                estimate: RESTORE_JOB.to_string(),
                duration: estimates.get(RESTORE_JOB),
                depends_on: ready(&p.cluster),
                restore_of: Some(b.label.clone()),
            });
        }
    }
    for k in t.kubernetes.values() {
        let Some(cluster) = t.clusters.get(&k.cluster) else { continue };
        if !dr_sites.contains(cluster.site.as_str()) {
            continue;
        }
        let block = Address::block("kubernetes", &k.label);
        if present.iter().any(|a| a.root_block() == block) {
            continue;
        }
        steps.push(Step {
            address: block,
            estimate: Kind::K8sObject.type_name().to_string(),
            duration: estimates.for_kind(Kind::K8sObject),
            depends_on: ready(&k.cluster),
            restore_of: None,
        });
    }
    steps
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

impl CriticalPaths {
    /// Err: an address on a dependency cycle.
    fn build(steps: Vec<Step>) -> Result<Self, String> {
        let mut graph: DiGraph<Step, ()> = DiGraph::new();
        let mut by_address = BTreeMap::new();
        let mut restores: BTreeMap<String, Vec<NodeIndex>> = BTreeMap::new();
        for s in steps {
            let address = s.address.clone();
            let restore_of = s.restore_of.clone();
            let i = graph.add_node(s);
            if let Some(label) = restore_of {
                restores.entry(format!("backup.{label}")).or_default().push(i);
            }
            by_address.insert(address, i);
        }
        for i in graph.node_indices().collect::<Vec<_>>() {
            for d in graph[i].depends_on.clone() {
                // Dependencies outside the DR site already exist when DR is activated.
                if let Some(&from) = by_address.get(&d) {
                    graph.add_edge(from, i, ());
                }
            }
        }
        let order = toposort(&graph, None).map_err(|c| graph[c.node_id()].address.to_string())?;
        let mut finish = BTreeMap::new();
        let mut via = BTreeMap::new();
        for i in order {
            let mut preds: Vec<NodeIndex> = graph.neighbors_directed(i, Direction::Incoming).collect();
            preds.sort_by(|a, b| graph[*a].address.cmp(&graph[*b].address));
            // The latest-finishing dependency; ties go to the first address.
            let latest = preds.iter().map(|p| (finish.get(p).copied().unwrap_or_default(), *p)).fold(
                None,
                |best: Option<(Duration, NodeIndex)>, cand| match best {
                    Some(b) if b.0 >= cand.0 => Some(b),
                    _ => Some(cand),
                },
            );
            let start = latest.map(|(f, _)| f).unwrap_or_default();
            if let Some((_, p)) = latest {
                via.insert(i, p);
            }
            finish.insert(i, start + graph[i].duration);
        }
        Ok(CriticalPaths { graph, by_address, finish, via, restores })
    }

    fn path_to(&self, end: NodeIndex) -> Vec<PathStep> {
        let mut path = Vec::new();
        let mut at = Some(end);
        while let Some(i) = at {
            let s = &self.graph[i];
            path.push(PathStep { address: s.address.to_string(), estimate: s.estimate.clone(), seconds: s.duration.as_secs() });
            at = self.via.get(&i).copied();
        }
        path.reverse();
        path
    }

    fn verdict(
        &self,
        component: Option<String>,
        nodes: BTreeSet<NodeIndex>,
        rto: Duration,
        whose: &str,
        source: Option<SourceRef>,
        listed: &[String],
    ) -> Check {
        let end = nodes
            .iter()
            .max_by(|a, b| {
                let fa = self.finish.get(a).copied().unwrap_or_default();
                let fb = self.finish.get(b).copied().unwrap_or_default();
                // Ties go to the first address, for stable output.
                fa.cmp(&fb).then_with(|| self.graph[**b].address.cmp(&self.graph[**a].address))
            })
            .copied();
        let Some(end) = end else {
            let why = if component.is_some() && listed.is_empty() {
                "no resources listed: nothing to estimate".to_string()
            } else {
                "nothing in a dr-role site to estimate".to_string()
            };
            return Check {
                name: CheckName::Rto,
                component,
                verdict: Verdict::Warn,
                numbers: format!("{why}, {whose} {}", human_duration(rto)),
                measured_seconds: None,
                limit_seconds: Some(rto.as_secs()),
                details: vec!["list the blocks the component is made of: resources = [cluster.dr, backup.x]".to_string()],
                path: Vec::new(),
                source,
            };
        };
        let total = self.finish.get(&end).copied().unwrap_or_default();
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
            path: self.path_to(end),
            source,
        }
    }
}

/// `network.dr (30s) -> cluster.dr (15m) -> ... = 21m`
pub fn render_path(path: &[PathStep]) -> String {
    let total: u64 = path.iter().map(|s| s.seconds).sum();
    let steps: Vec<String> =
        path.iter().map(|s| format!("{} ({})", s.address, human_duration(Duration::from_secs(s.seconds)))).collect();
    format!("{} = {}", steps.join(" -> "), human_duration(Duration::from_secs(total)))
}
