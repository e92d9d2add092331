//! The network family (EC2): `network` blocks lower to a VPC and its subnets.

use super::{by_mark, KindInfo, MarkPlace, Reference};

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
    importable: false,
    forgettable: true,
    estimate_create: 30,
    estimate_update: 10,
};

pub const SUBNET: KindInfo = KindInfo {
    type_name: "aws_subnet",
    force_new: &["vpc", "cidr_block", "availability_zone"],
    references: &[Reference::Address("vpc")],
    ..VPC
};
