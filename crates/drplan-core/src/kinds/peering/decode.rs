//! The `peering` block: a VPC peering connection between two networks
//! (`requester = network.primary  accepter = network.dr`). The block's own checks are
//! here; the checks across blocks (the two CIDRs must not overlap) run once every
//! network is decoded (`check`, called from `spec::checks`).

use crate::model::{Peering, Topology};
use crate::spec::body::{BlockBody, Schema};
use crate::spec::decode::{check_tags, object, source_ref, Cx, SpanTable};
use crate::spec::diagnostic::{Diagnostics, SpecDiagnostic};
use hcl::Value;
use ipnet::Ipv4Net;
use std::collections::BTreeMap;

pub const SCHEMA: Schema = Schema::new(&["requester", "accepter", "tags", "depends_on"], &[]);

/// The `peering` block in the table of blocks (registered in `kinds::FAMILIES`).
pub const BLOCK: crate::spec::blocks::Block = crate::spec::blocks::Block::family::<Peering>(
    "peering",
    &["name", "requester", "accepter", "address"],
    4,
    &SCHEMA,
);

impl crate::spec::decode::FamilyBlock for Peering {
    fn decode(label: &str, b: &mut BlockBody, cx: &mut Cx) -> Option<Self> {
        decode(label, b, cx)
    }

    fn object(&self, _: &BTreeMap<String, crate::model::Site>) -> Value {
        peering_object(self)
    }

    fn models(t: &mut crate::model::Topology) -> &mut BTreeMap<String, Self> {
        &mut t.peerings
    }
}

pub fn decode(label: &str, b: &mut BlockBody, cx: &mut Cx) -> Option<Peering> {
    let address = format!("peering.{label}");
    let mut sides = Vec::new();
    for (attr, help) in [
        (
            "requester",
            "the network that requests the connection: requester = network.primary",
        ),
        (
            "accepter",
            "the network that accepts it, in its own region: accepter = network.dr",
        ),
    ] {
        if !b.has(attr) {
            b.missing(cx.diags, attr, help);
        }
        sides.push(b.block_ref(cx.diags, cx.scope, attr, "network"));
        cx.spans.record(&address, attr, b);
    }
    let tags = b.string_map(cx.diags, "tags").unwrap_or_default();
    check_tags(b, cx.diags, &tags);
    let accepter = sides.pop().flatten();
    let requester = sides.pop().flatten();
    if let (Some(r), Some(a)) = (&requester, &accepter) {
        if r == a {
            b.invalid(
                cx.diags,
                "drplan::invalid_value",
                "accepter",
                format!("network \"{a}\" cannot be peered with itself"),
                "name two different networks: requester = network.primary, accepter = network.dr",
            );
            return None;
        }
    }
    Some(Peering {
        name: label.to_string(),
        requester: requester?,
        accepter: accepter?,
        tags,
        source: source_ref(b),
    })
}

pub fn peering_object(p: &Peering) -> Value {
    object(&[
        ("name", Value::from(p.name.clone())),
        ("requester", Value::from(format!("network.{}", p.requester))),
        ("accepter", Value::from(format!("network.{}", p.accepter))),
        ("address", Value::from(format!("peering.{}", p.name))),
    ])
}

/// Across blocks: the two networks' CIDRs must not overlap (EC2 refuses such a
/// connection, and no route could tell the two apart), and two peerings may not join
/// the same pair of networks (EC2 refuses a second connection between two VPCs).
pub fn check(t: &Topology, spans: &SpanTable, diags: &mut Diagnostics) {
    let mut pairs: Vec<(&str, &str, &str)> = Vec::new();
    for p in t.peerings.values() {
        let address = format!("peering.{}", p.name);
        let at = |d: SpecDiagnostic, label: &str| match spans.get(&address, "accepter") {
            Some((f, span)) => d.at(f, span.clone(), label),
            None => d,
        };
        let (Some(req), Some(acc)) = (t.networks.get(&p.requester), t.networks.get(&p.accepter))
        else {
            continue;
        };
        if let (Ok(rc), Ok(ac)) = (req.cidr.parse::<Ipv4Net>(), acc.cidr.parse::<Ipv4Net>()) {
            if rc.contains(&ac.network()) || ac.contains(&rc.network()) {
                diags.push(at(
                    SpecDiagnostic::new(
                        "drplan::cidr_overlap",
                        format!(
                            "peering \"{}\": network \"{}\" ({rc}) overlaps network \"{}\" ({ac})",
                            p.name, req.name, acc.name
                        ),
                    )
                    .help(
                        "peered networks need disjoint CIDR blocks: give one of them another range",
                    ),
                    "overlapping network",
                ));
            }
        }
        let mut pair = [p.requester.as_str(), p.accepter.as_str()];
        pair.sort();
        if let Some((other, _, _)) = pairs.iter().find(|(_, a, b)| [*a, *b] == pair) {
            diags.push(at(
                SpecDiagnostic::new(
                    "drplan::duplicate_peering",
                    format!(
                        "peering \"{}\" joins networks \"{}\" and \"{}\", which peering \"{other}\" joins already",
                        p.name, p.requester, p.accepter
                    ),
                )
                .help("two VPCs have at most one peering connection: remove one of the blocks"),
                "joined twice",
            ));
        }
        pairs.push((p.name.as_str(), pair[0], pair[1]));
    }
}
