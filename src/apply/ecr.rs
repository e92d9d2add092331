//! ECR repositories: CreateRepository with the marks as tags, the lifecycle policy
//! (PutLifecyclePolicy / DeleteLifecyclePolicy), tag mutability and scan on push, and
//! the repository's place in its registry's replication configuration.
//!
//! The replication configuration is one document per registry (account and region),
//! shared with whoever else writes rules there: drplan reads it, changes only its own
//! rules (`drplan_core::kinds::ecr::with_repository`), and writes it back, one
//! read-modify-write at a time per region in this process. A rule is drplan's when all
//! its filters name repositories this stack marks in the region; which names those
//! are is read at the time of the write (ListTagsForResource per name the rules'
//! filters hold), not taken from the plan.
//!
//! A repository is deleted only empty: images are data, and deleting them is a
//! decision for a human (as a bucket's objects are).

use super::attrs::{removed_tag_keys, tags_with_marks, Attrs};
use super::context::{aws_error, change_region, error_code, ApplyContext};
use super::family::{live_id, MARKS};
use anyhow::{anyhow, bail, Result};
use aws_sdk_ecr::types::{
    ImageScanningConfiguration, ImageTagMutability, ReplicationConfiguration,
    ReplicationDestination, ReplicationRule as EcrRule, RepositoryFilter, RepositoryFilterType,
    Tag,
};
use aws_sdk_ecr::Client;
use drplan_core::kinds::ecr::{detached, with_repository, ReplicationRule, PREFIX_MATCH};
use drplan_core::marks::STACK_KEY;
use drplan_core::plan::ResourceChange;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

pub struct RepositoryApplier;

#[async_trait::async_trait]
impl super::family::Applier for RepositoryApplier {
    async fn create(&self, ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<String> {
        let attrs = Attrs::after(change)?;
        let region = change_region(change)?;
        let ecr = ctx.clients.ecr(region);
        let name = attrs.str("name")?;
        let tags = tags_with_marks(ctx.stack, &change.address, &attrs.str_map("tags"));
        let mutability =
            ImageTagMutability::from(attrs.opt_str("image_tag_mutability").unwrap_or("MUTABLE"));
        let arn = match ecr
            .create_repository()
            .repository_name(name)
            .image_tag_mutability(mutability)
            .image_scanning_configuration(
                ImageScanningConfiguration::builder()
                    .scan_on_push(attrs.bool("scan_on_push"))
                    .build(),
            )
            .set_tags(Some(ecr_tags(&tags)?))
            .send()
            .await
        {
            Ok(out) => out
                .repository()
                .and_then(|r| r.repository_arn())
                .map(str::to_string)
                .ok_or_else(|| anyhow!("CreateRepository: no repository ARN in the answer"))?,
            // Made by an interrupted run of this apply (it carries this address's
            // marks): taken over. Anything else by that name is not drplan's.
            Err(e) if error_code(&e) == Some("RepositoryAlreadyExistsException") => {
                let arn = repository_arn(&ecr, name).await?;
                let found = tags_of(&ecr, &arn).await?.unwrap_or_default();
                let ours = found.get(STACK_KEY).map(String::as_str) == Some(ctx.stack)
                    && found
                        .get(drplan_core::marks::ADDRESS_KEY)
                        .map(String::as_str)
                        == Some(change.address.as_str());
                if !ours {
                    bail!(
                        "{}: repository {name} exists in {region} and is not drplan's; \
                         adopt it with an `import {{ to = {}  id = \"{name}\" }}` block, or choose another name",
                        change.address,
                        change.address
                    );
                }
                arn
            }
            Err(e) => return Err(aws_error("CreateRepository")(e)),
        };
        if let Some(policy) = attrs.get("lifecycle_policy").filter(|v| !v.is_null()) {
            put_lifecycle_policy(&ecr, name, policy).await?;
        }
        let regions = attrs.str_list("replicate_to");
        if !regions.is_empty() {
            put_replication(ctx, region, name, &regions).await?;
        }
        Ok(arn)
    }

    async fn update(
        &self,
        ctx: &ApplyContext<'_>,
        change: &ResourceChange,
        changed: &[String],
    ) -> Result<()> {
        let after = Attrs::after(change)?;
        let region = change_region(change)?;
        let ecr = ctx.clients.ecr(region);
        let name = after.str("name")?;
        for key in changed {
            match key.as_str() {
                "tags" => {
                    let arn = live_id(ctx, change)?;
                    let before = Attrs::before(change)?.str_map("tags");
                    let tags = tags_with_marks(ctx.stack, &change.address, &after.str_map("tags"));
                    let removed = removed_tag_keys(&before, &tags);
                    put_tags(&ecr, &arn, &tags).await?;
                    if !removed.is_empty() {
                        ecr.untag_resource()
                            .resource_arn(&arn)
                            .set_tag_keys(Some(removed))
                            .send()
                            .await
                            .map_err(aws_error("UntagResource"))?;
                    }
                }
                "image_tag_mutability" => {
                    ecr.put_image_tag_mutability()
                        .repository_name(name)
                        .image_tag_mutability(ImageTagMutability::from(
                            after.str("image_tag_mutability")?,
                        ))
                        .send()
                        .await
                        .map_err(aws_error("PutImageTagMutability"))?;
                }
                "scan_on_push" => {
                    ecr.put_image_scanning_configuration()
                        .repository_name(name)
                        .image_scanning_configuration(
                            ImageScanningConfiguration::builder()
                                .scan_on_push(after.bool("scan_on_push"))
                                .build(),
                        )
                        .send()
                        .await
                        .map_err(aws_error("PutImageScanningConfiguration"))?;
                }
                "lifecycle_policy" => {
                    match after.get("lifecycle_policy").filter(|v| !v.is_null()) {
                        Some(policy) => put_lifecycle_policy(&ecr, name, policy).await?,
                        None => match ecr
                            .delete_lifecycle_policy()
                            .repository_name(name)
                            .send()
                            .await
                        {
                            Ok(_) => {}
                            Err(e)
                                if error_code(&e) == Some("LifecyclePolicyNotFoundException") => {}
                            Err(e) => return Err(aws_error("DeleteLifecyclePolicy")(e)),
                        },
                    }
                }
                "replicate_to" => {
                    put_replication(ctx, region, name, &after.str_list("replicate_to")).await?
                }
                other => bail!("{}: `{other}` cannot be changed in place", change.address),
            }
        }
        Ok(())
    }

    async fn delete(&self, ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<()> {
        let before = Attrs::before(change)?;
        let region = change_region(change)?;
        let name = before.str("name")?;
        match ctx
            .clients
            .ecr(region)
            .delete_repository()
            .repository_name(name)
            .force(false)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if error_code(&e) == Some("RepositoryNotFoundException") => {}
            Err(e) if error_code(&e) == Some("RepositoryNotEmptyException") => bail!(
                "DeleteRepository: repository {name} in {region} still holds images; drplan does not \
                 delete images — delete them yourself (aws ecr batch-delete-image), then apply again"
            ),
            Err(e) => return Err(aws_error("DeleteRepository")(e)),
        }
        // Its filter leaves drplan's rules (a rule left with none goes).
        if !before.str_list("replicate_to").is_empty() {
            put_replication(ctx, region, name, &[]).await?;
        }
        Ok(())
    }

    async fn mark(
        &self,
        ctx: &ApplyContext<'_>,
        change: &ResourceChange,
        id: &str,
        tags: BTreeMap<String, String>,
    ) -> Result<()> {
        let ecr = ctx.clients.ecr(change_region(change)?);
        put_tags(&ecr, id, &tags).await
    }

    async fn remark(
        &self,
        ctx: &ApplyContext<'_>,
        change: &ResourceChange,
        id: &str,
    ) -> Result<()> {
        let ecr = ctx.clients.ecr(change_region(change)?);
        let tags = BTreeMap::from([(
            drplan_core::marks::ADDRESS_KEY.to_string(),
            change.address.to_string(),
        )]);
        put_tags(&ecr, id, &tags).await
    }

    async fn forget(
        &self,
        ctx: &ApplyContext<'_>,
        change: &ResourceChange,
        id: &str,
    ) -> Result<()> {
        // Its replication goes on, in a rule of its own that is no longer drplan's
        // once the marks are gone (a rule shared with managed repositories would
        // otherwise stop being drplan's for them too).
        let region = change_region(change)?;
        let name = Attrs::before(change)?.str("name")?.to_string();
        put_detached(ctx, region, &name).await?;
        let ecr = ctx.clients.ecr(region);
        ecr.untag_resource()
            .resource_arn(id)
            .set_tag_keys(Some(MARKS.iter().map(|k| k.to_string()).collect()))
            .send()
            .await
            .map_err(aws_error("UntagResource"))?;
        Ok(())
    }
}

fn ecr_tags(tags: &BTreeMap<String, String>) -> Result<Vec<Tag>> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| anyhow!("tag {k}: {e}"))
        })
        .collect()
}

async fn put_tags(ecr: &Client, arn: &str, tags: &BTreeMap<String, String>) -> Result<()> {
    ecr.tag_resource()
        .resource_arn(arn)
        .set_tags(Some(ecr_tags(tags)?))
        .send()
        .await
        .map_err(aws_error("TagResource"))?;
    Ok(())
}

async fn put_lifecycle_policy(ecr: &Client, name: &str, policy: &Value) -> Result<()> {
    ecr.put_lifecycle_policy()
        .repository_name(name)
        .lifecycle_policy_text(policy.to_string())
        .send()
        .await
        .map_err(aws_error("PutLifecyclePolicy"))?;
    Ok(())
}

async fn repository_arn(ecr: &Client, name: &str) -> Result<String> {
    let out = ecr
        .describe_repositories()
        .repository_names(name)
        .send()
        .await
        .map_err(aws_error("DescribeRepositories"))?;
    out.repositories()
        .first()
        .and_then(|r| r.repository_arn())
        .map(str::to_string)
        .ok_or_else(|| anyhow!("DescribeRepositories: {name} not in the answer"))
}

/// The repository's tags, or `None` when it does not exist.
async fn tags_of(ecr: &Client, arn: &str) -> Result<Option<BTreeMap<String, String>>> {
    match ecr.list_tags_for_resource().resource_arn(arn).send().await {
        Ok(out) => Ok(Some(
            out.tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect(),
        )),
        Err(e) if error_code(&e) == Some("RepositoryNotFoundException") => Ok(None),
        Err(e) => Err(aws_error("ListTagsForResource")(e)),
    }
}

/// One lock per region: the registry's replication configuration is read, changed
/// and written back whole, so two writers in the same region must take turns.
fn region_lock(region: &str) -> Arc<tokio::sync::Mutex<()>> {
    static LOCKS: OnceLock<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> = OnceLock::new();
    let mut locks = LOCKS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    locks.entry(region.to_string()).or_default().clone()
}

/// Makes drplan's rules in `region`'s registry replicate `name` to exactly `regions`
/// (none: out of drplan's rules), leaving every other rule as it is.
async fn put_replication(
    ctx: &ApplyContext<'_>,
    region: &str,
    name: &str,
    regions: &[String],
) -> Result<()> {
    edit_rules(ctx, region, name, |rules, mine, registry_id| {
        let destinations: Vec<(String, String)> = regions
            .iter()
            .map(|r| {
                let account = ctx
                    .clients
                    .site_account(r)
                    .unwrap_or_else(|| registry_id.to_string());
                (r.clone(), account)
            })
            .collect();
        with_repository(rules, mine, name, &destinations)
    })
    .await
}

/// [`drplan_core::kinds::ecr::detached`], read-modify-written like `put_replication`.
async fn put_detached(ctx: &ApplyContext<'_>, region: &str, name: &str) -> Result<()> {
    edit_rules(ctx, region, name, |rules, mine, _| {
        detached(rules, mine, name)
    })
    .await
}

/// The registry's replication configuration read, changed by `edit` (given the rules,
/// the stack's repositories with `name` among them, and the registry id) and written
/// back when it changed — one writer per region at a time.
async fn edit_rules(
    ctx: &ApplyContext<'_>,
    region: &str,
    name: &str,
    edit: impl FnOnce(&[ReplicationRule], &BTreeSet<String>, &str) -> Vec<ReplicationRule>,
) -> Result<()> {
    let lock = region_lock(region);
    let _turn = lock.lock().await;
    let ecr = ctx.clients.ecr(region);
    let registry = ecr
        .describe_registry()
        .send()
        .await
        .map_err(aws_error("DescribeRegistry"))?;
    let registry_id = registry.registry_id().unwrap_or_default().to_string();
    let rules = crate::live::ecr::rules_of(registry.replication_configuration());
    let mut mine = stack_repositories(ctx, &ecr, region, &registry_id, &rules).await?;
    mine.insert(name.to_string());
    let wanted = edit(&rules, &mine, &registry_id);
    if wanted == rules {
        return Ok(());
    }
    ecr.put_replication_configuration()
        .replication_configuration(configuration(&wanted)?)
        .send()
        .await
        .map_err(aws_error("PutReplicationConfiguration"))?;
    Ok(())
}

/// The names the rules' PREFIX_MATCH filters hold that are repositories this stack
/// marks in the registry.
async fn stack_repositories(
    ctx: &ApplyContext<'_>,
    ecr: &Client,
    region: &str,
    registry_id: &str,
    rules: &[ReplicationRule],
) -> Result<BTreeSet<String>> {
    let names: BTreeSet<&str> = rules
        .iter()
        .flat_map(|r| r.filters.iter())
        .filter(|(_, ty)| ty == PREFIX_MATCH)
        .map(|(f, _)| f.as_str())
        .collect();
    let mut mine = BTreeSet::new();
    for name in names {
        let arn = format!("arn:aws:ecr:{region}:{registry_id}:repository/{name}");
        let tags = tags_of(ecr, &arn).await?;
        if tags.and_then(|t| t.get(STACK_KEY).cloned()).as_deref() == Some(ctx.stack) {
            mine.insert(name.to_string());
        }
    }
    Ok(mine)
}

fn configuration(rules: &[ReplicationRule]) -> Result<ReplicationConfiguration> {
    let rules = rules
        .iter()
        .map(|r| {
            let destinations = r
                .destinations
                .iter()
                .map(|(region, registry)| {
                    ReplicationDestination::builder()
                        .region(region)
                        .registry_id(registry)
                        .build()
                        .map_err(|e| anyhow!("replication destination {region}: {e}"))
                })
                .collect::<Result<Vec<_>>>()?;
            let filters = r
                .filters
                .iter()
                .map(|(f, ty)| {
                    RepositoryFilter::builder()
                        .filter(f)
                        .filter_type(RepositoryFilterType::from(ty.as_str()))
                        .build()
                        .map_err(|e| anyhow!("repository filter {f}: {e}"))
                })
                .collect::<Result<Vec<_>>>()?;
            EcrRule::builder()
                .set_destinations(Some(destinations))
                .set_repository_filters((!filters.is_empty()).then_some(filters))
                .build()
                .map_err(|e| anyhow!("replication rule: {e}"))
        })
        .collect::<Result<Vec<_>>>()?;
    ReplicationConfiguration::builder()
        .set_rules(Some(rules))
        .build()
        .map_err(|e| anyhow!("replication configuration: {e}"))
}
