//! EKS clusters and node groups. EKS has no tag-filtered list: ListClusters names every
//! cluster of the region, and tags are only in DescribeCluster, so every listed
//! cluster is described (bounded by the EKS permit; accounts hold at most 100 per
//! region). Node groups are listed and described for the clusters kept: those the
//! spec names (marked or not: the name would collide) and those marked for the stack.

use super::marks::{opt_int, opt_str, sorted_strings, Marked};
use super::reach::Gate;
use super::requests::collect_pages;
use super::{FamilyRead, ReadScope};
use crate::aws::error::error_message;
use crate::aws::{AwsContext, Service};
use aws_sdk_eks::types::{Cluster, Nodegroup};
use drplan_core::live::LiveObject;
use drplan_core::live::ReadError;
use drplan_core::resource::Kind;
use futures::future::join_all;
use serde_json::{Map, Value};

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
                    read.objects.push(object);
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
            .map(|cluster| read_node_groups(ctx, client, cluster, region)),
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
    let mut attrs = Map::new();
    attrs.insert("name".into(), opt_str(cluster.name()));
    attrs.insert("version".into(), opt_str(cluster.version()));
    attrs.insert("role_arn".into(), opt_str(cluster.role_arn()));
    attrs.insert("subnets".into(), sorted_strings(subnets));
    attrs.insert("tags".into(), marked.tags);
    for key in declared.into_iter().flatten() {
        attrs.insert(key.clone(), security_setting(cluster, key));
    }
    LiveObject {
        kind: Kind::EksCluster,
        id: cluster.name().unwrap_or_default().to_string(),
        region: Some(region.to_string()),
        address: marked.address,
        stack: marked.stack,
        attrs,
    }
}

/// One of `kinds::eks::OPTIONAL_CLUSTER_ATTRS` as DescribeCluster reports it.
fn security_setting(cluster: &Cluster, key: &str) -> Value {
    let vpc = cluster.resources_vpc_config();
    match key {
        "endpoint_public_access" => Value::from(vpc.is_some_and(|v| v.endpoint_public_access())),
        "endpoint_private_access" => Value::from(vpc.is_some_and(|v| v.endpoint_private_access())),
        "control_plane_logs" => {
            let enabled: Vec<&str> = cluster
                .logging()
                .map(|l| l.cluster_logging())
                .unwrap_or_default()
                .iter()
                .filter(|setup| setup.enabled() == Some(true))
                .flat_map(|setup| setup.types())
                .map(|t| t.as_str())
                .collect();
            sorted_strings(&enabled)
        }
        "secrets_encryption_key" => opt_str(
            cluster
                .encryption_config()
                .iter()
                .find_map(|c| c.provider().and_then(|p| p.key_arn())),
        ),
        _ => Value::Null,
    }
}

async fn read_node_groups(
    ctx: &AwsContext,
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
            Ok(out) => read.objects.extend(
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
    let labels: Map<String, Value> = ng
        .labels()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_iter()
        .collect();
    let name = ng.nodegroup_name().unwrap_or_default();
    let mut attrs = Map::new();
    attrs.insert("cluster_name".into(), Value::String(cluster.to_string()));
    attrs.insert("name".into(), Value::String(name.to_string()));
    attrs.insert("node_role_arn".into(), opt_str(ng.node_role()));
    attrs.insert(
        "instance_types".into(),
        Value::Array(
            ng.instance_types()
                .iter()
                .map(|t| Value::String(t.clone()))
                .collect(),
        ),
    );
    attrs.insert(
        "min_size".into(),
        opt_int(scaling.and_then(|s| s.min_size()).map(i64::from)),
    );
    attrs.insert(
        "max_size".into(),
        opt_int(scaling.and_then(|s| s.max_size()).map(i64::from)),
    );
    attrs.insert(
        "desired_size".into(),
        opt_int(scaling.and_then(|s| s.desired_size()).map(i64::from)),
    );
    // Null for node groups built from a launch template, where the template sets it.
    attrs.insert("disk_size".into(), opt_int(ng.disk_size().map(i64::from)));
    attrs.insert(
        "capacity_type".into(),
        opt_str(ng.capacity_type().map(|c| c.as_str())),
    );
    attrs.insert("labels".into(), Value::Object(labels));
    attrs.insert("subnets".into(), sorted_strings(ng.subnets()));
    attrs.insert("tags".into(), marked.tags);
    LiveObject {
        kind: Kind::NodeGroup,
        id: format!("{cluster}/{name}"),
        region: Some(region.to_string()),
        address: marked.address,
        stack: marked.stack,
        attrs,
    }
}
