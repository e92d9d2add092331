use crate::kinds::eks::CONTROL_PLANE_LOG_TYPES as LOG_TYPES;
use crate::model::topology::ClusterSecurity;
use crate::model::{Cluster, NodeGroup, Topology};
use crate::spec::body::{self, BlockBody, Schema};
use crate::spec::decode::{
    check_arn, check_tags, label_of, object, site_of, source_ref, Cx, SpanTable,
};
use crate::spec::diagnostic::{did_you_mean, Diagnostics, SpecDiagnostic};
use hcl::Value;
use std::collections::BTreeMap;

pub const SCHEMA: Schema = Schema::new(
    &[
        "site",
        "name",
        "version",
        "network",
        "subnets",
        "role_arn",
        "protect",
        "tags",
        "depends_on",
        "endpoint_public_access",
        "endpoint_private_access",
        "control_plane_logs",
        "secrets_encryption_key",
    ],
    &["node_group"],
);

/// The `cluster` block in the table of blocks (registered in `kinds::FAMILIES`).
pub const BLOCK: crate::spec::blocks::Block = crate::spec::blocks::Block::family::<Cluster>(
    "cluster",
    &["name", "site", "region", "version", "address"],
    5,
    &SCHEMA,
);

impl crate::spec::decode::FamilyBlock for Cluster {
    fn decode(label: &str, b: &mut BlockBody, cx: &mut Cx) -> Option<Self> {
        decode(label, b, cx)
    }

    fn object(&self, sites: &BTreeMap<String, crate::model::Site>) -> Value {
        cluster_object(self, &crate::spec::decode::region_in(sites, &self.site))
    }

    fn models(t: &mut crate::model::Topology) -> &mut BTreeMap<String, Self> {
        &mut t.clusters
    }
}

const NODE_GROUP: Schema = Schema::new(
    &[
        "instance_types",
        "min_size",
        "desired_size",
        "max_size",
        "node_role_arn",
        "disk_size",
        "capacity_type",
        "labels",
        "subnets",
        "tags",
    ],
    &["lifecycle"],
);

/// Node-group attributes another controller may own (`lifecycle { ignore_changes }`).
const IGNORABLE: &[&str] = &["desired_size", "min_size", "max_size", "labels", "tags"];

pub fn decode(label: &str, b: &mut BlockBody, cx: &mut Cx) -> Option<Cluster> {
    let address = format!("cluster.{label}");
    let site = site_of(
        b,
        cx,
        "name the site this cluster is in: site = site.primary",
    );
    cx.spans.record(&address, "site", b);
    let name = b.string_or(cx.diags, "name", || label.to_string());
    if let Some(name) = name.as_deref().filter(|n| !valid_cluster_name(n)) {
        b.invalid(
            cx.diags,
            "drplan::invalid_value",
            "name",
            format!("`{name}` is not a valid EKS cluster name"),
            "1-100 characters: letters, digits, `-` and `_`, starting with a letter or digit",
        );
    }
    let version = b.required_string(
        cx.diags,
        "version",
        "the Kubernetes version, e.g. version = \"1.29\"",
    );
    if !b.has("network") {
        b.missing(
            cx.diags,
            "network",
            "the network the cluster runs in: network = network.primary",
        );
    }
    let network = b.block_ref(cx.diags, cx.scope, "network", "network");
    cx.spans.record(&address, "network", b);
    let subnets = b.string_list(cx.diags, "subnets").unwrap_or_default();
    cx.spans.record(&address, "subnets", b);
    let role_arn = b.required_string(
        cx.diags,
        "role_arn",
        "the IAM role EKS assumes: role_arn = \"arn:aws:iam::<account>:role/<name>\"",
    );
    check_arn(b, cx, "role_arn", role_arn.as_deref());
    let protect = b.bool(cx.diags, "protect").unwrap_or(true);
    let tags = b.string_map(cx.diags, "tags").unwrap_or_default();
    check_tags(b, cx.diags, &tags);
    let security = security(b, cx);

    let mut node_groups = BTreeMap::new();
    for block in b.nested("node_group").collect::<Vec<_>>() {
        let Some(ng_label) = label_of(block) else {
            cx.diags.push(
                SpecDiagnostic::new("drplan::missing_label", "node_group needs a label")
                    .at(b.file, body::block_header(block), "no label")
                    .help("write node_group \"general\" { ... }"),
            );
            continue;
        };
        let mut g = body::read(b.file, block, &NODE_GROUP, cx.scope, cx.ctx, cx.diags);
        if node_groups.contains_key(&ng_label) {
            cx.diags.push(
                SpecDiagnostic::new(
                    "drplan::duplicate_label",
                    format!("node_group \"{ng_label}\" is declared twice in cluster \"{label}\""),
                )
                .at(b.file, g.header.clone(), "again here")
                .help("give each node group its own label"),
            );
            continue;
        }
        let ng_address = format!("{address}.node_group.{ng_label}");
        if let Some(ng) = node_group(&ng_label, &ng_address, &mut g, cx) {
            node_groups.insert(ng_label, ng);
        }
    }
    Some(Cluster {
        label: label.to_string(),
        name: name?,
        site: site?,
        version: version?,
        role_arn: role_arn?,
        network: network?,
        subnets,
        node_groups,
        protect,
        tags,
        security,
        source: source_ref(b),
    })
}

fn security(b: &mut BlockBody, cx: &mut Cx) -> ClusterSecurity {
    let endpoint_public_access = b.bool(cx.diags, "endpoint_public_access");
    let endpoint_private_access = b.bool(cx.diags, "endpoint_private_access");
    if endpoint_public_access == Some(false) && endpoint_private_access != Some(true) {
        b.invalid(
            cx.diags,
            "drplan::invalid_value",
            "endpoint_public_access",
            "a cluster whose endpoint is neither public nor private cannot be reached".into(),
            "set endpoint_private_access = true with endpoint_public_access = false",
        );
    }
    let control_plane_logs = b
        .string_list(cx.diags, "control_plane_logs")
        .map(|mut logs| {
            if let Some(bad) = logs.iter().find(|l| !LOG_TYPES.contains(&l.as_str())) {
                b.invalid(
                    cx.diags,
                    "drplan::invalid_value",
                    "control_plane_logs",
                    format!("`{bad}` is not an EKS control-plane log type"),
                    "use api, audit, authenticator, controllerManager, scheduler",
                );
            }
            logs.sort();
            logs.dedup();
            logs
        });
    let secrets_encryption_key = b.string(cx.diags, "secrets_encryption_key");
    if let Some(key) = &secrets_encryption_key {
        if !key.starts_with("arn:") || !key.contains(":kms:") || key.split(':').count() < 6 {
            b.invalid(
                cx.diags,
                "drplan::invalid_value",
                "secrets_encryption_key",
                format!("`{key}` is not a KMS key ARN"),
                "write arn:aws:kms:<region>:<account>:key/<id>",
            );
        }
    }
    ClusterSecurity {
        endpoint_public_access,
        endpoint_private_access,
        control_plane_logs,
        secrets_encryption_key,
    }
}

fn node_group(label: &str, address: &str, g: &mut BlockBody, cx: &mut Cx) -> Option<NodeGroup> {
    if !g.has("instance_types") {
        g.missing(
            cx.diags,
            "instance_types",
            "e.g. instance_types = [\"m5.large\"]",
        );
    }
    let instance_types = g.string_list(cx.diags, "instance_types");
    if instance_types.as_ref().is_some_and(Vec::is_empty) {
        g.invalid(
            cx.diags,
            "drplan::invalid_value",
            "instance_types",
            "instance_types is empty".into(),
            "name at least one instance type",
        );
    }
    let mut size = |name: &str| {
        if !g.has(name) {
            g.missing(
                cx.diags,
                name,
                "node groups need min_size, desired_size and max_size",
            );
        }
        g.int(cx.diags, name)
    };
    let (min, desired, max) = (size("min_size"), size("desired_size"), size("max_size"));
    if let (Some(min), Some(desired), Some(max)) = (min, desired, max) {
        if min < 0 || desired < 0 || max < 1 {
            g.invalid(cx.diags, "drplan::node_group_size", "max_size", format!("sizes must be >= 0 and max_size >= 1 (min {min}, desired {desired}, max {max})"), "a node group holds at least one node at most");
        } else if !(min <= desired && desired <= max) {
            g.invalid(
                cx.diags,
                "drplan::node_group_size",
                "desired_size",
                format!("node group sizes must satisfy min_size <= desired_size <= max_size (min {min}, desired {desired}, max {max})"),
                "adjust the sizes; for DR standby use e.g. min_size = 0, desired_size = site.dr.active ? 3 : 0",
            );
        }
    }
    let node_role_arn = g.required_string(cx.diags, "node_role_arn", "the IAM role nodes run as");
    check_arn(g, cx, "node_role_arn", node_role_arn.as_deref());
    let disk_size = g.int(cx.diags, "disk_size").unwrap_or(20);
    if disk_size < 1 {
        g.invalid(
            cx.diags,
            "drplan::invalid_value",
            "disk_size",
            format!("disk_size must be at least 1 GiB, not {disk_size}"),
            "disk_size is in GiB, default 20",
        );
    }
    let capacity_type = g
        .string(cx.diags, "capacity_type")
        .unwrap_or_else(|| "ON_DEMAND".into());
    if capacity_type != "ON_DEMAND" && capacity_type != "SPOT" {
        g.invalid(
            cx.diags,
            "drplan::invalid_value",
            "capacity_type",
            format!("capacity_type `{capacity_type}` is not known"),
            "use \"ON_DEMAND\" or \"SPOT\"",
        );
    }
    let labels = g.string_map(cx.diags, "labels").unwrap_or_default();
    let subnets = g.string_list(cx.diags, "subnets").unwrap_or_default();
    cx.spans.record(address, "subnets", g);
    let tags = g.string_map(cx.diags, "tags").unwrap_or_default();
    check_tags(g, cx.diags, &tags);
    let ignore_changes = crate::spec::decode::lifecycle::ignore_changes(
        g,
        cx,
        |p| {
            if IGNORABLE.contains(&p) {
                Ok(())
            } else {
                Err(format!(
                    "a node group ignores changes to {} only",
                    IGNORABLE.join(", ")
                ))
            }
        },
        "e.g. lifecycle { ignore_changes = [\"desired_size\"] } under the cluster autoscaler",
    );
    Some(NodeGroup {
        name: label.to_string(),
        node_role_arn: node_role_arn?,
        instance_types: instance_types?,
        min_size: min?,
        max_size: max?,
        desired_size: desired?,
        disk_size,
        capacity_type,
        labels,
        subnets,
        tags,
        ignore_changes,
        source: source_ref(g),
    })
}

fn valid_cluster_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 100
        && n.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

pub fn cluster_object(c: &Cluster, region: &str) -> Value {
    object(&[
        ("name", Value::from(c.name.clone())),
        ("site", Value::from(c.site.clone())),
        ("region", Value::from(region)),
        ("version", Value::from(c.version.clone())),
        ("address", Value::from(format!("cluster.{}", c.label))),
    ])
}

/// Across blocks: a cluster's network is in its site and has the subnets it and its
/// node groups name.
pub fn check(t: &Topology, spans: &SpanTable, diags: &mut Diagnostics) {
    for c in t.clusters.values() {
        let addr = format!("cluster.{}", c.label);
        let Some(net) = t.networks.get(&c.network) else {
            continue;
        };
        if net.site != c.site {
            let d = SpecDiagnostic::new(
                "drplan::wrong_site",
                format!(
                    "cluster \"{}\" is in site \"{}\" but network \"{}\" is in site \"{}\"",
                    c.label, c.site, net.name, net.site
                ),
            )
            .help("use a network of the cluster's own site");
            diags.push(spans.at(&addr, "network", d, "network of another site"));
        }
        for s in &c.subnets {
            if !net.subnets.contains_key(s) {
                let d = SpecDiagnostic::new(
                    "drplan::unresolved_reference",
                    format!("network \"{}\" has no subnet \"{s}\"", net.name),
                )
                .help(
                    did_you_mean(s, net.subnets.keys().map(String::as_str)).unwrap_or_else(|| {
                        format!(
                            "subnets: {}",
                            net.subnets.keys().cloned().collect::<Vec<_>>().join(", ")
                        )
                    }),
                );
                diags.push(spans.at(&addr, "subnets", d, "unknown subnet"));
            }
        }
        for g in c.node_groups.values() {
            for s in &g.subnets {
                if !net.subnets.contains_key(s) {
                    let d = SpecDiagnostic::new(
                        "drplan::unresolved_reference",
                        format!("network \"{}\" has no subnet \"{s}\"", net.name),
                    )
                    .help(
                        did_you_mean(s, net.subnets.keys().map(String::as_str))
                            .unwrap_or_else(|| "name a subnet of the cluster's network".into()),
                    );
                    diags.push(spans.at(
                        &format!("{addr}.node_group.{}", g.name),
                        "subnets",
                        d,
                        "unknown subnet",
                    ));
                }
            }
        }
    }
}
