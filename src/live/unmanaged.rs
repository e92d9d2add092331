//! `drift --unmanaged` (driftctl's "unmanaged"): objects of the kinds drplan manages,
//! in the topology's regions and in Route53, that carry no drplan stack mark at all —
//! what a team runs beside drplan, candidates for `import` blocks. Information only.
//!
//! Opt-in, because it lists what a plan never needs to: per region, the VPCs and
//! subnets (two calls, defaults left out) and the EKS clusters (one list, then one
//! DescribeCluster each for the tags), the KMS keys, ECR repositories and ElastiCache
//! replication groups (each family's `unmanaged`: a list, then the tags of each); the account's buckets (their region and tags,
//! two calls each for buckets in the topology's regions); every hosted zone and
//! health check (their tags, ten per call). Records of the spec's zones are already
//! read by the plan: the ones no ownership entry claims are taken from it.

use super::marks::Marked;
use super::requests::{collect_pages, send};
use super::route53::tags_by_id;
use crate::aws::error::error_message;
use crate::aws::{AwsContext, Service};
use aws_sdk_route53::types::TagResourceType;
use drplan_core::live::{LiveState, ReadError, Unmanaged};
use drplan_core::resource::Kind;
use futures::future::join_all;
use std::collections::BTreeSet;

/// Every unmarked object of a managed kind in `regions` (and Route53), sorted.
/// `own_buckets` are drplan's own (the lock bucket): never listed.
pub async fn read(
    ctx: &AwsContext,
    regions: &BTreeSet<String>,
    own_buckets: &BTreeSet<String>,
    live: &LiveState,
) -> (Vec<Unmanaged>, Vec<ReadError>) {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    let regional = join_all(regions.iter().map(|r| read_region(ctx, r))).await;
    // The families that list their own (`live::<family>::unmanaged`).
    let families = join_all(regions.iter().map(|r| async move {
        let (kms, ecr, cache) = tokio::join!(
            super::kms::unmanaged(ctx, r),
            super::ecr::unmanaged(ctx, r),
            super::elasticache::unmanaged(ctx, r),
        );
        [kms, ecr, cache]
    }))
    .await;
    let (buckets, route53) =
        tokio::join!(read_buckets(ctx, regions, own_buckets), read_route53(ctx));
    for (f, e) in regional
        .into_iter()
        .chain(families.into_iter().flatten())
        .chain([buckets, route53])
    {
        found.extend(f);
        errors.extend(e);
    }
    found.extend(
        live.objects
            .iter()
            .filter(|o| o.kind == Kind::DnsRecord && o.stack.is_none() && o.address.is_none())
            .map(|o| Unmanaged {
                kind: o.kind,
                id: o.id.clone(),
                region: None,
                within: None,
            }),
    );
    found.sort();
    errors.sort();
    (found, errors)
}

/// What one listing found, and what it could not read.
pub(super) type Found = (Vec<Unmanaged>, Vec<ReadError>);

fn unmarked<K: Into<String>, V: Into<String>>(tags: impl IntoIterator<Item = (K, V)>) -> bool {
    Marked::from_tags(tags).stack.is_none()
}

async fn read_region(ctx: &AwsContext, region: &str) -> Found {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    let at = |kind: Kind, id: &str| Unmanaged {
        kind,
        id: id.to_string(),
        region: Some(region.to_string()),
        within: None,
    };
    let ec2 = ctx.ec2(region);
    let eks = ctx.eks(region);
    let (vpcs, subnets, clusters) = tokio::join!(
        collect_pages(
            ctx,
            Service::Ec2,
            ec2.describe_vpcs().into_paginator().send()
        ),
        collect_pages(
            ctx,
            Service::Ec2,
            ec2.describe_subnets().into_paginator().send()
        ),
        collect_pages(
            ctx,
            Service::Eks,
            eks.list_clusters().into_paginator().send()
        ),
    );
    let ec2_tags = |tags: &[aws_sdk_ec2::types::Tag]| {
        unmarked(tags.iter().filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        }))
    };
    match vpcs {
        Ok(pages) => found.extend(
            pages
                .iter()
                .flat_map(|p| p.vpcs())
                .filter(|v| !v.is_default().unwrap_or(false) && ec2_tags(v.tags()))
                .filter_map(|v| Some(at(Kind::Vpc, v.vpc_id()?))),
        ),
        Err(e) => errors.push(ReadError::new("aws_vpc", error_message(&e)).in_region(region)),
    }
    match subnets {
        Ok(pages) => found.extend(
            pages
                .iter()
                .flat_map(|p| p.subnets())
                .filter(|s| !s.default_for_az().unwrap_or(false) && ec2_tags(s.tags()))
                .filter_map(|s| Some(at(Kind::Subnet, s.subnet_id()?))),
        ),
        Err(e) => errors.push(ReadError::new("aws_subnet", error_message(&e)).in_region(region)),
    }
    let names: Vec<String> = match clusters {
        Ok(pages) => pages.iter().flat_map(|p| p.clusters()).cloned().collect(),
        Err(e) => {
            errors.push(ReadError::new("aws_eks_cluster", error_message(&e)).in_region(region));
            Vec::new()
        }
    };
    let described = join_all(
        names
            .iter()
            .map(|name| send(ctx, Service::Eks, eks.describe_cluster().name(name).send())),
    )
    .await;
    for (name, out) in names.iter().zip(described) {
        match out {
            Ok(out) => {
                let tags = out
                    .cluster()
                    .and_then(|c| c.tags())
                    .cloned()
                    .unwrap_or_default();
                if unmarked(tags) {
                    found.push(at(Kind::EksCluster, name));
                }
            }
            Err(e) => errors.push(
                ReadError::new(format!("aws_eks_cluster {name}"), error_message(&e))
                    .in_region(region),
            ),
        }
    }
    (found, errors)
}

async fn read_buckets(
    ctx: &AwsContext,
    regions: &BTreeSet<String>,
    own_buckets: &BTreeSet<String>,
) -> Found {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    let buckets = match super::s3::buckets_by_region(ctx, regions, &BTreeSet::new()).await {
        Ok(all) => all
            .into_iter()
            .filter(|(name, _)| !own_buckets.contains(name))
            .collect::<Vec<_>>(),
        Err(msg) => return (found, vec![ReadError::new("aws_s3_bucket", msg)]),
    };
    let checked = join_all(buckets.into_iter().map(|(name, region)| async move {
        let region = region?;
        if !regions.contains(&region) {
            return Ok(None);
        }
        let tags = super::s3::bucket_tags(ctx, &name, &region).await?;
        Ok::<_, String>(unmarked(tags).then_some((name, region)))
    }))
    .await;
    for c in checked {
        match c {
            Ok(Some((name, region))) => found.push(Unmanaged {
                kind: Kind::Bucket,
                id: name,
                region: Some(region),
                within: None,
            }),
            Ok(None) => {}
            Err(msg) => errors.push(ReadError::new("aws_s3_bucket", msg)),
        }
    }
    (found, errors)
}

async fn read_route53(ctx: &AwsContext) -> Found {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    let client = ctx.route53();
    let (zones, checks) = tokio::join!(
        collect_pages(
            ctx,
            Service::Route53,
            client.list_hosted_zones().into_paginator().send()
        ),
        collect_pages(
            ctx,
            Service::Route53,
            client.list_health_checks().into_paginator().send()
        ),
    );
    let zones: Vec<(String, String)> = match zones {
        Ok(pages) => pages
            .iter()
            .flat_map(|p| p.hosted_zones())
            .map(|z| {
                (
                    z.id().rsplit('/').next().unwrap_or(z.id()).to_string(),
                    z.name().trim_end_matches('.').to_string(),
                )
            })
            .collect(),
        Err(e) => {
            errors.push(ReadError::new("aws_route53_zone", error_message(&e)));
            Vec::new()
        }
    };
    let checks: Vec<String> = match checks {
        Ok(pages) => pages
            .iter()
            .flat_map(|p| p.health_checks())
            .map(|c| c.id().to_string())
            .collect(),
        Err(e) => {
            errors.push(ReadError::new(
                "aws_route53_health_check",
                error_message(&e),
            ));
            Vec::new()
        }
    };
    let ids: Vec<String> = zones.iter().map(|(id, _)| id.clone()).collect();
    let (zone_tags, check_tags) = tokio::join!(
        tags_by_id(ctx, TagResourceType::Hostedzone, &ids),
        tags_by_id(ctx, TagResourceType::Healthcheck, &checks),
    );
    match zone_tags {
        Ok(tags) => found.extend(
            zones
                .iter()
                .filter(|(id, _)| unmarked(tags.get(id).cloned().unwrap_or_default()))
                .map(|(_, name)| Unmanaged {
                    kind: Kind::DnsZone,
                    id: name.clone(),
                    region: None,
                    within: None,
                }),
        ),
        Err(msg) => errors.push(ReadError::new("aws_route53_zone tags", msg)),
    }
    match check_tags {
        Ok(tags) => found.extend(
            checks
                .iter()
                .filter(|id| unmarked(tags.get(*id).cloned().unwrap_or_default()))
                .map(|id| Unmanaged {
                    kind: Kind::HealthCheck,
                    id: id.clone(),
                    region: None,
                    within: None,
                }),
        ),
        Err(msg) => errors.push(ReadError::new("aws_route53_health_check tags", msg)),
    }
    (found, errors)
}
