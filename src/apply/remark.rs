//! Moving drplan's address mark to a renamed block's new address (`moved_from` on an
//! update). Only the `drplan:address` mark is written: the other tags are the update's
//! business, and an object already marked with the new address is left as it is, so a
//! rerun after a crash converges.
//!
//! Kubernetes objects need nothing here: their desired manifest carries the new
//! address annotation, and the update's server-side apply writes it.

use super::context::{aws_error, change_region as region, ApplyContext};
use super::{eks, s3};
use anyhow::{anyhow, Result};
use drplan_core::address::Address;
use drplan_core::marks;
use drplan_core::plan::ResourceChange;
use drplan_core::resource::Kind;
use std::collections::BTreeMap;

/// Rewrites the address mark of the live object `change` acts on. A no-op when the
/// change did not move.
pub async fn remark(ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<()> {
    if change.moved_from.is_none() {
        return Ok(());
    }
    match change.kind {
        Kind::Vpc | Kind::Subnet => remark_ec2(ctx, change).await,
        Kind::EksCluster => remark_cluster(ctx, change).await,
        Kind::NodeGroup => remark_node_group(ctx, change).await,
        Kind::Bucket => remark_bucket(ctx, change).await,
        Kind::DnsZone => {
            remark_route53(
                ctx,
                change,
                aws_sdk_route53::types::TagResourceType::Hostedzone,
            )
            .await
        }
        Kind::HealthCheck => {
            remark_route53(
                ctx,
                change,
                aws_sdk_route53::types::TagResourceType::Healthcheck,
            )
            .await
        }
        Kind::K8sObject => Ok(()),
        // A record's mark is its entry in the name's ownership TXT record: the upsert
        // that follows swaps it (`RecordUpsert::moved_from`) in the same atomic write.
        Kind::DnsRecord => Ok(()),
    }
}

fn live_id(ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<String> {
    ctx.outputs
        .get(&change.address)
        .or_else(|| change.live_id.clone())
        .ok_or_else(|| {
            anyhow!(
                "{}: the plan does not say which live object to re-mark (no live id)",
                change.address
            )
        })
}

async fn remark_ec2(ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<()> {
    use aws_sdk_ec2::types::Tag;
    let id = live_id(ctx, change)?;
    // CreateTags overwrites the value of a key that exists.
    ctx.clients
        .ec2(region(change)?)
        .create_tags()
        .resources(id)
        .tags(
            Tag::builder()
                .key(marks::ADDRESS_KEY)
                .value(change.address.as_str())
                .build(),
        )
        .send()
        .await
        .map_err(aws_error("CreateTags"))?;
    Ok(())
}

fn address_tag(address: &Address) -> std::collections::HashMap<String, String> {
    [(marks::ADDRESS_KEY.to_string(), address.to_string())]
        .into_iter()
        .collect()
}

async fn remark_cluster(ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<()> {
    let eks = ctx.clients.eks(region(change)?);
    let arn = eks::cluster_arn(&eks, &live_id(ctx, change)?).await?;
    eks::tag(&eks, &arn, address_tag(&change.address)).await
}

async fn remark_node_group(ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<()> {
    let eks = ctx.clients.eks(region(change)?);
    let id = live_id(ctx, change)?;
    let (cluster, name) = id.split_once('/').ok_or_else(|| {
        anyhow!(
            "{}: node group id `{id}` is not cluster/name",
            change.address
        )
    })?;
    let arn = eks::node_group_arn(&eks, cluster, name).await?;
    eks::tag(&eks, &arn, address_tag(&change.address)).await
}

/// PutBucketTagging replaces the whole set, so the set is read, the mark swapped and
/// everything else written back as found.
async fn remark_bucket(ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<()> {
    let s3 = ctx.clients.s3(region(change)?);
    let name = live_id(ctx, change)?;
    let current = s3::bucket_tag_set(&s3, &name).await?;
    s3::put_bucket_tag_set(&s3, &name, with_address(current, &change.address)).await
}

async fn remark_route53(
    ctx: &ApplyContext<'_>,
    change: &ResourceChange,
    kind: aws_sdk_route53::types::TagResourceType,
) -> Result<()> {
    use aws_sdk_route53::types::Tag;
    let id = live_id(ctx, change)?;
    ctx.clients
        .route53()
        .change_tags_for_resource()
        .resource_type(kind)
        .resource_id(id.rsplit('/').next().unwrap_or(&id))
        .add_tags(
            Tag::builder()
                .key(marks::ADDRESS_KEY)
                .value(change.address.as_str())
                .build(),
        )
        .send()
        .await
        .map_err(aws_error("ChangeTagsForResource"))?;
    Ok(())
}

/// A tag set with the address mark set to `address`; every other tag kept.
fn with_address(mut tags: BTreeMap<String, String>, address: &Address) -> BTreeMap<String, String> {
    tags.insert(marks::ADDRESS_KEY.to_string(), address.to_string());
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_mark_is_swapped_and_other_tags_kept() {
        let tags: BTreeMap<String, String> = [
            ("team", "data"),
            (marks::STACK_KEY, "lanka"),
            (marks::ADDRESS_KEY, "bucket.backups"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let out = with_address(tags, &Address::new("bucket.neo4j_backups"));
        assert_eq!(
            out.get(marks::ADDRESS_KEY).map(String::as_str),
            Some("bucket.neo4j_backups")
        );
        assert_eq!(out.get("team").map(String::as_str), Some("data"));
        assert_eq!(out.get(marks::STACK_KEY).map(String::as_str), Some("lanka"));
        assert_eq!(out.len(), 3);
    }
}
