//! The Route53 family (global): `zone` blocks, and `dns` blocks lowering to record
//! sets and health checks.

use super::{by_mark, text, KindInfo, MarkPlace, NameKey, Reference};
use crate::resource::Kind;

pub const ZONE: KindInfo = KindInfo {
    type_name: "aws_route53_zone",
    stateful: true,
    regional: false,
    force_new: &["name"],
    unknown_after_apply: &["id", "name_servers"],
    regional_service: None,
    apply_service: "route53",
    identity: |_, _, attrs| text(attrs, "name").to_string(),
    identified_by_mark: false,
    mark: MarkPlace::Tags,
    references: &[],
    name_key: Some(NameKey {
        attr: "name",
        regional: false,
        trim_dot: true,
    }),
    importable: true,
    forgettable: true,
    estimate_create: 60,
    estimate_update: 10,
};

pub const RECORD: KindInfo = KindInfo {
    type_name: "aws_route53_record",
    stateful: false,
    force_new: &["zone", "name", "type", "set_identifier"],
    unknown_after_apply: &[],
    identity: |_, _, attrs| {
        format!(
            "{}/{}/{}/{}",
            text(attrs, "zone"),
            text(attrs, "name"),
            text(attrs, "type"),
            text(attrs, "set_identifier")
        )
    },
    mark: MarkPlace::OwnerTxt,
    references: &[
        Reference::Address("health_check"),
        Reference::Name("zone", Kind::DnsZone),
    ],
    name_key: None,
    importable: false,
    forgettable: false,
    // Record changes take about a minute to reach every Route53 name server; a
    // failover flip is a record change: the same propagation as a new record.
    estimate_create: 60,
    estimate_update: 60,
    ..ZONE
};

pub const HEALTH_CHECK: KindInfo = KindInfo {
    type_name: "aws_route53_health_check",
    stateful: false,
    force_new: &["type"],
    unknown_after_apply: &["id"],
    identity: by_mark,
    identified_by_mark: true,
    name_key: None,
    importable: false,
    estimate_create: 30,
    estimate_update: 30,
    ..ZONE
};
