//! VPCs and subnets (EC2). Both are identified by their `drplan:address` tag, which
//! is applied atomically at creation through TagSpecifications. EC2 takes no
//! idempotency token for either create, so each attempt also carries a `drplan:attempt`
//! tag, and a create whose answer was lost is looked up by it before it is sent again
//! (`idempotency::create_once`).

use super::attrs::{removed_tag_keys, tags_with_marks, Attrs};
use super::context::{aws_error, change_region as region, error_code, ApplyContext};
use super::idempotency::{
    attempt_id, create_once, failpoint, no_retries, FailpointPhase, ATTEMPT_KEY,
};
use anyhow::{anyhow, Result};
use aws_sdk_ec2::types::{AttributeBooleanValue, Filter, ResourceType, Tag, TagSpecification};
use aws_sdk_ec2::Client;
use drplan_core::address::Address;
use drplan_core::kinds::network::{SubnetAttrs, VpcAttrs};
use drplan_core::marks;
use drplan_core::plan::ResourceChange;
use std::collections::BTreeMap;

pub(crate) fn tag_spec(kind: ResourceType, tags: &BTreeMap<String, String>) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(kind)
        .set_tags(Some(
            tags.iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect(),
        ))
        .build()
}

fn mark_filters(stack: &str, address: &Address) -> Vec<Filter> {
    vec![
        Filter::builder()
            .name(format!("tag:{}", marks::STACK_KEY))
            .values(stack)
            .build(),
        Filter::builder()
            .name(format!("tag:{}", marks::ADDRESS_KEY))
            .values(address.as_str())
            .build(),
    ]
}

/// The VPC carrying this address's marks, if one exists (a half-finished earlier run).
pub async fn find_vpc(ec2: &Client, stack: &str, address: &Address) -> Result<Option<String>> {
    let out = ec2
        .describe_vpcs()
        .set_filters(Some(mark_filters(stack, address)))
        .send()
        .await
        .map_err(aws_error("DescribeVpcs"))?;
    Ok(out
        .vpcs()
        .iter()
        .find_map(|v| v.vpc_id().map(str::to_string)))
}

pub(crate) fn attempt_filter(attempt: &str) -> Vec<Filter> {
    vec![Filter::builder()
        .name(format!("tag:{ATTEMPT_KEY}"))
        .values(attempt)
        .build()]
}

/// The marks, the user's tags and this attempt's marker.
pub(crate) fn create_tags(
    ctx: &ApplyContext<'_>,
    change: &ResourceChange,
    user: &BTreeMap<String, String>,
    attempt: &str,
) -> BTreeMap<String, String> {
    let mut tags = tags_with_marks(ctx.stack, &change.address, user);
    tags.insert(ATTEMPT_KEY.to_string(), attempt.to_string());
    tags
}

pub(crate) fn no_retries_config() -> aws_sdk_ec2::config::Builder {
    aws_sdk_ec2::config::Builder::default().retry_config(no_retries())
}

pub async fn find_subnet(ec2: &Client, stack: &str, address: &Address) -> Result<Option<String>> {
    let out = ec2
        .describe_subnets()
        .set_filters(Some(mark_filters(stack, address)))
        .send()
        .await
        .map_err(aws_error("DescribeSubnets"))?;
    Ok(out
        .subnets()
        .iter()
        .find_map(|s| s.subnet_id().map(str::to_string)))
}

/// The cloud id of a referenced subnet: created earlier in this apply, known from the
/// plan, or found by its mark.
/// The ids of the subnets whose addresses `attrs`' `subnets` lists.
pub async fn subnet_ids(
    ctx: &ApplyContext<'_>,
    region: &str,
    attrs: &Attrs<'_>,
) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    for address in attrs.str_list("subnets") {
        ids.push(subnet_id(ctx, region, &Address::new(address)).await?);
    }
    Ok(ids)
}

pub async fn subnet_id(ctx: &ApplyContext<'_>, region: &str, address: &Address) -> Result<String> {
    if let Some(id) = ctx.outputs.get(address) {
        return Ok(id);
    }
    let ec2 = ctx.clients.ec2(region);
    let id = find_subnet(&ec2, ctx.stack, address)
        .await?
        .ok_or_else(|| anyhow!("subnet {address} does not exist in {region}"))?;
    ctx.outputs.set(address, id.clone());
    Ok(id)
}

pub(crate) async fn vpc_id(
    ctx: &ApplyContext<'_>,
    region: &str,
    address: &Address,
) -> Result<String> {
    if let Some(id) = ctx.outputs.get(address) {
        return Ok(id);
    }
    let ec2 = ctx.clients.ec2(region);
    let id = find_vpc(&ec2, ctx.stack, address)
        .await?
        .ok_or_else(|| anyhow!("VPC {address} does not exist in {region}"))?;
    ctx.outputs.set(address, id.clone());
    Ok(id)
}

/// A setting the spec always gives (the lowering fills it); absent only in a plan file
/// edited by hand.
fn required<'a>(address: &Address, key: &str, value: Option<&'a str>) -> Result<&'a str> {
    value.ok_or_else(|| anyhow!("{address}: `{key}` is missing from the plan"))
}

pub async fn create_vpc(ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<String> {
    let attrs = Attrs::after(change)?;
    let ec2 = ctx.clients.ec2(region(change)?);
    if let Some(id) = find_vpc(&ec2, ctx.stack, &change.address).await? {
        return Ok(id);
    }
    let vpc: VpcAttrs = attrs.typed()?;
    let attempt = attempt_id();
    let tags = create_tags(ctx, change, &attrs.str_map("tags"), &attempt);
    let cidr = required(&change.address, "cidr_block", vpc.cidr_block.as_deref())?;
    let (ec2, tags, attempt) = (&ec2, &tags, attempt.as_str());
    let create = move || async move {
        ec2.create_vpc()
            .cidr_block(cidr)
            .tag_specifications(tag_spec(ResourceType::Vpc, tags))
            .customize()
            .config_override(no_retries_config())
            .send()
            .await
            .map(|out| out.vpc().and_then(|v| v.vpc_id()).map(str::to_string))
    };
    let look = move || async move {
        let out = ec2
            .describe_vpcs()
            .set_filters(Some(attempt_filter(attempt)))
            .send()
            .await
            .map_err(aws_error("DescribeVpcs"))?;
        Ok::<_, anyhow::Error>(
            out.vpcs()
                .iter()
                .find_map(|v| v.vpc_id().map(|id| Some(id.to_string()))),
        )
    };
    let id = create_once("CreateVpc", create, look)
        .await?
        .ok_or_else(|| anyhow!("CreateVpc returned no VPC id"))?;
    failpoint(&change.address, FailpointPhase::Created);
    Ok(id)
}

pub async fn create_subnet(ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<String> {
    let attrs = Attrs::after(change)?;
    let subnet: SubnetAttrs = attrs.typed()?;
    let region = region(change)?;
    let ec2 = ctx.clients.ec2(region);
    let id = match find_subnet(&ec2, ctx.stack, &change.address).await? {
        Some(id) => id,
        None => {
            let vpc_address = required(&change.address, "vpc", subnet.vpc.as_deref())?;
            let vpc = vpc_id(ctx, region, &Address::new(vpc_address)).await?;
            let attempt = attempt_id();
            let tags = create_tags(ctx, change, &attrs.str_map("tags"), &attempt);
            let cidr = required(&change.address, "cidr_block", subnet.cidr_block.as_deref())?;
            let zone = required(
                &change.address,
                "availability_zone",
                subnet.availability_zone.as_deref(),
            )?;
            let (ec2, vpc, tags, attempt) = (&ec2, vpc.as_str(), &tags, attempt.as_str());
            let create = move || async move {
                ec2.create_subnet()
                    .vpc_id(vpc)
                    .cidr_block(cidr)
                    .availability_zone(zone)
                    .tag_specifications(tag_spec(ResourceType::Subnet, tags))
                    .customize()
                    .config_override(no_retries_config())
                    .send()
                    .await
                    .map(|out| out.subnet().and_then(|s| s.subnet_id()).map(str::to_string))
            };
            let look = move || async move {
                let out = ec2
                    .describe_subnets()
                    .set_filters(Some(attempt_filter(attempt)))
                    .send()
                    .await
                    .map_err(aws_error("DescribeSubnets"))?;
                Ok::<_, anyhow::Error>(
                    out.subnets()
                        .iter()
                        .find_map(|s| s.subnet_id().map(|id| Some(id.to_string()))),
                )
            };
            let id = create_once("CreateSubnet", create, look)
                .await?
                .ok_or_else(|| anyhow!("CreateSubnet returned no subnet id"))?;
            failpoint(&change.address, FailpointPhase::Created);
            id
        }
    };
    // Also on adoption: a crash may have come between CreateSubnet and this call.
    if subnet.public {
        set_public(&ec2, &id, true).await?;
    }
    Ok(id)
}

async fn set_public(ec2: &Client, subnet_id: &str, public: bool) -> Result<()> {
    ec2.modify_subnet_attribute()
        .subnet_id(subnet_id)
        .map_public_ip_on_launch(AttributeBooleanValue::builder().value(public).build())
        .send()
        .await
        .map_err(aws_error("ModifySubnetAttribute"))?;
    Ok(())
}

/// Updates in place what can change in place: tags (both kinds) and `public` (subnet).
pub async fn update(
    ctx: &ApplyContext<'_>,
    change: &ResourceChange,
    id: &str,
    changed: &[String],
) -> Result<()> {
    let ec2 = ctx.clients.ec2(region(change)?);
    let after = Attrs::after(change)?;
    for key in changed {
        match key.as_str() {
            "tags" => update_tags(ctx, change, id).await?,
            "public" => set_public(&ec2, id, after.bool("public")).await?,
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

/// Makes the user's tags on the EC2 object `id` what the plan says (marks kept).
pub(crate) async fn update_tags(
    ctx: &ApplyContext<'_>,
    change: &ResourceChange,
    id: &str,
) -> Result<()> {
    let ec2 = ctx.clients.ec2(region(change)?);
    let before = Attrs::before(change)?.str_map("tags");
    let after = Attrs::after(change)?;
    let desired = tags_with_marks(ctx.stack, &change.address, &after.str_map("tags"));
    let remove = removed_tag_keys(&before, &desired);
    if !remove.is_empty() {
        ec2.delete_tags()
            .resources(id)
            .set_tags(Some(
                remove
                    .iter()
                    .map(|k| Tag::builder().key(k).build())
                    .collect(),
            ))
            .send()
            .await
            .map_err(aws_error("DeleteTags"))?;
    }
    ec2.create_tags()
        .resources(id)
        .set_tags(Some(
            desired
                .iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect(),
        ))
        .send()
        .await
        .map_err(aws_error("CreateTags"))?;
    Ok(())
}

pub async fn delete_vpc(ctx: &ApplyContext<'_>, change: &ResourceChange, id: &str) -> Result<()> {
    let ec2 = ctx.clients.ec2(region(change)?);
    match ec2.delete_vpc().vpc_id(id).send().await {
        Ok(_) => Ok(()),
        Err(e) if error_code(&e) == Some("InvalidVpcID.NotFound") => Ok(()),
        Err(e) => Err(aws_error("DeleteVpc")(e)),
    }
}

pub async fn delete_subnet(
    ctx: &ApplyContext<'_>,
    change: &ResourceChange,
    id: &str,
) -> Result<()> {
    let ec2 = ctx.clients.ec2(region(change)?);
    match ec2.delete_subnet().subnet_id(id).send().await {
        Ok(_) => Ok(()),
        Err(e) if error_code(&e) == Some("InvalidSubnetID.NotFound") => Ok(()),
        Err(e) => Err(aws_error("DeleteSubnet")(e)),
    }
}

use super::family::live_id as id_of;

/// Tags on an EC2 object (CreateTags overwrites the value of a key that exists).
pub(crate) async fn put_ec2_tags(
    ctx: &ApplyContext<'_>,
    change: &ResourceChange,
    id: &str,
    tags: BTreeMap<String, String>,
) -> Result<()> {
    ctx.clients
        .ec2(region(change)?)
        .create_tags()
        .resources(id)
        .set_tags(Some(
            tags.iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect(),
        ))
        .send()
        .await
        .map_err(aws_error("CreateTags"))?;
    Ok(())
}

pub(crate) async fn remark_ec2(
    ctx: &ApplyContext<'_>,
    change: &ResourceChange,
    id: &str,
) -> Result<()> {
    let mark = [(marks::ADDRESS_KEY.to_string(), change.address.to_string())];
    put_ec2_tags(ctx, change, id, mark.into_iter().collect()).await
}

pub(crate) async fn forget_ec2(
    ctx: &ApplyContext<'_>,
    change: &ResourceChange,
    id: &str,
) -> Result<()> {
    let mut req = ctx.clients.ec2(region(change)?).delete_tags().resources(id);
    for key in super::family::MARKS {
        req = req.tags(Tag::builder().key(key).build());
    }
    req.send().await.map_err(aws_error("DeleteTags"))?;
    Ok(())
}

/// VPCs and subnets: one applier, EC2 tags for both.
pub struct NetworkApplier {
    pub vpc: bool,
}

#[async_trait::async_trait]
impl super::family::Applier for NetworkApplier {
    async fn create(&self, ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<String> {
        match self.vpc {
            true => create_vpc(ctx, change).await,
            false => create_subnet(ctx, change).await,
        }
    }

    async fn update(
        &self,
        ctx: &ApplyContext<'_>,
        change: &ResourceChange,
        changed: &[String],
    ) -> Result<()> {
        update(ctx, change, &id_of(ctx, change)?, changed).await
    }

    async fn delete(&self, ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<()> {
        let id = id_of(ctx, change)?;
        match self.vpc {
            true => delete_vpc(ctx, change, &id).await,
            false => delete_subnet(ctx, change, &id).await,
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
