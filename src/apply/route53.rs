//! Route53 hosted zones, record sets and health checks. Zones and health checks carry
//! tags; record sets cannot, so each owned record set gets a value in the ownership
//! TXT record `_drplan.<name>`, changed in the same atomic batch as the record.

use super::adopt;
use super::attrs::{removed_tag_keys, tags_with_marks, Attrs};
use super::context::{aws_error, error_code, ApplyContext};
use super::dns_owner::{
    build_err, change_of, owner_record_set, owner_set_of, send_changes, with_dot,
};
use super::idempotency::{create_once, failpoint, no_retries, request_token, FailpointPhase};
use super::record_batch::{Committed, RecordUpsert};
use anyhow::{anyhow, Result};
use aws_sdk_route53::types::{
    AliasTarget, ChangeAction, HealthCheckConfig, HealthCheckType, HostedZoneConfig,
    ResourceRecord, ResourceRecordSet, ResourceRecordSetFailover, RrType, Tag, TagResourceType,
};
use drplan_core::address::Address;
use drplan_core::marks;
use drplan_core::plan::ResourceChange;
use std::collections::BTreeMap;

fn bare_id(id: &str) -> String {
    id.rsplit('/').next().unwrap_or(id).to_string()
}

async fn tags_of(
    ctx: &ApplyContext<'_>,
    kind: TagResourceType,
    ids: &[String],
) -> Result<BTreeMap<String, BTreeMap<String, String>>> {
    let r53 = ctx.clients.route53();
    let mut found = BTreeMap::new();
    // ListTagsForResources takes at most 10 ids per call.
    for chunk in ids.chunks(10) {
        ctx.route53.turn().await;
        let out = r53
            .list_tags_for_resources()
            .resource_type(kind.clone())
            .set_resource_ids(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(aws_error("ListTagsForResources"))?;
        for set in out.resource_tag_sets() {
            let tags = set
                .tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
                .collect();
            if let Some(id) = set.resource_id() {
                found.insert(bare_id(id), tags);
            }
        }
    }
    Ok(found)
}

fn is_marked(tags: Option<&BTreeMap<String, String>>, stack: &str, address: &Address) -> bool {
    tags.is_some_and(|t| {
        t.get(marks::STACK_KEY).map(String::as_str) == Some(stack)
            && t.get(marks::ADDRESS_KEY).map(String::as_str) == Some(address.as_str())
    })
}

pub(super) async fn put_tags(
    ctx: &ApplyContext<'_>,
    kind: TagResourceType,
    id: &str,
    change: &ResourceChange,
) -> Result<()> {
    let r53 = ctx.clients.route53();
    let desired = tags_with_marks(
        ctx.stack,
        &change.address,
        &Attrs::after(change)?.str_map("tags"),
    );
    let before = change
        .before
        .as_ref()
        .map(|_| Attrs::before(change).map(|a| a.str_map("tags")))
        .transpose()?;
    let remove = before
        .map(|b| removed_tag_keys(&b, &desired))
        .unwrap_or_default();
    ctx.route53.turn().await;
    r53.change_tags_for_resource()
        .resource_type(kind)
        .resource_id(id)
        .set_add_tags(Some(
            desired
                .iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect(),
        ))
        .set_remove_tag_keys(if remove.is_empty() {
            None
        } else {
            Some(remove)
        })
        .send()
        .await
        .map_err(aws_error("ChangeTagsForResource"))?;
    Ok(())
}

// ----- hosted zones -----

/// The hosted zones of exactly this name (one ListHostedZonesByName).
async fn hosted_zones_named(
    ctx: &ApplyContext<'_>,
    name: &str,
) -> Result<Vec<aws_sdk_route53::types::HostedZone>> {
    let name = with_dot(name);
    ctx.route53.turn().await;
    let out = ctx
        .clients
        .route53()
        .list_hosted_zones_by_name()
        .dns_name(&name)
        .send()
        .await
        .map_err(aws_error("ListHostedZonesByName"))?;
    Ok(out
        .hosted_zones()
        .iter()
        .filter(|z| z.name() == name)
        .cloned()
        .collect())
}

/// Zones of this exact name: (bare id, tags).
async fn zones_named(
    ctx: &ApplyContext<'_>,
    name: &str,
) -> Result<Vec<(String, BTreeMap<String, String>)>> {
    let ids: Vec<String> = hosted_zones_named(ctx, name)
        .await?
        .iter()
        .map(|z| bare_id(z.id()))
        .collect();
    let mut tags = tags_of(ctx, TagResourceType::Hostedzone, &ids).await?;
    Ok(ids
        .into_iter()
        .map(|id| {
            let t = tags.remove(&id).unwrap_or_default();
            (id, t)
        })
        .collect())
}

pub async fn create_zone(ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<String> {
    let attrs = Attrs::after(change)?;
    let r53 = ctx.clients.route53();
    let name = attrs.str("name")?;
    let existing = zones_named(ctx, name).await?;
    // Route53 happily creates a second zone of the same name; only a marked zone (or
    // one left unmarked by a crash between CreateHostedZone and tagging) is adopted.
    let adopt = existing
        .iter()
        .find(|(_, t)| is_marked(Some(t), ctx.stack, &change.address))
        .or_else(|| {
            existing
                .iter()
                .find(|(_, t)| !t.contains_key(marks::ADDRESS_KEY))
        });
    let id = match adopt {
        Some((id, _)) => id.clone(),
        None => {
            adopt::announce(ctx, change).await?;
            let token = request_token(ctx.stack, &change.address, attrs.map);
            let config = HostedZoneConfig::builder()
                .set_comment(attrs.opt_str("comment").map(str::to_string))
                .build();
            let (r53, token, config) = (&r53, token.as_str(), &config);
            let create = move || async move {
                ctx.route53.turn().await;
                r53.create_hosted_zone()
                    .name(name)
                    .caller_reference(token)
                    .hosted_zone_config(config.clone())
                    .customize()
                    .config_override(
                        aws_sdk_route53::config::Builder::default().retry_config(no_retries()),
                    )
                    .send()
                    .await
                    .map(|out| out.hosted_zone().map(|z| bare_id(z.id())))
            };
            let id = create_once("CreateHostedZone", create, move || {
                zone_by_caller_reference(ctx, name, token)
            })
            .await?
            .ok_or_else(|| anyhow!("CreateHostedZone returned no zone"))?;
            failpoint(&change.address, FailpointPhase::Created);
            id
        }
    };
    put_tags(ctx, TagResourceType::Hostedzone, &id, change).await?;
    adopt::confirm(ctx, &change.address).await;
    ctx.route53
        .zone_ids
        .lock()
        .await
        .insert(with_dot(name), id.clone());
    Ok(id)
}

/// The zone of this name created with `token`: a create whose answer was lost.
async fn zone_by_caller_reference(
    ctx: &ApplyContext<'_>,
    name: &str,
    token: &str,
) -> Result<Option<Option<String>>> {
    Ok(hosted_zones_named(ctx, name)
        .await?
        .iter()
        .find(|z| z.caller_reference() == token)
        .map(|z| Some(bare_id(z.id()))))
}

pub async fn update_zone(
    ctx: &ApplyContext<'_>,
    change: &ResourceChange,
    id: &str,
    changed: &[String],
) -> Result<()> {
    let attrs = Attrs::after(change)?;
    let r53 = ctx.clients.route53();
    for key in changed {
        match key.as_str() {
            "comment" => {
                ctx.route53.turn().await;
                r53.update_hosted_zone_comment()
                    .id(id)
                    .set_comment(attrs.opt_str("comment").map(str::to_string))
                    .send()
                    .await
                    .map_err(aws_error("UpdateHostedZoneComment"))?;
            }
            "tags" => put_tags(ctx, TagResourceType::Hostedzone, id, change).await?,
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

pub async fn delete_zone(ctx: &ApplyContext<'_>, id: &str) -> Result<()> {
    ctx.route53.turn().await;
    match ctx
        .clients
        .route53()
        .delete_hosted_zone()
        .id(id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if error_code(&e) == Some("NoSuchHostedZone") => Ok(()),
        Err(e) => Err(aws_error("DeleteHostedZone")(e)),
    }
}

/// The id of the zone a record lives in, preferring the one marked by this stack when
/// several zones share the name.
async fn zone_id(ctx: &ApplyContext<'_>, zone_name: &str) -> Result<String> {
    let key = with_dot(zone_name);
    // Held across the lookup: a DR flip starts every record step at once, and each
    // would otherwise look the zone up itself.
    let mut known = ctx.route53.zone_ids.lock().await;
    if let Some(id) = known.get(&key) {
        return Ok(id.clone());
    }
    let zones = zones_named(ctx, &key).await?;
    let id = zones
        .iter()
        .find(|(_, t)| t.get(marks::STACK_KEY).map(String::as_str) == Some(ctx.stack))
        .or(zones.first())
        .map(|(id, _)| id.clone())
        .ok_or_else(|| anyhow!("hosted zone {key} does not exist"))?;
    known.insert(key, id.clone());
    Ok(id)
}

// ----- health checks -----

/// The health check marked with this address, if any (an earlier interrupted run).
/// With `token`, a health check created with that CallerReference also counts: a run
/// that stopped between CreateHealthCheck and tagging left it unmarked.
///
/// Tags are read first for this stack's checks whose reference names this address
/// (or names none: made by an older version); only without `token` (looking up an
/// existing check, which a `moved` block may have brought here from another address)
/// are the stack's other checks read too. A create never reads them: its check, if an
/// earlier run made it, names this address.
pub async fn find_health_check(
    ctx: &ApplyContext<'_>,
    address: &Address,
    token: Option<&str>,
) -> Result<Option<String>> {
    let r53 = ctx.clients.route53();
    let key = crate::caller_reference::address_key(address.as_str());
    let (mut likely, mut rest) = (Vec::new(), Vec::new());
    let mut marker = None;
    loop {
        ctx.route53.turn().await;
        let out = r53
            .list_health_checks()
            .max_items(1000)
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(aws_error("ListHealthChecks"))?;
        if let Some(h) = out
            .health_checks()
            .iter()
            .find(|h| token.is_some_and(|t| h.caller_reference() == t))
        {
            return Ok(Some(h.id().to_string()));
        }
        for h in out.health_checks() {
            let reference = h.caller_reference();
            if crate::caller_reference::owner(reference, ctx.stack)
                == crate::caller_reference::Owner::Other
            {
                continue;
            }
            match crate::caller_reference::address_key_of(reference) {
                Some(k) if k != key => rest.push(h.id().to_string()),
                _ => likely.push(h.id().to_string()),
            }
        }
        match (out.is_truncated(), out.next_marker()) {
            (true, Some(next)) => marker = Some(next.to_string()),
            _ => break,
        }
    }
    if token.is_none() {
        likely.append(&mut rest);
    }
    let tags = tags_of(ctx, TagResourceType::Healthcheck, &likely).await?;
    Ok(likely
        .into_iter()
        .find(|id| is_marked(tags.get(id), ctx.stack, address)))
}

fn int32(attrs: &Attrs<'_>, key: &str) -> Option<i32> {
    attrs.opt_int(key).and_then(|v| i32::try_from(v).ok())
}

pub async fn create_health_check(
    ctx: &ApplyContext<'_>,
    change: &ResourceChange,
) -> Result<String> {
    let attrs = Attrs::after(change)?;
    let token = crate::caller_reference::health_check(ctx.stack, &change.address, attrs.map);
    let id = match find_health_check(ctx, &change.address, Some(&token)).await? {
        Some(id) => id,
        None => {
            let config = HealthCheckConfig::builder()
                .r#type(HealthCheckType::from(attrs.str("type")?))
                .set_fully_qualified_domain_name(attrs.opt_str("fqdn").map(str::to_string))
                .set_port(int32(&attrs, "port"))
                .set_resource_path(attrs.opt_str("resource_path").map(str::to_string))
                .set_request_interval(int32(&attrs, "request_interval"))
                .set_failure_threshold(int32(&attrs, "failure_threshold"))
                .build()
                .map_err(build_err("health check"))?;
            let (token, config) = (token.as_str(), &config);
            let create = move || async move {
                ctx.route53.turn().await;
                ctx.clients
                    .route53()
                    .create_health_check()
                    .caller_reference(token)
                    .health_check_config(config.clone())
                    .customize()
                    .config_override(
                        aws_sdk_route53::config::Builder::default().retry_config(no_retries()),
                    )
                    .send()
                    .await
                    .map(|out| out.health_check().map(|h| h.id().to_string()))
            };
            let address = &change.address;
            let look = move || async move {
                Ok(find_health_check(ctx, address, Some(token))
                    .await?
                    .map(Some))
            };
            let id = create_once("CreateHealthCheck", create, look)
                .await?
                .ok_or_else(|| anyhow!("CreateHealthCheck returned no id"))?;
            failpoint(&change.address, FailpointPhase::Created);
            id
        }
    };
    put_tags(ctx, TagResourceType::Healthcheck, &id, change).await?;
    Ok(id)
}

pub async fn update_health_check(
    ctx: &ApplyContext<'_>,
    change: &ResourceChange,
    id: &str,
    changed: &[String],
) -> Result<()> {
    let attrs = Attrs::after(change)?;
    let mut update = ctx
        .clients
        .route53()
        .update_health_check()
        .health_check_id(id);
    let mut config_changed = false;
    for key in changed {
        match key.as_str() {
            "fqdn" => {
                update = update
                    .set_fully_qualified_domain_name(attrs.opt_str("fqdn").map(str::to_string))
            }
            "port" => update = update.set_port(int32(&attrs, "port")),
            "resource_path" => {
                update =
                    update.set_resource_path(attrs.opt_str("resource_path").map(str::to_string))
            }
            "failure_threshold" => {
                update = update.set_failure_threshold(int32(&attrs, "failure_threshold"))
            }
            "tags" => {
                put_tags(ctx, TagResourceType::Healthcheck, id, change).await?;
                continue;
            }
            other => {
                return Err(anyhow!(
                    "{}: Route53 cannot change `{other}` of a health check in place",
                    change.address
                ))
            }
        }
        config_changed = true;
    }
    if config_changed {
        ctx.route53.turn().await;
        update
            .send()
            .await
            .map_err(aws_error("UpdateHealthCheck"))?;
    }
    Ok(())
}

pub async fn delete_health_check(ctx: &ApplyContext<'_>, id: &str) -> Result<()> {
    ctx.route53.turn().await;
    match ctx
        .clients
        .route53()
        .delete_health_check()
        .health_check_id(id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if error_code(&e) == Some("NoSuchHealthCheck") => Ok(()),
        Err(e) => Err(aws_error("DeleteHealthCheck")(e)),
    }
}

async fn health_check_id(ctx: &ApplyContext<'_>, address: &Address) -> Result<String> {
    if let Some(id) = ctx.outputs.get(address) {
        return Ok(id);
    }
    let id = find_health_check(ctx, address, None)
        .await?
        .ok_or_else(|| anyhow!("health check {address} does not exist"))?;
    ctx.outputs.set(address, id.clone());
    Ok(id)
}

// ----- record sets -----

async fn record_set(
    ctx: &ApplyContext<'_>,
    zone_id: &str,
    attrs: &Attrs<'_>,
) -> Result<ResourceRecordSet> {
    let mut set = ResourceRecordSet::builder()
        .name(with_dot(attrs.str("name")?))
        .r#type(RrType::from(attrs.str("type")?))
        .set_ttl(attrs.opt_int("ttl"))
        .set_set_identifier(attrs.opt_str("set_identifier").map(str::to_string))
        .set_failover(
            attrs
                .opt_str("failover")
                .map(ResourceRecordSetFailover::from),
        );
    if let Some(alias) = attrs.get("alias").and_then(serde_json::Value::as_object) {
        let text = |k: &str| alias.get(k).and_then(serde_json::Value::as_str);
        set = set.alias_target(
            AliasTarget::builder()
                .hosted_zone_id(text("zone_id").unwrap_or(zone_id))
                .dns_name(text("name").unwrap_or_default())
                .evaluate_target_health(
                    alias
                        .get("evaluate_target_health")
                        .and_then(serde_json::Value::as_bool)
                        .unwrap_or(true),
                )
                .build()
                .map_err(build_err("alias target"))?,
        );
    }
    for value in attrs.str_list("records") {
        set = set.resource_records(
            ResourceRecord::builder()
                .value(value)
                .build()
                .map_err(build_err("record value"))?,
        );
    }
    if let Some(hc) = attrs.opt_str("health_check") {
        set = set.health_check_id(health_check_id(ctx, &Address::new(hc)).await?);
    }
    set.build().map_err(build_err("record set"))
}

/// This record's own value in the ownership TXT record.
fn own_owner_value(ctx: &ApplyContext<'_>, address: &Address, attrs: &Attrs<'_>) -> Result<String> {
    Ok(marks::dns_owner_value(
        ctx.stack,
        address.as_str(),
        attrs.str("type")?,
        attrs.opt_str("set_identifier"),
    ))
}

fn is_same_owner_entry(value: &str, address: &Address) -> bool {
    marks::parse_dns_owner_value(value).is_some_and(|(_, a, _, _)| a == address.as_str())
}

fn values_of(set: Option<&ResourceRecordSet>) -> Vec<String> {
    set.map(|s| {
        s.resource_records()
            .iter()
            .map(|r| r.value().to_string())
            .collect()
    })
    .unwrap_or_default()
}

/// Create and update are the same UPSERT of the record and its ownership value, in one
/// atomic batch, so a record never exists without its mark. The batch is normally the
/// zone's next group commit (`record_batch`); a record whose batch failed is written
/// alone, so that its error, if any, is its own.
pub async fn upsert_record(ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<String> {
    let attrs = Attrs::after(change)?;
    let zone = zone_id(ctx, attrs.str("zone")?).await?;
    let name = with_dot(attrs.str("name")?);
    let record = record_set(ctx, &zone, &attrs).await?;
    let owner_value = own_owner_value(ctx, &change.address, &attrs)?;
    let upsert = RecordUpsert {
        address: change.address.clone(),
        name: name.clone(),
        record: record.clone(),
        owner_value,
        moved_from: change.moved_from.clone(),
    };
    match ctx
        .records
        .submit(&ctx.route53(), &zone, upsert.clone())
        .await
    {
        Committed::Written => {}
        Committed::FallBack(_) => upsert_record_alone(ctx, &zone, &upsert).await?,
    }
    Ok(format!(
        "{}/{}/{}/{}",
        with_dot(attrs.str("zone")?),
        name,
        attrs.str("type")?,
        attrs.opt_str("set_identifier").unwrap_or("")
    ))
}

/// The per-record path: read the name's TXT under its lock, merge, UPSERT both.
async fn upsert_record_alone(
    ctx: &ApplyContext<'_>,
    zone: &str,
    upsert: &RecordUpsert,
) -> Result<()> {
    let _owner_guard = ctx.route53.lock_owner_records(zone, &upsert.name).await;
    let current = owner_set_of(&ctx.route53(), zone, &upsert.name).await?;
    let mut values: Vec<String> = values_of(current.as_ref())
        .into_iter()
        .filter(|v| !upsert.owns(v))
        .collect();
    values.push(upsert.owner_value.clone());
    values.sort();
    let owner = owner_record_set(&upsert.name, &values)?;
    let changes = vec![
        change_of(ChangeAction::Upsert, upsert.record.clone())?,
        change_of(ChangeAction::Upsert, owner.clone())?,
    ];
    let sent = send_changes(&ctx.route53(), zone, changes).await;
    ctx.records
        .note_owner_set(zone, &upsert.name, Some(owner), sent.is_ok())
        .await;
    sent
}

pub async fn delete_record(ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<()> {
    let attrs = Attrs::before(change)?;
    let r53 = ctx.clients.route53();
    let zone = zone_id(ctx, attrs.str("zone")?).await?;
    let name = with_dot(attrs.str("name")?);
    let rtype = RrType::from(attrs.str("type")?);
    let set_id = attrs.opt_str("set_identifier");
    let _owner_guard = ctx.route53.lock_owner_records(&zone, &name).await;
    // DELETE must repeat the record exactly as it is now, so read it back.
    let mut list = r53
        .list_resource_record_sets()
        .hosted_zone_id(&zone)
        .start_record_name(&name)
        .start_record_type(rtype.clone());
    if let Some(id) = set_id {
        list = list.start_record_identifier(id);
    }
    ctx.route53.turn().await;
    let out = list
        .max_items(5)
        .send()
        .await
        .map_err(aws_error("ListResourceRecordSets"))?;
    let current = out
        .resource_record_sets()
        .iter()
        .find(|s| s.name() == name && s.r#type() == &rtype && s.set_identifier() == set_id)
        .cloned();
    let mut changes = Vec::new();
    if let Some(record) = current {
        changes.push(change_of(ChangeAction::Delete, record)?);
    }
    let before = owner_set_of(&ctx.route53(), &zone, &name).await?;
    let before_values = values_of(before.as_ref());
    let remaining: Vec<String> = before_values
        .iter()
        .filter(|v| !is_same_owner_entry(v, &change.address))
        .cloned()
        .collect();
    let mut owner_after = None;
    let rewrites_owner = remaining.len() != before_values.len();
    if rewrites_owner {
        if let (true, Some(exact)) = (remaining.is_empty(), before.clone()) {
            changes.push(change_of(ChangeAction::Delete, exact)?);
        } else {
            let set = owner_record_set(&name, &remaining)?;
            changes.push(change_of(ChangeAction::Upsert, set.clone())?);
            owner_after = Some(set);
        }
    }
    if changes.is_empty() {
        return Ok(());
    }
    let sent = send_changes(&ctx.route53(), &zone, changes).await;
    if rewrites_owner || sent.is_err() {
        ctx.records
            .note_owner_set(&zone, &name, owner_after, sent.is_ok())
            .await;
    }
    sent
}

async fn remark_route53(
    ctx: &ApplyContext<'_>,
    kind: TagResourceType,
    change: &ResourceChange,
    id: &str,
) -> Result<()> {
    ctx.route53.turn().await;
    ctx.clients
        .route53()
        .change_tags_for_resource()
        .resource_type(kind)
        .resource_id(bare_id(id))
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

async fn forget_route53(ctx: &ApplyContext<'_>, kind: TagResourceType, id: &str) -> Result<()> {
    ctx.route53.turn().await;
    ctx.clients
        .route53()
        .change_tags_for_resource()
        .resource_type(kind)
        .resource_id(bare_id(id))
        .set_remove_tag_keys(Some(
            super::family::MARKS.iter().map(|k| k.to_string()).collect(),
        ))
        .send()
        .await
        .map_err(aws_error("ChangeTagsForResource"))?;
    Ok(())
}

/// Hosted zones and health checks: one applier, Route53 tags on either.
pub struct TaggedApplier {
    pub zone: bool,
}

impl TaggedApplier {
    fn tag_type(&self) -> TagResourceType {
        match self.zone {
            true => TagResourceType::Hostedzone,
            false => TagResourceType::Healthcheck,
        }
    }
}

#[async_trait::async_trait]
impl super::family::Applier for TaggedApplier {
    async fn create(&self, ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<String> {
        match self.zone {
            true => create_zone(ctx, change).await,
            false => create_health_check(ctx, change).await,
        }
    }

    async fn update(
        &self,
        ctx: &ApplyContext<'_>,
        change: &ResourceChange,
        changed: &[String],
    ) -> Result<()> {
        let id = super::family::live_id(ctx, change)?;
        match self.zone {
            true => update_zone(ctx, change, &id, changed).await,
            false => update_health_check(ctx, change, &id, changed).await,
        }
    }

    async fn delete(&self, ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<()> {
        let id = super::family::live_id(ctx, change)?;
        match self.zone {
            true => delete_zone(ctx, &id).await,
            false => delete_health_check(ctx, &id).await,
        }
    }

    async fn mark(
        &self,
        ctx: &ApplyContext<'_>,
        change: &ResourceChange,
        id: &str,
        _tags: BTreeMap<String, String>,
    ) -> Result<()> {
        put_tags(ctx, self.tag_type(), &bare_id(id), change).await
    }

    async fn remark(
        &self,
        ctx: &ApplyContext<'_>,
        change: &ResourceChange,
        id: &str,
    ) -> Result<()> {
        remark_route53(ctx, self.tag_type(), change, id).await
    }

    async fn forget(
        &self,
        ctx: &ApplyContext<'_>,
        _change: &ResourceChange,
        id: &str,
    ) -> Result<()> {
        forget_route53(ctx, self.tag_type(), id).await
    }
}

/// A record's mark is its entry in the name's ownership TXT record: the upsert swaps
/// it (`RecordUpsert::moved_from`) in the same atomic write, so a rename needs no
/// remark of its own.
pub struct RecordApplier;

#[async_trait::async_trait]
impl super::family::Applier for RecordApplier {
    async fn create(&self, ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<String> {
        upsert_record(ctx, change).await
    }

    async fn update(
        &self,
        ctx: &ApplyContext<'_>,
        change: &ResourceChange,
        _changed: &[String],
    ) -> Result<()> {
        upsert_record(ctx, change).await.map(|_| ())
    }

    async fn delete(&self, ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<()> {
        delete_record(ctx, change).await
    }

    /// An imported record's mark is its value in the ownership TXT record, which the
    /// update that follows upserts in the same change batch as the record.
    async fn mark(
        &self,
        _ctx: &ApplyContext<'_>,
        _change: &ResourceChange,
        _id: &str,
        _tags: std::collections::BTreeMap<String, String>,
    ) -> Result<()> {
        Ok(())
    }
}
