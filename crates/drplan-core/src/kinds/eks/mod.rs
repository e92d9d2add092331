//! The EKS family: `cluster` blocks lower to a cluster and its node groups.

pub mod decode;
pub mod terraform;

use super::{
    into_attrs, region_of, text, type_name_of, Family, Import, KindInfo, MarkPlace, NameKey, Phase,
    Provider, Reference, Runbook, Terraform,
};
use crate::address::Address;
use crate::resource::{Kind, Resource};
use crate::spec::lower::sorted_addrs;
use crate::spec::lower::{tags, Lowering};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// A cluster's normalized attributes, typed: the lowering builds them from the spec
/// and the reader (`src/live/eks.rs`) from DescribeCluster, so the compiler checks
/// both sides produce one form. The settings of [`OPTIONAL_CLUSTER_ATTRS`] are absent
/// unless the spec says them (then read too).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClusterAttrs {
    pub name: Option<String>,
    pub version: Option<String>,
    pub role_arn: Option<String>,
    /// Subnet addresses in the spec, ids as read; sorted.
    pub subnets: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_public_access: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_private_access: Option<bool>,
    /// Sorted log types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_plane_logs: Option<Vec<String>>,
    /// `null` when declared and the cluster has none.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::present"
    )]
    pub secrets_encryption_key: Option<Option<String>>,
    /// The user's tags (marks apart).
    pub tags: Value,
}

/// A node group's normalized attributes (see [`ClusterAttrs`]). Sizes and disk are
/// `null` where EKS does not say (a launch template sets the disk).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeGroupAttrs {
    pub cluster_name: String,
    pub name: String,
    pub node_role_arn: Option<String>,
    pub instance_types: Vec<String>,
    pub min_size: Option<i64>,
    pub max_size: Option<i64>,
    pub desired_size: Option<i64>,
    pub disk_size: Option<i64>,
    /// "ON_DEMAND" | "SPOT".
    pub capacity_type: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// Subnet addresses in the spec, ids as read; sorted.
    pub subnets: Vec<String>,
    pub tags: Value,
}

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

/// The family in the registry (`kinds::FAMILIES`): its spec blocks, lowering and
/// checks across blocks.
pub(crate) const FAMILY: Family = Family {
    blocks: &[decode::BLOCK],
    lower: Some(lower),
    check: Some(|t, spans, _, diags| decode::check(t, spans, diags)),
};

pub const CLUSTER: KindInfo = KindInfo {
    type_name: "aws_eks_cluster",
    stateful: true,
    regional: true,
    in_cluster: false,
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
    deletion_means: None,
    terraform: Terraform {
        type_name: None,
        provider: Provider::Aws,
        values: terraform::cluster_values,
    },
    runbook: Runbook {
        what: type_name_of,
        phase: |_| Phase::Capacity,
        verify: cluster_verify,
    },
    import: Import {
        address_shape: &["cluster", "*"],
        state: Ok(terraform::cluster_state),
    },
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
    deletion_means: None,
    terraform: Terraform {
        type_name: None,
        provider: Provider::Aws,
        values: terraform::node_group_values,
    },
    runbook: Runbook {
        what: type_name_of,
        phase: |_| Phase::Capacity,
        verify: node_group_verify,
    },
    import: Import {
        address_shape: &["cluster", "*", "node_group", "*"],
        state: Ok(terraform::node_group_state),
    },
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
        // Only what the spec says: an unsaid setting is neither compared nor set.
        let s = &c.security;
        let attrs = ClusterAttrs {
            name: Some(c.name.clone()),
            version: Some(c.version.clone()),
            role_arn: Some(c.role_arn.clone()),
            subnets: subnet_addrs.iter().map(Address::to_string).collect(),
            endpoint_public_access: s.endpoint_public_access,
            endpoint_private_access: s.endpoint_private_access,
            control_plane_logs: s.control_plane_logs.clone(),
            secrets_encryption_key: s.secrets_encryption_key.clone().map(Some),
            tags: tags(&c.tags),
        };
        out.push(lw.resource(
            addr.clone(),
            Kind::EksCluster,
            Some(&c.site),
            Value::Object(into_attrs(attrs)),
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
                Value::Object(into_attrs(NodeGroupAttrs {
                    cluster_name: c.name.clone(),
                    name: g.name.clone(),
                    node_role_arn: Some(g.node_role_arn.clone()),
                    instance_types: g.instance_types.clone(),
                    min_size: Some(g.min_size),
                    max_size: Some(g.max_size),
                    desired_size: Some(g.desired_size),
                    disk_size: Some(g.disk_size),
                    capacity_type: Some(g.capacity_type.clone()),
                    labels: g.labels.clone(),
                    subnets: ng_subnets.iter().map(Address::to_string).collect(),
                    tags: tags(&g.tags),
                })),
                vec![addr.clone()],
                false,
                &g.source,
            );
            group.ignore_changes = g.ignore_changes.clone();
            out.push(group);
        }
    }
}

/// The runbook's check of a cluster (`KindInfo::runbook`).
fn cluster_verify(r: &Resource, _: &dyn Fn(&str) -> String) -> String {
    format!(
        "aws eks describe-cluster --region {} --name {} --query cluster.status",
        region_of(r),
        text(&r.attrs, "name")
    )
}

/// The runbook's check of a node group.
fn node_group_verify(r: &Resource, _: &dyn Fn(&str) -> String) -> String {
    format!(
        "aws eks describe-nodegroup --region {} --cluster-name {} --nodegroup-name {} --query 'nodegroup.[status,scalingConfig]'",
        region_of(r),
        text(&r.attrs, "cluster_name"),
        text(&r.attrs, "name")
    )
}
