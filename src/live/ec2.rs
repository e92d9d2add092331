//! VPCs and subnets: two paginated calls per region, filtered server-side to the
//! stack's tag. Unmarked networks cannot collide with the spec (their identity is
//! their mark), so they are never read — unless an `import` block names one by id:
//! then two more calls, filtered by those ids.

use super::marks::Marked;
use super::reach::Gate;
use super::requests::collect_pages;
use super::{FamilyRead, ReadScope};
use crate::aws::error::error_message;
use crate::aws::{AwsContext, Service};
use aws_sdk_ec2::types::{Filter, Tag};
use drplan_core::kinds::into_attrs;
use drplan_core::kinds::network::{SubnetAttrs, VpcAttrs};
use drplan_core::live::LiveObject;
use drplan_core::live::ReadError;
use drplan_core::marks::STACK_KEY;
use drplan_core::resource::{Kind, Resource};
use futures::future::join_all;
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashSet};

/// What the spec's networks add to the read scope: nothing beyond their regions;
/// the ids `import` blocks name for VPCs and subnets (found by their mark alone).
pub(super) fn scope(_: &mut ReadScope, _: &Resource) {}

pub(super) fn import(scope: &mut ReadScope, r: &Resource, id: &str) {
    if let (Kind::Vpc | Kind::Subnet, Some(region)) = (r.kind, &r.region) {
        scope
            .imported_ec2
            .entry(region.clone())
            .or_default()
            .insert(id.to_string());
    }
}

/// An imported VPC or subnet is looked for by its id in every site's region.
pub(super) fn generate(scope: &mut ReadScope, kind: Kind, id: &str, regions: &[String]) {
    if matches!(kind, Kind::Vpc | Kind::Subnet) {
        for region in regions {
            scope
                .imported_ec2
                .entry(region.clone())
                .or_default()
                .insert(id.to_string());
        }
    }
}

pub(super) async fn read(ctx: &AwsContext, scope: &ReadScope, gate: &Gate<'_>) -> FamilyRead {
    join_all(scope.regions.iter().map(|region| {
        let imported = scope.imported_ec2.get(region.as_str());
        gate.read(
            region,
            Service::Ec2,
            read_region(ctx, scope, region, imported),
        )
    }))
    .await
    .into_iter()
    .collect()
}

fn stack_filter(stack: &str) -> Filter {
    Filter::builder()
        .name(format!("tag:{STACK_KEY}"))
        .values(stack)
        .build()
}

fn marks(tags: &[Tag]) -> Marked {
    Marked::from_tags(tags.iter().filter_map(|t| {
        Some((
            t.key()?.to_string(),
            t.value().unwrap_or_default().to_string(),
        ))
    }))
}

/// The stack's VPCs and subnets in `region`, and the unmarked ones `imported` names
/// (a second listing each, filtered by id: an id that does not exist is no error).
async fn read_region(
    ctx: &AwsContext,
    scope: &ReadScope,
    region: &str,
    imported: Option<&BTreeSet<String>>,
) -> FamilyRead {
    let client = ctx.ec2(region);
    let ids: Vec<String> = imported.into_iter().flatten().cloned().collect();
    let filter_for = |by_id: bool, key: &str| match by_id {
        true => Filter::builder()
            .name(key)
            .set_values(Some(ids.clone()))
            .build(),
        false => stack_filter(&scope.stack),
    };
    let mut passes = vec![false];
    if !ids.is_empty() {
        passes.push(true);
    }
    let mut vpcs = Vec::new();
    let mut subnets = Vec::new();
    for by_id in passes {
        let vpc_pages = client
            .describe_vpcs()
            .filters(filter_for(by_id, "vpc-id"))
            .into_paginator()
            .send();
        let subnet_pages = client
            .describe_subnets()
            .filters(filter_for(by_id, "subnet-id"))
            .into_paginator()
            .send();
        let (v, s) = tokio::join!(
            collect_pages(ctx, Service::Ec2, vpc_pages),
            collect_pages(ctx, Service::Ec2, subnet_pages),
        );
        vpcs.push(v);
        subnets.push(s);
    }
    let mut read = FamilyRead::default();
    let mut seen = HashSet::new();
    for listing in vpcs {
        match listing {
            Ok(pages) => {
                for vpc in pages.iter().flat_map(|p| p.vpcs()) {
                    let Some(id) = vpc.vpc_id() else { continue };
                    if !seen.insert(id.to_string()) {
                        continue;
                    }
                    let attrs = into_attrs(VpcAttrs {
                        cidr_block: vpc.cidr_block().map(str::to_string),
                        tags: None,
                    });
                    read.keep(scope, object(Kind::Vpc, id, region, vpc.tags(), attrs));
                }
            }
            Err(e) => read
                .errors
                .push(ReadError::new("aws_vpc", error_message(&e)).in_region(region)),
        }
    }
    for listing in subnets {
        match listing {
            Ok(pages) => {
                for subnet in pages.iter().flat_map(|p| p.subnets()) {
                    let Some(id) = subnet.subnet_id() else {
                        continue;
                    };
                    if !seen.insert(id.to_string()) {
                        continue;
                    }
                    let attrs = into_attrs(SubnetAttrs {
                        vpc: subnet.vpc_id().map(str::to_string),
                        cidr_block: subnet.cidr_block().map(str::to_string),
                        availability_zone: subnet.availability_zone().map(str::to_string),
                        public: subnet.map_public_ip_on_launch().unwrap_or(false),
                        tags: None,
                    });
                    read.keep(
                        scope,
                        object(Kind::Subnet, id, region, subnet.tags(), attrs),
                    );
                }
            }
            Err(e) => read
                .errors
                .push(ReadError::new("aws_subnet", error_message(&e)).in_region(region)),
        }
    }
    read
}

/// The live object of a VPC or subnet: `attrs` and its tags, marks apart.
fn object(
    kind: Kind,
    id: &str,
    region: &str,
    tags: &[Tag],
    mut attrs: Map<String, Value>,
) -> LiveObject {
    let marked = marks(tags);
    attrs.insert("tags".into(), marked.tags);
    LiveObject {
        kind,
        id: id.to_string(),
        region: Some(region.to_string()),
        address: marked.address,
        stack: marked.stack,
        attrs: attrs.into(),
    }
}
