//! KMS keys and their replicas. A key is created in its site's region (CreateKey,
//! `MultiRegion` as the spec says), a replica by ReplicateKey sent to the primary's
//! region; both carry drplan's marks as KMS tags at creation, with the deletion window
//! in a tag of its own (`kinds::kms::DELETION_WINDOW_TAG`). The alias of each region
//! is put after the key (CreateAlias, or UpdateAlias when the name points elsewhere).
//!
//! Deleting schedules the deletion (KMS has nothing faster): the key is unusable from
//! then on and gone after its window. drplan then drops its marks from the key, so the
//! key is not an orphan in the next plan, and `aws kms cancel-key-deletion` still
//! brings it back until the window ends. A key the spec declares that was disabled or
//! scheduled for deletion out of band is enabled again (its deletion cancelled).

use super::attrs::{removed_tag_keys, str_map, tags_with_marks, Attrs};
use super::context::{aws_error, change_region, error_code, ApplyContext};
use super::family::{live_id, MARKS};
use super::idempotency::{
    attempt_id, create_once, failpoint, no_retries, FailpointPhase, ATTEMPT_KEY,
};
use anyhow::{anyhow, bail, Result};
use aws_sdk_kms::types::{KeyState, Tag};
use aws_sdk_kms::Client;
use drplan_core::address::Address;
use drplan_core::kinds::kms::{arn_in_region, DELETION_WINDOW_TAG};
use drplan_core::plan::ResourceChange;
use std::collections::BTreeMap;

/// What KMS schedules when a key's window is not known (an orphan marked before the
/// window tag existed): the longest, so the most time to cancel (`live::kms` reads
/// such a key's window as this).
const DEFAULT_WINDOW_DAYS: i32 = 30;

pub struct KeyApplier {
    /// A replica (`aws_kms_replica_key`) rather than a primary key.
    pub replica: bool,
}

#[async_trait::async_trait]
impl super::family::Applier for KeyApplier {
    async fn create(&self, ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<String> {
        let region = change_region(change)?;
        let kms = ctx.clients.kms(region);
        let marks = [
            (drplan_core::marks::STACK_KEY, ctx.stack),
            (drplan_core::marks::ADDRESS_KEY, change.address.as_str()),
        ];
        let arn = match find(&kms, &marks).await? {
            Some(arn) => arn,
            None => match self.replica {
                false => create_key(ctx, change, &kms).await?,
                true => replicate_key(ctx, change, region).await?,
            },
        };
        failpoint(&change.address, FailpointPhase::Created);
        let attrs = Attrs::after(change)?;
        put_alias(&kms, &arn, attrs.opt_str("alias"), None).await?;
        if !self.replica && attrs.bool("enable_key_rotation") {
            kms.enable_key_rotation()
                .key_id(key_id(&arn))
                .send()
                .await
                .map_err(aws_error("EnableKeyRotation"))?;
        }
        Ok(arn)
    }

    async fn update(
        &self,
        ctx: &ApplyContext<'_>,
        change: &ResourceChange,
        changed: &[String],
    ) -> Result<()> {
        let arn = live_id(ctx, change)?;
        let kms = ctx.clients.kms(change_region(change)?);
        let after = Attrs::after(change)?;
        let before = Attrs::before(change)?;
        for key in changed {
            match key.as_str() {
                "enabled" if after.bool("enabled") => enable(&kms, &arn).await?,
                "enabled" => {
                    kms.disable_key()
                        .key_id(key_id(&arn))
                        .send()
                        .await
                        .map_err(aws_error("DisableKey"))?;
                }
                "enable_key_rotation" if after.bool("enable_key_rotation") => {
                    kms.enable_key_rotation()
                        .key_id(key_id(&arn))
                        .send()
                        .await
                        .map_err(aws_error("EnableKeyRotation"))?;
                }
                "enable_key_rotation" => {
                    kms.disable_key_rotation()
                        .key_id(key_id(&arn))
                        .send()
                        .await
                        .map_err(aws_error("DisableKeyRotation"))?;
                }
                "alias" => {
                    put_alias(&kms, &arn, after.opt_str("alias"), before.opt_str("alias")).await?
                }
                "description" => {
                    kms.update_key_description()
                        .key_id(key_id(&arn))
                        .description(after.opt_str("description").unwrap_or_default())
                        .send()
                        .await
                        .map_err(aws_error("UpdateKeyDescription"))?;
                }
                "tags" | "deletion_window_days" => {}
                other => bail!("{}: `{other}` cannot be changed in place", change.address),
            }
        }
        if changed
            .iter()
            .any(|k| k == "tags" || k == "deletion_window_days")
        {
            let tags = key_tags(ctx.stack, &change.address, &after);
            put_tags(&kms, &arn, tags).await?;
            let gone = removed_tag_keys(&str_map(before.get("tags")), &after.str_map("tags"));
            if !gone.is_empty() {
                kms.untag_resource()
                    .key_id(key_id(&arn))
                    .set_tag_keys(Some(gone))
                    .send()
                    .await
                    .map_err(aws_error("UntagResource"))?;
            }
        }
        Ok(())
    }

    async fn delete(&self, ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<()> {
        let arn = live_id(ctx, change)?;
        let kms = ctx.clients.kms(change_region(change)?);
        let before = Attrs::before(change)?;
        let window = before
            .opt_int("deletion_window_days")
            .and_then(|d| i32::try_from(d).ok())
            .unwrap_or(DEFAULT_WINDOW_DAYS);
        match kms
            .schedule_key_deletion()
            .key_id(key_id(&arn))
            .pending_window_in_days(window)
            .send()
            .await
        {
            Ok(_) => {}
            // Scheduled already (a run that stopped before dropping the marks).
            Err(e) if error_code(&e) == Some("KMSInvalidStateException") => {}
            Err(e) if error_code(&e) == Some("NotFoundException") => return Ok(()),
            Err(e) => return Err(aws_error("ScheduleKeyDeletion")(e)),
        }
        drop_marks(&kms, &arn).await
    }

    async fn mark(
        &self,
        ctx: &ApplyContext<'_>,
        change: &ResourceChange,
        id: &str,
        tags: BTreeMap<String, String>,
    ) -> Result<()> {
        let kms = ctx.clients.kms(change_region(change)?);
        put_tags(&kms, id, tags).await
    }

    async fn remark(
        &self,
        ctx: &ApplyContext<'_>,
        change: &ResourceChange,
        id: &str,
    ) -> Result<()> {
        let kms = ctx.clients.kms(change_region(change)?);
        let tags = BTreeMap::from([(
            drplan_core::marks::ADDRESS_KEY.to_string(),
            change.address.to_string(),
        )]);
        put_tags(&kms, id, tags).await
    }

    async fn forget(
        &self,
        ctx: &ApplyContext<'_>,
        change: &ResourceChange,
        id: &str,
    ) -> Result<()> {
        let kms = ctx.clients.kms(change_region(change)?);
        drop_marks(&kms, id).await
    }
}

/// The key ARN a bucket setting means, in `region`: a declared key's address
/// (`kms_key.backups`) is that key's copy there (the primary's ARN with the region
/// of the bucket: a multi-region key's replicas share its id); anything else is
/// passed on as written.
pub fn key_in_region(ctx: &ApplyContext<'_>, value: &str, region: &str) -> Result<String> {
    let Some(label) = value.strip_prefix("kms_key.") else {
        return Ok(value.to_string());
    };
    if label.contains(':') || label.contains('/') {
        return Ok(value.to_string());
    }
    let address = Address::new(value);
    let arn = ctx
        .outputs
        .get(&address)
        .ok_or_else(|| anyhow!("{value} has no ARN yet (the key was not created)"))?;
    arn_in_region(&arn, region).ok_or_else(|| anyhow!("{value}: `{arn}` is not a KMS key ARN"))
}

/// Tags of a key: the user's, the marks, and the deletion window.
fn key_tags(stack: &str, address: &Address, attrs: &Attrs<'_>) -> BTreeMap<String, String> {
    let mut tags = tags_with_marks(stack, address, &attrs.str_map("tags"));
    if let Some(window) = attrs.opt_int("deletion_window_days") {
        tags.insert(DELETION_WINDOW_TAG.to_string(), window.to_string());
    }
    tags
}

fn kms_tags(tags: &BTreeMap<String, String>) -> Result<Vec<Tag>> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .tag_key(k)
                .tag_value(v)
                .build()
                .map_err(|e| anyhow!("tag {k}: {e}"))
        })
        .collect()
}

async fn put_tags(kms: &Client, arn: &str, tags: BTreeMap<String, String>) -> Result<()> {
    kms.tag_resource()
        .key_id(key_id(arn))
        .set_tags(Some(kms_tags(&tags)?))
        .send()
        .await
        .map_err(aws_error("TagResource"))?;
    Ok(())
}

async fn drop_marks(kms: &Client, arn: &str) -> Result<()> {
    match kms
        .untag_resource()
        .key_id(key_id(arn))
        .set_tag_keys(Some(MARKS.iter().map(|k| k.to_string()).collect()))
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if error_code(&e) == Some("NotFoundException") => Ok(()),
        Err(e) => Err(aws_error("UntagResource")(e)),
    }
}

/// Enables a key the spec declares: a deletion scheduled out of band is cancelled
/// first (which leaves the key disabled).
async fn enable(kms: &Client, arn: &str) -> Result<()> {
    let state = kms
        .describe_key()
        .key_id(key_id(arn))
        .send()
        .await
        .map_err(aws_error("DescribeKey"))?
        .key_metadata
        .and_then(|m| m.key_state);
    if matches!(
        state,
        Some(KeyState::PendingDeletion | KeyState::PendingReplicaDeletion)
    ) {
        kms.cancel_key_deletion()
            .key_id(key_id(arn))
            .send()
            .await
            .map_err(aws_error("CancelKeyDeletion"))?;
    }
    kms.enable_key()
        .key_id(key_id(arn))
        .send()
        .await
        .map_err(aws_error("EnableKey"))?;
    Ok(())
}

/// Points `alias` at `arn` in the client's region (created, or moved from another
/// key), or deletes `old` when the spec has no alias any more.
async fn put_alias(kms: &Client, arn: &str, alias: Option<&str>, old: Option<&str>) -> Result<()> {
    let Some(alias) = alias else {
        if let Some(old) = old {
            match kms.delete_alias().alias_name(old).send().await {
                Ok(_) => {}
                Err(e) if error_code(&e) == Some("NotFoundException") => {}
                Err(e) => return Err(aws_error("DeleteAlias")(e)),
            }
        }
        return Ok(());
    };
    match kms
        .create_alias()
        .alias_name(alias)
        .target_key_id(key_id(arn))
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if error_code(&e) == Some("AlreadyExistsException") => {
            kms.update_alias()
                .alias_name(alias)
                .target_key_id(key_id(arn))
                .send()
                .await
                .map_err(aws_error("UpdateAlias"))?;
            Ok(())
        }
        Err(e) => Err(aws_error("CreateAlias")(e)),
    }
}

/// The ARN of the key in the client's region that carries every tag of `tags` and is
/// not scheduled for deletion: the one an interrupted run created.
async fn find(kms: &Client, tags: &[(&str, &str)]) -> Result<Option<String>> {
    let mut pages = kms.list_keys().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(aws_error("ListKeys"))?;
        for key in page.keys() {
            let Some(id) = key.key_id() else { continue };
            let found = match kms.list_resource_tags().key_id(id).send().await {
                Ok(out) => out,
                Err(e) if error_code(&e) == Some("AccessDeniedException") => continue,
                Err(e) => return Err(aws_error("ListResourceTags")(e)),
            };
            let carries = tags.iter().all(|(k, v)| {
                found
                    .tags()
                    .iter()
                    .any(|t| t.tag_key() == *k && t.tag_value() == *v)
            });
            if !carries {
                continue;
            }
            let meta = kms
                .describe_key()
                .key_id(id)
                .send()
                .await
                .map_err(aws_error("DescribeKey"))?
                .key_metadata;
            let live = meta.as_ref().is_some_and(|m| {
                !matches!(
                    m.key_state(),
                    Some(KeyState::PendingDeletion | KeyState::PendingReplicaDeletion)
                )
            });
            if live {
                return Ok(meta
                    .and_then(|m| m.arn)
                    .or_else(|| key.key_arn().map(str::to_string)));
            }
        }
    }
    Ok(None)
}

fn no_retries_config() -> aws_sdk_kms::config::Builder {
    aws_sdk_kms::config::Builder::default().retry_config(no_retries())
}

async fn create_key(
    ctx: &ApplyContext<'_>,
    change: &ResourceChange,
    kms: &Client,
) -> Result<String> {
    let attrs = Attrs::after(change)?;
    let attempt = attempt_id();
    let mut tags = key_tags(ctx.stack, &change.address, &attrs);
    tags.insert(ATTEMPT_KEY.to_string(), attempt.clone());
    let tags = kms_tags(&tags)?;
    let (tags, attrs, attempt) = (&tags, &attrs, attempt.as_str());
    let send = move || async move {
        kms.create_key()
            .description(attrs.opt_str("description").unwrap_or_default())
            .multi_region(attrs.bool("multi_region"))
            .set_tags(Some(tags.clone()))
            .customize()
            .config_override(no_retries_config())
            .send()
            .await
            .map(|out| out.key_metadata.and_then(|m| m.arn))
    };
    let look = move || async move {
        find(kms, &[(ATTEMPT_KEY, attempt)])
            .await
            .map(|found| found.map(Some))
    };
    create_once("CreateKey", send, look)
        .await?
        .ok_or_else(|| anyhow!("CreateKey returned no key ARN"))
}

/// ReplicateKey, sent to the primary's region (the primary's ARN names it).
async fn replicate_key(
    ctx: &ApplyContext<'_>,
    change: &ResourceChange,
    region: &str,
) -> Result<String> {
    let attrs = Attrs::after(change)?;
    let primary = Address::new(attrs.str("primary_key")?);
    let primary_arn = ctx
        .outputs
        .get(&primary)
        .ok_or_else(|| anyhow!("{}: {primary} has no ARN yet", change.address))?;
    let primary_region = primary_arn
        .split(':')
        .nth(3)
        .filter(|r| !r.is_empty())
        .ok_or_else(|| anyhow!("{primary}: `{primary_arn}` is not a KMS key ARN"))?;
    let source = ctx.clients.kms(primary_region);
    let replica_client = ctx.clients.kms(region);
    let attempt = attempt_id();
    let mut tags = key_tags(ctx.stack, &change.address, &attrs);
    tags.insert(ATTEMPT_KEY.to_string(), attempt.clone());
    let tags = kms_tags(&tags)?;
    let (source, replica_client, tags, attrs, attempt, primary_arn) = (
        &source,
        &replica_client,
        &tags,
        &attrs,
        attempt.as_str(),
        primary_arn.as_str(),
    );
    let send = move || async move {
        source
            .replicate_key()
            .key_id(key_id(primary_arn))
            .replica_region(region)
            .description(attrs.opt_str("description").unwrap_or_default())
            .set_tags(Some(tags.clone()))
            .customize()
            .config_override(no_retries_config())
            .send()
            .await
            .map(|out| out.replica_key_metadata.and_then(|m| m.arn))
    };
    let look = move || async move {
        find(replica_client, &[(ATTEMPT_KEY, attempt)])
            .await
            .map(|found| found.map(Some))
    };
    create_once("ReplicateKey", send, look)
        .await?
        .ok_or_else(|| anyhow!("ReplicateKey returned no key ARN"))
}

/// The key id of a key ARN (`arn:aws:kms:<region>:<account>:key/<id>`), what every
/// call here names a key by in the client's region. KMS takes the ARN as well; moto
/// takes only the id in ReplicateKey, EnableKey, DisableKey, ScheduleKeyDeletion and
/// CancelKeyDeletion.
fn key_id(arn: &str) -> &str {
    arn.rsplit_once(":key/").map_or(arn, |(_, id)| id)
}
