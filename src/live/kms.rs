//! KMS keys and their replicas, with their aliases. KMS has no list filtered by tag:
//! per region, one paginated ListKeys, one ListResourceTags per key (the marks), one
//! paginated ListAliases, then for the stack's keys one DescribeKey each (state,
//! multi-region role, primary) and, for primary keys, GetKeyRotationStatus. Read only
//! when the spec declares a key (`ReadScope::kms`), in every region of the topology.
//!
//! A key scheduled for deletion reads as `enabled = false` (the plan cancels the
//! deletion of a key the spec still declares); drplan drops its marks from a key once
//! it has scheduled its deletion, so such a key is not an orphan again.

use super::marks::Marked;
use super::reach::Gate;
use super::requests::{collect_pages, send};
use super::{FamilyRead, ReadScope};
use crate::aws::error::error_message;
use crate::aws::{AwsContext, Service};
use aws_sdk_kms::types::{KeyManagerType, KeySpec, KeyState, KeyUsageType, MultiRegionKeyType};
use drplan_core::kinds::kms::decode::DELETION_WINDOW_DAYS;
use drplan_core::kinds::kms::DELETION_WINDOW_TAG;
use drplan_core::live::{LiveObject, ReadError};
use drplan_core::resource::{Kind, Resource};
use futures::future::join_all;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

const TYPE: &str = "aws_kms_key";

/// Keys are read in every region once the spec declares one, with its aliases.
pub(super) fn scope(scope: &mut ReadScope, r: &Resource) {
    if matches!(r.kind, Kind::KmsKey | Kind::KmsReplicaKey) {
        scope.kms = true;
        scope.kms_aliases.extend(
            r.attrs
                .get("alias")
                .and_then(Value::as_str)
                .map(str::to_string),
        );
    }
}

/// An imported key or replica carries no mark yet: it is read by its key id in its
/// resource's region.
pub(super) fn import(scope: &mut ReadScope, r: &Resource, id: &str) {
    if let (Kind::KmsKey | Kind::KmsReplicaKey, Some(region)) = (r.kind, &r.region) {
        scope
            .imported_kms
            .entry(region.clone())
            .or_default()
            .insert(key_id_of(id).to_string());
    }
}

/// An import block's key without a spec block: looked for by its id in every site's
/// region (a replica's ARN says its region; a key id names every copy).
pub(super) fn generate(scope: &mut ReadScope, kind: Kind, id: &str, regions: &[String]) {
    if matches!(kind, Kind::KmsKey | Kind::KmsReplicaKey) {
        scope.kms = true;
        for region in regions {
            scope
                .imported_kms
                .entry(region.clone())
                .or_default()
                .insert(key_id_of(id).to_string());
        }
    }
}

/// The key id an import names: the id itself, or the last part of a key ARN
/// (`arn:aws:kms:<region>:<account>:key/<id>`).
fn key_id_of(id: &str) -> &str {
    id.rsplit_once(":key/").map_or(id, |(_, key)| key)
}

pub(super) async fn read(ctx: &AwsContext, scope: &ReadScope, gate: &Gate<'_>) -> FamilyRead {
    if !scope.kms {
        return FamilyRead::default();
    }
    join_all(
        scope
            .regions
            .iter()
            .map(|region| gate.read(region, Service::Kms, keys(ctx, scope, region))),
    )
    .await
    .into_iter()
    .collect()
}

/// The user's tags and drplan's marks of one key, and the deletion window its tag
/// keeps; `None` for a key whose tags this account cannot read (AWS managed keys).
async fn tags_of(
    ctx: &AwsContext,
    region: &str,
    key_id: &str,
) -> Result<Option<(Marked, Value)>, String> {
    let client = ctx.kms(region);
    let mut tags = Vec::new();
    let mut marker = None;
    loop {
        let answer = send(
            ctx,
            Service::Kms,
            client
                .list_resource_tags()
                .key_id(key_id)
                .set_marker(marker.take())
                .send(),
        )
        .await;
        match answer {
            Ok(page) => {
                tags.extend(
                    page.tags()
                        .iter()
                        .map(|t| (t.tag_key().to_string(), t.tag_value().to_string())),
                );
                match (page.truncated(), page.next_marker()) {
                    (true, Some(next)) => marker = Some(next.to_string()),
                    _ => break,
                }
            }
            Err(e) => {
                let denied = e
                    .as_service_error()
                    .is_some_and(|s| s.meta().code() == Some("AccessDeniedException"));
                return match denied {
                    true => Ok(None),
                    false => Err(error_message(&e)),
                };
            }
        }
    }
    let window = window_of(&tags);
    Ok(Some((Marked::from_tags(tags), window)))
}

/// The deletion window a key's tag keeps; a key without the tag (made by another
/// tool, being imported) reads as the window drplan schedules for it, the longest
/// (`apply::kms`), which is also the spec's default: importing such a key into a
/// block that says nothing plans no change for it.
fn window_of(tags: &[(String, String)]) -> Value {
    let window = tags
        .iter()
        .find(|(k, _)| k == DELETION_WINDOW_TAG)
        .and_then(|(_, v)| v.parse::<i64>().ok())
        .unwrap_or(*DELETION_WINDOW_DAYS.end());
    Value::from(window)
}

/// The ids of every key of `region` (ListKeys, paged).
async fn key_ids(ctx: &AwsContext, region: &str) -> Result<Vec<String>, ReadError> {
    let pages = ctx.kms(region).list_keys().into_paginator().send();
    match collect_pages(ctx, Service::Kms, pages).await {
        Ok(pages) => Ok(pages
            .iter()
            .flat_map(|p| p.keys())
            .filter_map(|k| k.key_id().map(str::to_string))
            .collect()),
        Err(e) => Err(ReadError::new(TYPE, error_message(&e)).in_region(region)),
    }
}

async fn keys(ctx: &AwsContext, scope: &ReadScope, region: &str) -> FamilyRead {
    let mut read = FamilyRead::default();
    let fail = |read: &mut FamilyRead, what: &str, e: String| {
        read.errors.push(ReadError::new(what, e).in_region(region));
    };
    let client = ctx.kms(region);
    let listed = match key_ids(ctx, region).await {
        Ok(listed) => listed,
        Err(e) => {
            read.errors.push(e);
            return read;
        }
    };
    let aliases = client.list_aliases().into_paginator().send();
    let mut aliases_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    match collect_pages(ctx, Service::Kms, aliases).await {
        Ok(pages) => {
            for a in pages.iter().flat_map(|p| p.aliases()) {
                if let (Some(name), Some(target)) = (a.alias_name(), a.target_key_id()) {
                    aliases_of
                        .entry(target.to_string())
                        .or_default()
                        .insert(name.to_string());
                }
            }
        }
        Err(e) => {
            fail(&mut read, "aws_kms_key aliases", error_message(&e));
            return read;
        }
    }
    let imported = scope.imported_kms.get(region).cloned().unwrap_or_default();
    let tagged = join_all(listed.iter().map(|id| async move {
        let tags = tags_of(ctx, region, id).await;
        (id, tags)
    }))
    .await;
    let ours: Vec<(&String, (Marked, Value))> = tagged
        .into_iter()
        .filter_map(|(id, tags)| match tags {
            Ok(Some(m)) if m.0.is_for(&scope.stack) || imported.contains(id.as_str()) => {
                Some(Ok((id, m)))
            }
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        })
        .filter_map(|r| match r {
            Ok(found) => Some(found),
            Err(e) => {
                read.errors.push(ReadError::new(TYPE, e).in_region(region));
                None
            }
        })
        .collect();
    let described = join_all(ours.into_iter().map(|(id, marked)| {
        let client = client.clone();
        async move {
            let key = send(ctx, Service::Kms, client.describe_key().key_id(id).send()).await;
            (id, marked, key)
        }
    }))
    .await;
    for (id, (marked, window), answer) in described {
        let meta = match answer {
            Ok(out) => match out.key_metadata {
                Some(m) => m,
                None => continue,
            },
            Err(e) => {
                fail(&mut read, TYPE, error_message(&e));
                continue;
            }
        };
        let multi = meta.multi_region_configuration();
        let replica =
            multi.and_then(|m| m.multi_region_key_type()) == Some(&MultiRegionKeyType::Replica);
        let enabled = meta.key_state() == Some(&KeyState::Enabled);
        let alias = aliases_of.get(id.as_str()).and_then(|names| {
            names
                .iter()
                .find(|n| scope.kms_aliases.contains(n.as_str()))
                .or_else(|| names.iter().next())
                .cloned()
        });
        let mut attrs = Map::new();
        attrs.insert(
            "description".into(),
            Value::String(meta.description().unwrap_or_default().to_string()),
        );
        attrs.insert("enabled".into(), Value::Bool(enabled));
        attrs.insert("alias".into(), opt_str(alias.as_deref()));
        attrs.insert("deletion_window_days".into(), window);
        let kind = if replica {
            attrs.insert(
                "primary_key".into(),
                opt_str(multi.and_then(|m| m.primary_key()).and_then(|p| p.arn())),
            );
            Kind::KmsReplicaKey
        } else {
            attrs.insert(
                "multi_region".into(),
                Value::Bool(meta.multi_region().unwrap_or(false)),
            );
            let rotation = send(
                ctx,
                Service::Kms,
                client.get_key_rotation_status().key_id(id).send(),
            )
            .await;
            match rotation {
                Ok(r) => {
                    attrs.insert(
                        "enable_key_rotation".into(),
                        Value::Bool(r.key_rotation_enabled()),
                    );
                }
                Err(e) => {
                    fail(&mut read, TYPE, error_message(&e));
                    continue;
                }
            }
            Kind::KmsKey
        };
        attrs.insert("tags".into(), marked.tags.clone());
        read.keep(
            scope,
            LiveObject {
                kind,
                id: meta.arn().unwrap_or(id).to_string(),
                region: Some(region.to_string()),
                address: marked.address.clone(),
                stack: marked.stack.clone(),
                attrs: attrs.into(),
            },
        );
    }
    read
}

fn opt_str(s: Option<&str>) -> Value {
    s.map_or(Value::Null, |s| Value::String(s.to_string()))
}

/// `drift --unmanaged`: the customer managed symmetric encryption keys and replicas of
/// `region` that no drplan stack marks and that are not being deleted (drplan drops
/// its marks from a key once it has scheduled its deletion), by their key id. Per
/// region one ListKeys, one ListResourceTags per key (AWS managed keys deny it) and
/// one DescribeKey per unmarked key.
pub(super) async fn unmanaged(ctx: &AwsContext, region: &str) -> super::unmanaged::Found {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    let client = ctx.kms(region);
    let listed = match key_ids(ctx, region).await {
        Ok(listed) => listed,
        Err(e) => {
            errors.push(e);
            return (found, errors);
        }
    };
    let tagged = join_all(listed.iter().map(|id| tags_of(ctx, region, id))).await;
    let mut unmarked = Vec::new();
    for (id, tags) in listed.iter().zip(tagged) {
        match tags {
            Ok(Some((marked, _))) if marked.stack.is_none() => unmarked.push(id),
            Ok(_) => {}
            Err(e) => errors.push(ReadError::new(TYPE, format!("{id}: {e}")).in_region(region)),
        }
    }
    let described = join_all(unmarked.iter().map(|id| {
        let client = client.clone();
        async move { send(ctx, Service::Kms, client.describe_key().key_id(*id).send()).await }
    }))
    .await;
    for (id, answer) in unmarked.into_iter().zip(described) {
        let meta = match answer {
            Ok(out) => match out.key_metadata {
                Some(m) => m,
                None => continue,
            },
            Err(e) => {
                errors.push(
                    ReadError::new(TYPE, format!("{id}: {}", error_message(&e))).in_region(region),
                );
                continue;
            }
        };
        let customer = meta.key_manager() != Some(&KeyManagerType::Aws);
        let symmetric = meta
            .key_spec()
            .is_none_or(|s| *s == KeySpec::SymmetricDefault)
            && meta
                .key_usage()
                .is_none_or(|u| *u == KeyUsageType::EncryptDecrypt);
        let leaving = matches!(
            meta.key_state(),
            Some(KeyState::PendingDeletion | KeyState::PendingReplicaDeletion)
        );
        if !customer || !symmetric || leaving {
            continue;
        }
        let replica = meta
            .multi_region_configuration()
            .and_then(|m| m.multi_region_key_type())
            == Some(&MultiRegionKeyType::Replica);
        found.push(drplan_core::live::Unmanaged {
            kind: if replica {
                Kind::KmsReplicaKey
            } else {
                Kind::KmsKey
            },
            id: id.clone(),
            region: Some(region.to_string()),
            within: None,
        });
    }
    (found, errors)
}
