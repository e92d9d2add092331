//! ElastiCache Redis replication groups and the cache subnet group each runs in (named
//! after the group, made first and deleted last). Both are identified by name; the
//! marks are tags passed to the creates. ElastiCache takes no request token, so a
//! create sent again after a lost answer finds the group (`ReplicationGroupAlreadyExists`)
//! and adopts it only if it carries this address's marks. Changes are applied
//! immediately and waited for until the group is `available` again.

use super::attrs::{removed_tag_keys, tags_with_marks, Attrs};
use super::context::{aws_error, change_region as region, error_code, wait_for, ApplyContext};
use super::idempotency::{failpoint, FailpointPhase};
use anyhow::{anyhow, Result};
use aws_sdk_elasticache::types::{ReplicationGroup, Tag};
use aws_sdk_elasticache::Client;
use drplan_core::address::Address;
use drplan_core::kinds::elasticache::ReplicationGroupAttrs;
use drplan_core::marks;
use drplan_core::plan::ResourceChange;
use std::collections::BTreeMap;

const GROUP_NOT_FOUND: &str = "ReplicationGroupNotFoundFault";
const GROUP_EXISTS: &str = "ReplicationGroupAlreadyExists";
const SUBNET_GROUP_NOT_FOUND: &str = "CacheSubnetGroupNotFoundFault";
const SUBNET_GROUP_EXISTS: &str = "CacheSubnetGroupAlreadyExists";
const AVAILABLE: &str = "available";

/// Attributes ModifyReplicationGroup changes.
const MODIFIED: &[&str] = &[
    "description",
    "engine_version",
    "node_type",
    "automatic_failover",
    "snapshot_retention_limit",
    "snapshot_window",
];

fn tag_list(tags: BTreeMap<String, String>) -> Vec<Tag> {
    tags.into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// An existing object may be adopted only if it carries this address's marks.
async fn check_marks(
    client: &Client,
    what: &str,
    arn: &str,
    stack: &str,
    address: &Address,
) -> Result<()> {
    let out = client
        .list_tags_for_resource()
        .resource_name(arn)
        .send()
        .await
        .map_err(aws_error("ListTagsForResource"))?;
    let tag = |k: &str| {
        out.tag_list()
            .iter()
            .find(|t| t.key() == Some(k))
            .and_then(|t| t.value())
    };
    if tag(marks::STACK_KEY) == Some(stack) && tag(marks::ADDRESS_KEY) == Some(address.as_str()) {
        Ok(())
    } else {
        Err(anyhow!(
            "{what} already exists and is not marked as {address} of stack {stack}; drplan will not adopt it"
        ))
    }
}

/// The group, or `None` when it does not exist (or is being deleted).
async fn describe(client: &Client, id: &str) -> Result<Option<ReplicationGroup>> {
    match client
        .describe_replication_groups()
        .replication_group_id(id)
        .send()
        .await
    {
        Ok(out) => Ok(out
            .replication_groups()
            .first()
            .filter(|g| !matches!(g.status(), Some("deleting" | "deleted")))
            .cloned()),
        Err(e) if error_code(&e) == Some(GROUP_NOT_FOUND) => Ok(None),
        Err(e) => Err(aws_error("DescribeReplicationGroups")(e)),
    }
}

async fn arn_of(client: &Client, id: &str) -> Result<String> {
    describe(client, id)
        .await?
        .and_then(|g| g.arn().map(str::to_string))
        .ok_or_else(|| anyhow!("replication group {id} not found"))
}

async fn wait_available(ctx: &ApplyContext<'_>, client: &Client, id: &str) -> Result<()> {
    wait_for(
        &ctx.timeouts,
        ctx.timeouts.cluster,
        &format!("replication group {id} to be available"),
        || async {
            match describe(client, id)
                .await?
                .as_ref()
                .and_then(|g| g.status())
            {
                Some(AVAILABLE) => Ok(Some(())),
                Some("create-failed") => Err(anyhow!("replication group {id} is create-failed")),
                _ => Ok(None),
            }
        },
    )
    .await
}

/// The group's subnet group: created with the marks, or found from an interrupted
/// create (it must then carry this address's marks).
async fn ensure_subnet_group(
    ctx: &ApplyContext<'_>,
    change: &ResourceChange,
    client: &Client,
    attrs: &Attrs<'_>,
    tags: &BTreeMap<String, String>,
) -> Result<()> {
    let region = region(change)?;
    let name = attrs.str("name")?;
    let subnets = super::network::subnet_ids(ctx, region, attrs).await?;
    let created = client
        .create_cache_subnet_group()
        .cache_subnet_group_name(name)
        .cache_subnet_group_description(format!("drplan {}", change.address))
        .set_subnet_ids(Some(subnets))
        .set_tags(Some(tag_list(tags.clone())))
        .send()
        .await;
    match created {
        Ok(_) => Ok(()),
        Err(e) if error_code(&e) == Some(SUBNET_GROUP_EXISTS) => {
            let out = client
                .describe_cache_subnet_groups()
                .cache_subnet_group_name(name)
                .send()
                .await
                .map_err(aws_error("DescribeCacheSubnetGroups"))?;
            let arn = out
                .cache_subnet_groups()
                .first()
                .and_then(|g| g.arn())
                .map(str::to_string)
                .unwrap_or_else(|| subnet_group_arn(ctx, region, name));
            check_marks(
                client,
                &format!("cache subnet group {name}"),
                &arn,
                ctx.stack,
                &change.address,
            )
            .await
        }
        Err(e) => Err(aws_error("CreateCacheSubnetGroup")(e)),
    }
}

/// A subnet group's ARN when the answer holds none (older API versions).
fn subnet_group_arn(ctx: &ApplyContext<'_>, region: &str, name: &str) -> String {
    let account = ctx.clients.site_account(region).unwrap_or_default();
    format!("arn:aws:elasticache:{region}:{account}:subnetgroup:{name}")
}

pub async fn create(ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<String> {
    let attrs = Attrs::after(change)?;
    let want: ReplicationGroupAttrs = attrs.typed()?;
    let client = ctx.clients.elasticache(region(change)?);
    let id = want.name.as_str();
    let tags = tags_with_marks(ctx.stack, &change.address, &attrs.str_map("tags"));
    let range = |key: &str, n: i64| {
        i32::try_from(n).map_err(|_| anyhow!("{}: `{key}` is out of range", change.address))
    };
    if let Some(group) = describe(&client, id).await? {
        let arn = group.arn().unwrap_or_default();
        check_marks(
            &client,
            &format!("replication group {id}"),
            arn,
            ctx.stack,
            &change.address,
        )
        .await?;
    } else {
        ensure_subnet_group(ctx, change, &client, &attrs, &tags).await?;
        let created = client
            .create_replication_group()
            .replication_group_id(id)
            .set_replication_group_description(want.description.clone())
            .set_engine(want.engine.clone())
            .set_engine_version(want.engine_version.clone())
            .set_cache_node_type(want.node_type.clone())
            .num_cache_clusters(range("num_cache_clusters", want.num_cache_clusters)?)
            .automatic_failover_enabled(want.automatic_failover)
            .multi_az_enabled(want.automatic_failover)
            .cache_subnet_group_name(id)
            .snapshot_retention_limit(range(
                "snapshot_retention_limit",
                want.snapshot_retention_limit,
            )?)
            .set_snapshot_window(want.snapshot_window.clone())
            .set_tags(Some(tag_list(tags)))
            .send()
            .await;
        match created {
            Ok(_) => {}
            Err(e) if error_code(&e) == Some(GROUP_EXISTS) => {
                let arn = arn_of(&client, id).await?;
                check_marks(
                    &client,
                    &format!("replication group {id}"),
                    &arn,
                    ctx.stack,
                    &change.address,
                )
                .await?;
            }
            Err(e) => return Err(aws_error("CreateReplicationGroup")(e)),
        }
        failpoint(&change.address, FailpointPhase::Created);
    }
    wait_available(ctx, &client, id).await?;
    Ok(id.to_string())
}

pub async fn update(
    ctx: &ApplyContext<'_>,
    change: &ResourceChange,
    changed: &[String],
) -> Result<()> {
    let attrs = Attrs::after(change)?;
    let before = Attrs::before(change)?;
    let region = region(change)?;
    let client = ctx.clients.elasticache(region);
    let id = attrs.str("name")?;
    let has = |k: &str| changed.iter().any(|c| c == k);

    if has("tags") {
        let arn = arn_of(&client, id).await?;
        let desired = tags_with_marks(ctx.stack, &change.address, &attrs.str_map("tags"));
        let remove = removed_tag_keys(&before.str_map("tags"), &desired);
        if !remove.is_empty() {
            client
                .remove_tags_from_resource()
                .resource_name(&arn)
                .set_tag_keys(Some(remove))
                .send()
                .await
                .map_err(aws_error("RemoveTagsFromResource"))?;
        }
        client
            .add_tags_to_resource()
            .resource_name(&arn)
            .set_tags(Some(tag_list(desired)))
            .send()
            .await
            .map_err(aws_error("AddTagsToResource"))?;
    }
    if has("subnets") {
        client
            .modify_cache_subnet_group()
            .cache_subnet_group_name(id)
            .set_subnet_ids(Some(super::network::subnet_ids(ctx, region, &attrs).await?))
            .send()
            .await
            .map_err(aws_error("ModifyCacheSubnetGroup"))?;
    }
    // Replicas are added before failover is turned on, and removed after it is off:
    // ElastiCache needs a replica for automatic failover.
    let nodes = attrs.int("num_cache_clusters")?;
    let live_nodes = before.opt_int("num_cache_clusters").unwrap_or(nodes);
    if has("num_cache_clusters") && nodes > live_nodes {
        replicas(ctx, &client, id, nodes, true).await?;
    }
    if MODIFIED.iter().any(|k| has(k)) {
        let mut modify = client
            .modify_replication_group()
            .replication_group_id(id)
            .apply_immediately(true);
        if has("description") {
            modify = modify.replication_group_description(attrs.str("description")?);
        }
        if has("engine_version") {
            modify = modify.engine_version(attrs.str("engine_version")?);
        }
        if has("node_type") {
            modify = modify.cache_node_type(attrs.str("node_type")?);
        }
        if has("automatic_failover") {
            let on = attrs.bool("automatic_failover");
            modify = modify.automatic_failover_enabled(on).multi_az_enabled(on);
        }
        if has("snapshot_retention_limit") {
            let days = i32::try_from(attrs.int("snapshot_retention_limit")?).map_err(|_| {
                anyhow!(
                    "{}: `snapshot_retention_limit` is out of range",
                    change.address
                )
            })?;
            modify = modify.snapshot_retention_limit(days);
        }
        if has("snapshot_window") {
            modify =
                modify.set_snapshot_window(attrs.opt_str("snapshot_window").map(str::to_string));
        }
        modify
            .send()
            .await
            .map_err(aws_error("ModifyReplicationGroup"))?;
        wait_available(ctx, &client, id).await?;
    }
    if has("num_cache_clusters") && nodes < live_nodes {
        replicas(ctx, &client, id, nodes, false).await?;
    }
    Ok(())
}

/// IncreaseReplicaCount / DecreaseReplicaCount to `nodes - 1` replicas, then the wait.
async fn replicas(
    ctx: &ApplyContext<'_>,
    client: &Client,
    id: &str,
    nodes: i64,
    more: bool,
) -> Result<()> {
    let count = i32::try_from(nodes - 1)
        .map_err(|_| anyhow!("replication group {id}: {nodes} nodes is out of range"))?;
    if more {
        client
            .increase_replica_count()
            .replication_group_id(id)
            .new_replica_count(count)
            .apply_immediately(true)
            .send()
            .await
            .map_err(aws_error("IncreaseReplicaCount"))?;
    } else {
        client
            .decrease_replica_count()
            .replication_group_id(id)
            .new_replica_count(count)
            .apply_immediately(true)
            .send()
            .await
            .map_err(aws_error("DecreaseReplicaCount"))?;
    }
    wait_available(ctx, client, id).await
}

pub async fn delete(ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<()> {
    let attrs = Attrs::before(change)?;
    let client = ctx.clients.elasticache(region(change)?);
    let id = attrs.str("name")?;
    match client
        .delete_replication_group()
        .replication_group_id(id)
        .send()
        .await
    {
        Ok(_) => {}
        Err(e) if error_code(&e) == Some(GROUP_NOT_FOUND) => {}
        Err(e) => return Err(aws_error("DeleteReplicationGroup")(e)),
    }
    // The subnet group is in use until the group's nodes are gone.
    wait_for(
        &ctx.timeouts,
        ctx.timeouts.cluster,
        &format!("replication group {id} to be deleted"),
        || async {
            match client
                .describe_replication_groups()
                .replication_group_id(id)
                .send()
                .await
            {
                Ok(_) => Ok(None),
                Err(e) if error_code(&e) == Some(GROUP_NOT_FOUND) => Ok(Some(())),
                Err(e) => Err(aws_error("DescribeReplicationGroups")(e)),
            }
        },
    )
    .await?;
    match client
        .delete_cache_subnet_group()
        .cache_subnet_group_name(id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if error_code(&e) == Some(SUBNET_GROUP_NOT_FOUND) => Ok(()),
        Err(e) => Err(aws_error("DeleteCacheSubnetGroup")(e)),
    }
}

pub struct ReplicationGroupApplier;

#[async_trait::async_trait]
impl super::family::Applier for ReplicationGroupApplier {
    async fn create(&self, ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<String> {
        create(ctx, change).await
    }

    async fn update(
        &self,
        ctx: &ApplyContext<'_>,
        change: &ResourceChange,
        changed: &[String],
    ) -> Result<()> {
        update(ctx, change, changed).await
    }

    async fn delete(&self, ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<()> {
        delete(ctx, change).await
    }

    async fn mark(
        &self,
        ctx: &ApplyContext<'_>,
        change: &ResourceChange,
        id: &str,
        tags: BTreeMap<String, String>,
    ) -> Result<()> {
        let client = ctx.clients.elasticache(region(change)?);
        let arn = arn_of(&client, id).await?;
        client
            .add_tags_to_resource()
            .resource_name(arn)
            .set_tags(Some(tag_list(tags)))
            .send()
            .await
            .map_err(aws_error("AddTagsToResource"))?;
        Ok(())
    }

    async fn remark(
        &self,
        ctx: &ApplyContext<'_>,
        change: &ResourceChange,
        id: &str,
    ) -> Result<()> {
        let mark = [(marks::ADDRESS_KEY.to_string(), change.address.to_string())]
            .into_iter()
            .collect();
        self.mark(ctx, change, id, mark).await
    }

    async fn forget(
        &self,
        ctx: &ApplyContext<'_>,
        change: &ResourceChange,
        id: &str,
    ) -> Result<()> {
        let client = ctx.clients.elasticache(region(change)?);
        let arn = arn_of(&client, id).await?;
        client
            .remove_tags_from_resource()
            .resource_name(arn)
            .set_tag_keys(Some(
                super::family::MARKS.iter().map(|k| k.to_string()).collect(),
            ))
            .send()
            .await
            .map_err(aws_error("RemoveTagsFromResource"))?;
        Ok(())
    }
}
