//! The dependency graph over resources: what the planner and apply walk, and what
//! the objectives check measures (the critical path of a DR bring-up).
//!
//! An edge `a -> b` means `b` depends on `a`: `a` must exist first.

use crate::address::Address;
use crate::resource::Resource;
use petgraph::algo::toposort;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::Direction;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GraphError {
    #[error("{from} depends on {to}, which is not a resource")]
    UnknownDependency { from: Address, to: Address },
    #[error("dependency cycle through {0}")]
    Cycle(Address),
}

pub struct ResourceGraph<'a> {
    graph: DiGraph<&'a Resource, ()>,
    index: BTreeMap<&'a Address, NodeIndex>,
    /// Topological order (dependencies first), computed once.
    order: Vec<NodeIndex>,
}

impl<'a> ResourceGraph<'a> {
    pub fn new(resources: &'a [Resource]) -> Result<Self, GraphError> {
        let mut graph = DiGraph::new();
        let mut index = BTreeMap::new();
        for r in resources {
            index.insert(&r.address, graph.add_node(r));
        }
        // The same edges apply's converge steps order by: `depends_on`, and the
        // references each kind declares (`kinds::referenced`).
        let named: BTreeMap<(crate::resource::Kind, String), &Address> = resources
            .iter()
            .filter_map(|r| {
                crate::kinds::name_key_of(r.kind, r.region.as_deref(), &r.attrs)
                    .map(|k| ((r.kind, k), &r.address))
            })
            .collect();
        for r in resources {
            let to = index[&r.address];
            let referenced =
                crate::kinds::referenced(r.kind, r.region.as_deref(), &r.attrs, |kind, key| {
                    named.get(&(kind, key.to_string())).map(|a| (*a).clone())
                });
            for dep in referenced
                .iter()
                .filter(|d| **d != r.address && index.contains_key(d))
            {
                graph.update_edge(index[dep], to, ());
            }
            for dep in &r.depends_on {
                let from = *index
                    .get(dep)
                    .ok_or_else(|| GraphError::UnknownDependency {
                        from: r.address.clone(),
                        to: dep.clone(),
                    })?;
                graph.update_edge(from, to, ());
            }
        }
        let order = toposort(&graph, None)
            .map_err(|c| GraphError::Cycle(graph[c.node_id()].address.clone()))?;
        Ok(ResourceGraph {
            graph,
            index,
            order,
        })
    }

    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    pub fn is_empty(&self) -> bool {
        self.graph.node_count() == 0
    }

    /// Resources with their dependencies first; ties keep a stable order.
    pub fn topological_order(&self) -> Vec<&'a Resource> {
        self.order.iter().map(|&n| self.graph[n]).collect()
    }

    pub fn resource(&self, address: &Address) -> Option<&'a Resource> {
        self.index.get(address).map(|&n| self.graph[n])
    }

    /// What `address` needs first.
    pub fn dependencies(&self, address: &Address) -> Vec<&'a Resource> {
        self.neighbors(address, Direction::Incoming)
    }

    /// What waits for `address`.
    pub fn dependents(&self, address: &Address) -> Vec<&'a Resource> {
        self.neighbors(address, Direction::Outgoing)
    }

    fn neighbors(&self, address: &Address, dir: Direction) -> Vec<&'a Resource> {
        let Some(&n) = self.index.get(address) else {
            return Vec::new();
        };
        let mut v: Vec<&Resource> = self
            .graph
            .neighbors_directed(n, dir)
            .map(|m| self.graph[m])
            .collect();
        v.sort_by(|a, b| a.address.cmp(&b.address));
        v
    }

    /// Every edge as (dependency, dependent).
    pub fn edges(&self) -> Vec<(&'a Resource, &'a Resource)> {
        let mut v: Vec<_> = self
            .graph
            .edge_indices()
            .filter_map(|e| self.graph.edge_endpoints(e))
            .map(|(a, b)| (self.graph[a], self.graph[b]))
            .collect();
        v.sort_by(|x, y| (&x.0.address, &x.1.address).cmp(&(&y.0.address, &y.1.address)));
        v
    }

    /// Links as (target, linked, what): a bucket's replication configuration (or its
    /// access logging) is put once its destination (its log bucket) exists
    /// (`plan::links`); not an ordering edge of the bucket itself, so buckets
    /// replicating to each other are no cycle.
    pub fn links(&self) -> Vec<(&'a Resource, &'a Resource, &'static str)> {
        let mut v = Vec::new();
        let bucket_named = |r: &Resource, name: &str| {
            self.graph.node_indices().map(|i| self.graph[i]).find(|t| {
                t.kind == crate::resource::Kind::Bucket
                    && t.address != r.address
                    && t.attrs.get("name").and_then(serde_json::Value::as_str) == Some(name)
            })
        };
        for ix in self.graph.node_indices() {
            let r = self.graph[ix];
            if r.kind != crate::resource::Kind::Bucket {
                continue;
            }
            for name in crate::plan::links::replication_destinations(&r.attrs) {
                v.extend(bucket_named(r, name).map(|t| (t, r, "replication")));
            }
            let log_target = r
                .attrs
                .get("logging")
                .and_then(|l| l.get("target_bucket"))
                .and_then(serde_json::Value::as_str);
            if let Some(name) = log_target {
                v.extend(bucket_named(r, name).map(|t| (t, r, "access logs")));
            }
        }
        v.sort_by(|x, y| (&x.0.address, &x.1.address, x.2).cmp(&(&y.0.address, &y.1.address, y.2)));
        v.dedup_by(|x, y| x.0.address == y.0.address && x.1.address == y.1.address && x.2 == y.2);
        v
    }

    /// The longest chain of dependent operations when each takes `duration(resource)`
    /// and independent ones run in parallel: its total and its resources in order.
    pub fn critical_path(
        &self,
        duration: impl Fn(&Resource) -> Duration,
    ) -> (Duration, Vec<&'a Resource>) {
        let mut finish: BTreeMap<NodeIndex, Duration> = BTreeMap::new();
        let mut via: BTreeMap<NodeIndex, NodeIndex> = BTreeMap::new();
        for &n in &self.order {
            let (start, pred) = self
                .graph
                .neighbors_directed(n, Direction::Incoming)
                .map(|p| (finish.get(&p).copied().unwrap_or_default(), Some(p)))
                .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(&a.1)))
                .unwrap_or((Duration::ZERO, None));
            finish.insert(n, start + duration(self.graph[n]));
            if let Some(p) = pred {
                via.insert(n, p);
            }
        }
        let Some((&end, &total)) = finish
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
        else {
            return (Duration::ZERO, Vec::new());
        };
        let mut path = vec![self.graph[end]];
        let mut cur = end;
        while let Some(&p) = via.get(&cur) {
            path.push(self.graph[p]);
            cur = p;
        }
        path.reverse();
        (total, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::Kind;

    fn res(addr: &str, kind: Kind, deps: &[&str]) -> Resource {
        Resource {
            ignore_changes: Vec::new(),
            address: Address::new(addr),
            kind,
            site: Some("primary".into()),
            region: Some("us-west-2".into()),
            attrs: Default::default(),
            sensitive: vec![],
            depends_on: deps.iter().map(|d| Address::new(*d)).collect(),
            protect: false,
            source: None,
        }
    }

    #[test]
    fn critical_path_follows_the_slowest_chain() {
        let rs = vec![
            res("network.a", Kind::Vpc, &[]),
            res("network.a.subnet.x", Kind::Subnet, &["network.a"]),
            res("cluster.c", Kind::EksCluster, &["network.a.subnet.x"]),
            res("cluster.c.node_group.g", Kind::NodeGroup, &["cluster.c"]),
            res("bucket.b", Kind::Bucket, &[]),
        ];
        let g = ResourceGraph::new(&rs).expect("graph");
        let order: Vec<&str> = g
            .topological_order()
            .iter()
            .map(|r| r.address.as_str())
            .collect();
        let pos = |a: &str| order.iter().position(|x| *x == a).unwrap_or(usize::MAX);
        assert!(pos("network.a") < pos("network.a.subnet.x"));
        assert!(pos("cluster.c") < pos("cluster.c.node_group.g"));
        let (total, path) = g.critical_path(|r| match r.kind {
            Kind::EksCluster => Duration::from_secs(600),
            Kind::NodeGroup => Duration::from_secs(300),
            Kind::Bucket => Duration::from_secs(800),
            _ => Duration::from_secs(10),
        });
        assert_eq!(total, Duration::from_secs(920));
        let names: Vec<&str> = path.iter().map(|r| r.address.as_str()).collect();
        assert_eq!(
            names,
            [
                "network.a",
                "network.a.subnet.x",
                "cluster.c",
                "cluster.c.node_group.g"
            ]
        );
    }

    #[test]
    fn unknown_dependency_and_cycles_are_errors() {
        let rs = vec![res("a.x", Kind::Vpc, &["b.y"])];
        assert!(matches!(
            ResourceGraph::new(&rs),
            Err(GraphError::UnknownDependency { .. })
        ));
        let rs = vec![
            res("a.x", Kind::Vpc, &["b.y"]),
            res("b.y", Kind::Vpc, &["a.x"]),
        ];
        assert!(matches!(ResourceGraph::new(&rs), Err(GraphError::Cycle(_))));
    }
}
