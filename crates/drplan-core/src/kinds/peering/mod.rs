//! The peering family (EC2): a `peering` block lowers to one VPC peering connection
//! between two networks, with the routes to each other's CIDR as attributes of the
//! connection. Routes carry no tags, so they are drplan's through the connection they
//! point at (marked with the stack's tags), and they are diffed and put with it: a
//! route deleted out of band is an in-place update of the connection.

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

/// A connection's normalized attributes, typed: the lowering builds them from the spec
/// and the reader (`src/live/peering.rs`) from EC2's answers, so the compiler checks
/// both sides produce one form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PeeringAttrs {
    /// The requester network's address in the spec, its VPC id as read.
    pub vpc: Option<String>,
    /// The accepter network's address in the spec, its VPC id as read.
    pub peer_vpc: Option<String>,
    /// The accepter's region ([`PEER_REGION`]).
    pub peer_region: String,
    /// [`ACTIVE`] once accepted; the live status code otherwise.
    pub accept_status: Option<String>,
    /// Sorted destination CIDRs routed through the connection in the requester's and
    /// the accepter's main route tables; `null` when that side's region was not read.
    pub requester_routes: Option<Vec<String>>,
    pub accepter_routes: Option<Vec<String>>,
    pub tags: Value,
}

/// The status of a connection that is accepted and carries traffic.
pub const ACTIVE: &str = "active";

/// Status codes of a connection that no longer exists for any purpose: EC2 lists
/// deleted, rejected, failed and expired connections for a while after the fact.
pub const GONE_STATUSES: &[&str] = &["deleted", "deleting", "rejected", "failed", "expired"];

/// The attribute naming the second region a connection spans (the accepter's): when
/// that region does not answer, the connection is not read either
/// (`plan::diff`'s `not_read`).
pub const PEER_REGION: &str = "peer_region";

/// The family in the registry (`kinds::FAMILIES`): its spec blocks, lowering and
/// checks across blocks.
pub(crate) const FAMILY: Family = Family {
    blocks: &[decode::BLOCK],
    lower: Some(lower),
    check: Some(|t, spans, _, diags| decode::check(t, spans, diags)),
};

pub const PEERING: KindInfo = KindInfo {
    type_name: "aws_vpc_peering_connection",
    stateful: false,
    regional: true,
    in_cluster: false,
    force_new: &["vpc", "peer_vpc", PEER_REGION],
    unknown_after_apply: &["id"],
    regional_service: Some("ec2"),
    apply_service: "ec2",
    identity: by_mark,
    identified_by_mark: true,
    mark: MarkPlace::Tags,
    references: &[Reference::Address("vpc"), Reference::Address("peer_vpc")],
    name_key: None,
    forgettable: true,
    // CreateVpcPeeringConnection, AcceptVpcPeeringConnection in the other region, the
    // wait for `active` and two CreateRoute calls.
    estimate_create: 20,
    estimate_update: 5,
    // A peering joins two sites; it has no mirror.
    parity: None,
    deletion_means: None,
    terraform: Terraform {
        type_name: None,
        provider: Provider::Aws,
        values: terraform::values,
    },
    runbook: Runbook {
        what: type_name_of,
        phase: |_| Phase::Capacity,
        verify,
    },
    import: Import {
        address_shape: &[],
        state: Ok(terraform::state),
    },
};

/// Lowers the family's blocks to resources in the normalized form (`spec::lower`).
/// Checks have run: both networks exist (a peering whose network is missing was
/// reported and is skipped here).
pub(crate) fn lower(lw: &Lowering, out: &mut Vec<Resource>) {
    let t = lw.t;
    for p in t.peerings.values() {
        let (Some(req), Some(acc)) = (t.networks.get(&p.requester), t.networks.get(&p.accepter))
        else {
            continue;
        };
        let Some(peer_region) = t.sites.get(&acc.site).map(|s| s.region.clone()) else {
            continue;
        };
        out.push(lw.resource(
            Address::block("peering", &p.name),
            Kind::VpcPeering,
            Some(&req.site),
            Value::Object(into_attrs(PeeringAttrs {
                vpc: Some(Address::block("network", &req.name).to_string()),
                peer_vpc: Some(Address::block("network", &acc.name).to_string()),
                peer_region,
                accept_status: Some(ACTIVE.to_string()),
                requester_routes: Some(vec![acc.cidr.clone()]),
                accepter_routes: Some(vec![req.cidr.clone()]),
                tags: tags(&p.tags),
            })),
            vec![],
            false,
            &p.source,
        ));
    }
}

/// The runbook's check of a peering connection (`KindInfo::runbook`).
fn verify(r: &Resource, _: &dyn Fn(&str) -> String) -> String {
    format!(
        "aws ec2 describe-vpc-peering-connections --region {} --filters Name=tag:drplan:address,Values={} --query 'VpcPeeringConnections[].Status.Code'",
        region_of(r),
        r.address
    )
}
