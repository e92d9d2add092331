//! EKS clusters and node groups. EKS has no tag-filtered list: ListClusters names every
//! cluster of the region, and tags are only in DescribeCluster, so every listed
//! cluster is described (bounded by the EKS permit; accounts hold at most 100 per
//! region). Node groups are listed and described for the clusters kept: those the
//! spec names (marked or not: the name would collide) and those marked for the stack.

use super::marks::Marked;
use super::reach::Gate;
use super::requests::collect_pages;
use super::{FamilyRead, ReadScope};
use crate::aws::error::error_message;
use crate::aws::{AwsContext, Service};
use aws_sdk_eks::types::{Cluster, Nodegroup};
use drplan_core::kinds::eks::{ClusterAttrs, NodeGroupAttrs};
use drplan_core::kinds::into_attrs;
use drplan_core::live::LiveObject;
use drplan_core::live::ReadError;
use drplan_core::resource::{Kind, Resource};
use futures::future::join_all;
use std::collections::BTreeSet;

/// A cluster's name in its region, and the optional settings its spec says
/// (`kinds::eks::OPTIONAL_CLUSTER_ATTRS`: only those are reported).
pub(super) fn scope(scope: &mut ReadScope, r: &Resource) {
    if r.kind != Kind::EksCluster {
        return;
    }
    if let Some((region, name)) = super::regional_name(r) {
        let declared: BTreeSet<String> = drplan_core::kinds::eks::OPTIONAL_CLUSTER_ATTRS
            .iter()
            .filter(|k| r.attrs.contains_key(**k))
            .map(|k| k.to_string())
            .collect();
        if !declared.is_empty() {
            scope
                .cluster_settings
                .insert((region.clone(), name.clone()), declared);
        }
        scope
            .cluster_names
            .entry(region.clone())
            .or_default()
            .insert(name);
    }
}

/// No block says an imported cluster's region: its name is looked for in every
/// site's (a node group's id is `cluster/name`).
pub(super) fn generate(scope: &mut ReadScope, kind: Kind, id: &str, regions: &[String]) {
    if matches!(kind, Kind::EksCluster | Kind::NodeGroup) {
        let name = id.split('/').next().unwrap_or_default().to_string();
        for region in regions {
            scope
                .cluster_names
                .entry(region.clone())
                .or_default()
                .insert(name.clone());
        }
    }
}

pub(super) async fn read(ctx: &AwsContext, scope: &ReadScope, gate: &Gate<'_>) -> FamilyRead {
    join_all(
        scope
            .regions
            .iter()
            .map(|region| gate.read(region, Service::Eks, read_region(ctx, scope, region))),
    )
    .await
    .into_iter()
    .collect()
}

async fn read_region(ctx: &AwsContext, scope: &ReadScope, region: &str) -> FamilyRead {
    let client = ctx.eks(region);
    let mut read = FamilyRead::default();
    let names: Vec<String> = match collect_pages(
        ctx,
        Service::Eks,
        client.list_clusters().into_paginator().send(),
    )
    .await
    {
        Ok(pages) => pages
            .into_iter()
            .flat_map(|p| p.clusters.unwrap_or_default())
            .collect(),
        Err(e) => {
            read.errors
                .push(ReadError::new("aws_eks_cluster", error_message(&e)).in_region(region));
            return read;
        }
    };
    let client = &client;
    let described = join_all(names.iter().map(|name| async move {
        let _permit = ctx.permit(Service::Eks).await;
        (name, client.describe_cluster().name(name).send().await)
    }))
    .await;

    let mut kept = Vec::new();
    for (name, result) in described {
        match result {
            Ok(out) => {
                let Some(cluster) = out.cluster else { continue };
                let declared = scope
                    .cluster_settings
                    .get(&(region.to_string(), name.clone()));
                let object = cluster_object(&cluster, region, declared);
                if scope.wants_cluster(region, name) || object.is_owned_by(&scope.stack) {
                    kept.push(name.clone());
                    // Not managed: DR readiness reads it (ACTIVE).
                    if let Some(status) = cluster.status() {
                        read.observed.push((
                            object.observation_key(),
                            serde_json::json!({ "status": status.as_str() }),
                        ));
                    }
                    read.keep(scope, object);
                }
            }
            // Deleted between list and describe: it no longer exists.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) => {}
            Err(e) => read.errors.push(
                ReadError::new(format!("aws_eks_cluster {name}"), error_message(&e))
                    .in_region(region),
            ),
        }
    }

    for part in join_all(
        kept.iter()
            .map(|cluster| read_node_groups(ctx, scope, client, cluster, region)),
    )
    .await
    {
        read.merge(part);
    }
    read
}

fn cluster_object(
    cluster: &Cluster,
    region: &str,
    declared: Option<&std::collections::BTreeSet<String>>,
) -> LiveObject {
    let marked = Marked::from_tags(
        cluster
            .tags()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v.as_str())),
    );
    let subnets = cluster
        .resources_vpc_config()
        .map(|c| c.subnet_ids())
        .unwrap_or_default();
    let declares = |key: &str| declared.is_some_and(|d| d.contains(key));
    let vpc = cluster.resources_vpc_config();
    let attrs = ClusterAttrs {
        name: cluster.name().map(str::to_string),
        version: cluster.version().map(str::to_string),
        role_arn: cluster.role_arn().map(str::to_string),
        subnets: sorted(subnets),
        endpoint_public_access: declares("endpoint_public_access")
            .then(|| vpc.is_some_and(|v| v.endpoint_public_access())),
        endpoint_private_access: declares("endpoint_private_access")
            .then(|| vpc.is_some_and(|v| v.endpoint_private_access())),
        control_plane_logs: declares("control_plane_logs").then(|| {
            let enabled: Vec<&str> = cluster
                .logging()
                .map(|l| l.cluster_logging())
                .unwrap_or_default()
                .iter()
                .filter(|setup| setup.enabled() == Some(true))
                .flat_map(|setup| setup.types())
                .map(|t| t.as_str())
                .collect();
            sorted(&enabled)
        }),
        secrets_encryption_key: declares("secrets_encryption_key").then(|| {
            cluster
                .encryption_config()
                .iter()
                .find_map(|c| c.provider().and_then(|p| p.key_arn()))
                .map(str::to_string)
        }),
        tags: marked.tags,
    };
    let attrs = into_attrs(attrs);
    LiveObject {
        kind: Kind::EksCluster,
        id: cluster.name().unwrap_or_default().to_string(),
        region: Some(region.to_string()),
        address: marked.address,
        stack: marked.stack,
        attrs: attrs.into(),
    }
}

/// Strings, sorted.
fn sorted<S: AsRef<str>>(items: &[S]) -> Vec<String> {
    let mut v: Vec<String> = items.iter().map(|s| s.as_ref().to_string()).collect();
    v.sort_unstable();
    v
}

async fn read_node_groups(
    ctx: &AwsContext,
    scope: &ReadScope,
    client: &aws_sdk_eks::Client,
    cluster: &str,
    region: &str,
) -> FamilyRead {
    let mut read = FamilyRead::default();
    let pages = client
        .list_nodegroups()
        .cluster_name(cluster)
        .into_paginator()
        .send();
    let names: Vec<String> = match collect_pages(ctx, Service::Eks, pages).await {
        Ok(pages) => pages
            .into_iter()
            .flat_map(|p| p.nodegroups.unwrap_or_default())
            .collect(),
        Err(e) => {
            read.errors.push(
                ReadError::new(
                    format!("aws_eks_node_group of cluster {cluster}"),
                    error_message(&e),
                )
                .in_region(region),
            );
            return read;
        }
    };
    let described = join_all(names.iter().map(|name| async move {
        let _permit = ctx.permit(Service::Eks).await;
        (
            name,
            client
                .describe_nodegroup()
                .cluster_name(cluster)
                .nodegroup_name(name)
                .send()
                .await,
        )
    }))
    .await;
    for (name, result) in described {
        match result {
            Ok(out) => read.keep_all(
                scope,
                out.nodegroup
                    .map(|ng| node_group_object(&ng, cluster, region)),
            ),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) => {}
            Err(e) => read.errors.push(
                ReadError::new(
                    format!("aws_eks_node_group {cluster}/{name}"),
                    error_message(&e),
                )
                .in_region(region),
            ),
        }
    }
    read
}

fn node_group_object(ng: &Nodegroup, cluster: &str, region: &str) -> LiveObject {
    let marked = Marked::from_tags(
        ng.tags()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v.as_str())),
    );
    let scaling = ng.scaling_config();
    let name = ng.nodegroup_name().unwrap_or_default();
    let attrs = into_attrs(NodeGroupAttrs {
        cluster_name: cluster.to_string(),
        name: name.to_string(),
        node_role_arn: ng.node_role().map(str::to_string),
        instance_types: ng.instance_types().to_vec(),
        min_size: scaling.and_then(|s| s.min_size()).map(i64::from),
        max_size: scaling.and_then(|s| s.max_size()).map(i64::from),
        desired_size: scaling.and_then(|s| s.desired_size()).map(i64::from),
        // Null for node groups built from a launch template, where the template sets it.
        disk_size: ng.disk_size().map(i64::from),
        capacity_type: ng.capacity_type().map(|c| c.as_str().to_string()),
        labels: ng
            .labels()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .collect(),
        subnets: sorted(ng.subnets()),
        tags: marked.tags,
    });
    LiveObject {
        kind: Kind::NodeGroup,
        id: format!("{cluster}/{name}"),
        region: Some(region.to_string()),
        address: marked.address,
        stack: marked.stack,
        attrs: attrs.into(),
    }
}
