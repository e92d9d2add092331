//! The EKS family: `cluster` blocks lower to a cluster and its node groups.

use super::{text, KindInfo, MarkPlace, NameKey, Reference};
use crate::address::Address;
use crate::resource::{Kind, Resource};
use crate::spec::lower::sorted_addrs;
use crate::spec::lower::{tags, Lowering};
use serde_json::{json, Value};

/// EKS control-plane log types.
pub const CONTROL_PLANE_LOG_TYPES: &[&str] = &[
    "api",
    "audit",
    "authenticator",
    "controllerManager",
    "scheduler",
];

/// A cluster's settings the spec may leave unsaid: the reader reports them only for
/// clusters whose spec says them (`ReadScope`).
pub const OPTIONAL_CLUSTER_ATTRS: &[&str] = &[
    "endpoint_public_access",
    "endpoint_private_access",
    "control_plane_logs",
    "secrets_encryption_key",
];

pub const CLUSTER: KindInfo = KindInfo {
    type_name: "aws_eks_cluster",
    stateful: true,
    regional: true,
    // EKS sets secrets encryption at creation and can neither change nor remove it.
    force_new: &["name", "role_arn", "subnets", "secrets_encryption_key"],
    unknown_after_apply: &["arn", "endpoint", "certificate_authority"],
    regional_service: Some("eks"),
    apply_service: "eks",
    identity: |region, _, attrs| format!("{region}/{}", text(attrs, "name")),
    identified_by_mark: false,
    mark: MarkPlace::Tags,
    references: &[Reference::Address("subnets")],
    name_key: Some(NameKey {
        attr: "name",
        regional: true,
        trim_dot: false,
    }),
    forgettable: true,
    estimate_create: 15 * 60,
    // The only slow in-place change of a cluster is a version upgrade.
    estimate_update: 30 * 60,
    // A failover onto another Kubernetes version doubles as an upgrade.
    // Not the secrets encryption key: KMS keys are regional, so mirrors differ by design.
    parity: Some(&[
        "version",
        "endpoint_public_access",
        "endpoint_private_access",
        "control_plane_logs",
    ]),
};

pub const NODE_GROUP: KindInfo = KindInfo {
    type_name: "aws_eks_node_group",
    stateful: false,
    force_new: &[
        "cluster_name",
        "name",
        "node_role_arn",
        "instance_types",
        "disk_size",
        "capacity_type",
        "subnets",
    ],
    unknown_after_apply: &["arn"],
    identity: |region, _, attrs| {
        format!(
            "{region}/{}/{}",
            text(attrs, "cluster_name"),
            text(attrs, "name")
        )
    },
    references: &[
        Reference::Address("subnets"),
        Reference::Name("cluster_name", Kind::EksCluster),
    ],
    name_key: None,
    estimate_create: 5 * 60,
    // Scaling a pilot-light node group up: instances launched, joined and Ready. No
    // launch template or auto-scaling group to create, so shorter than a creation.
    estimate_update: 4 * 60,
    // What the workloads are scheduled on; DR's min and desired sizes stay at zero
    // until activation by design, its maximum is the capacity it can reach.
    parity: Some(&[
        "instance_types",
        "capacity_type",
        "disk_size",
        "max_size",
        "labels",
    ]),
    ..CLUSTER
};

/// Lowers the family's blocks to resources in the normalized form (`spec::lower`).
pub(crate) fn lower(lw: &Lowering, out: &mut Vec<Resource>) {
    let t = lw.t;
    for c in t.clusters.values() {
        let addr = Address::block("cluster", &c.label);
        let net = Address::block("network", &c.network);
        let all_subnets: Vec<String> = t
            .networks
            .get(&c.network)
            .map(|n| n.subnets.keys().cloned().collect())
            .unwrap_or_default();
        let chosen = if c.subnets.is_empty() {
            all_subnets
        } else {
            c.subnets.clone()
        };
        let subnet_addrs = sorted_addrs(&net, &chosen);
        let mut attrs = json!({
            "name": c.name,
            "version": c.version,
            "role_arn": c.role_arn,
            "subnets": subnet_addrs.iter().map(Address::as_str).collect::<Vec<_>>(),
            "tags": tags(&c.tags),
        });
        // Only what the spec says: an unsaid setting is neither compared nor set.
        let s = &c.security;
        for (key, value) in [
            (
                "endpoint_public_access",
                s.endpoint_public_access.map(Value::from),
            ),
            (
                "endpoint_private_access",
                s.endpoint_private_access.map(Value::from),
            ),
            (
                "control_plane_logs",
                s.control_plane_logs.clone().map(Value::from),
            ),
            (
                "secrets_encryption_key",
                s.secrets_encryption_key.clone().map(Value::from),
            ),
        ] {
            if let (Some(value), Some(map)) = (value, attrs.as_object_mut()) {
                map.insert(key.into(), value);
            }
        }
        out.push(lw.resource(
            addr.clone(),
            Kind::EksCluster,
            Some(&c.site),
            attrs,
            subnet_addrs.clone(),
            c.protect,
            &c.source,
        ));
        for g in c.node_groups.values() {
            let ng_subnets = if g.subnets.is_empty() {
                subnet_addrs.clone()
            } else {
                sorted_addrs(&net, &g.subnets)
            };
            let mut group = lw.resource(
                addr.child("node_group", &g.name),
                Kind::NodeGroup,
                Some(&c.site),
                json!({
                    "cluster_name": c.name,
                    "name": g.name,
                    "node_role_arn": g.node_role_arn,
                    "instance_types": g.instance_types,
                    "min_size": g.min_size,
                    "max_size": g.max_size,
                    "desired_size": g.desired_size,
                    "disk_size": g.disk_size,
                    "capacity_type": g.capacity_type,
                    "labels": g.labels,
                    "subnets": ng_subnets.iter().map(Address::as_str).collect::<Vec<_>>(),
                    "tags": tags(&g.tags),
                }),
                vec![addr.clone()],
                false,
                &g.source,
            );
            group.ignore_changes = g.ignore_changes.clone();
            out.push(group);
        }
    }
}
