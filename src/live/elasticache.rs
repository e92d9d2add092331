//! ElastiCache Redis replication groups. ElastiCache has no tag-filtered list: one
//! paginated DescribeReplicationGroups per region names every group; where there are
//! any, one DescribeCacheClusters and one DescribeCacheSubnetGroups per region (both
//! paginated) give what a group's own answer lacks — the engine version and the
//! subnet group of its member clusters, and that subnet group's subnets. The marks are
//! tags, read with one ListTagsForResource per group (bounded by the ElastiCache
//! permit). Groups kept: those the spec names (marked or not: the id would collide)
//! and those marked for the stack. A group being deleted no longer exists for drplan
//! (ElastiCache lists it until its nodes are gone).

use super::marks::Marked;
use super::reach::Gate;
use super::requests::{collect_pages, send};
use super::{FamilyRead, ReadScope};
use crate::aws::error::error_message;
use crate::aws::{AwsContext, Service};
use aws_sdk_elasticache::types::{AutomaticFailoverStatus, CacheCluster, ReplicationGroup};
use aws_sdk_elasticache::Client;
use drplan_core::kinds::elasticache::{major_minor, ReplicationGroupAttrs};
use drplan_core::kinds::into_attrs;
use drplan_core::live::{LiveObject, ReadError};
use drplan_core::resource::{Kind, Resource};
use futures::future::join_all;
use std::collections::BTreeMap;

const TYPE: &str = "aws_elasticache_replication_group";

/// Statuses of a group that is going away.
const GONE_STATUSES: &[&str] = &["deleting", "deleted"];

/// A replication group's id in its region.
pub(super) fn scope(scope: &mut ReadScope, r: &Resource) {
    if r.kind == Kind::CacheReplicationGroup {
        super::add_regional_name(&mut scope.cache_names, r);
    }
}

/// An import block's replication group without a spec block: looked for by its name in
/// every site's region.
pub(super) fn generate(scope: &mut ReadScope, kind: Kind, id: &str, regions: &[String]) {
    if kind == Kind::CacheReplicationGroup {
        for region in regions {
            scope
                .cache_names
                .entry(region.clone())
                .or_default()
                .insert(id.to_string());
        }
    }
}

pub(super) async fn read(ctx: &AwsContext, scope: &ReadScope, gate: &Gate<'_>) -> FamilyRead {
    join_all(scope.regions.iter().map(|region| {
        gate.read(
            region,
            Service::ElastiCache,
            read_region(ctx, scope, region),
        )
    }))
    .await
    .into_iter()
    .collect()
}

/// The replication groups of `region` that are not being deleted
/// (DescribeReplicationGroups, paged).
async fn groups(ctx: &AwsContext, region: &str) -> Result<Vec<ReplicationGroup>, ReadError> {
    let pages = ctx
        .elasticache(region)
        .describe_replication_groups()
        .into_paginator()
        .send();
    match collect_pages(ctx, Service::ElastiCache, pages).await {
        Ok(pages) => Ok(pages
            .into_iter()
            .flat_map(|p| p.replication_groups.unwrap_or_default())
            .filter(|g| !g.status().is_some_and(|s| GONE_STATUSES.contains(&s)))
            .collect()),
        Err(e) => Err(ReadError::new(TYPE, error_message(&e)).in_region(region)),
    }
}

async fn read_region(ctx: &AwsContext, scope: &ReadScope, region: &str) -> FamilyRead {
    let client = ctx.elasticache(region);
    let mut read = FamilyRead::default();
    let error = |e: String| ReadError::new(TYPE, e).in_region(region);
    let groups = match groups(ctx, region).await {
        Ok(groups) => groups,
        Err(e) => {
            read.errors.push(e);
            return read;
        }
    };
    if groups.is_empty() {
        return read;
    }
    let (members, subnet_groups, tags) = tokio::join!(
        member_clusters(ctx, &client),
        subnet_groups(ctx, &client),
        join_all(groups.iter().map(|g| tags_of(ctx, &client, g))),
    );
    let (members, subnet_groups) = match (members, subnet_groups) {
        (Ok(m), Ok(s)) => (m, s),
        (Err(e), _) | (_, Err(e)) => {
            read.errors.push(error(e));
            return read;
        }
    };
    for (group, tags) in groups.iter().zip(tags) {
        let id = group.replication_group_id().unwrap_or_default();
        let tags = match tags {
            Ok(tags) => tags,
            Err(e) => {
                read.errors
                    .push(ReadError::new(format!("{TYPE} {id}"), e).in_region(region));
                continue;
            }
        };
        let marked = Marked::from_tags(tags);
        if !(scope.wants_cache(region, id) || marked.is_for(&scope.stack)) {
            continue;
        }
        let member = members.get(id);
        let subnets = member
            .and_then(|m| m.cache_subnet_group_name())
            .and_then(|name| subnet_groups.get(name))
            .cloned()
            .unwrap_or_default();
        read.keep(scope, group_object(group, member, &subnets, marked, region));
    }
    read
}

/// The first member cluster of each replication group, by group id.
async fn member_clusters(
    ctx: &AwsContext,
    client: &Client,
) -> Result<BTreeMap<String, CacheCluster>, String> {
    let pages = collect_pages(
        ctx,
        Service::ElastiCache,
        client.describe_cache_clusters().into_paginator().send(),
    )
    .await
    .map_err(|e| error_message(&e))?;
    let mut out = BTreeMap::new();
    for c in pages
        .into_iter()
        .flat_map(|p| p.cache_clusters.unwrap_or_default())
    {
        if let Some(group) = c.replication_group_id().map(str::to_string) {
            out.entry(group).or_insert(c);
        }
    }
    Ok(out)
}

/// Subnet ids of every cache subnet group, by name.
async fn subnet_groups(
    ctx: &AwsContext,
    client: &Client,
) -> Result<BTreeMap<String, Vec<String>>, String> {
    let pages = collect_pages(
        ctx,
        Service::ElastiCache,
        client
            .describe_cache_subnet_groups()
            .into_paginator()
            .send(),
    )
    .await
    .map_err(|e| error_message(&e))?;
    Ok(pages
        .into_iter()
        .flat_map(|p| p.cache_subnet_groups.unwrap_or_default())
        .filter_map(|g| {
            let ids = g
                .subnets()
                .iter()
                .filter_map(|s| s.subnet_identifier().map(str::to_string))
                .collect();
            Some((g.cache_subnet_group_name()?.to_string(), ids))
        })
        .collect())
}

async fn tags_of(
    ctx: &AwsContext,
    client: &Client,
    group: &ReplicationGroup,
) -> Result<Vec<(String, String)>, String> {
    let Some(arn) = group.arn() else {
        return Ok(Vec::new());
    };
    let out = send(
        ctx,
        Service::ElastiCache,
        client.list_tags_for_resource().resource_name(arn).send(),
    )
    .await
    .map_err(|e| error_message(&e))?;
    Ok(out
        .tag_list()
        .iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect())
}

fn group_object(
    group: &ReplicationGroup,
    member: Option<&CacheCluster>,
    subnets: &[String],
    marked: Marked,
    region: &str,
) -> LiveObject {
    let id = group.replication_group_id().unwrap_or_default();
    let failover = matches!(
        group.automatic_failover(),
        Some(AutomaticFailoverStatus::Enabled | AutomaticFailoverStatus::Enabling)
    );
    let mut subnets = subnets.to_vec();
    subnets.sort();
    let attrs = ReplicationGroupAttrs {
        name: id.to_string(),
        description: group.description().map(str::to_string),
        engine: group.engine().map(str::to_string),
        engine_version: member
            .and_then(|m| m.engine_version())
            .map(|v| major_minor(v).unwrap_or_else(|| v.to_string())),
        node_type: group.cache_node_type().map(str::to_string),
        num_cache_clusters: i64::try_from(group.member_clusters().len()).unwrap_or(i64::MAX),
        automatic_failover: failover,
        subnets,
        snapshot_retention_limit: i64::from(group.snapshot_retention_limit().unwrap_or(0)),
        snapshot_window: group.snapshot_window().map(str::to_string),
        tags: marked.tags,
    };
    LiveObject {
        kind: Kind::CacheReplicationGroup,
        id: id.to_string(),
        region: Some(region.to_string()),
        address: marked.address,
        stack: marked.stack,
        attrs: into_attrs(attrs).into(),
    }
}

/// `drift --unmanaged`: the replication groups of `region` that no drplan stack
/// marks, by their id (one ListTagsForResource per group).
pub(super) async fn unmanaged(ctx: &AwsContext, region: &str) -> super::unmanaged::Found {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    let client = ctx.elasticache(region);
    let groups = match groups(ctx, region).await {
        Ok(groups) => groups,
        Err(e) => {
            errors.push(e);
            return (found, errors);
        }
    };
    let tagged = join_all(groups.iter().map(|g| tags_of(ctx, &client, g))).await;
    for (group, tags) in groups.iter().zip(tagged) {
        let id = group.replication_group_id().unwrap_or_default();
        match tags {
            Ok(tags) if Marked::from_tags(tags.iter().cloned()).stack.is_none() => {
                found.push(drplan_core::live::Unmanaged {
                    kind: Kind::CacheReplicationGroup,
                    id: id.to_string(),
                    region: Some(region.to_string()),
                    within: None,
                });
            }
            Ok(_) => {}
            Err(e) => {
                errors.push(ReadError::new(TYPE, format!("{id}: {e}")).in_region(region));
            }
        }
    }
    (found, errors)
}
