//! aws_eks_cluster -> `cluster` (in the network whose subnets it uses), and
//! aws_eks_node_group -> its `node_group` blocks (matched by `cluster_name`).
//! Import ids: the cluster name; `<cluster name>/<node group name>`.

use super::network::Networks;
use super::state::{string_pairs, strings, Instance};
use super::{with_tags, Out};
use crate::address::Address;
use crate::adopt::config::{Block, Value};
use crate::adopt::label;
use crate::resource::Kind;
use serde_json::Value as Json;
use std::collections::BTreeSet;

/// Converts the clusters and their node groups; returns the labels of the
/// clusters written.
pub(super) fn convert(
    clusters: &[Instance],
    node_groups: &[Instance],
    nets: &Networks,
    out: &mut Out,
) -> Vec<String> {
    let mut written = Vec::new();
    let mut placed: BTreeSet<usize> = BTreeSet::new();
    for c in clusters {
        let mine: Vec<(usize, &Instance)> = node_groups
            .iter()
            .enumerate()
            .filter(|(_, g)| c.str("name").is_some() && g.str("cluster_name") == c.str("name"))
            .collect();
        placed.extend(mine.iter().map(|(n, _)| *n));
        let Some(cl) = cluster(c, nets, out) else {
            for (_, g) in &mine {
                out.uncover(&g.source, "its cluster is not converted");
            }
            continue;
        };
        let Cluster {
            label: cl_label,
            name,
            mut block,
            network,
            subnets,
        } = cl;
        let address = Address::block("cluster", &cl_label);
        for (_, g) in mine {
            if let Some(b) = node_group(g, &name, &address, &network, &subnets, nets, out) {
                block.push_block(b);
            }
        }
        out.block(block);
        written.push(cl_label);
    }
    for (n, g) in node_groups.iter().enumerate() {
        if !placed.contains(&n) {
            out.uncover(
                &g.source,
                format!(
                    "its cluster {} is not in the state: a node group is written inside its cluster",
                    g.str("cluster_name").unwrap_or("(none)")
                ),
            );
        }
    }
    written
}

struct Cluster {
    label: String,
    name: String,
    block: Block,
    network: String,
    /// The subnet labels the cluster uses.
    subnets: Vec<String>,
}

fn cluster(c: &Instance, nets: &Networks, out: &mut Out) -> Option<Cluster> {
    let (Some(name), Some(version), Some(role_arn)) =
        (c.str("name"), c.str("version"), c.str("role_arn"))
    else {
        out.uncover(&c.source, "the state lacks its name, version or role_arn");
        return None;
    };
    let subnet_ids = c
        .first("vpc_config")
        .and_then(|v| v.get("subnet_ids"))
        .and_then(Json::as_array)
        .map(|a| strings(a))
        .unwrap_or_default();
    let Some((network, subnets)) = subnets_in_one_network(&subnet_ids, nets) else {
        out.uncover(
            &c.source,
            "its subnets are not all in one network of the state: a cluster needs its network",
        );
        return None;
    };
    let site = out.site_of(c)?;
    if nets.site_of.get(&network) != Some(&site) {
        out.uncover(&c.source, "its network is in another site");
        return None;
    }
    let label = out.label("cluster", &c.name);
    out.adopt(
        Address::block("cluster", &label),
        Kind::EksCluster,
        name,
        &c.source,
    );
    let mut block = Block::new("cluster")
        .label(&label)
        .attr("site", Value::raw(format!("site.{site}")))
        .attr("name", name)
        .attr("version", version)
        .attr("network", Value::raw(format!("network.{network}")));
    let all = nets.subnets_of.get(&network).cloned().unwrap_or_default();
    if subnets.iter().cloned().collect::<BTreeSet<_>>() != all {
        block.push_attr("subnets", Value::strings(subnets.clone()));
    }
    block.push_attr("role_arn", role_arn);
    Some(Cluster {
        label,
        name: name.to_string(),
        block: with_tags(block, c.tags()),
        network,
        subnets,
    })
}

/// The network holding every one of `ids`, and their labels (sorted).
fn subnets_in_one_network(ids: &[String], nets: &Networks) -> Option<(String, Vec<String>)> {
    let mut network = None;
    let mut labels = Vec::new();
    for id in ids {
        let (n, s) = nets.subnet.get(id)?;
        match &network {
            None => network = Some(n.clone()),
            Some(prev) if prev != n => return None,
            Some(_) => {}
        }
        labels.push(s.clone());
    }
    labels.sort();
    Some((network?, labels))
}

fn node_group(
    g: &Instance,
    cluster_name: &str,
    cluster: &Address,
    network: &str,
    cluster_subnets: &[String],
    nets: &Networks,
    out: &mut Out,
) -> Option<Block> {
    let Some(name) = g.str("node_group_name") else {
        out.uncover(&g.source, "the state has no node_group_name");
        return None;
    };
    if label(name) != name {
        out.uncover(
            &g.source,
            format!("its name `{name}` is not a drplan label (letters, digits, `_`, `-`, starting with a letter): a node group's label is its name"),
        );
        return None;
    }
    let scaling = g.first("scaling_config");
    let size = |k: &str| scaling.and_then(|s| s.get(k)).and_then(Json::as_i64);
    let (Some(min), Some(desired), Some(max), Some(role)) = (
        size("min_size"),
        size("desired_size"),
        size("max_size"),
        g.str("node_role_arn"),
    ) else {
        out.uncover(
            &g.source,
            "the state lacks its scaling_config or node_role_arn",
        );
        return None;
    };
    let ids = g.strings("subnet_ids");
    let subnets = match subnets_in_one_network(&ids, nets) {
        Some((n, s)) if n == network => s,
        _ => {
            out.uncover(
                &g.source,
                "its subnets are not all in its cluster's network in the state",
            );
            return None;
        }
    };
    out.adopt(
        cluster.child("node_group", name),
        Kind::NodeGroup,
        format!("{cluster_name}/{name}"),
        &g.source,
    );
    if g.first("launch_template").is_some() {
        out.uncover(
            &g.source,
            "its launch_template is not written: drplan node groups have no launch template",
        );
    }
    if !g.list("taint").is_empty() {
        out.uncover(
            &g.source,
            "its taints are not written: drplan node groups have no taints",
        );
    }
    let mut b = Block::new("node_group")
        .label(name)
        .attr(
            "instance_types",
            Value::strings(g.strings("instance_types")),
        )
        .attr("min_size", min)
        .attr("desired_size", desired)
        .attr("max_size", max)
        .attr("node_role_arn", role)
        .attr_opt("disk_size", g.int("disk_size").filter(|d| *d > 0))
        .attr_opt("capacity_type", g.str("capacity_type"));
    let labels = g
        .get("labels")
        .and_then(Json::as_object)
        .map(string_pairs)
        .unwrap_or_default();
    if !labels.is_empty() {
        b.push_attr("labels", Value::string_map(labels));
    }
    if subnets != cluster_subnets {
        b.push_attr("subnets", Value::strings(subnets));
    }
    Some(with_tags(b, g.tags()))
}
