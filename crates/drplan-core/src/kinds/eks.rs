//! The EKS family: `cluster` blocks lower to a cluster and its node groups.

use super::{text, KindInfo, MarkPlace, NameKey, Reference};
use crate::resource::Kind;

pub const CLUSTER: KindInfo = KindInfo {
    type_name: "aws_eks_cluster",
    stateful: true,
    regional: true,
    force_new: &["name", "role_arn", "subnets"],
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
    importable: true,
    forgettable: true,
    estimate_create: 15 * 60,
    // The only slow in-place change of a cluster is a version upgrade.
    estimate_update: 30 * 60,
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
    ..CLUSTER
};
