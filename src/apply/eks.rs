//! EKS clusters and node groups. Both are identified by name; the marks are tags
//! passed to CreateCluster/CreateNodegroup, and the idempotency token is derived from
//! the desired attributes so a retried create is recognised by EKS.

use super::attrs::{removed_tag_keys, tags_with_marks, Attrs};
use super::context::{aws_error, change_region as region, error_code, wait_for, ApplyContext};
use super::idempotency::{failpoint, request_token, FailpointPhase};
use anyhow::{anyhow, Result};
use aws_sdk_eks::types::{
    CapacityTypes, ClusterStatus, EncryptionConfig, LogSetup, LogType, Logging, Nodegroup,
    NodegroupScalingConfig, NodegroupStatus, Provider, UpdateLabelsPayload, VpcConfigRequest,
};
use aws_sdk_eks::Client;
use drplan_core::address::Address;
use drplan_core::kinds::eks::CONTROL_PLANE_LOG_TYPES;
use drplan_core::marks;
use drplan_core::plan::ResourceChange;
use std::collections::{BTreeMap, HashMap};

const NOT_FOUND: &str = "ResourceNotFoundException";
/// What a create sent again by the SDK after its answer was lost gets from a service
/// that does not honour the request token (moto): the object exists, made by the
/// first send. Its marks, written by that create, say whether it is ours.
const IN_USE: &str = "ResourceInUseException";

/// An existing object of this name may be adopted only if it carries this address's
/// marks; otherwise it belongs to someone else and drplan must not touch it.
fn check_marks(
    what: &str,
    tags: Option<&HashMap<String, String>>,
    stack: &str,
    address: &Address,
) -> Result<()> {
    let tag = |k: &str| tags.and_then(|t| t.get(k)).map(String::as_str);
    if tag(marks::STACK_KEY) == Some(stack) && tag(marks::ADDRESS_KEY) == Some(address.as_str()) {
        Ok(())
    } else {
        Err(anyhow!(
            "{what} already exists and is not marked as {address} of stack {stack}; drplan will not adopt it"
        ))
    }
}

fn hash_map(m: BTreeMap<String, String>) -> HashMap<String, String> {
    m.into_iter().collect()
}

pub async fn wait_cluster_active(ctx: &ApplyContext<'_>, eks: &Client, name: &str) -> Result<()> {
    wait_for(
        &ctx.timeouts,
        ctx.timeouts.cluster,
        &format!("EKS cluster {name} to be ACTIVE"),
        || async {
            let out = eks
                .describe_cluster()
                .name(name)
                .send()
                .await
                .map_err(aws_error("DescribeCluster"))?;
            match out.cluster().and_then(|c| c.status()) {
                Some(ClusterStatus::Active) => Ok(Some(())),
                Some(ClusterStatus::Failed) => Err(anyhow!("EKS cluster {name} is FAILED")),
                _ => Ok(None),
            }
        },
    )
    .await
}

pub async fn create_cluster(ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<String> {
    let attrs = Attrs::after(change)?;
    let region = region(change)?;
    let eks = ctx.clients.eks(region);
    let name = attrs.str("name")?;
    match eks.describe_cluster().name(name).send().await {
        Ok(out) => {
            check_marks(
                &format!("EKS cluster {name}"),
                out.cluster().and_then(|c| c.tags()),
                ctx.stack,
                &change.address,
            )?;
        }
        Err(e) if error_code(&e) == Some(NOT_FOUND) => {
            let tags = tags_with_marks(ctx.stack, &change.address, &attrs.str_map("tags"));
            let subnets = super::network::subnet_ids(ctx, region, &attrs).await?;
            let created = eks
                .create_cluster()
                .name(name)
                .set_version(attrs.opt_str("version").map(str::to_string))
                .role_arn(attrs.str("role_arn")?)
                .resources_vpc_config(endpoint_access(&attrs, Some(subnets)))
                .set_logging(logging(&attrs))
                .set_encryption_config(encryption(&attrs))
                .set_tags(Some(hash_map(tags)))
                .client_request_token(request_token(ctx.stack, &change.address, attrs.map))
                .send()
                .await;
            match created {
                Ok(_) => {}
                Err(e) if error_code(&e) == Some(IN_USE) => {
                    let out = eks
                        .describe_cluster()
                        .name(name)
                        .send()
                        .await
                        .map_err(aws_error("DescribeCluster"))?;
                    let tags = out.cluster().and_then(|c| c.tags());
                    check_marks(
                        &format!("EKS cluster {name}"),
                        tags,
                        ctx.stack,
                        &change.address,
                    )?;
                }
                Err(e) => return Err(aws_error("CreateCluster")(e)),
            }
            failpoint(&change.address, FailpointPhase::Created);
        }
        Err(e) => return Err(aws_error("DescribeCluster")(e)),
    }
    wait_cluster_active(ctx, &eks, name).await?;
    Ok(name.to_string())
}

/// The node group as DescribeNodegroup reports it (None if the answer holds none).
pub(crate) async fn describe_node_group(
    eks: &Client,
    cluster: &str,
    name: &str,
) -> Result<Option<Nodegroup>> {
    let out = eks
        .describe_nodegroup()
        .cluster_name(cluster)
        .nodegroup_name(name)
        .send()
        .await
        .map_err(aws_error("DescribeNodegroup"))?;
    Ok(out.nodegroup().cloned())
}

async fn wait_node_group_active(
    ctx: &ApplyContext<'_>,
    eks: &Client,
    cluster: &str,
    name: &str,
) -> Result<()> {
    let what = format!("node group {cluster}/{name} to be ACTIVE");
    wait_for(&ctx.timeouts, ctx.timeouts.node_group, &what, || async {
        match describe_node_group(eks, cluster, name)
            .await?
            .as_ref()
            .and_then(|n| n.status())
        {
            Some(NodegroupStatus::Active) => Ok(Some(())),
            Some(s @ (NodegroupStatus::CreateFailed | NodegroupStatus::Degraded)) => {
                Err(anyhow!("node group {cluster}/{name} is {}", s.as_str()))
            }
            _ => Ok(None),
        }
    })
    .await
}

fn scaling(attrs: &Attrs<'_>) -> Result<NodegroupScalingConfig> {
    let size = |k: &str| {
        attrs.int(k).and_then(|v| {
            i32::try_from(v).map_err(|_| anyhow!("{}: `{k}` is out of range", attrs.address))
        })
    };
    Ok(NodegroupScalingConfig::builder()
        .min_size(size("min_size")?)
        .max_size(size("max_size")?)
        .desired_size(size("desired_size")?)
        .build())
}

pub async fn create_node_group(ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<String> {
    let attrs = Attrs::after(change)?;
    let region = region(change)?;
    let eks = ctx.clients.eks(region);
    let cluster = attrs.str("cluster_name")?;
    let name = attrs.str("name")?;
    // The cluster may have been created by an earlier, interrupted run and still be
    // coming up; node groups can only be added to an ACTIVE cluster.
    wait_cluster_active(ctx, &eks, cluster).await?;
    match eks
        .describe_nodegroup()
        .cluster_name(cluster)
        .nodegroup_name(name)
        .send()
        .await
    {
        Ok(out) => {
            let what = format!("node group {cluster}/{name}");
            check_marks(
                &what,
                out.nodegroup().and_then(|n| n.tags()),
                ctx.stack,
                &change.address,
            )?;
        }
        Err(e) if error_code(&e) == Some(NOT_FOUND) => {
            let tags = tags_with_marks(ctx.stack, &change.address, &attrs.str_map("tags"));
            let subnets = super::network::subnet_ids(ctx, region, &attrs).await?;
            let disk_size = attrs
                .opt_int("disk_size")
                .and_then(|d| i32::try_from(d).ok());
            let created = eks
                .create_nodegroup()
                .cluster_name(cluster)
                .nodegroup_name(name)
                .node_role(attrs.str("node_role_arn")?)
                .set_instance_types(Some(attrs.str_list("instance_types")))
                .scaling_config(scaling(&attrs)?)
                .set_disk_size(disk_size)
                .set_capacity_type(attrs.opt_str("capacity_type").map(CapacityTypes::from))
                .set_labels(Some(hash_map(attrs.str_map("labels"))))
                .set_subnets(Some(subnets))
                .set_tags(Some(hash_map(tags)))
                .client_request_token(request_token(ctx.stack, &change.address, attrs.map))
                .send()
                .await;
            match created {
                Ok(_) => {}
                Err(e) if error_code(&e) == Some(IN_USE) => {
                    let found = describe_node_group(&eks, cluster, name).await?;
                    let what = format!("node group {cluster}/{name}");
                    check_marks(
                        &what,
                        found.as_ref().and_then(|n| n.tags()),
                        ctx.stack,
                        &change.address,
                    )?;
                }
                Err(e) => return Err(aws_error("CreateNodegroup")(e)),
            }
            failpoint(&change.address, FailpointPhase::Created);
        }
        Err(e) => return Err(aws_error("DescribeNodegroup")(e)),
    }
    wait_node_group_active(ctx, &eks, cluster, name).await?;
    Ok(format!("{cluster}/{name}"))
}

/// EKS tags by ARN, which only a describe tells.
pub(super) async fn cluster_arn(eks: &Client, name: &str) -> Result<String> {
    let out = eks
        .describe_cluster()
        .name(name)
        .send()
        .await
        .map_err(aws_error("DescribeCluster"))?;
    out.cluster()
        .and_then(|c| c.arn())
        .map(str::to_string)
        .ok_or_else(|| anyhow!("EKS cluster {name} has no ARN"))
}

pub(super) async fn node_group_arn(eks: &Client, cluster: &str, name: &str) -> Result<String> {
    describe_node_group(eks, cluster, name)
        .await?
        .and_then(|n| n.nodegroup_arn().map(str::to_string))
        .ok_or_else(|| anyhow!("node group {cluster}/{name} has no ARN"))
}

/// Sets `tags` on the EKS resource `arn`, leaving its other tags alone.
pub(super) async fn tag(eks: &Client, arn: &str, tags: HashMap<String, String>) -> Result<()> {
    eks.tag_resource()
        .resource_arn(arn)
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(aws_error("TagResource"))?;
    Ok(())
}

async fn update_tags(
    eks: &Client,
    arn: &str,
    ctx: &ApplyContext<'_>,
    change: &ResourceChange,
) -> Result<()> {
    let before = Attrs::before(change)?.str_map("tags");
    let desired = tags_with_marks(
        ctx.stack,
        &change.address,
        &Attrs::after(change)?.str_map("tags"),
    );
    let remove = removed_tag_keys(&before, &desired);
    if !remove.is_empty() {
        eks.untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(remove))
            .send()
            .await
            .map_err(aws_error("UntagResource"))?;
    }
    tag(eks, arn, hash_map(desired)).await
}

pub async fn update_cluster(
    ctx: &ApplyContext<'_>,
    change: &ResourceChange,
    changed: &[String],
) -> Result<()> {
    let attrs = Attrs::after(change)?;
    let eks = ctx.clients.eks(region(change)?);
    let name = attrs.str("name")?;
    let mut endpoint_done = false;
    for key in changed {
        match key.as_str() {
            "version" => {
                eks.update_cluster_version()
                    .name(name)
                    .version(attrs.str("version")?)
                    .client_request_token(request_token(ctx.stack, &change.address, attrs.map))
                    .send()
                    .await
                    .map_err(aws_error("UpdateClusterVersion"))?;
                // The update is asynchronous: the cluster leaves ACTIVE, then returns.
                tokio::time::sleep(ctx.timeouts.first_poll_interval).await;
                wait_cluster_active(ctx, &eks, name).await?;
            }
            "tags" => update_tags(&eks, &cluster_arn(&eks, name).await?, ctx, change).await?,
            // EKS takes one kind of configuration update at a time, each asynchronous.
            "endpoint_public_access" | "endpoint_private_access" | "control_plane_logs" => {
                if endpoint_done && key != "control_plane_logs" {
                    continue;
                }
                let mut update = eks.update_cluster_config().name(name);
                if key == "control_plane_logs" {
                    update = update.set_logging(logging(&attrs));
                } else {
                    endpoint_done = true;
                    update = update.resources_vpc_config(endpoint_access(&attrs, None));
                }
                update
                    .send()
                    .await
                    .map_err(aws_error("UpdateClusterConfig"))?;
                tokio::time::sleep(ctx.timeouts.first_poll_interval).await;
                wait_cluster_active(ctx, &eks, name).await?;
            }
            other => {
                return Err(anyhow!(
                    "{}: `{other}` cannot be changed in place",
                    change.address
                ))
            }
        }
    }
    Ok(())
}

/// The endpoint access the spec says (neither flag where it says nothing), with
/// `subnets` at creation.
fn endpoint_access(attrs: &Attrs<'_>, subnets: Option<Vec<String>>) -> VpcConfigRequest {
    let flag = |key: &str| attrs.get(key).and_then(serde_json::Value::as_bool);
    VpcConfigRequest::builder()
        .set_subnet_ids(subnets)
        .set_endpoint_public_access(flag("endpoint_public_access"))
        .set_endpoint_private_access(flag("endpoint_private_access"))
        .build()
}

/// Every control-plane log type, on where the spec lists it and off otherwise; `None`
/// where the spec does not say.
fn logging(attrs: &Attrs<'_>) -> Option<Logging> {
    attrs.get("control_plane_logs")?;
    let on = attrs.str_list("control_plane_logs");
    let (enabled, disabled): (Vec<&str>, Vec<&str>) = CONTROL_PLANE_LOG_TYPES
        .iter()
        .partition(|t| on.iter().any(|o| o == *t));
    let setup = |types: Vec<&str>, enabled: bool| {
        LogSetup::builder()
            .set_types(Some(types.into_iter().map(LogType::from).collect()))
            .enabled(enabled)
            .build()
    };
    let mut setups = Vec::new();
    if !enabled.is_empty() {
        setups.push(setup(enabled, true));
    }
    if !disabled.is_empty() {
        setups.push(setup(disabled, false));
    }
    Some(Logging::builder().set_cluster_logging(Some(setups)).build())
}

/// Envelope encryption of Kubernetes Secrets with the spec's KMS key.
fn encryption(attrs: &Attrs<'_>) -> Option<Vec<EncryptionConfig>> {
    let key = attrs.opt_str("secrets_encryption_key")?;
    // `resources` is deprecated in the SDK (EKS now encrypts all API data), but the
    // API still documents "secrets" as the one value the key applies to.
    #[allow(deprecated)]
    let config = EncryptionConfig::builder()
        .resources("secrets")
        .provider(Provider::builder().key_arn(key).build())
        .build();
    Some(vec![config])
}

pub async fn update_node_group(
    ctx: &ApplyContext<'_>,
    change: &ResourceChange,
    changed: &[String],
) -> Result<()> {
    let attrs = Attrs::after(change)?;
    let eks = ctx.clients.eks(region(change)?);
    let cluster = attrs.str("cluster_name")?;
    let name = attrs.str("name")?;
    let mut config = eks
        .update_nodegroup_config()
        .cluster_name(cluster)
        .nodegroup_name(name);
    let mut config_changed = false;
    for key in changed {
        match key.as_str() {
            "min_size" | "max_size" | "desired_size" => {
                config = config.scaling_config(scaling(&attrs)?);
                config_changed = true;
            }
            "labels" => {
                let before = Attrs::before(change)?.str_map("labels");
                let after = attrs.str_map("labels");
                let remove: Vec<String> = before
                    .keys()
                    .filter(|k| !after.contains_key(*k))
                    .cloned()
                    .collect();
                let mut payload =
                    UpdateLabelsPayload::builder().set_add_or_update_labels(Some(hash_map(after)));
                if !remove.is_empty() {
                    payload = payload.set_remove_labels(Some(remove));
                }
                config = config.labels(payload.build());
                config_changed = true;
            }
            "tags" => {
                update_tags(
                    &eks,
                    &node_group_arn(&eks, cluster, name).await?,
                    ctx,
                    change,
                )
                .await?
            }
            other => {
                return Err(anyhow!(
                    "{}: `{other}` cannot be changed in place",
                    change.address
                ))
            }
        }
    }
    if config_changed {
        config
            .send()
            .await
            .map_err(aws_error("UpdateNodegroupConfig"))?;
        wait_node_group_active(ctx, &eks, cluster, name).await?;
    }
    Ok(())
}

pub async fn delete_node_group(ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<()> {
    let attrs = Attrs::before(change)?;
    let eks = ctx.clients.eks(region(change)?);
    let cluster = attrs.str("cluster_name")?;
    let name = attrs.str("name")?;
    match eks
        .delete_nodegroup()
        .cluster_name(cluster)
        .nodegroup_name(name)
        .send()
        .await
    {
        Ok(_) => {}
        Err(e) if error_code(&e) == Some(NOT_FOUND) => return Ok(()),
        Err(e) => return Err(aws_error("DeleteNodegroup")(e)),
    }
    // The cluster (deleted next, in reverse order) refuses while node groups remain.
    let what = format!("node group {cluster}/{name} to be deleted");
    wait_for(&ctx.timeouts, ctx.timeouts.node_group, &what, || async {
        match eks
            .describe_nodegroup()
            .cluster_name(cluster)
            .nodegroup_name(name)
            .send()
            .await
        {
            Ok(_) => Ok(None),
            Err(e) if error_code(&e) == Some(NOT_FOUND) => Ok(Some(())),
            Err(e) => Err(aws_error("DescribeNodegroup")(e)),
        }
    })
    .await
}

pub async fn delete_cluster(ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<()> {
    let attrs = Attrs::before(change)?;
    let eks = ctx.clients.eks(region(change)?);
    let name = attrs.str("name")?;
    match eks.delete_cluster().name(name).send().await {
        Ok(_) => {}
        Err(e) if error_code(&e) == Some(NOT_FOUND) => return Ok(()),
        Err(e) => return Err(aws_error("DeleteCluster")(e)),
    }
    let what = format!("EKS cluster {name} to be deleted");
    wait_for(&ctx.timeouts, ctx.timeouts.cluster, &what, || async {
        match eks.describe_cluster().name(name).send().await {
            Ok(_) => Ok(None),
            Err(e) if error_code(&e) == Some(NOT_FOUND) => Ok(Some(())),
            Err(e) => Err(aws_error("DescribeCluster")(e)),
        }
    })
    .await
}

async fn untag(eks: &Client, arn: &str) -> Result<()> {
    eks.untag_resource()
        .resource_arn(arn)
        .set_tag_keys(Some(
            super::family::MARKS.iter().map(|k| k.to_string()).collect(),
        ))
        .send()
        .await
        .map_err(aws_error("UntagResource"))?;
    Ok(())
}

fn address_mark(change: &ResourceChange) -> HashMap<String, String> {
    [(marks::ADDRESS_KEY.to_string(), change.address.to_string())]
        .into_iter()
        .collect()
}

/// A node group's ARN from its id (`cluster/name`).
async fn node_group_arn_of(eks: &Client, change: &ResourceChange, id: &str) -> Result<String> {
    let (cluster, name) = id.split_once('/').ok_or_else(|| {
        anyhow!(
            "{}: node group id `{id}` is not cluster/name",
            change.address
        )
    })?;
    node_group_arn(eks, cluster, name).await
}

/// Clusters and node groups: one applier, EKS tags on the ARN of either.
pub struct EksApplier {
    pub cluster: bool,
}

impl EksApplier {
    async fn arn(&self, eks: &Client, change: &ResourceChange, id: &str) -> Result<String> {
        match self.cluster {
            true => cluster_arn(eks, id).await,
            false => node_group_arn_of(eks, change, id).await,
        }
    }
}

#[async_trait::async_trait]
impl super::family::Applier for EksApplier {
    async fn create(&self, ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<String> {
        match self.cluster {
            true => create_cluster(ctx, change).await,
            false => create_node_group(ctx, change).await,
        }
    }

    async fn update(
        &self,
        ctx: &ApplyContext<'_>,
        change: &ResourceChange,
        changed: &[String],
    ) -> Result<()> {
        match self.cluster {
            true => update_cluster(ctx, change, changed).await,
            false => update_node_group(ctx, change, changed).await,
        }
    }

    async fn delete(&self, ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<()> {
        match self.cluster {
            true => delete_cluster(ctx, change).await,
            false => delete_node_group(ctx, change).await,
        }
    }

    async fn mark(
        &self,
        ctx: &ApplyContext<'_>,
        change: &ResourceChange,
        id: &str,
        tags: BTreeMap<String, String>,
    ) -> Result<()> {
        let eks = ctx.clients.eks(region(change)?);
        let arn = self.arn(&eks, change, id).await?;
        tag(&eks, &arn, tags.into_iter().collect()).await
    }

    async fn remark(
        &self,
        ctx: &ApplyContext<'_>,
        change: &ResourceChange,
        id: &str,
    ) -> Result<()> {
        let eks = ctx.clients.eks(region(change)?);
        let arn = self.arn(&eks, change, id).await?;
        tag(&eks, &arn, address_mark(change)).await
    }

    async fn forget(
        &self,
        ctx: &ApplyContext<'_>,
        change: &ResourceChange,
        id: &str,
    ) -> Result<()> {
        let eks = ctx.clients.eks(region(change)?);
        let arn = self.arn(&eks, change, id).await?;
        untag(&eks, &arn).await
    }
}
