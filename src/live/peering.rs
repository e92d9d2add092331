//! VPC peering connections and their routes. Two rounds: one paginated
//! DescribeVpcPeeringConnections per region, filtered server-side to the stack's tag;
//! then, where connections were found, one DescribeRouteTables per region for the main
//! route tables of their two VPCs. A connection is reported in its requester's region
//! only (EC2 lists a cross-region connection in both), and only while it exists:
//! deleted, rejected, failed and expired connections stay listed for a while and are
//! left out. The marks are checked again on the answers (an emulator may not filter).

use super::marks::{sorted_strings, Marked};
use super::reach::Gate;
use super::requests::collect_pages;
use super::{FamilyRead, ReadScope};
use crate::aws::error::error_message;
use crate::aws::{AwsContext, Service};
use aws_sdk_ec2::types::{Filter, RouteTable, Tag, VpcPeeringConnection};
use drplan_core::kinds::into_attrs;
use drplan_core::kinds::peering::{PeeringAttrs, GONE_STATUSES, PEER_REGION};
use drplan_core::live::{LiveObject, ReadError};
use drplan_core::marks::STACK_KEY;
use drplan_core::resource::{Kind, Resource};
use futures::future::join_all;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const TYPE: &str = "aws_vpc_peering_connection";

/// Peerings are found by their mark in the networks' regions: nothing to add.
pub(super) fn scope(_: &mut ReadScope, _: &Resource) {}

pub(super) async fn read(ctx: &AwsContext, scope: &ReadScope, gate: &Gate<'_>) -> FamilyRead {
    let mut read: FamilyRead = join_all(
        scope
            .regions
            .iter()
            .map(|region| gate.read(region, Service::Ec2, connections(ctx, scope, region))),
    )
    .await
    .into_iter()
    .collect();
    if read.objects.is_empty() {
        return read;
    }
    // The VPCs whose main route tables hold the routes, per region.
    let mut wanted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for o in &read.objects {
        for (region, vpc) in sides(o) {
            wanted.entry(region).or_default().insert(vpc);
        }
    }
    let tables = join_all(wanted.iter().map(|(region, vpcs)| async move {
        let answer = gate
            .answer(
                region,
                Service::Ec2,
                main_route_tables(ctx, region, vpcs),
                Result::is_err,
            )
            .await;
        (region.clone(), answer)
    }))
    .await;
    let mut routes_by_vpc: BTreeMap<(String, String), RouteTable> = BTreeMap::new();
    let mut unread: BTreeSet<String> = BTreeSet::new();
    for (region, answer) in tables {
        match answer {
            Ok(Ok(found)) => {
                for table in found {
                    if let Some(vpc) = table.vpc_id() {
                        routes_by_vpc.insert((region.clone(), vpc.to_string()), table);
                    }
                }
            }
            Ok(Err(e)) => {
                read.errors.push(e.in_region(&region));
                unread.insert(region);
            }
            Err(lost) => {
                read.unreachable.push(lost);
                unread.insert(region);
            }
        }
    }
    for o in &mut read.objects {
        let [requester, accepter] = sides(o);
        for ((region, vpc), key) in [
            (requester, "requester_routes"),
            (accepter, "accepter_routes"),
        ] {
            // A side whose region did not answer stays unknown (null): the diff does not
            // plan what it could not read (`peer_region`, `plan::diff`).
            let routes = match unread.contains(&region) {
                true => Value::Null,
                false => sorted_strings(&destinations(routes_by_vpc.get(&(region, vpc)), &o.id)),
            };
            o.attrs.insert(key.into(), routes);
        }
    }
    read
}

/// `(region, VPC id)` of the requester and the accepter, as read (before the ids are
/// resolved to addresses).
fn sides(o: &LiveObject) -> [(String, String); 2] {
    let text = |k: &str| {
        o.attrs
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    [
        (o.region.clone().unwrap_or_default(), text("vpc")),
        (text(PEER_REGION), text("peer_vpc")),
    ]
}

/// The destination CIDRs `table` routes through connection `pcx`.
pub(crate) fn destinations(table: Option<&RouteTable>, pcx: &str) -> Vec<String> {
    table
        .into_iter()
        .flat_map(|t| t.routes())
        .filter(|r| r.vpc_peering_connection_id() == Some(pcx))
        .filter_map(|r| r.destination_cidr_block().map(str::to_string))
        .collect()
}

pub(crate) fn is_gone(c: &VpcPeeringConnection) -> bool {
    let code = c
        .status()
        .and_then(|s| s.code())
        .map(|c| c.as_str())
        .unwrap_or_default();
    GONE_STATUSES.contains(&code)
}

pub(crate) fn marks(tags: &[Tag]) -> Marked {
    Marked::from_tags(tags.iter().filter_map(|t| {
        Some((
            t.key()?.to_string(),
            t.value().unwrap_or_default().to_string(),
        ))
    }))
}

/// The region a connection was requested from (where drplan reports it).
pub(crate) fn requester_region<'a>(c: &'a VpcPeeringConnection, listed_in: &'a str) -> &'a str {
    c.requester_vpc_info()
        .and_then(|i| i.region())
        .unwrap_or(listed_in)
}

/// The stack's connections requested from `region`.
async fn connections(ctx: &AwsContext, scope: &ReadScope, region: &str) -> FamilyRead {
    let stack = scope.stack.as_str();
    let pages = ctx
        .ec2(region)
        .describe_vpc_peering_connections()
        .filters(
            Filter::builder()
                .name(format!("tag:{STACK_KEY}"))
                .values(stack)
                .build(),
        )
        .into_paginator()
        .send();
    let mut read = FamilyRead::default();
    match collect_pages(ctx, Service::Ec2, pages).await {
        Ok(pages) => {
            for c in pages.iter().flat_map(|p| p.vpc_peering_connections()) {
                let Some(id) = c.vpc_peering_connection_id() else {
                    continue;
                };
                let marked = marks(c.tags());
                if !marked.is_for(stack) || is_gone(c) || requester_region(c, region) != region {
                    continue;
                }
                let accepter = c.accepter_vpc_info();
                // The routes are read per region after every connection is known.
                let attrs = into_attrs(PeeringAttrs {
                    vpc: c
                        .requester_vpc_info()
                        .and_then(|i| i.vpc_id())
                        .map(str::to_string),
                    peer_vpc: accepter.and_then(|i| i.vpc_id()).map(str::to_string),
                    peer_region: accepter.and_then(|i| i.region()).unwrap_or(region).into(),
                    accept_status: c
                        .status()
                        .and_then(|s| s.code())
                        .map(|c| c.as_str().to_string()),
                    requester_routes: None,
                    accepter_routes: None,
                    tags: marked.tags,
                });
                read.keep(
                    scope,
                    LiveObject {
                        kind: Kind::VpcPeering,
                        id: id.to_string(),
                        region: Some(region.to_string()),
                        address: marked.address,
                        stack: marked.stack,
                        attrs: attrs.into(),
                    },
                );
            }
        }
        Err(e) => read
            .errors
            .push(ReadError::new(TYPE, error_message(&e)).in_region(region)),
    }
    read
}

/// The main route tables of `vpcs` in `region`.
async fn main_route_tables(
    ctx: &AwsContext,
    region: &str,
    vpcs: &BTreeSet<String>,
) -> Result<Vec<RouteTable>, ReadError> {
    let pages = ctx
        .ec2(region)
        .describe_route_tables()
        .filters(
            Filter::builder()
                .name("vpc-id")
                .set_values(Some(vpcs.iter().cloned().collect()))
                .build(),
        )
        .filters(main_table())
        .into_paginator()
        .send();
    match collect_pages(ctx, Service::Ec2, pages).await {
        Ok(pages) => Ok(pages
            .into_iter()
            .flat_map(|p| p.route_tables.unwrap_or_default())
            .collect()),
        Err(e) => Err(ReadError::new(
            "aws_vpc_peering_connection routes",
            error_message(&e),
        )),
    }
}

/// The filter for a VPC's main route table: the peering's routes live there (the
/// network family manages no route tables of its own).
pub(crate) fn main_table() -> Filter {
    Filter::builder()
        .name("association.main")
        .values("true")
        .build()
}
