//! VPC peering connections (EC2): requested from the requester's region with
//! `PeerRegion`, accepted in the accepter's region (AcceptVpcPeeringConnection, with
//! that region's credentials), waited for until `active`, then a route to the other
//! network's CIDR through the connection in each VPC's main route table.
//!
//! The connection carries drplan's marks as EC2 tags (TagSpecifications at creation,
//! in the requester's region). Routes take no tags: they are drplan's through the
//! connection they point at. A route drplan adds never displaces a working one: a
//! route to the same CIDR through something else is replaced only when it is dead
//! (state `blackhole`, or pointing at a connection that is gone), and refused
//! otherwise.

use super::attrs::Attrs;
use super::context::{aws_error, change_region, error_code, wait_for, ApplyContext};
use super::family::live_id;
use super::idempotency::{attempt_id, create_once, failpoint, FailpointPhase, ATTEMPT_KEY};
use super::network::{
    create_tags, forget_ec2, no_retries_config, put_ec2_tags, remark_ec2, tag_spec, update_tags,
    vpc_id,
};
use crate::live::peering::{destinations, is_gone, main_table, requester_region};
use anyhow::{anyhow, bail, Result};
use aws_sdk_ec2::types::{
    Filter, ResourceType, RouteState, RouteTable, VpcPeeringConnection,
    VpcPeeringConnectionStateReasonCode as Code,
};
use aws_sdk_ec2::Client;
use drplan_core::address::Address;
use drplan_core::kinds::peering::PEER_REGION;
use drplan_core::plan::ResourceChange;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How long a connection may take to reach `active` once accepted (AWS: seconds to a
/// few minutes for a cross-region one).
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// One side of a connection: the region and VPC whose main route table holds the
/// route to the other side.
struct Side {
    region: String,
    vpc: String,
}

pub struct PeeringApplier;

#[async_trait::async_trait]
impl super::family::Applier for PeeringApplier {
    async fn create(&self, ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<String> {
        let id = create(ctx, change).await?;
        converge(ctx, change, &id, true).await?;
        Ok(id)
    }

    async fn update(
        &self,
        ctx: &ApplyContext<'_>,
        change: &ResourceChange,
        changed: &[String],
    ) -> Result<()> {
        let id = live_id(ctx, change)?;
        for key in changed {
            match key.as_str() {
                "tags" => update_tags(ctx, change, &id).await?,
                "accept_status" | "requester_routes" | "accepter_routes" => {}
                other => bail!("{}: `{other}` cannot be changed in place", change.address),
            }
        }
        let routes_or_status = changed.iter().any(|k| {
            matches!(
                k.as_str(),
                "accept_status" | "requester_routes" | "accepter_routes"
            )
        });
        if routes_or_status {
            converge(ctx, change, &id, false).await?;
        }
        Ok(())
    }

    async fn delete(&self, ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<()> {
        let id = live_id(ctx, change)?;
        let region = change_region(change)?;
        let before = Attrs::before(change)?;
        let peer_region = before.opt_str(PEER_REGION).unwrap_or(region);
        let mut regions = vec![region.to_string()];
        if peer_region != region {
            regions.push(peer_region.to_string());
        }
        for r in &regions {
            remove_routes_through(&ctx.clients.ec2(r), &id).await?;
        }
        match ctx
            .clients
            .ec2(region)
            .delete_vpc_peering_connection()
            .vpc_peering_connection_id(&id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if error_code(&e) == Some("InvalidVpcPeeringConnectionID.NotFound") => Ok(()),
            Err(e) => Err(aws_error("DeleteVpcPeeringConnection")(e)),
        }
    }

    async fn mark(
        &self,
        ctx: &ApplyContext<'_>,
        change: &ResourceChange,
        id: &str,
        tags: BTreeMap<String, String>,
    ) -> Result<()> {
        put_ec2_tags(ctx, change, id, tags).await
    }

    async fn remark(
        &self,
        ctx: &ApplyContext<'_>,
        change: &ResourceChange,
        id: &str,
    ) -> Result<()> {
        remark_ec2(ctx, change, id).await
    }

    async fn forget(
        &self,
        ctx: &ApplyContext<'_>,
        change: &ResourceChange,
        id: &str,
    ) -> Result<()> {
        forget_ec2(ctx, change, id).await
    }
}

/// The connection marked with this address (left by an earlier run), or a new one.
async fn create(ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<String> {
    let attrs = Attrs::after(change)?;
    let region = change_region(change)?;
    let ec2 = ctx.clients.ec2(region);
    let marked = [
        (drplan_core::marks::STACK_KEY, ctx.stack),
        (drplan_core::marks::ADDRESS_KEY, change.address.as_str()),
    ];
    if let Some(id) = find(&ec2, region, &marked).await? {
        return Ok(id);
    }
    let peer_region = attrs.str(PEER_REGION)?;
    // A peer in another account (`site_account`) is named by its owner; one in the
    // environment's account while the requester is a site account's is not supported.
    let peer_owner = match (
        ctx.clients.site_account(region),
        ctx.clients.site_account(peer_region),
    ) {
        (mine, Some(peer)) if mine.as_deref() != Some(peer.as_str()) => Some(peer),
        (Some(_), None) => bail!(
            "{}: a peering requested from a site account to a network in the environment's \
             account is not supported; request it from the other side (swap requester and \
             accepter)",
            change.address
        ),
        _ => None,
    };
    let vpc = vpc_id(ctx, region, &Address::new(attrs.str("vpc")?)).await?;
    let peer_vpc = vpc_id(ctx, peer_region, &Address::new(attrs.str("peer_vpc")?)).await?;
    let attempt = attempt_id();
    let tags = create_tags(ctx, change, &attrs.str_map("tags"), &attempt);
    let (ec2, vpc, peer_vpc, tags, attempt_ref, peer_owner) = (
        &ec2,
        vpc.as_str(),
        peer_vpc.as_str(),
        &tags,
        attempt.as_str(),
        peer_owner.as_deref(),
    );
    let send = move || async move {
        ec2.create_vpc_peering_connection()
            .vpc_id(vpc)
            .peer_vpc_id(peer_vpc)
            .peer_region(peer_region)
            .set_peer_owner_id(peer_owner.map(str::to_string))
            .tag_specifications(tag_spec(ResourceType::VpcPeeringConnection, tags))
            .customize()
            .config_override(no_retries_config())
            .send()
            .await
            .map(|out| {
                out.vpc_peering_connection()
                    .and_then(|c| c.vpc_peering_connection_id())
                    .map(str::to_string)
            })
    };
    let look = move || async move {
        let attempt = [(ATTEMPT_KEY, attempt_ref)];
        find(ec2, region, &attempt)
            .await
            .map(|found| found.map(Some))
    };
    let id = create_once("CreateVpcPeeringConnection", send, look)
        .await?
        .ok_or_else(|| anyhow!("CreateVpcPeeringConnection returned no connection id"))?;
    failpoint(&change.address, FailpointPhase::Created);
    Ok(id)
}

/// The first connection requested from `region` that still exists and carries the
/// tags `tags`. They are checked on the answer too: the filters narrow the listing
/// where EC2 honours them, and an emulator may not.
async fn find(ec2: &Client, region: &str, tags: &[(&str, &str)]) -> Result<Option<String>> {
    let mut request = ec2.describe_vpc_peering_connections();
    for (key, value) in tags {
        request = request.filters(
            Filter::builder()
                .name(format!("tag:{key}"))
                .values(*value)
                .build(),
        );
    }
    let out = request
        .send()
        .await
        .map_err(aws_error("DescribeVpcPeeringConnections"))?;
    let carries = |c: &VpcPeeringConnection| {
        tags.iter().all(|(key, value)| {
            c.tags()
                .iter()
                .any(|t| t.key() == Some(*key) && t.value() == Some(*value))
        })
    };
    Ok(out
        .vpc_peering_connections()
        .iter()
        .filter(|c| !is_gone(c) && requester_region(c, region) == region)
        .find(|c| carries(c))
        .and_then(|c| c.vpc_peering_connection_id().map(str::to_string)))
}

async fn describe(ec2: &Client, id: &str) -> Result<VpcPeeringConnection> {
    let out = ec2
        .describe_vpc_peering_connections()
        .vpc_peering_connection_ids(id)
        .send()
        .await
        .map_err(aws_error("DescribeVpcPeeringConnections"))?;
    out.vpc_peering_connections()
        .iter()
        .find(|c| c.vpc_peering_connection_id() == Some(id))
        .cloned()
        .ok_or_else(|| anyhow!("VPC peering connection {id} does not exist"))
}

/// Accepts the connection in the accepter's region if it waits for that, waits
/// until it is `active`, then puts the routes on both sides. `fresh`: just created,
/// so EC2 may not list it yet in the other region.
async fn converge(
    ctx: &ApplyContext<'_>,
    change: &ResourceChange,
    id: &str,
    fresh: bool,
) -> Result<()> {
    let attrs = Attrs::after(change)?;
    let region = change_region(change)?;
    let peer_region = attrs.str(PEER_REGION)?;
    let ec2 = ctx.clients.ec2(region);
    let peer = ctx.clients.ec2(peer_region);
    let accepted = AtomicBool::new(false);
    let what = format!("VPC peering connection {id} to be active");
    let connection = wait_for(&ctx.timeouts, ACTIVE_TIMEOUT, &what, || {
        let (ec2, peer, accepted) = (&ec2, &peer, &accepted);
        async move {
            let c = describe(ec2, id).await?;
            match c.status().and_then(|s| s.code()) {
                Some(Code::Active) => Ok(Some(c)),
                Some(Code::PendingAcceptance) if !accepted.load(Ordering::Relaxed) => {
                    match peer
                        .accept_vpc_peering_connection()
                        .vpc_peering_connection_id(id)
                        .send()
                        .await
                    {
                        Ok(_) => accepted.store(true, Ordering::Relaxed),
                        // Not yet listed in the accepter's region: ask again.
                        Err(e)
                            if fresh
                                && error_code(&e)
                                    == Some("InvalidVpcPeeringConnectionID.NotFound") => {}
                        Err(e) => return Err(aws_error("AcceptVpcPeeringConnection")(e)),
                    }
                    Ok(None)
                }
                Some(code) if is_gone(&c) => Err(anyhow!(
                    "VPC peering connection {id} is {}: {}",
                    code.as_str(),
                    c.status().and_then(|s| s.message()).unwrap_or_default()
                )),
                _ => Ok(None),
            }
        }
    })
    .await?;
    let side = |info: Option<&aws_sdk_ec2::types::VpcPeeringConnectionVpcInfo>,
                fallback: &str|
     -> Result<Side> {
        let info = info.ok_or_else(|| anyhow!("VPC peering connection {id} names no VPC"))?;
        Ok(Side {
            region: info.region().unwrap_or(fallback).to_string(),
            vpc: info
                .vpc_id()
                .ok_or_else(|| anyhow!("VPC peering connection {id} names no VPC"))?
                .to_string(),
        })
    };
    let requester = side(connection.requester_vpc_info(), region)?;
    let accepter = side(connection.accepter_vpc_info(), peer_region)?;
    for (s, key) in [
        (requester, "requester_routes"),
        (accepter, "accepter_routes"),
    ] {
        let ec2 = ctx.clients.ec2(&s.region);
        put_routes(&ec2, &s, id, &attrs.str_list(key)).await?;
    }
    Ok(())
}

async fn main_route_table(ec2: &Client, side: &Side) -> Result<RouteTable> {
    let out = ec2
        .describe_route_tables()
        .filters(Filter::builder().name("vpc-id").values(&side.vpc).build())
        .filters(main_table())
        .send()
        .await
        .map_err(aws_error("DescribeRouteTables"))?;
    out.route_tables().first().cloned().ok_or_else(|| {
        anyhow!(
            "VPC {} in {} has no main route table",
            side.vpc,
            side.region
        )
    })
}

/// Routes through `id` in the side's main route table to exactly `wanted`.
async fn put_routes(ec2: &Client, side: &Side, id: &str, wanted: &[String]) -> Result<()> {
    let table = main_route_table(ec2, side).await?;
    let table_id = table
        .route_table_id()
        .ok_or_else(|| anyhow!("the main route table of {} has no id", side.vpc))?;
    let present = destinations(Some(&table), id);
    for cidr in wanted.iter().filter(|c| !present.contains(c)) {
        let existing = table
            .routes()
            .iter()
            .find(|r| r.destination_cidr_block() == Some(cidr.as_str()));
        match existing {
            None => {
                ec2.create_route()
                    .route_table_id(table_id)
                    .destination_cidr_block(cidr)
                    .vpc_peering_connection_id(id)
                    .send()
                    .await
                    .map_err(aws_error("CreateRoute"))?;
            }
            Some(route) => {
                let dead_connection = match route.vpc_peering_connection_id() {
                    Some(other) => describe(ec2, other).await.map_or(true, |c| is_gone(&c)),
                    None => false,
                };
                if route.state() != Some(&RouteState::Blackhole) && !dead_connection {
                    let target = route
                        .vpc_peering_connection_id()
                        .or(route.gateway_id())
                        .or(route.transit_gateway_id())
                        .or(route.nat_gateway_id())
                        .or(route.network_interface_id())
                        .unwrap_or("another target");
                    bail!(
                        "route table {table_id} (VPC {} in {}) already routes {cidr} through {target}: drplan does not replace a working route it did not make; remove it, or peer networks whose ranges are free",
                        side.vpc,
                        side.region
                    );
                }
                ec2.replace_route()
                    .route_table_id(table_id)
                    .destination_cidr_block(cidr)
                    .vpc_peering_connection_id(id)
                    .send()
                    .await
                    .map_err(aws_error("ReplaceRoute"))?;
            }
        }
    }
    for cidr in present.iter().filter(|c| !wanted.contains(c)) {
        delete_route(ec2, table_id, cidr).await?;
    }
    Ok(())
}

async fn delete_route(ec2: &Client, table_id: &str, cidr: &str) -> Result<()> {
    match ec2
        .delete_route()
        .route_table_id(table_id)
        .destination_cidr_block(cidr)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if error_code(&e) == Some("InvalidRoute.NotFound") => Ok(()),
        Err(e) => Err(aws_error("DeleteRoute")(e)),
    }
}

/// Removes the routes through `id` from the main route tables of the region `ec2`
/// talks to (before the connection goes: they would be left as blackholes).
async fn remove_routes_through(ec2: &Client, id: &str) -> Result<()> {
    let out = ec2
        .describe_route_tables()
        .filters(
            Filter::builder()
                .name("route.vpc-peering-connection-id")
                .values(id)
                .build(),
        )
        .filters(main_table())
        .send()
        .await
        .map_err(aws_error("DescribeRouteTables"))?;
    for table in out.route_tables() {
        let Some(table_id) = table.route_table_id() else {
            continue;
        };
        for cidr in destinations(Some(table), id) {
            delete_route(ec2, table_id, &cidr).await?;
        }
    }
    Ok(())
}
