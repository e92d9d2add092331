//! Route53: hosted zones, their record sets, and health checks. Route53 is global
//! and allows 5 requests per second per account, so every call is paginated or
//! batched: ListHostedZones, ListTagsForResources in batches of 10 (the API's
//! maximum), ListResourceRecordSets only for the zones in play, ListHealthChecks.
//!
//! Records take no tags: ownership is the TXT record `_drplan.<name>` beside them,
//! one value per owned record set (`drplan_core::marks::dns_owner_value`).

use super::marks::Marked;
use super::requests::{collect_pages, send};
use super::{fqdn, FamilyRead, ReadScope};
use crate::aws::error::error_message;
use crate::aws::{AwsContext, Service};
use crate::caller_reference;
use aws_sdk_route53::types::{ResourceRecordSet, RrType, TagResourceType};
use drplan_core::address::Address;
use drplan_core::kinds::into_attrs;
use drplan_core::kinds::route53::{AliasAttrs, HealthCheckAttrs, RecordAttrs, ZoneAttrs};
use drplan_core::live::LiveObject;
use drplan_core::live::ReadError;
use drplan_core::marks::{parse_dns_owner_value, DNS_OWNER_PREFIX};
use drplan_core::resource::{Kind, Resource};
use futures::future::join_all;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};

/// ListTagsForResources takes at most 10 ids per request.
const TAG_BATCH: usize = 10;

/// ListHealthChecks pages hold up to 1,000 (the default is 100): every page is a
/// request on the 5 per second budget and on the chain before the tag reads.
const HEALTH_CHECK_PAGE: i32 = 1000;

/// The zones of `zone` blocks and of records; health checks by address, and which
/// of them the spec gives tags.
pub(super) fn scope(scope: &mut ReadScope, r: &Resource) {
    let attr = |key: &str| r.attrs.get(key).and_then(Value::as_str).map(fqdn);
    match r.kind {
        Kind::DnsZone => scope.zone_names.extend(attr("name")),
        Kind::DnsRecord => scope.zone_names.extend(attr("zone")),
        Kind::HealthCheck => {
            let address = r.address.as_str().to_string();
            let tagged = r
                .attrs
                .get("tags")
                .and_then(Value::as_object)
                .is_some_and(|t| !t.is_empty());
            if tagged {
                scope.tagged_health_checks.insert(address.clone());
            }
            scope.health_checks.insert(address);
        }
        _ => {}
    }
}

/// The ids `import` blocks name for health checks (found by their mark alone).
pub(super) fn import(scope: &mut ReadScope, r: &Resource, id: &str) {
    if r.kind == Kind::HealthCheck {
        scope.imported_health_checks.insert(id.to_string());
    }
}

/// An imported zone is read by its name.
pub(super) fn generate(scope: &mut ReadScope, kind: Kind, id: &str, _: &[String]) {
    if kind == Kind::DnsZone {
        scope.zone_names.insert(fqdn(id));
    }
}

pub(super) async fn read(ctx: &AwsContext, scope: &ReadScope) -> FamilyRead {
    let (mut zones, health_checks) =
        tokio::join!(read_zones(ctx, scope), read_health_checks(ctx, scope));
    zones.merge(health_checks);
    zones
}

struct Zone {
    id: String,
    name: String,
}

async fn read_zones(ctx: &AwsContext, scope: &ReadScope) -> FamilyRead {
    let mut read = FamilyRead::default();
    let client = ctx.route53();
    let pages = match collect_pages(
        ctx,
        Service::Route53,
        client.list_hosted_zones().into_paginator().send(),
    )
    .await
    {
        Ok(pages) => pages,
        Err(e) => {
            read.errors
                .push(ReadError::new("aws_route53_zone", error_message(&e)));
            return read;
        }
    };
    let listed: Vec<_> = pages.iter().flat_map(|p| p.hosted_zones()).collect();
    let ids: Vec<String> = listed
        .iter()
        .map(|z| bare_zone_id(z.id()).to_string())
        .collect();
    let tags = match tags_by_id(ctx, TagResourceType::Hostedzone, &ids).await {
        Ok(tags) => tags,
        Err(msg) => {
            read.errors
                .push(ReadError::new("aws_route53_zone tags", msg));
            return read;
        }
    };

    let mut in_play = Vec::new();
    for zone in listed {
        let id = bare_zone_id(zone.id()).to_string();
        let name = fqdn(zone.name());
        let marked = Marked::from_tags(
            tags.get(&id)
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
        if !scope.zone_names.contains(&name) && !marked.is_for(&scope.stack) {
            continue;
        }
        let attrs = into_attrs(ZoneAttrs {
            name: name.clone(),
            comment: zone.config().and_then(|c| c.comment()).map(str::to_string),
            tags: marked.tags,
        });
        read.keep(
            scope,
            LiveObject {
                kind: Kind::DnsZone,
                id: id.clone(),
                region: None,
                address: marked.address,
                stack: marked.stack,
                attrs: attrs.into(),
            },
        );
        in_play.push(Zone { id, name });
    }

    for part in join_all(in_play.iter().map(|zone| read_records(ctx, scope, zone))).await {
        read.merge(part);
    }
    read
}

/// The spec's health-check addresses by their CallerReference address key; a key two
/// addresses share (one in millions) is left out, so both are read by their tags.
fn spec_addresses_by_key(scope: &ReadScope) -> HashMap<String, Address> {
    let mut by_key: HashMap<String, Option<Address>> = HashMap::new();
    for address in &scope.health_checks {
        by_key
            .entry(caller_reference::address_key(address))
            .and_modify(|a| *a = None)
            .or_insert_with(|| Some(Address::new(address.clone())));
    }
    by_key
        .into_iter()
        .filter_map(|(k, a)| Some((k, a?)))
        .collect()
}

/// `/hostedzone/Z123` (as listed) → `Z123` (as tagged and as the id drplan reports).
fn bare_zone_id(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

/// ListTagsForResources for every id, in batches of 10, concurrently (the Route53
/// rate limiter spaces them).
pub(super) async fn tags_by_id(
    ctx: &AwsContext,
    resource_type: TagResourceType,
    ids: &[String],
) -> Result<BTreeMap<String, Vec<(String, String)>>, String> {
    let client = ctx.route53();
    let batches = join_all(ids.chunks(TAG_BATCH).map(|batch| {
        let request = client
            .list_tags_for_resources()
            .resource_type(resource_type.clone())
            .set_resource_ids(Some(batch.to_vec()))
            .send();
        send(ctx, Service::Route53, request)
    }))
    .await;
    let mut out = BTreeMap::new();
    for batch in batches {
        let batch = batch.map_err(|e| error_message(&e))?;
        for set in batch.resource_tag_sets() {
            let Some(id) = set.resource_id() else {
                continue;
            };
            let tags = set
                .tags()
                .iter()
                .filter_map(|t| {
                    Some((
                        t.key()?.to_string(),
                        t.value().unwrap_or_default().to_string(),
                    ))
                })
                .collect();
            out.insert(id.to_string(), tags);
        }
    }
    Ok(out)
}

async fn read_records(ctx: &AwsContext, scope: &ReadScope, zone: &Zone) -> FamilyRead {
    let mut read = FamilyRead::default();
    let sets = match list_record_sets(ctx, &zone.id).await {
        Ok(sets) => sets,
        Err(msg) => {
            read.errors.push(ReadError::new(
                format!("aws_route53_record in zone {}", zone.name),
                msg,
            ));
            return read;
        }
    };

    // (owned record name, type, set id) → (stack, address)
    let mut owners: BTreeMap<(String, String, Option<String>), (String, Address)> = BTreeMap::new();
    for set in &sets {
        let name = decode_name(set.name());
        let Some(owned) = name.strip_prefix(DNS_OWNER_PREFIX) else {
            continue;
        };
        if set.r#type() != &RrType::Txt {
            continue;
        }
        for value in set.resource_records().iter().map(|r| r.value()) {
            if let Some((stack, address, rtype, set_id)) = parse_dns_owner_value(value) {
                owners.insert(
                    (owned.to_string(), rtype, set_id),
                    (stack, Address::new(address)),
                );
            }
        }
    }

    for set in &sets {
        let name = decode_name(set.name());
        let rtype = set.r#type().as_str().to_string();
        let is_owner_record = rtype == "TXT" && name.starts_with(DNS_OWNER_PREFIX);
        // The zone's own NS and SOA records belong to Route53, never to a spec.
        let is_apex_infra = name == zone.name && (rtype == "NS" || rtype == "SOA");
        if is_owner_record || is_apex_infra {
            continue;
        }
        let set_id = set.set_identifier().map(str::to_string);
        let owner = owners
            .get(&(name.clone(), rtype.clone(), set_id.clone()))
            .cloned();
        read.keep(scope, record_object(zone, &name, &rtype, set, owner));
    }
    read
}

/// ListResourceRecordSets has no paginator in the SDK: it pages by the next record's
/// (name, type, set identifier).
async fn list_record_sets(
    ctx: &AwsContext,
    zone_id: &str,
) -> Result<Vec<ResourceRecordSet>, String> {
    let client = ctx.route53();
    let mut sets = Vec::new();
    let mut seen = HashSet::new();
    let mut next: Option<(String, Option<RrType>, Option<String>)> = None;
    loop {
        let mut request = client.list_resource_record_sets().hosted_zone_id(zone_id);
        if let Some((name, rtype, set_id)) = next.clone() {
            request = request
                .start_record_name(name)
                .set_start_record_type(rtype)
                .set_start_record_identifier(set_id);
        }
        let page = send(ctx, Service::Route53, request.send())
            .await
            .map_err(|e| error_message(&e))?;
        let added = add_unseen(&mut sets, &mut seen, page.resource_record_sets());
        match (page.is_truncated(), page.next_record_name()) {
            (true, Some(name)) => {
                let following = Some((
                    name.to_string(),
                    page.next_record_type().cloned(),
                    page.next_record_identifier().map(str::to_string),
                ));
                // A server that ignores the start identifier can hand back the same
                // page forever; stop rather than loop.
                if added == 0 && following == next {
                    return Err(format!(
                        "listing the record sets of zone {zone_id} did not advance past {name}"
                    ));
                }
                next = following;
            }
            _ => return Ok(sets),
        }
    }
}

/// Identity of a record set within its zone.
type RecordSetKey = (String, String, Option<String>);

/// Appends the record sets of a page not already listed, returning how many were new.
/// Pages start at (name, type, set identifier); a server that ignores the identifier
/// (moto does) restarts a page at the first set of that name and type, so a page
/// boundary between two failover sets of one name would list a set twice, and the
/// duplicate would be planned as an orphan.
fn add_unseen(
    sets: &mut Vec<ResourceRecordSet>,
    seen: &mut HashSet<RecordSetKey>,
    page: &[ResourceRecordSet],
) -> usize {
    let before = sets.len();
    for set in page {
        let key = (
            set.name().to_string(),
            set.r#type().as_str().to_string(),
            set.set_identifier().map(str::to_string),
        );
        if seen.insert(key) {
            sets.push(set.clone());
        }
    }
    sets.len() - before
}

fn record_object(
    zone: &Zone,
    name: &str,
    rtype: &str,
    set: &ResourceRecordSet,
    owner: Option<(String, Address)>,
) -> LiveObject {
    let set_id = set.set_identifier();
    // Alias records have no values and no TTL; their target is `alias`, with no zone
    // id when it is a record of the same zone (as the spec writes it).
    let alias = set.alias_target().map(|a| {
        let zone_id = bare_zone_id(a.hosted_zone_id());
        AliasAttrs {
            name: fqdn(&decode_name(a.dns_name())),
            zone_id: (zone_id != zone.id).then(|| zone_id.to_string()),
            evaluate_target_health: a.evaluate_target_health(),
        }
    });
    let attrs = into_attrs(RecordAttrs {
        zone: zone.name.clone(),
        name: name.to_string(),
        record_type: rtype.to_string(),
        ttl: set.ttl(),
        records: set
            .resource_records()
            .iter()
            .map(|r| r.value().to_string())
            .collect(),
        alias,
        set_identifier: set_id.map(str::to_string),
        failover: set.failover().map(|f| f.as_str().to_string()),
        health_check: set.health_check_id().map(str::to_string),
    });
    let (stack, address) = owner.map_or((None, None), |(s, a)| (Some(s), Some(a)));
    LiveObject {
        kind: Kind::DnsRecord,
        id: format!("{}/{}/{}/{}", zone.name, name, rtype, set_id.unwrap_or("")),
        region: None,
        address,
        stack,
        attrs: attrs.into(),
    }
}

/// Route53 returns names with characters outside `[a-z0-9-_.]` as octal escapes
/// (`\052` for the `*` of a wildcard); decode them so names compare with the spec
/// (lower case, with the final dot). apply's zone snapshot reads names the same way.
pub(crate) fn decode_name(name: &str) -> String {
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match (bytes[i], octal) {
            (b'\\', Some(d)) => {
                let value =
                    (d[0] - b'0') as u32 * 64 + (d[1] - b'0') as u32 * 8 + (d[2] - b'0') as u32;
                out.push(u8::try_from(value).unwrap_or(b'?'));
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    fqdn(&String::from_utf8_lossy(&out))
}

async fn read_health_checks(ctx: &AwsContext, scope: &ReadScope) -> FamilyRead {
    let mut read = FamilyRead::default();
    let client = ctx.route53();
    let listing = client
        .list_health_checks()
        .max_items(HEALTH_CHECK_PAGE)
        .into_paginator()
        .send();
    let pages = match collect_pages(ctx, Service::Route53, listing).await {
        Ok(pages) => pages,
        Err(e) => {
            read.errors.push(ReadError::new(
                "aws_route53_health_check",
                error_message(&e),
            ));
            return read;
        }
    };
    // The listing sorts the checks by their CallerReference (`caller_reference`):
    // this stack's at an address the spec has, whose tags the spec does not manage,
    // cost no request; this stack's otherwise and older drplan checks get their tags
    // read; other stacks' and nobody's cost nothing...
    let all: Vec<_> = pages.iter().flat_map(|p| p.health_checks()).collect();
    let by_key = spec_addresses_by_key(scope);
    let mut known: HashMap<String, Address> = HashMap::new();
    let mut checks = Vec::new();
    let mut to_tag = Vec::new();
    for check in &all {
        let reference = check.caller_reference();
        match caller_reference::owner(reference, &scope.stack) {
            caller_reference::Owner::Other => continue,
            caller_reference::Owner::ThisStack => {
                let spec_address = caller_reference::address_key_of(reference)
                    .and_then(|key| by_key.get(key))
                    .filter(|a| !scope.tagged_health_checks.contains(a.as_str()));
                match spec_address {
                    Some(address) => {
                        known.insert(check.id().to_string(), address.clone());
                    }
                    None => to_tag.push(check.id().to_string()),
                }
            }
            caller_reference::Owner::Unknown => to_tag.push(check.id().to_string()),
        }
        checks.push(*check);
    }
    let mut tags = match tags_by_id(ctx, TagResourceType::Healthcheck, &to_tag).await {
        Ok(tags) => tags,
        Err(msg) => {
            read.errors
                .push(ReadError::new("aws_route53_health_check tags", msg));
            return read;
        }
    };
    // ...unless one of the spec's is not among them: then a check made by another
    // tool (and marked by hand, or to be imported) may be it, and the tags of the
    // checks not made by drplan are read too. Another drplan stack's never are.
    let found: HashSet<String> = tags
        .values()
        .filter_map(|t| {
            let m = Marked::from_tags(t.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            m.is_for(&scope.stack).then_some(m.address).flatten()
        })
        .map(|a| a.as_str().to_string())
        .chain(known.values().map(|a| a.as_str().to_string()))
        .collect();
    if scope.health_checks.iter().any(|a| !found.contains(a)) {
        let others: Vec<_> = all
            .iter()
            .filter(|c| !c.caller_reference().starts_with("drplan-"))
            .copied()
            .collect();
        let ids: Vec<String> = others.iter().map(|c| c.id().to_string()).collect();
        match tags_by_id(ctx, TagResourceType::Healthcheck, &ids).await {
            Ok(more) => tags.extend(more),
            Err(msg) => {
                read.errors
                    .push(ReadError::new("aws_route53_health_check tags", msg));
                return read;
            }
        }
        checks.extend(others);
    }
    for check in checks {
        let marked = match known.get(check.id()) {
            // Its reference is the mark: no tags in the spec to compare.
            Some(address) => Marked {
                tags: Value::Object(Map::new()),
                address: Some(address.clone()),
                stack: Some(scope.stack.clone()),
            },
            None => Marked::from_tags(
                tags.get(check.id())
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.as_str(), v.as_str())),
            ),
        };
        // Health checks are identified by their mark only: unmarked ones or another
        // stack's can never match the spec, unless an `import` block names one.
        let imported = marked.stack.is_none()
            && marked.address.is_none()
            && scope.imported_health_checks.contains(check.id());
        if !marked.is_for(&scope.stack) && !imported {
            continue;
        }
        let config = check.health_check_config();
        let attrs = into_attrs(HealthCheckAttrs {
            check_type: config.map(|c| c.r#type().as_str().to_string()),
            fqdn: config
                .and_then(|c| c.fully_qualified_domain_name())
                .map(str::to_string),
            port: config.and_then(|c| c.port()).map(i64::from),
            resource_path: config.and_then(|c| c.resource_path()).map(str::to_string),
            request_interval: config.and_then(|c| c.request_interval()).map(i64::from),
            failure_threshold: config.and_then(|c| c.failure_threshold()).map(i64::from),
            tags: marked.tags,
        });
        read.keep(
            scope,
            LiveObject {
                kind: Kind::HealthCheck,
                id: check.id().to_string(),
                region: None,
                address: marked.address,
                stack: marked.stack,
                attrs: attrs.into(),
            },
        );
    }
    read
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_names_are_unescaped_and_dotted() {
        assert_eq!(decode_name("\\052.example.com."), "*.example.com.");
        assert_eq!(decode_name("Api.Example.com"), "api.example.com.");
        assert_eq!(decode_name("a\\\\b.example.com."), "a\\\\b.example.com.");
    }

    fn set(name: &str, set_id: Option<&str>) -> ResourceRecordSet {
        ResourceRecordSet::builder()
            .name(name)
            .r#type(RrType::Cname)
            .set_set_identifier(set_id.map(str::to_string))
            .build()
            .expect("name and type are set")
    }

    #[test]
    fn a_record_set_listed_again_on_the_next_page_is_kept_once() {
        let mut sets = Vec::new();
        let mut seen = HashSet::new();
        let first = [set("api.example.com.", Some("primary"))];
        // The next page restarted at the name, ignoring the identifier `dr`.
        let second = [
            set("api.example.com.", Some("primary")),
            set("api.example.com.", Some("dr")),
            set("www.example.com.", None),
        ];
        assert_eq!(add_unseen(&mut sets, &mut seen, &first), 1);
        assert_eq!(add_unseen(&mut sets, &mut seen, &second), 2);
        let listed: Vec<(&str, Option<&str>)> = sets
            .iter()
            .map(|s| (s.name(), s.set_identifier()))
            .collect();
        assert_eq!(
            listed,
            [
                ("api.example.com.", Some("primary")),
                ("api.example.com.", Some("dr")),
                ("www.example.com.", None),
            ]
        );
    }

    #[test]
    fn record_sets_differing_only_in_type_are_both_kept() {
        let mut sets = Vec::new();
        let mut seen = HashSet::new();
        let txt = ResourceRecordSet::builder()
            .name("api.example.com.")
            .r#type(RrType::Txt)
            .build()
            .expect("name and type are set");
        add_unseen(&mut sets, &mut seen, &[set("api.example.com.", None), txt]);
        assert_eq!(sets.len(), 2);
    }

    #[test]
    fn zone_ids_lose_their_prefix() {
        assert_eq!(bare_zone_id("/hostedzone/Z123"), "Z123");
        assert_eq!(bare_zone_id("Z123"), "Z123");
    }
}
