//! S3 buckets. ListBuckets once for the account; then per bucket, because S3 has no
//! bulk read of bucket configuration: the location, and for buckets the spec names
//! or that are marked for the stack, tags, versioning, encryption, lifecycle and
//! replication (concurrently, under the S3 permit).
//!
//! Buckets the spec does not name are orphan candidates: their tags are read only
//! when they live in a region of the topology, so an account's unrelated buckets
//! elsewhere cost nothing.
//!
//! A bucket's region comes with the listing on AWS (`BucketRegion`). Where the
//! listing leaves it out (moto; S3-compatible stores), one ListBuckets per region of
//! the topology filtered by `bucket-region` says which buckets live there, and only
//! a bucket the spec names that none of them lists costs a GetBucketLocation (it
//! lives elsewhere): a handful of requests instead of one per bucket.

use super::marks::Marked;
use super::reach::Gate;
use super::requests::{collect_pages, send};
use super::BucketSettings;
use super::{FamilyRead, ReadScope};
use crate::aws::error::{error_code, error_message};
use crate::aws::{AwsContext, Service};
use aws_sdk_s3::types::{LifecycleRule, ReplicationRule};
use drplan_core::kinds::s3::{
    BucketAttrs, EncryptionAttrs, LifecycleRuleAttrs, LoggingAttrs, ObjectLockAttrs,
    ReplicationAttrs, ReplicationRuleAttrs, TransitionAttrs, LOG_DELIVERY_SID,
};
use drplan_core::live::LiveObject;
use drplan_core::live::ReadError;
use drplan_core::resource::{Kind, Resource};
use futures::future::join_all;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Error codes S3 answers for a configuration that was never set.
const NOT_CONFIGURED: [&str; 7] = [
    "NoSuchTagSet",
    "NoSuchBucketPolicy",
    "NoSuchPublicAccessBlockConfiguration",
    "ObjectLockConfigurationNotFoundError",
    "NoSuchLifecycleConfiguration",
    "ReplicationConfigurationNotFoundError",
    "ServerSideEncryptionConfigurationNotFoundError",
];

/// A bucket's name, and the optional settings its spec manages.
pub(super) fn scope(scope: &mut ReadScope, r: &Resource) {
    if r.kind != Kind::Bucket {
        return;
    }
    let settings = BucketSettings {
        public_access_block: r.attrs.contains_key("public_access_block"),
        object_lock: r.attrs.contains_key("object_lock"),
        logging: r.attrs.contains_key("logging"),
        log_delivery: r.attrs.contains_key("log_delivery"),
    };
    if let Some(name) = r.attrs.get("name").and_then(Value::as_str) {
        if settings != BucketSettings::default() {
            scope.bucket_settings.insert(name.to_string(), settings);
        }
        scope.bucket_names.insert(name.to_string());
    }
}

/// An imported bucket is read with everything a block can say, so the block written
/// says it.
pub(super) fn generate(scope: &mut ReadScope, kind: Kind, id: &str, _: &[String]) {
    if kind != Kind::Bucket {
        return;
    }
    scope.bucket_names.insert(id.to_string());
    scope.bucket_settings.insert(
        id.to_string(),
        BucketSettings {
            public_access_block: true,
            object_lock: true,
            // A `logging` block names its target by label, which an imported
            // bucket's log target may not have: not written.
            logging: false,
            log_delivery: false,
        },
    );
}

pub(super) async fn read(ctx: &AwsContext, scope: &ReadScope, gate: &Gate<'_>) -> FamilyRead {
    let mut read = FamilyRead::default();
    let buckets = match buckets_by_region(ctx, &scope.regions, &scope.bucket_names).await {
        Ok(buckets) => buckets,
        Err(msg) => {
            read.errors.push(ReadError::new("aws_s3_bucket", msg));
            return read;
        }
    };
    for part in join_all(
        buckets
            .iter()
            .map(|(name, region)| read_bucket(ctx, scope, gate, name, region.clone())),
    )
    .await
    {
        read.merge(part);
    }
    read
}

/// The account's buckets in `regions` and those of `named` wherever they are, each
/// with its region. A named bucket whose region cannot be read is listed with `Err`.
/// A region kept in a site account (`site_account`) is listed with its credentials.
pub(super) async fn buckets_by_region(
    ctx: &AwsContext,
    regions: &BTreeSet<String>,
    named: &BTreeSet<String>,
) -> Result<Vec<(String, Result<String, String>)>, String> {
    let listed = list_buckets(ctx, ctx.s3_global(), None).await?;
    let mut found: BTreeMap<String, String> = BTreeMap::new();
    let mut unplaced = Vec::new();
    for (name, region) in listed {
        match region {
            // A region kept in a site account is listed with its credentials below.
            Some(region) if ctx.has_site_account(&region) => {}
            Some(region) => {
                found.insert(name, region);
            }
            None => unplaced.push(name),
        }
    }
    let by_region = regions
        .iter()
        .filter(|region| !unplaced.is_empty() || ctx.has_site_account(region));
    for (region, names) in join_all(by_region.map(|region| async move {
        // Through the global endpoint: a region that does not answer (the outage a
        // failover plans for) still has its buckets listed, and read through the gate.
        let client = ctx.s3_global_for(region);
        (region, list_buckets(ctx, &client, Some(region)).await)
    }))
    .await
    {
        for (name, _) in names? {
            found.insert(name, region.clone());
        }
    }
    let elsewhere = join_all(
        unplaced
            .into_iter()
            .filter(|name| !found.contains_key(name) && named.contains(name))
            .map(|name| async move {
                let region = bucket_region(ctx, &name).await;
                (name, region)
            }),
    )
    .await;
    Ok(found
        .into_iter()
        .filter(|(name, region)| named.contains(name) || regions.contains(region))
        .map(|(name, region)| (name, Ok(region)))
        .chain(elsewhere)
        .collect())
}

/// Every bucket of the account (or of `region`: ListBuckets' `bucket-region`
/// filter), with its region where ListBuckets names it (real AWS does, as
/// BucketRegion; moto leaves it out).
async fn list_buckets(
    ctx: &AwsContext,
    client: &aws_sdk_s3::Client,
    region: Option<&str>,
) -> Result<Vec<(String, Option<String>)>, String> {
    let pages = collect_pages(
        ctx,
        Service::S3,
        client
            .list_buckets()
            .set_bucket_region(region.map(str::to_string))
            .into_paginator()
            .send(),
    )
    .await
    .map_err(|e| error_message(&e))?;
    Ok(pages
        .iter()
        .flat_map(|p| p.buckets())
        .filter_map(|b| Some((b.name()?.to_string(), b.bucket_region().map(str::to_string))))
        .collect())
}

async fn read_bucket(
    ctx: &AwsContext,
    scope: &ReadScope,
    gate: &Gate<'_>,
    name: &str,
    region: Result<String, String>,
) -> FamilyRead {
    let mut read = FamilyRead::default();
    let named = scope.bucket_names.contains(name);
    let region = match region {
        Ok(r) => r,
        Err(msg) => {
            if named {
                read.errors
                    .push(ReadError::new(format!("aws_s3_bucket {name}"), msg));
            }
            return read;
        }
    };
    if !named && !scope.regions.contains(&region) {
        return read;
    }
    gate.read(
        &region.clone(),
        Service::S3,
        read_in_region(ctx, scope, name, named, region),
    )
    .await
}

/// The bucket's tags (none when it has no tag set), from its region's endpoint.
pub(super) async fn bucket_tags(
    ctx: &AwsContext,
    name: &str,
    region: &str,
) -> Result<Vec<(String, String)>, String> {
    let out = not_configured_as_none(
        send(
            ctx,
            Service::S3,
            ctx.s3(region).get_bucket_tagging().bucket(name).send(),
        )
        .await,
    )?;
    Ok(out
        .map(|o| o.tag_set)
        .unwrap_or_default()
        .into_iter()
        .map(|t| (t.key, t.value))
        .collect())
}

/// The bucket's tags and configuration, from its region's endpoint.
async fn read_in_region(
    ctx: &AwsContext,
    scope: &ReadScope,
    name: &str,
    named: bool,
    region: String,
) -> FamilyRead {
    let mut read = FamilyRead::default();
    let client = ctx.s3(&region);
    let tagging = bucket_tags(ctx, name, &region);
    // A bucket the spec names is read whatever its tags say, so its configuration is
    // read beside the tags rather than after them: one round trip less per bucket on
    // the plan's longest chain. Other buckets are read only once marked as ours.
    let (tags, config) = if named {
        let (tags, config) = tokio::join!(
            tagging,
            Box::pin(bucket_config(
                ctx,
                &client,
                name,
                scope.bucket_settings.get(name)
            ))
        );
        (tags, Some(config))
    } else {
        (tagging.await, None)
    };
    let tags = match tags {
        Ok(tags) => tags,
        Err(msg) => {
            if named {
                read.errors
                    .push(ReadError::new(format!("aws_s3_bucket {name}"), msg));
            }
            return read;
        }
    };
    let marked = Marked::from_tags(tags);
    if !named && !marked.is_for(&scope.stack) {
        return read;
    }
    let config = match config {
        Some(config) => config,
        None => {
            Box::pin(bucket_config(
                ctx,
                &client,
                name,
                scope.bucket_settings.get(name),
            ))
            .await
        }
    };
    match config {
        Ok(mut attrs) => {
            attrs.insert("tags".into(), marked.tags);
            read.keep(
                scope,
                LiveObject {
                    kind: Kind::Bucket,
                    id: name.to_string(),
                    region: Some(region),
                    address: marked.address,
                    stack: marked.stack,
                    attrs: attrs.into(),
                },
            );
        }
        Err(msg) => read
            .errors
            .push(ReadError::new(format!("aws_s3_bucket {name}"), msg)),
    }
    read
}

pub(super) async fn bucket_region(ctx: &AwsContext, name: &str) -> Result<String, String> {
    let out = send(
        ctx,
        Service::S3,
        ctx.s3_global().get_bucket_location().bucket(name).send(),
    )
    .await
    .map_err(|e| error_message(&e))?;
    // us-east-1 is reported as no constraint; "EU" is the legacy name of eu-west-1.
    Ok(match out.location_constraint().map(|c| c.as_str()) {
        None | Some("") => "us-east-1".to_string(),
        Some("EU") => "eu-west-1".to_string(),
        Some(r) => r.to_string(),
    })
}

fn not_configured_as_none<T, E, R>(
    result: Result<T, aws_smithy_runtime_api::client::result::SdkError<E, R>>,
) -> Result<Option<T>, String>
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match result {
        Ok(out) => Ok(Some(out)),
        Err(e) if error_code(&e).is_some_and(|c| NOT_CONFIGURED.contains(&c)) => Ok(None),
        Err(e) => Err(error_message(&e)),
    }
}

/// Every attribute but `tags`, in the documented order. Callers box it: six requests
/// joined make a future large enough to overflow a test thread's stack in debug
/// builds when many buckets are read at once.
async fn bucket_config(
    ctx: &AwsContext,
    client: &aws_sdk_s3::Client,
    name: &str,
    settings: Option<&super::BucketSettings>,
) -> Result<Map<String, Value>, String> {
    let wants = settings.copied().unwrap_or_default();
    // Read only where the spec manages them: a request per bucket less otherwise.
    let public_access = async {
        match wants.public_access_block {
            true => Some(
                send(
                    ctx,
                    Service::S3,
                    client.get_public_access_block().bucket(name).send(),
                )
                .await,
            ),
            false => None,
        }
    };
    let object_lock = async {
        match wants.object_lock {
            true => Some(
                send(
                    ctx,
                    Service::S3,
                    client.get_object_lock_configuration().bucket(name).send(),
                )
                .await,
            ),
            false => None,
        }
    };
    let logging = async {
        match wants.logging {
            true => Some(
                send(
                    ctx,
                    Service::S3,
                    client.get_bucket_logging().bucket(name).send(),
                )
                .await,
            ),
            false => None,
        }
    };
    let policy = async {
        match wants.log_delivery {
            true => Some(
                send(
                    ctx,
                    Service::S3,
                    client.get_bucket_policy().bucket(name).send(),
                )
                .await,
            ),
            false => None,
        }
    };
    let (public_access, object_lock, logging, policy) =
        tokio::join!(public_access, object_lock, logging, policy);
    let logging = match logging {
        Some(r) => Some(
            r.map_err(|e| error_message(&e))?
                .logging_enabled()
                .map(|l| LoggingAttrs {
                    target_bucket: l.target_bucket().to_string(),
                    prefix: l.target_prefix().to_string(),
                }),
        ),
        None => None,
    };
    let log_delivery = match policy {
        Some(r) => Some(log_delivery_sources(
            not_configured_as_none(r)?.as_ref().and_then(|p| p.policy()),
        )),
        None => None,
    };
    let public_access_block = match public_access {
        Some(r) => Some(not_configured_as_none(r)?.is_some_and(|o| {
            o.public_access_block_configuration().is_some_and(|c| {
                c.block_public_acls() == Some(true)
                    && c.ignore_public_acls() == Some(true)
                    && c.block_public_policy() == Some(true)
                    && c.restrict_public_buckets() == Some(true)
            })
        })),
        None => None,
    };
    let object_lock = match object_lock {
        Some(r) => Some(not_configured_as_none(r)?.and_then(|o| {
            let retention = o.object_lock_configuration()?.rule()?.default_retention()?;
            let days = retention
                .days()
                .map(i64::from)
                .or(retention.years().map(|y| i64::from(y) * 365))?;
            Some(ObjectLockAttrs {
                mode: retention.mode()?.as_str().to_string(),
                days,
            })
        })),
        None => None,
    };
    let (versioning, encryption, lifecycle, replication) = tokio::join!(
        send(
            ctx,
            Service::S3,
            client.get_bucket_versioning().bucket(name).send()
        ),
        send(
            ctx,
            Service::S3,
            client.get_bucket_encryption().bucket(name).send()
        ),
        send(
            ctx,
            Service::S3,
            client
                .get_bucket_lifecycle_configuration()
                .bucket(name)
                .send()
        ),
        send(
            ctx,
            Service::S3,
            client.get_bucket_replication().bucket(name).send()
        ),
    );
    let versioning = versioning.map_err(|e| error_message(&e))?;
    let encryption = not_configured_as_none(encryption)?;
    let lifecycle = not_configured_as_none(lifecycle)?;
    let replication = not_configured_as_none(replication)?;

    let default_encryption = encryption.as_ref().and_then(|e| {
        e.server_side_encryption_configuration()?
            .rules()
            .iter()
            .find_map(|r| r.apply_server_side_encryption_by_default())
    });
    let attrs = BucketAttrs {
        name: name.to_string(),
        versioning: versioning.status().is_some_and(|s| s.as_str() == "Enabled"),
        encryption: default_encryption.map(|d| EncryptionAttrs {
            algorithm: d.sse_algorithm().as_str().to_string(),
            kms_key_id: d.kms_master_key_id().map(str::to_string),
        }),
        lifecycle_rules: lifecycle
            .as_ref()
            .map(|l| l.rules())
            .unwrap_or_default()
            .iter()
            .map(lifecycle_rule)
            .collect(),
        replication: replication
            .as_ref()
            .and_then(|r| r.replication_configuration())
            .map(|config| ReplicationAttrs {
                role_arn: config.role().to_string(),
                rules: config.rules().iter().map(replication_rule).collect(),
            }),
        public_access_block,
        object_lock,
        logging,
        log_delivery,
        // Added by the caller, from the tag set it read first.
        tags: None,
    };
    Ok(attrs.into_attrs())
}

/// The source buckets (names, sorted) the policy's `drplan-access-logs` statement lets
/// the S3 logging service write for; none without the statement (or the policy).
fn log_delivery_sources(policy: Option<&str>) -> Vec<String> {
    let policy: Value = policy
        .and_then(|p| serde_json::from_str(p).ok())
        .unwrap_or(Value::Null);
    let statements = match policy.get("Statement") {
        Some(Value::Array(items)) => items.clone(),
        Some(one) => vec![one.clone()],
        None => Vec::new(),
    };
    let mut sources: Vec<String> = statements
        .iter()
        .filter(|s| s.get("Sid").and_then(Value::as_str) == Some(LOG_DELIVERY_SID))
        .filter_map(|s| s.pointer("/Condition/ArnLike/aws:SourceArn"))
        .flat_map(|arns| match arns {
            Value::Array(items) => items.clone(),
            one => vec![one.clone()],
        })
        .filter_map(|a| {
            a.as_str()?
                .strip_prefix("arn:aws:s3:::")
                .map(str::to_string)
        })
        .collect();
    sources.sort();
    sources.dedup();
    sources
}

fn lifecycle_rule(rule: &LifecycleRule) -> LifecycleRuleAttrs {
    // The prefix moved from the rule into its filter; either form may come back.
    let prefix = rule
        .filter()
        .and_then(|f| f.prefix().or_else(|| f.and().and_then(|a| a.prefix())))
        .or(legacy_lifecycle_prefix(rule))
        .unwrap_or("");
    let mut transitions: Vec<TransitionAttrs> = rule
        .transitions()
        .iter()
        .map(|t| TransitionAttrs {
            days: t.days().map(i64::from),
            storage_class: t.storage_class().map(|c| c.as_str().to_string()),
        })
        .collect();
    transitions.sort_by_key(|t| t.days);
    LifecycleRuleAttrs {
        id: rule.id().unwrap_or("").to_string(),
        prefix: prefix.to_string(),
        expiration_days: rule.expiration().and_then(|e| e.days()).map(i64::from),
        noncurrent_expiration_days: rule
            .noncurrent_version_expiration()
            .and_then(|e| e.noncurrent_days())
            .map(i64::from),
        transitions,
    }
}

fn replication_rule(rule: &ReplicationRule) -> ReplicationRuleAttrs {
    let prefix = rule
        .filter()
        .and_then(|f| f.prefix().or_else(|| f.and().and_then(|a| a.prefix())))
        .or(legacy_replication_prefix(rule))
        .unwrap_or("");
    let destination = rule.destination();
    let bucket_arn = destination.map(|d| d.bucket()).unwrap_or("");
    ReplicationRuleAttrs {
        id: rule.id().unwrap_or("").to_string(),
        prefix: prefix.to_string(),
        destination_bucket: bucket_arn
            .strip_prefix("arn:aws:s3:::")
            .unwrap_or(bucket_arn)
            .to_string(),
        storage_class: destination
            .and_then(|d| d.storage_class())
            .map(|c| c.as_str().to_string()),
        replica_kms_key_id: destination
            .and_then(|d| d.encryption_configuration())
            .and_then(|e| e.replica_kms_key_id())
            .map(str::to_string),
    }
}

// Rules written before S3 introduced filters still carry the rule-level prefix.
#[allow(deprecated)]
fn legacy_lifecycle_prefix(rule: &LifecycleRule) -> Option<&str> {
    rule.prefix()
}

#[allow(deprecated)]
fn legacy_replication_prefix(rule: &ReplicationRule) -> Option<&str> {
    rule.prefix()
}
