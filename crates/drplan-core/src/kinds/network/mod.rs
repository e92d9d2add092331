//! The network family (EC2): `network` blocks lower to a VPC and its subnets.

pub mod decode;
pub mod terraform;

use super::{
    by_mark, into_attrs, region_of, type_name_of, Family, Import, KindInfo, MarkPlace, Phase,
    Provider, Reference, Runbook, Terraform,
};
use crate::address::Address;
use crate::resource::{Kind, Resource};
use crate::spec::lower::{tags, Lowering};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A VPC's normalized attributes, typed: the lowering builds them from the spec and
/// the reader (`src/live/ec2.rs`) from EC2's answers, so the compiler checks both
/// sides produce one form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VpcAttrs {
    pub cidr_block: Option<String>,
    /// The user's tags; `None` where the reader adds them itself (marks apart).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Value>,
}

/// A subnet's normalized attributes (see [`VpcAttrs`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubnetAttrs {
    /// The VPC's address in the spec; its id as read (resolved to the address with
    /// the live state's ids).
    pub vpc: Option<String>,
    pub cidr_block: Option<String>,
    pub availability_zone: Option<String>,
    /// Map a public IP on launch.
    pub public: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Value>,
}

/// The family in the registry (`kinds::FAMILIES`): its spec blocks, lowering and
/// checks across blocks.
pub(crate) const FAMILY: Family = Family {
    blocks: &[decode::BLOCK],
    lower: Some(lower),
    check: Some(|t, spans, _, diags| decode::check(t, spans, diags)),
};

pub const VPC: KindInfo = KindInfo {
    type_name: "aws_vpc",
    stateful: false,
    regional: true,
    in_cluster: false,
    force_new: &["cidr_block"],
    unknown_after_apply: &["id", "arn"],
    regional_service: Some("ec2"),
    apply_service: "ec2",
    identity: by_mark,
    identified_by_mark: true,
    mark: MarkPlace::Tags,
    references: &[],
    name_key: None,
    forgettable: true,
    estimate_create: 30,
    estimate_update: 10,
    // The CIDR and the zones differ per site by design; the VPC must be there.
    parity: Some(&[]),
    deletion_means: None,
    terraform: Terraform {
        type_name: None,
        provider: Provider::Aws,
        values: terraform::vpc_values,
    },
    runbook: Runbook {
        what: type_name_of,
        phase: |_| Phase::Capacity,
        verify: vpc_verify,
    },
    import: Import {
        address_shape: &["network", "*"],
        state: Ok(terraform::vpc_state),
    },
};

pub const SUBNET: KindInfo = KindInfo {
    type_name: "aws_subnet",
    force_new: &["vpc", "cidr_block", "availability_zone"],
    references: &[Reference::Address("vpc")],
    parity: Some(&["public"]),
    deletion_means: None,
    terraform: Terraform {
        type_name: None,
        provider: Provider::Aws,
        values: terraform::subnet_values,
    },
    runbook: Runbook {
        what: type_name_of,
        phase: |_| Phase::Capacity,
        verify: subnet_verify,
    },
    import: Import {
        address_shape: &["network", "*", "subnet", "*"],
        state: Ok(terraform::subnet_state),
    },
    ..VPC
};

/// Lowers the family's blocks to resources in the normalized form (`spec::lower`).
pub(crate) fn lower(lw: &Lowering, out: &mut Vec<Resource>) {
    let t = lw.t;
    for n in t.networks.values() {
        let vpc = Address::block("network", &n.name);
        out.push(lw.resource(
            vpc.clone(),
            Kind::Vpc,
            Some(&n.site),
            Value::Object(into_attrs(VpcAttrs {
                cidr_block: Some(n.cidr.clone()),
                tags: Some(tags(&n.tags)),
            })),
            vec![],
            false,
            &n.source,
        ));
        for s in n.subnets.values() {
            out.push(lw.resource(
                vpc.child("subnet", &s.name),
                Kind::Subnet,
                Some(&n.site),
                Value::Object(into_attrs(SubnetAttrs {
                    vpc: Some(vpc.to_string()),
                    cidr_block: Some(s.cidr.clone()),
                    availability_zone: Some(s.availability_zone.clone()),
                    public: s.public,
                    tags: Some(tags(&s.tags)),
                })),
                vec![vpc.clone()],
                false,
                &s.source,
            ));
        }
    }
}

/// The runbook's check of a VPC (`KindInfo::runbook`).
fn vpc_verify(r: &Resource, _: &dyn Fn(&str) -> String) -> String {
    format!(
        "aws ec2 describe-vpcs --region {} --filters Name=tag:drplan:address,Values={}",
        region_of(r),
        r.address
    )
}

/// The runbook's check of a subnet.
fn subnet_verify(r: &Resource, _: &dyn Fn(&str) -> String) -> String {
    format!(
        "aws ec2 describe-subnets --region {} --filters Name=tag:drplan:address,Values={}",
        region_of(r),
        r.address
    )
}
