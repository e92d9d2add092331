//! S3 buckets: identified by name. The marks are written with PutBucketTagging right
//! after CreateBucket; every other setting is an idempotent put, so a create that
//! adopts a half-configured bucket from an interrupted run simply finishes the job.

use super::adopt;
use super::attrs::{tags_with_marks, Attrs};
use super::context::{aws_error, change_region as region, error_code, ApplyContext};
use super::idempotency::{failpoint, FailpointPhase};
use anyhow::{anyhow, Result};
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, BucketLocationConstraint, BucketLoggingStatus,
    BucketVersioningStatus, CreateBucketConfiguration, DefaultRetention, DeleteMarkerReplication,
    DeleteMarkerReplicationStatus, Destination, EncryptionConfiguration, ExpirationStatus,
    LifecycleExpiration, LifecycleRule, LifecycleRuleFilter, LoggingEnabled,
    NoncurrentVersionExpiration, ObjectLockConfiguration, ObjectLockEnabled,
    ObjectLockRetentionMode, ObjectLockRule, PublicAccessBlockConfiguration,
    ReplicationConfiguration, ReplicationRule, ReplicationRuleFilter, ReplicationRuleStatus,
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule, SourceSelectionCriteria, SseKmsEncryptedObjects,
    SseKmsEncryptedObjectsStatus, StorageClass, Tag, Tagging, Transition, TransitionStorageClass,
    VersioningConfiguration,
};
use aws_sdk_s3::Client;
use drplan_core::address::Address;
use drplan_core::kinds::s3::{
    EncryptionAttrs, LifecycleRuleAttrs, LoggingAttrs, ObjectLockAttrs, ReplicationAttrs,
    LOG_DELIVERY_SID,
};
use drplan_core::marks;
use drplan_core::plan::ResourceChange;
use serde_json::Value;

fn build_err(
    what: &'static str,
) -> impl FnOnce(aws_smithy_types::error::operation::BuildError) -> anyhow::Error {
    move |e| anyhow!("invalid {what}: {e}")
}

/// Whether the bucket exists and, if so, whether it is this address's to adopt.
async fn existing_bucket(s3: &Client, name: &str, stack: &str, address: &Address) -> Result<bool> {
    match s3.head_bucket().bucket(name).send().await {
        Ok(_) => {}
        Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => return Ok(false),
        Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => return Ok(false),
        Err(e) => return Err(aws_error("HeadBucket")(e)),
    }
    let tags = bucket_tag_set(s3, name).await?;
    let tag = |k: &str| tags.get(k).map(String::as_str);
    match (tag(marks::STACK_KEY), tag(marks::ADDRESS_KEY)) {
        (Some(s), Some(a)) if s == stack && a == address.as_str() => Ok(true),
        // The plan saw no bucket of this name, so an unmarked one appearing since is the
        // remains of an apply that stopped between CreateBucket and PutBucketTagging.
        (None, None) => Ok(true),
        _ => Err(anyhow!("bucket {name} already exists and is marked as another object; drplan will not adopt it")),
    }
}

pub async fn create_bucket(ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<String> {
    let attrs = Attrs::after(change)?;
    let region = region(change)?;
    let s3 = ctx.clients.s3(region);
    let name = attrs.str("name")?;
    if !existing_bucket(&s3, name, ctx.stack, &change.address).await? {
        adopt::announce(ctx, change).await?;
        let mut create = s3.create_bucket().bucket(name);
        if region != "us-east-1" {
            create = create.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(region))
                    .build(),
            );
        }
        match create.send().await {
            Ok(_) => {}
            Err(e) if error_code(&e) == Some("BucketAlreadyOwnedByYou") => {}
            Err(e) => return Err(aws_error("CreateBucket")(e)),
        }
        failpoint(&change.address, FailpointPhase::Created);
    }
    put_tags(ctx, &s3, change, &attrs).await?;
    adopt::confirm(ctx, &change.address).await;
    put_versioning(&s3, name, attrs.bool("versioning")).await?;
    put_public_access_block(&s3, name, &attrs).await?;
    put_object_lock(&s3, name, &attrs).await?;
    put_encryption(ctx, &s3, region, name, &attrs).await?;
    put_lifecycle(&s3, name, &attrs).await?;
    put_log_delivery(&s3, name, &attrs).await?;
    // The replication configuration and the access logging are the change's link step
    // (`steps::Phase::Link`).
    Ok(name.to_string())
}

/// A bucket's link step, once it and the buckets it names exist: its replication
/// configuration (put, or deleted when the spec has none) and its access logging.
/// An update puts only what changed.
pub async fn link_bucket(ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<()> {
    let attrs = Attrs::after(change)?;
    let s3 = ctx.clients.s3(region(change)?);
    let name = attrs.str("name")?;
    let changed = super::attrs::changed_keys(change);
    let update = change.action == drplan_core::plan::Action::Update;
    if !update || changed.contains("replication") {
        put_replication(ctx, &s3, name, &attrs).await?;
    }
    if !update || changed.contains("logging") {
        put_logging(&s3, name, &attrs).await?;
    }
    Ok(())
}

/// The access logging a spec declares: delivered to the target bucket under the
/// prefix, or (`null`) off. Absent: not managed, left as it is.
async fn put_logging(s3: &Client, name: &str, attrs: &Attrs<'_>) -> Result<()> {
    let Some(logging) = typed::<Option<Option<LoggingAttrs>>>(attrs, "logging")? else {
        return Ok(());
    };
    let mut status = BucketLoggingStatus::builder();
    if let Some(l) = logging {
        status = status.logging_enabled(
            LoggingEnabled::builder()
                .target_bucket(&l.target_bucket)
                .target_prefix(&l.prefix)
                .build()
                .map_err(build_err("logging target"))?,
        );
    }
    s3.put_bucket_logging()
        .bucket(name)
        .bucket_logging_status(status.build())
        .send()
        .await
        .map_err(aws_error("PutBucketLogging"))?;
    Ok(())
}

/// A log target's `drplan-access-logs` policy statement: the S3 logging service may
/// write objects for the listed source buckets (and only those). The policy's other
/// statements are read and kept; the statement is dropped when no source is left.
async fn put_log_delivery(s3: &Client, name: &str, attrs: &Attrs<'_>) -> Result<()> {
    let Some(sources) = typed::<Option<Vec<String>>>(attrs, "log_delivery")? else {
        return Ok(());
    };
    let current = match s3.get_bucket_policy().bucket(name).send().await {
        Ok(out) => out.policy().map(str::to_string),
        Err(e) if error_code(&e) == Some("NoSuchBucketPolicy") => None,
        Err(e) => return Err(aws_error("GetBucketPolicy")(e)),
    };
    let mut policy: serde_json::Map<String, Value> = match current.as_deref() {
        Some(text) => serde_json::from_str(text).map_err(|e| {
            anyhow!("the bucket policy of {name} is not JSON ({e}); fix it by hand")
        })?,
        None => serde_json::Map::from_iter([("Version".to_string(), Value::from("2012-10-17"))]),
    };
    let mut statements: Vec<Value> = match policy.remove("Statement") {
        Some(Value::Array(items)) => items,
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    statements.retain(|s| s.get("Sid").and_then(Value::as_str) != Some(LOG_DELIVERY_SID));
    if !sources.is_empty() {
        statements.push(log_delivery_statement(name, &sources));
    }
    if statements.is_empty() {
        return match s3.delete_bucket_policy().bucket(name).send().await {
            Ok(_) => Ok(()),
            Err(e) if error_code(&e) == Some("NoSuchBucketPolicy") => Ok(()),
            Err(e) => Err(aws_error("DeleteBucketPolicy")(e)),
        };
    }
    policy.insert("Statement".into(), Value::Array(statements));
    s3.put_bucket_policy()
        .bucket(name)
        .policy(Value::Object(policy).to_string())
        .send()
        .await
        .map_err(aws_error("PutBucketPolicy"))?;
    Ok(())
}

/// The statement S3 server access logging needs on a target bucket (AWS's documented
/// form: the logging service principal, PutObject, limited to the source buckets).
fn log_delivery_statement(target: &str, sources: &[String]) -> Value {
    let arns: Vec<String> = sources
        .iter()
        .map(|s| format!("arn:aws:s3:::{s}"))
        .collect();
    serde_json::json!({
        "Sid": LOG_DELIVERY_SID,
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": format!("arn:aws:s3:::{target}/*"),
        "Condition": {"ArnLike": {"aws:SourceArn": arns}},
    })
}

pub async fn update_bucket(
    ctx: &ApplyContext<'_>,
    change: &ResourceChange,
    changed: &[String],
) -> Result<()> {
    let attrs = Attrs::after(change)?;
    let s3 = ctx.clients.s3(region(change)?);
    let name = attrs.str("name")?;
    for key in in_create_order(changed) {
        match key {
            "tags" => put_tags(ctx, &s3, change, &attrs).await?,
            "versioning" => put_versioning(&s3, name, attrs.bool("versioning")).await?,
            "public_access_block" => put_public_access_block(&s3, name, &attrs).await?,
            "object_lock" => put_object_lock(&s3, name, &attrs).await?,
            "encryption" => put_encryption(ctx, &s3, region(change)?, name, &attrs).await?,
            "lifecycle_rules" => put_lifecycle(&s3, name, &attrs).await?,
            "log_delivery" => put_log_delivery(&s3, name, &attrs).await?,
            // The link step's (`link_bucket`).
            "replication" | "logging" => {}
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

/// The order a create puts settings in, which S3 depends on: replication is refused
/// while the bucket's versioning is off, so a bucket left unversioned by an
/// interrupted create must get versioning before replication on update too.
const SETTINGS_ORDER: [&str; 9] = [
    "tags",
    "versioning",
    "public_access_block",
    // Object Lock locks versions: after versioning.
    "object_lock",
    "encryption",
    "lifecycle_rules",
    "log_delivery",
    "replication",
    "logging",
];

fn in_create_order(changed: &[String]) -> Vec<&str> {
    let rank = |k: &str| {
        SETTINGS_ORDER
            .iter()
            .position(|s| *s == k)
            .unwrap_or(SETTINGS_ORDER.len())
    };
    let mut keys: Vec<&str> = changed.iter().map(String::as_str).collect();
    keys.sort_by_key(|k| rank(k));
    keys
}

pub async fn delete_bucket(ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<()> {
    let attrs = Attrs::before(change)?;
    let s3 = ctx.clients.s3(region(change)?);
    let name = attrs.str("name")?;
    match s3.delete_bucket().bucket(name).send().await {
        Ok(_) => Ok(()),
        Err(e) if error_code(&e) == Some("NoSuchBucket") => Ok(()),
        // Emptying a backup bucket is a decision for a human, not a side effect.
        Err(e) if error_code(&e) == Some("BucketNotEmpty") => Err(anyhow!(
            "DeleteBucket: bucket {name} still holds objects; drplan does not delete backups — empty it \
             (all versions) yourself, then apply again"
        )),
        Err(e) => Err(aws_error("DeleteBucket")(e)),
    }
}

pub(super) async fn put_tags(
    ctx: &ApplyContext<'_>,
    s3: &Client,
    change: &ResourceChange,
    attrs: &Attrs<'_>,
) -> Result<()> {
    let name = attrs.str("name")?;
    let tags = tags_with_marks(ctx.stack, &change.address, &attrs.str_map("tags"));
    put_bucket_tag_set(s3, name, tags).await
}

/// Versioning as S3 reports it. `Unknown` when the answer cannot be read: moto 5.2
/// answers GetBucketVersioning with a `GetBucketVersioningResponse` root element that
/// the SDK rejects, and apply must still work there.
#[derive(Debug, PartialEq)]
enum Versioning {
    Enabled,
    SuspendedOrNever,
    Unknown,
}

async fn read_versioning(s3: &Client, name: &str) -> Result<Versioning> {
    match s3.get_bucket_versioning().bucket(name).send().await {
        Ok(out) if out.status() == Some(&BucketVersioningStatus::Enabled) => {
            Ok(Versioning::Enabled)
        }
        Ok(out) if out.status().is_none() => Ok(Versioning::SuspendedOrNever),
        Ok(_) => Ok(Versioning::SuspendedOrNever),
        Err(e)
            if error_code(&e).is_none()
                && e.raw_response().is_some_and(|r| r.status().is_success()) =>
        {
            Ok(Versioning::Unknown)
        }
        Err(e) => Err(aws_error("GetBucketVersioning")(e)),
    }
}

async fn put_versioning(s3: &Client, name: &str, enabled: bool) -> Result<()> {
    let status = if enabled {
        BucketVersioningStatus::Enabled
    } else {
        BucketVersioningStatus::Suspended
    };
    if !enabled {
        // A never-versioned bucket must stay unversioned: "Suspended" is not a no-op.
        // When the state cannot be read, leave it alone rather than guess.
        let out = s3.get_bucket_versioning().bucket(name).send().await;
        match out {
            Ok(o) if o.status().is_none() => return Ok(()),
            Ok(_) => {}
            Err(_) => return Ok(()),
        }
    }
    s3.put_bucket_versioning()
        .bucket(name)
        .versioning_configuration(VersioningConfiguration::builder().status(status).build())
        .send()
        .await
        .map_err(aws_error("PutBucketVersioning"))?;
    Ok(())
}

/// One part of the bucket's planned attributes, typed as the lowering and the reader
/// build it (`kinds::s3::BucketAttrs`).
fn typed<T: serde::de::DeserializeOwned>(attrs: &Attrs<'_>, key: &str) -> Result<T> {
    serde_json::from_value(attrs.get(key).cloned().unwrap_or(Value::Null)).map_err(|e| {
        anyhow!(
            "{}: `{key}` is not in the normalized form: {e}",
            attrs.address
        )
    })
}

/// A day count as S3 takes it.
fn days(n: Option<i64>) -> Option<i32> {
    n.and_then(|n| i32::try_from(n).ok())
}

/// All four public access block settings on, or the configuration deleted; nothing
/// when the spec does not manage it.
async fn put_public_access_block(s3: &Client, name: &str, attrs: &Attrs<'_>) -> Result<()> {
    match typed::<Option<bool>>(attrs, "public_access_block")? {
        None => Ok(()),
        Some(true) => {
            let config = PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build();
            s3.put_public_access_block()
                .bucket(name)
                .public_access_block_configuration(config)
                .send()
                .await
                .map_err(aws_error("PutPublicAccessBlock"))?;
            Ok(())
        }
        Some(false) => match s3.delete_public_access_block().bucket(name).send().await {
            Ok(_) => Ok(()),
            Err(e) if error_code(&e) == Some("NoSuchPublicAccessBlockConfiguration") => Ok(()),
            Err(e) => Err(aws_error("DeletePublicAccessBlock")(e)),
        },
    }
}

/// Object Lock on, with the default retention the spec gives. S3 cannot turn a lock
/// off: a spec that drops its `object_lock` block stops managing it (not read).
async fn put_object_lock(s3: &Client, name: &str, attrs: &Attrs<'_>) -> Result<()> {
    let Some(Some(lock)) = typed::<Option<Option<ObjectLockAttrs>>>(attrs, "object_lock")? else {
        return Ok(());
    };
    let days = i32::try_from(lock.days)
        .map_err(|_| anyhow!("{}: object lock retention too long", attrs.address))?;
    let retention = DefaultRetention::builder()
        .mode(ObjectLockRetentionMode::from(lock.mode.as_str()))
        .days(days)
        .build();
    let config = ObjectLockConfiguration::builder()
        .object_lock_enabled(ObjectLockEnabled::Enabled)
        .rule(
            ObjectLockRule::builder()
                .default_retention(retention)
                .build(),
        )
        .build();
    s3.put_object_lock_configuration()
        .bucket(name)
        .object_lock_configuration(config)
        .send()
        .await
        .map_err(aws_error("PutObjectLockConfiguration"))?;
    Ok(())
}

async fn put_encryption(
    ctx: &ApplyContext<'_>,
    s3: &Client,
    region: &str,
    name: &str,
    attrs: &Attrs<'_>,
) -> Result<()> {
    let Some(enc) = typed::<Option<EncryptionAttrs>>(attrs, "encryption")? else {
        match s3.delete_bucket_encryption().bucket(name).send().await {
            Ok(_) => return Ok(()),
            Err(e) if error_code(&e) == Some("ServerSideEncryptionConfigurationNotFoundError") => {
                return Ok(())
            }
            Err(e) => return Err(aws_error("DeleteBucketEncryption")(e)),
        }
    };
    let default = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::from(enc.algorithm.as_str()))
        .set_kms_master_key_id(
            enc.kms_key_id
                .map(|k| super::kms::key_in_region(ctx, &k, region))
                .transpose()?,
        )
        .build()
        .map_err(build_err("encryption"))?;
    let config = ServerSideEncryptionConfiguration::builder()
        .rules(
            ServerSideEncryptionRule::builder()
                .apply_server_side_encryption_by_default(default)
                .build(),
        )
        .build()
        .map_err(build_err("encryption"))?;
    s3.put_bucket_encryption()
        .bucket(name)
        .server_side_encryption_configuration(config)
        .send()
        .await
        .map_err(aws_error("PutBucketEncryption"))?;
    Ok(())
}

async fn put_lifecycle(s3: &Client, name: &str, attrs: &Attrs<'_>) -> Result<()> {
    let rules: Vec<LifecycleRuleAttrs> =
        typed::<Option<_>>(attrs, "lifecycle_rules")?.unwrap_or_default();
    if rules.is_empty() {
        match s3.delete_bucket_lifecycle().bucket(name).send().await {
            Ok(_) => return Ok(()),
            Err(e) if error_code(&e) == Some("NoSuchLifecycleConfiguration") => return Ok(()),
            Err(e) => return Err(aws_error("DeleteBucketLifecycle")(e)),
        }
    }
    let mut built = Vec::new();
    for r in rules {
        let mut rule = LifecycleRule::builder()
            .id(r.id)
            .filter(LifecycleRuleFilter::builder().prefix(r.prefix).build())
            .status(ExpirationStatus::Enabled);
        if let Some(days) = days(r.expiration_days) {
            rule = rule.expiration(LifecycleExpiration::builder().days(days).build());
        }
        if let Some(days) = days(r.noncurrent_expiration_days) {
            rule = rule.noncurrent_version_expiration(
                NoncurrentVersionExpiration::builder()
                    .noncurrent_days(days)
                    .build(),
            );
        }
        for t in r.transitions {
            rule = rule.transitions(
                Transition::builder()
                    .set_days(days(t.days))
                    .set_storage_class(t.storage_class.as_deref().map(TransitionStorageClass::from))
                    .build(),
            );
        }
        built.push(rule.build().map_err(build_err("lifecycle rule"))?);
    }
    s3.put_bucket_lifecycle_configuration()
        .bucket(name)
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .set_rules(Some(built))
                .build()
                .map_err(build_err("lifecycle"))?,
        )
        .send()
        .await
        .map_err(aws_error("PutBucketLifecycleConfiguration"))?;
    Ok(())
}

async fn put_replication(
    ctx: &ApplyContext<'_>,
    s3: &Client,
    name: &str,
    attrs: &Attrs<'_>,
) -> Result<()> {
    let Some(repl) = typed::<Option<ReplicationAttrs>>(attrs, "replication")? else {
        match s3.delete_bucket_replication().bucket(name).send().await {
            Ok(_) => return Ok(()),
            Err(e) if error_code(&e) == Some("ReplicationConfigurationNotFoundError") => {
                return Ok(())
            }
            Err(e) => return Err(aws_error("DeleteBucketReplication")(e)),
        }
    };
    let role = repl.role_arn;
    let mut built = Vec::new();
    for (priority, r) in repl.rules.into_iter().enumerate() {
        let dest = r.destination_bucket.as_str();
        let dest_region = require_versioned_destination(ctx, dest).await?;
        let replica_key = r
            .replica_kms_key_id
            .as_deref()
            .map(|k| super::kms::key_in_region(ctx, k, &dest_region))
            .transpose()?;
        let destination = Destination::builder()
            .bucket(format!("arn:aws:s3:::{dest}"))
            .set_storage_class(r.storage_class.as_deref().map(StorageClass::from))
            .set_encryption_configuration(replica_key.map(|key| {
                EncryptionConfiguration::builder()
                    .replica_kms_key_id(key)
                    .build()
            }))
            .build()
            .map_err(build_err("replication destination"))?;
        // With a replica key, SSE-KMS objects are replicated (S3 skips them otherwise).
        let kms_objects = match &r.replica_kms_key_id {
            Some(_) => Some(
                SourceSelectionCriteria::builder()
                    .sse_kms_encrypted_objects(
                        SseKmsEncryptedObjects::builder()
                            .status(SseKmsEncryptedObjectsStatus::Enabled)
                            .build()
                            .map_err(build_err("SSE-KMS source selection"))?,
                    )
                    .build(),
            ),
            None => None,
        };
        built.push(
            ReplicationRule::builder()
                .id(r.id)
                .set_source_selection_criteria(kms_objects)
                .priority(i32::try_from(priority).unwrap_or(i32::MAX))
                .filter(ReplicationRuleFilter::builder().prefix(r.prefix).build())
                .status(ReplicationRuleStatus::Enabled)
                .delete_marker_replication(
                    DeleteMarkerReplication::builder()
                        .status(DeleteMarkerReplicationStatus::Disabled)
                        .build(),
                )
                .destination(destination)
                .build()
                .map_err(build_err("replication rule"))?,
        );
    }
    s3.put_bucket_replication()
        .bucket(name)
        .replication_configuration(
            ReplicationConfiguration::builder()
                .role(role)
                .set_rules(Some(built))
                .build()
                .map_err(build_err("replication"))?,
        )
        .send()
        .await
        .map_err(aws_error("PutBucketReplication"))?;
    Ok(())
}

/// Replication is refused by S3 unless the destination exists with versioning on. The
/// walk orders the destination's create first when it is in the same plan; this
/// check turns a confusing S3 error into one naming the bucket.
/// Checks that the destination is versioned; returns its region.
async fn require_versioned_destination(ctx: &ApplyContext<'_>, dest: &str) -> Result<String> {
    // The destination lives in another region; ask where, since the SDK does not
    // follow S3's cross-region redirects. GetBucketLocation is answered from anywhere.
    let location = ctx
        .clients
        .s3("us-east-1")
        .get_bucket_location()
        .bucket(dest)
        .send()
        .await;
    let dest_region = match location {
        Ok(out) => match out.location_constraint().map(|l| l.as_str()) {
            None | Some("") => "us-east-1".to_string(),
            Some("EU") => "eu-west-1".to_string(),
            Some(r) => r.to_string(),
        },
        Err(e) if error_code(&e) == Some("NoSuchBucket") => {
            return Err(anyhow!(
                "replication destination bucket {dest} does not exist"
            ))
        }
        Err(e) => return Err(aws_error("GetBucketLocation")(e)),
    };
    let s3 = ctx.clients.s3(&dest_region);
    match read_versioning(&s3, dest).await? {
        Versioning::Enabled | Versioning::Unknown => Ok(dest_region),
        Versioning::SuspendedOrNever => Err(anyhow!(
            "replication destination bucket {dest} does not have versioning enabled"
        )),
    }
}

/// A bucket's tags as a map (none: empty).
pub(super) async fn bucket_tag_set(
    s3: &aws_sdk_s3::Client,
    name: &str,
) -> Result<std::collections::BTreeMap<String, String>> {
    match s3.get_bucket_tagging().bucket(name).send().await {
        Ok(out) => Ok(out
            .tag_set()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect()),
        Err(e) if error_code(&e) == Some("NoSuchTagSet") => Ok(Default::default()),
        Err(e) => Err(aws_error("GetBucketTagging")(e)),
    }
}

/// Writes `tags` as the bucket's whole tag set (PutBucketTagging replaces it).
pub(super) async fn put_bucket_tag_set(
    s3: &aws_sdk_s3::Client,
    name: &str,
    tags: std::collections::BTreeMap<String, String>,
) -> Result<()> {
    let mut set = Vec::new();
    for (k, v) in tags {
        set.push(
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(build_err("tag"))?,
        );
    }
    s3.put_bucket_tagging()
        .bucket(name)
        .tagging(
            Tagging::builder()
                .set_tag_set(Some(set))
                .build()
                .map_err(build_err("tagging"))?,
        )
        .send()
        .await
        .map_err(aws_error("PutBucketTagging"))?;
    Ok(())
}

pub struct BucketApplier;

#[async_trait::async_trait]
impl super::family::Applier for BucketApplier {
    async fn create(&self, ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<String> {
        create_bucket(ctx, change).await
    }

    async fn update(
        &self,
        ctx: &ApplyContext<'_>,
        change: &ResourceChange,
        changed: &[String],
    ) -> Result<()> {
        update_bucket(ctx, change, changed).await
    }

    async fn delete(&self, ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<()> {
        delete_bucket(ctx, change).await
    }

    async fn link(&self, ctx: &ApplyContext<'_>, change: &ResourceChange) -> Result<()> {
        link_bucket(ctx, change).await
    }

    async fn mark(
        &self,
        ctx: &ApplyContext<'_>,
        change: &ResourceChange,
        _id: &str,
        _tags: std::collections::BTreeMap<String, String>,
    ) -> Result<()> {
        let after = Attrs::after(change)?;
        put_tags(ctx, &ctx.clients.s3(region(change)?), change, &after).await
    }

    /// PutBucketTagging replaces the whole set, so the set is read, the mark swapped
    /// and everything else written back as found.
    async fn remark(
        &self,
        ctx: &ApplyContext<'_>,
        change: &ResourceChange,
        id: &str,
    ) -> Result<()> {
        let s3 = ctx.clients.s3(region(change)?);
        let tags = bucket_tag_set(&s3, id).await?;
        put_bucket_tag_set(&s3, id, with_address(tags, &change.address)).await
    }

    /// The set is written back without the marks (deleted when nothing else is left).
    async fn forget(
        &self,
        ctx: &ApplyContext<'_>,
        change: &ResourceChange,
        id: &str,
    ) -> Result<()> {
        let s3 = ctx.clients.s3(region(change)?);
        let mut tags = bucket_tag_set(&s3, id).await?;
        tags.retain(|k, _| !super::family::MARKS.contains(&k.as_str()));
        if tags.is_empty() {
            s3.delete_bucket_tagging()
                .bucket(id)
                .send()
                .await
                .map_err(aws_error("DeleteBucketTagging"))?;
            return Ok(());
        }
        put_bucket_tag_set(&s3, id, tags).await
    }
}

/// A tag set with the address mark set to `address`; every other tag kept.
fn with_address(
    mut tags: std::collections::BTreeMap<String, String>,
    address: &Address,
) -> std::collections::BTreeMap<String, String> {
    tags.insert(marks::ADDRESS_KEY.to_string(), address.to_string());
    tags
}

#[cfg(test)]
mod remark_tests {
    use super::*;
    use std::collections::BTreeMap;

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
