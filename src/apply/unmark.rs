//! Forgetting an object (`Action::Forget`, a `removed { lifecycle { destroy = false } }`
//! block): drplan's marks — `drplan:stack` and `drplan:address` — are removed and the
//! object is kept with its other tags. The next plan no longer sees it as this
//! stack's, so it is neither an orphan nor a change. A rerun after a crash finds the
//! marks gone or still there and converges either way.
//!
//! Kubernetes objects and DNS records are not forgotten yet: the diff refuses a
//! `removed` block that would need it (`plan::diff`, "cannot keep").

use super::context::{aws_error, change_region as region, ApplyContext};
use super::{eks, s3};
use anyhow::{anyhow, bail, Result};
use drplan_core::marks;
use drplan_core::plan::ResourceChange;
use drplan_core::resource::Kind;

const MARKS: [&str; 2] = [marks::STACK_KEY, marks::ADDRESS_KEY];

pub async fn forget(ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<()> {
    let id = change.live_id.clone().ok_or_else(|| {
        anyhow!(
            "{}: the plan does not say which live object to forget (no live id)",
            change.address
        )
    })?;
    match change.kind {
        Kind::Vpc | Kind::Subnet => {
            let mut req = ctx.clients.ec2(region(change)?).delete_tags().resources(id);
            for key in MARKS {
                req = req.tags(aws_sdk_ec2::types::Tag::builder().key(key).build());
            }
            req.send().await.map_err(aws_error("DeleteTags"))?;
            Ok(())
        }
        Kind::EksCluster => {
            let eks = ctx.clients.eks(region(change)?);
            let arn = eks::cluster_arn(&eks, &id).await?;
            untag_eks(&eks, &arn).await
        }
        Kind::NodeGroup => {
            let eks = ctx.clients.eks(region(change)?);
            let (cluster, name) = id.split_once('/').ok_or_else(|| {
                anyhow!(
                    "{}: node group id `{id}` is not cluster/name",
                    change.address
                )
            })?;
            let arn = eks::node_group_arn(&eks, cluster, name).await?;
            untag_eks(&eks, &arn).await
        }
        Kind::Bucket => forget_bucket(ctx, change, &id).await,
        Kind::DnsZone => {
            untag_route53(
                ctx,
                aws_sdk_route53::types::TagResourceType::Hostedzone,
                &id,
            )
            .await
        }
        Kind::HealthCheck => {
            untag_route53(
                ctx,
                aws_sdk_route53::types::TagResourceType::Healthcheck,
                &id,
            )
            .await
        }
        Kind::DnsRecord | Kind::K8sObject => bail!(
            "{}: drplan cannot keep a {} it stops managing yet (refused at plan time)",
            change.address,
            change.kind
        ),
    }
}

async fn untag_eks(eks: &aws_sdk_eks::Client, arn: &str) -> Result<()> {
    eks.untag_resource()
        .resource_arn(arn)
        .set_tag_keys(Some(MARKS.iter().map(|k| k.to_string()).collect()))
        .send()
        .await
        .map_err(aws_error("UntagResource"))?;
    Ok(())
}

async fn untag_route53(
    ctx: &ApplyContext<'_>,
    kind: aws_sdk_route53::types::TagResourceType,
    id: &str,
) -> Result<()> {
    ctx.route53_turn().await;
    ctx.clients
        .route53()
        .change_tags_for_resource()
        .resource_type(kind)
        .resource_id(id.rsplit('/').next().unwrap_or(id))
        .set_remove_tag_keys(Some(MARKS.iter().map(|k| k.to_string()).collect()))
        .send()
        .await
        .map_err(aws_error("ChangeTagsForResource"))?;
    Ok(())
}

/// PutBucketTagging replaces the whole set: the set is read and written back without
/// the marks (deleted when nothing else is left).
async fn forget_bucket(ctx: &ApplyContext<'_>, change: &ResourceChange, name: &str) -> Result<()> {
    let s3 = ctx.clients.s3(region(change)?);
    let mut tags = s3::bucket_tag_set(&s3, name).await?;
    tags.retain(|k, _| !MARKS.contains(&k.as_str()));
    if tags.is_empty() {
        s3.delete_bucket_tagging()
            .bucket(name)
            .send()
            .await
            .map_err(aws_error("DeleteBucketTagging"))?;
        return Ok(());
    }
    s3::put_bucket_tag_set(&s3, name, tags).await
}
