//! The network family (EC2): `network` blocks lower to a VPC and its subnets.

use super::{by_mark, KindInfo, MarkPlace, Reference};
use crate::address::Address;
use crate::resource::{Kind, Resource};
use crate::spec::lower::{tags, Lowering};
use serde_json::json;

pub const VPC: KindInfo = KindInfo {
    type_name: "aws_vpc",
    stateful: false,
    regional: true,
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
};

pub const SUBNET: KindInfo = KindInfo {
    type_name: "aws_subnet",
    force_new: &["vpc", "cidr_block", "availability_zone"],
    references: &[Reference::Address("vpc")],
    parity: Some(&["public"]),
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
            json!({"cidr_block": n.cidr, "tags": tags(&n.tags)}),
            vec![],
            false,
            &n.source,
        ));
        for s in n.subnets.values() {
            out.push(lw.resource(
                vpc.child("subnet", &s.name),
                Kind::Subnet,
                Some(&n.site),
                json!({
                    "vpc": vpc.as_str(),
                    "cidr_block": s.cidr,
                    "availability_zone": s.availability_zone,
                    "public": s.public,
                    "tags": tags(&s.tags),
                }),
                vec![vpc.clone()],
                false,
                &s.source,
            ));
        }
    }
}
