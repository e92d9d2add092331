//! aws_elasticache_replication_group -> `cache`, in the network of the subnets of its
//! aws_elasticache_subnet_group (matched by `subnet_group_name`): the subnet ids of a
//! network of the state, or the addresses of a network drplan manages already (as
//! `adopt::live` writes a live group whose subnets are marked). The subnet group is
//! part of the group in drplan, named after it. Import id: the replication group id.

use super::network::Networks;
use super::state::Instance;
use super::{with_tags, Out};
use crate::address::Address;
use crate::adopt::config::{Block, Value};
use crate::kinds::elasticache::{major_minor, ENGINE};
use crate::resource::Kind;
use std::collections::BTreeSet;

/// The ElastiCache resources of a state.
pub(super) struct Parts {
    pub groups: Vec<Instance>,
    pub subnet_groups: Vec<Instance>,
}

impl Parts {
    pub fn all(&self) -> impl Iterator<Item = &Instance> {
        self.groups.iter().chain(&self.subnet_groups)
    }
}

pub(super) fn convert(parts: &Parts, networks: &Networks, out: &mut Out) {
    let mut used: BTreeSet<&str> = BTreeSet::new();
    for g in &parts.groups {
        let Some(id) = g.str("replication_group_id").or_else(|| g.str("id")) else {
            out.uncover(&g.source, "the state has no replication group id");
            continue;
        };
        let Some(site) = out.site_of(g) else { continue };
        if let Some(engine) = g.str("engine").filter(|e| *e != ENGINE) {
            out.uncover(
                &g.source,
                format!("its engine is {engine}: drplan's caches are Redis"),
            );
            continue;
        }
        if g.int("num_node_groups").is_some_and(|n| n > 1)
            || g.bool("cluster_mode_enabled") == Some(true)
            || g.str("cluster_mode").is_some_and(|m| m == "enabled")
        {
            out.uncover(
                &g.source,
                "cluster mode (shards) is not expressed by a `cache` block",
            );
            continue;
        }
        let subnet_group = g.str("subnet_group_name").unwrap_or(id);
        used.insert(subnet_group);
        let subnets = parts
            .subnet_groups
            .iter()
            .find(|s| s.str("name").or_else(|| s.str("id")) == Some(subnet_group))
            .map(|s| s.strings("subnet_ids"))
            .unwrap_or_default();
        let Some((network, subnet_labels)) = network_of(&subnets, networks) else {
            out.uncover(
                &g.source,
                format!(
                    "its subnet group {subnet_group} is not in the state, or its subnets are not all in one network of it: write the `cache` block by hand"
                ),
            );
            continue;
        };
        if networks
            .site_of
            .get(&network)
            .is_some_and(|net_site| *net_site != site)
        {
            out.uncover(
                &g.source,
                format!("its network {network} is in another site"),
            );
            continue;
        }
        if subnet_group != id {
            out.uncover(
                &g.source,
                format!("its subnet group is {subnet_group}: drplan's is named after the group, so a subnet change after import would write to a group of that name"),
            );
        }
        let Some(node_type) = g.str("node_type") else {
            out.uncover(&g.source, "the state has no node_type");
            continue;
        };
        let Some(version) = g
            .str("engine_version_actual")
            .or_else(|| g.str("engine_version"))
            .and_then(major_minor)
        else {
            out.uncover(
                &g.source,
                "its engine version is not major.minor: write `engine_version` by hand",
            );
            continue;
        };
        let nodes = g.int("num_cache_clusters").unwrap_or(1);
        if g.bool("automatic_failover_enabled").unwrap_or(false) != (nodes > 1) {
            out.uncover(
                &g.source,
                "drplan turns automatic failover on from 2 nodes and off for 1: the plan after import shows the change",
            );
        }
        for (key, what) in [
            ("at_rest_encryption_enabled", "encryption at rest"),
            ("transit_encryption_enabled", "encryption in transit"),
        ] {
            if g.bool(key) == Some(true) {
                out.uncover(
                    &g.source,
                    format!("its {what} is not expressed by a `cache` block: drplan neither reads nor changes it"),
                );
            }
        }

        let label = out.label("cache", &g.name);
        out.adopt(
            Address::block("cache", &label),
            Kind::CacheReplicationGroup,
            id,
            &g.source,
        );
        let mut block = Block::new("cache")
            .label(&label)
            .attr("site", Value::raw(format!("site.{site}")))
            .attr("network", Value::raw(format!("network.{network}")))
            .attr("subnets", Value::strings(subnet_labels))
            .attr("name", id)
            .attr_opt("description", g.str("description"))
            .attr("node_type", node_type)
            .attr("nodes", nodes)
            .attr("engine_version", version);
        block = with_tags(block, g.tags());
        let retention = g.int("snapshot_retention_limit").unwrap_or(0);
        if retention > 0 {
            block.push_block(
                Block::new("snapshot")
                    .attr("retention_days", retention)
                    .attr_opt("window", g.str("snapshot_window"))
                    // Automatic snapshots stay in their region: said, for the
                    // objectives' cross_region_copy check.
                    .attr("cross_region", false),
            );
        }
        out.block(block);
    }
    for s in &parts.subnet_groups {
        let name = s.str("name").or_else(|| s.str("id")).unwrap_or_default();
        if !used.contains(name) {
            out.uncover(
                &s.source,
                "no replication group of the state uses it: drplan makes a subnet group with each cache",
            );
        }
    }
}

/// The network holding all of `subnets` and their labels, sorted: subnet ids of a
/// network of the state, or the addresses (`network.<label>.subnet.<name>`) of a
/// network the spec has.
fn network_of(subnets: &[String], networks: &Networks) -> Option<(String, Vec<String>)> {
    let mut network: Option<String> = None;
    let mut labels = Vec::new();
    for s in subnets {
        let (net, sub) = match networks.subnet.get(s) {
            Some((net, sub)) => (net.clone(), sub.clone()),
            None => {
                let parts: Vec<&str> = s.split('.').collect();
                match parts.as_slice() {
                    ["network", net, "subnet", sub] => (net.to_string(), sub.to_string()),
                    _ => return None,
                }
            }
        };
        if network.get_or_insert_with(|| net.clone()) != &net {
            return None;
        }
        labels.push(sub);
    }
    labels.sort();
    Some((network?, labels))
}
