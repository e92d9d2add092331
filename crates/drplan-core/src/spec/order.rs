//! Evaluation order of locals and blocks: the graph of references between them,
//! walked in topological order. A cycle is one error that names the whole cycle.

use super::diagnostic::{Diagnostics, SourceFile, SpecDiagnostic};
use super::refs::Reference;
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, VecDeque};
use std::ops::Range;

pub struct Node {
    /// How cycles name it: `local.x`, `site.primary`, `objectives`,
    /// `module.app.var.x`.
    pub id: String,
    /// What references to it are resolved against: `root.label` with the project's
    /// label (`network.app_main`, `var.module.app.x`); mostly the `id`.
    pub key: String,
    /// The reference root this node publishes under (`local`, `site`, ...).
    pub root: &'static str,
    /// Tie-break among nodes ready at the same time: lower first.
    pub rank: usize,
    pub refs: Vec<Reference>,
    /// A `for_each` block: the labels it declares are known once it is evaluated, so a
    /// reference to a label no other node has (`network.dr`) waits for every such
    /// block of that kind.
    pub expands: bool,
    /// The labels such a block makes, when known before evaluation
    /// (`for_each::known_keys`): a reference waits only for the blocks that may make
    /// its label.
    pub makes: Option<Vec<String>>,
    pub file: SourceFile,
    pub span: Range<usize>,
}

pub struct Plan {
    /// Nodes to evaluate, dependencies first. Nodes in or behind a cycle are absent.
    pub order: Vec<usize>,
    /// Nodes in or behind a cycle (reported), by rank. They are still evaluated, after
    /// `order`, so that their other mistakes are reported too: a reference into the
    /// cycle names an object that was never published, which `Scope::check_references`
    /// passes over silently (the cycle is its one cause).
    pub blocked: Vec<usize>,
}

pub fn plan(nodes: &[Node], diags: &mut Diagnostics) -> Plan {
    let by_id: BTreeMap<&str, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.key.as_str(), i))
        .collect();
    let mut by_root: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        by_root.entry(n.root).or_default().push(i);
    }
    let sites = by_root.get("site").cloned().unwrap_or_default();

    // deps[n]: nodes n needs first.
    let mut deps: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); nodes.len()];
    for (i, n) in nodes.iter().enumerate() {
        if n.root == "site" {
            if let Some(r) = n.refs.iter().find(|r| r.root == "site") {
                diags.push(
                    SpecDiagnostic::new(
                        "drplan::site_reference",
                        format!("{} refers to another site", n.id),
                    )
                    .at(&n.file, r.span.clone(), "site referring to a site")
                    .help("a site's attributes may use variables and locals only"),
                );
            }
        }
        for r in &n.refs {
            if r.root == "site" && n.root == "site" {
                continue;
            }
            // A module's inputs (`var.module.app.x`) and a repeated module's instances.
            let node = r
                .label
                .as_ref()
                .and_then(|l| by_id.get(format!("{}.{l}", r.root).as_str()));
            if let (Some(&d), "var" | "module") = (node, r.root.as_str()) {
                deps[i].insert(d);
                continue;
            }
            if r.root != "local" && !super::blocks::referable().any(|(k, _)| k == r.root) {
                continue;
            }
            match &r.label {
                Some(label) => match by_id.get(format!("{}.{label}", r.root).as_str()) {
                    Some(&d) => {
                        deps[i].insert(d);
                    }
                    None => deps[i].extend(
                        by_root
                            .get(r.root.as_str())
                            .into_iter()
                            .flatten()
                            .copied()
                            // Not itself: a reference to a label nothing declares
                            // is reported as such, not as a cycle.
                            .filter(|&d| {
                                nodes[d].expands
                                    && d != i
                                    && nodes[d].makes.as_ref().is_none_or(|m| m.contains(label))
                            }),
                    ),
                },
                None => deps[i].extend(by_root.get(r.root.as_str()).into_iter().flatten().copied()),
            }
        }
        // Site objects (with `active`) and `env.active_site` exist once every site is
        // decoded; everything regional needs them.
        let needs_sites = n.root != "site"
            && (n.root != "local" || n.refs.iter().any(|r| r.root == "site" || r.root == "env"));
        if needs_sites {
            deps[i].extend(sites.iter().copied());
        }
    }

    let mut indegree: Vec<usize> = deps.iter().map(BTreeSet::len).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (i, ds) in deps.iter().enumerate() {
        for &d in ds {
            dependents[d].push(i);
        }
    }
    let mut ready: BinaryHeap<Reverse<(usize, usize)>> = (0..nodes.len())
        .filter(|&i| indegree[i] == 0)
        .map(|i| Reverse((nodes[i].rank, i)))
        .collect();
    let mut order = Vec::with_capacity(nodes.len());
    while let Some(Reverse((_, n))) = ready.pop() {
        order.push(n);
        for &m in &dependents[n] {
            indegree[m] -= 1;
            if indegree[m] == 0 {
                ready.push(Reverse((nodes[m].rank, m)));
            }
        }
    }
    let mut blocked: Vec<usize> = (0..nodes.len()).filter(|&i| indegree[i] > 0).collect();
    if !blocked.is_empty() {
        report_cycles(nodes, &deps, &indegree, diags);
    }
    blocked.sort_by_key(|&i| (nodes[i].rank, i));
    Plan { order, blocked }
}

fn report_cycles(
    nodes: &[Node],
    deps: &[BTreeSet<usize>],
    indegree: &[usize],
    diags: &mut Diagnostics,
) {
    let stuck: Vec<usize> = (0..nodes.len()).filter(|&i| indegree[i] > 0).collect();
    let mut g: DiGraph<usize, ()> = DiGraph::new();
    let idx: BTreeMap<usize, NodeIndex> = stuck.iter().map(|&n| (n, g.add_node(n))).collect();
    for &n in &stuck {
        for d in &deps[n] {
            if let Some(&di) = idx.get(d) {
                g.add_edge(idx[&n], di, ());
            }
        }
    }
    for scc in tarjan_scc(&g) {
        let members: BTreeSet<usize> = scc.iter().map(|&ix| g[ix]).collect();
        let Some(&start) = members.iter().next() else {
            continue;
        };
        let is_cycle = members.len() > 1 || deps[start].contains(&start);
        if !is_cycle {
            continue;
        }
        let path = cycle_path(start, &members, deps);
        let names: Vec<&str> = path.iter().map(|&n| nodes[n].id.as_str()).collect();
        let n = &nodes[start];
        diags.push(
            SpecDiagnostic::new("drplan::cycle", format!("reference cycle: {}", names.join(" -> ")))
                .at(&n.file, n.span.clone(), "this block is part of the cycle")
                .help("blocks cannot depend on themselves; pass one of the values as a variable or a literal"),
        );
    }
}

/// The shortest path start -> ... -> start through `members`, following references.
fn cycle_path(start: usize, members: &BTreeSet<usize>, deps: &[BTreeSet<usize>]) -> Vec<usize> {
    if deps[start].contains(&start) {
        return vec![start, start];
    }
    let mut prev: BTreeMap<usize, usize> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(n) = queue.pop_front() {
        for &d in &deps[n] {
            if !members.contains(&d) {
                continue;
            }
            if d == start {
                let mut path = vec![start];
                let mut cur = n;
                while cur != start {
                    path.push(cur);
                    cur = prev[&cur];
                }
                path.push(start);
                let last = path.len() - 1;
                path[1..last].reverse();
                return path;
            }
            if d != start && !prev.contains_key(&d) {
                prev.insert(d, n);
                queue.push_back(d);
            }
        }
    }
    vec![start, start]
}
