//! aws_s3_bucket -> `bucket`, with the split configuration resources folded in by
//! their `bucket` attribute: aws_s3_bucket_versioning (`versioning`),
//! aws_s3_bucket_server_side_encryption_configuration (`encryption`),
//! aws_s3_bucket_lifecycle_configuration (`lifecycle_rule`s) and
//! aws_s3_bucket_replication_configuration (`replication`). Without a split
//! resource, the bucket's own (computed) `versioning`,
//! `server_side_encryption_configuration`, `lifecycle_rule` and
//! `replication_configuration` are read. A rule drplan cannot express is listed
//! whole, with every reason. Import id: the bucket name.

use super::state::Instance;
use super::{with_tags, Out};
use crate::address::Address;
use crate::adopt::config::{Block, Value};
use crate::kinds::s3::decode::OWN_REPLICATION_RULE;
use crate::resource::Kind;
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;

/// The S3 resources of a state.
pub(super) struct Parts {
    pub buckets: Vec<Instance>,
    pub versioning: Vec<Instance>,
    pub public_access: Vec<Instance>,
    pub object_lock: Vec<Instance>,
    pub encryption: Vec<Instance>,
    pub lifecycle: Vec<Instance>,
    pub replication: Vec<Instance>,
}

impl Parts {
    pub fn all(&self) -> impl Iterator<Item = &Instance> {
        self.buckets
            .iter()
            .chain(&self.versioning)
            .chain(&self.public_access)
            .chain(&self.object_lock)
            .chain(&self.encryption)
            .chain(&self.lifecycle)
            .chain(&self.replication)
    }
}

use crate::kinds::s3::STORAGE_CLASSES;

/// A bucket that gets a block: its label and site, for replication destinations.
struct Placed<'a> {
    bucket: &'a Instance,
    name: String,
    label: String,
    site: String,
}

pub(super) fn convert(parts: &Parts, out: &mut Out) {
    let mut placed: Vec<Placed> = Vec::new();
    for b in &parts.buckets {
        let Some(name) = b.str("bucket").or_else(|| b.str("id")) else {
            out.uncover(&b.source, "the state has no bucket name");
            continue;
        };
        let Some(site) = out.site_of(b) else { continue };
        let label = out.label("bucket", &b.name);
        placed.push(Placed {
            bucket: b,
            name: name.to_string(),
            label,
            site,
        });
    }
    let by_name: BTreeMap<&str, &Placed> = placed.iter().map(|p| (p.name.as_str(), p)).collect();
    for split in [
        &parts.versioning,
        &parts.public_access,
        &parts.object_lock,
        &parts.encryption,
        &parts.lifecycle,
        &parts.replication,
    ] {
        for s in split.iter() {
            if !s.str("bucket").is_some_and(|n| by_name.contains_key(n)) {
                out.uncover(
                    &s.source,
                    format!(
                        "its bucket {} is not converted",
                        s.str("bucket").unwrap_or("(none)")
                    ),
                );
            }
        }
    }
    for p in &placed {
        let b = p.bucket;
        out.adopt(
            Address::block("bucket", &p.label),
            Kind::Bucket,
            &p.name,
            &b.source,
        );
        let mut block = Block::new("bucket")
            .label(&p.label)
            .attr("site", Value::raw(format!("site.{}", p.site)))
            .attr("name", p.name.as_str())
            .attr(
                "versioning",
                versioning(b, of(&p.name, &parts.versioning), out),
            );
        if let Some(all) = public_access(of(&p.name, &parts.public_access), out) {
            block.push_attr("block_public_access", all);
        }
        block = with_tags(block, b.tags());
        if let Some(l) = object_lock(of(&p.name, &parts.object_lock), out) {
            block.push_block(l);
        }
        if let Some(e) = encryption(b, of(&p.name, &parts.encryption), out) {
            block.push_block(e);
        }
        for r in lifecycle(b, of(&p.name, &parts.lifecycle), out) {
            block.push_block(r);
        }
        for r in replication(p, of(&p.name, &parts.replication), &by_name, out) {
            block.push_block(r);
        }
        out.block(block);
    }
}

/// The split resource of `bucket` among `list`.
fn of<'a>(bucket: &str, list: &'a [Instance]) -> Option<&'a Instance> {
    list.iter().find(|s| s.str("bucket") == Some(bucket))
}

fn first<'a>(m: &'a Map<String, Json>, key: &str) -> Option<&'a Map<String, Json>> {
    m.get(key)?.as_array()?.first()?.as_object()
}

fn list<'a>(m: &'a Map<String, Json>, key: &str) -> &'a [Json] {
    m.get(key)
        .and_then(Json::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn text<'a>(m: &'a Map<String, Json>, key: &str) -> Option<&'a str> {
    m.get(key).and_then(Json::as_str).filter(|s| !s.is_empty())
}

fn versioning(b: &Instance, split: Option<&Instance>, out: &mut Out) -> bool {
    if let Some(v) = split {
        let config = v.first("versioning_configuration");
        if config.and_then(|c| text(c, "mfa_delete")) == Some("Enabled") {
            out.uncover(&v.source, "MFA delete is not expressed in drplan");
        }
        return config.and_then(|c| text(c, "status")) == Some("Enabled");
    }
    b.first("versioning")
        .and_then(|v| v.get("enabled"))
        .and_then(Json::as_bool)
        .unwrap_or(false)
}

/// aws_s3_bucket_public_access_block: drplan sets all four settings or none.
fn public_access(split: Option<&Instance>, out: &mut Out) -> Option<bool> {
    let p = split?;
    let flags: Vec<bool> = [
        "block_public_acls",
        "ignore_public_acls",
        "block_public_policy",
        "restrict_public_buckets",
    ]
    .iter()
    .map(|k| p.bool(k).unwrap_or(false))
    .collect();
    if flags.iter().all(|f| *f) {
        Some(true)
    } else if flags.iter().all(|f| !*f) {
        Some(false)
    } else {
        out.uncover(
            &p.source,
            "only some public access block settings are on: drplan sets all four or none",
        );
        None
    }
}

/// aws_s3_bucket_object_lock_configuration: its default retention.
fn object_lock(split: Option<&Instance>, out: &mut Out) -> Option<Block> {
    let l = split?;
    let retention = l.first("rule").and_then(|r| first(r, "default_retention"));
    let Some(retention) = retention else {
        out.uncover(
            &l.source,
            "an object lock without a default retention is not expressed in drplan",
        );
        return None;
    };
    let mode = text(retention, "mode")?;
    let days = retention
        .get("days")
        .and_then(Json::as_i64)
        .filter(|d| *d > 0);
    let years = retention
        .get("years")
        .and_then(Json::as_i64)
        .filter(|y| *y > 0);
    let retention = match (days, years) {
        (Some(d), _) => format!("{d}d"),
        (None, Some(y)) => format!("{y}y"),
        (None, None) => {
            out.uncover(&l.source, "its default retention has no days or years");
            return None;
        }
    };
    Some(
        Block::new("object_lock")
            .attr("mode", mode)
            .attr("retention", retention),
    )
}

fn encryption(b: &Instance, split: Option<&Instance>, out: &mut Out) -> Option<Block> {
    let (source, rules) = match split {
        Some(s) => (s.source.as_str(), s.list("rule")),
        None => (
            b.source.as_str(),
            b.first("server_side_encryption_configuration")
                .map(|c| list(c, "rule"))
                .unwrap_or_default(),
        ),
    };
    let rule = rules.first().and_then(Json::as_object)?;
    let default = first(rule, "apply_server_side_encryption_by_default")?;
    if rule.get("bucket_key_enabled").and_then(Json::as_bool) == Some(true) {
        out.uncover(source, "bucket_key_enabled is not expressed in drplan");
    }
    let algorithm = text(default, "sse_algorithm")?;
    match algorithm {
        "AES256" => Some(Block::new("encryption").attr("algorithm", "AES256")),
        "aws:kms" => Some(
            Block::new("encryption")
                .attr("algorithm", "aws:kms")
                .attr_opt("kms_key_id", text(default, "kms_master_key_id")),
        ),
        other => {
            out.uncover(
                source,
                format!("encryption algorithm {other} is not one drplan writes (AES256, aws:kms)"),
            );
            None
        }
    }
}

/// One lifecycle rule in drplan's terms, or why it is not one.
fn lifecycle(b: &Instance, split: Option<&Instance>, out: &mut Out) -> Vec<Block> {
    let (source, rules, split_form) = match split {
        Some(s) => (s.source.clone(), s.list("rule").to_vec(), true),
        None => (b.source.clone(), b.list("lifecycle_rule").to_vec(), false),
    };
    let mut blocks = Vec::new();
    for rule in rules.iter().filter_map(Json::as_object) {
        let id = text(rule, "id").unwrap_or("");
        match lifecycle_rule(rule, split_form) {
            Ok(b) if !id.is_empty() => blocks.push(b.label(id)),
            Ok(_) => out.uncover(
                &source,
                "a lifecycle rule without an id is not converted: drplan rules are labelled by id",
            ),
            Err(why) => out.uncover(
                &source,
                format!("lifecycle rule `{id}` is not converted: {}", why.join("; ")),
            ),
        }
    }
    blocks
}

fn lifecycle_rule(rule: &Map<String, Json>, split_form: bool) -> Result<Block, Vec<String>> {
    let mut why = Vec::new();
    let enabled = if split_form {
        text(rule, "status") == Some("Enabled")
    } else {
        rule.get("enabled").and_then(Json::as_bool) == Some(true)
    };
    if !enabled {
        why.push("it is disabled (drplan's rules are enabled)".to_string());
    }
    let mut prefix = text(rule, "prefix").unwrap_or("").to_string();
    if let Some(f) = first(rule, "filter") {
        if let Some(p) = text(f, "prefix") {
            prefix = p.to_string();
        }
        if !list(f, "tag").is_empty() || !list(f, "and").is_empty() {
            why.push("its filter has tags or several conditions (drplan filters by prefix)".into());
        }
        for k in ["object_size_greater_than", "object_size_less_than"] {
            if f.get(k).and_then(Json::as_i64).is_some_and(|n| n > 0) {
                why.push(format!("its filter has {k}"));
            }
        }
    }
    if rule
        .get("tags")
        .and_then(Json::as_object)
        .is_some_and(|t| !t.is_empty())
    {
        why.push("its filter has tags (drplan filters by prefix)".into());
    }
    let expiration = first(rule, "expiration");
    if expiration.and_then(|e| text(e, "date")).is_some() {
        why.push("it expires at a date (drplan: after days)".into());
    }
    if expiration
        .and_then(|e| e.get("expired_object_delete_marker"))
        .and_then(Json::as_bool)
        == Some(true)
    {
        why.push("it removes expired delete markers".into());
    }
    let days = |m: Option<&Map<String, Json>>, k: &str| {
        m.and_then(|e| e.get(k))
            .and_then(Json::as_i64)
            .filter(|d| *d > 0)
    };
    let expire = days(expiration, "days");
    let noncurrent = first(rule, "noncurrent_version_expiration");
    let noncurrent_days = days(noncurrent, "noncurrent_days").or(days(noncurrent, "days"));
    if days(noncurrent, "newer_noncurrent_versions").is_some() {
        why.push("it keeps newer_noncurrent_versions".into());
    }
    if !list(rule, "noncurrent_version_transition").is_empty() {
        why.push("it has noncurrent version transitions".into());
    }
    if days(
        first(rule, "abort_incomplete_multipart_upload"),
        "days_after_initiation",
    )
    .is_some()
        || rule
            .get("abort_incomplete_multipart_upload_days")
            .and_then(Json::as_i64)
            .is_some_and(|d| d > 0)
    {
        why.push("it aborts incomplete multipart uploads".into());
    }
    let mut transitions = Vec::new();
    for t in list(rule, "transition").iter().filter_map(Json::as_object) {
        let class = text(t, "storage_class").unwrap_or("");
        match (t.get("days").and_then(Json::as_i64), text(t, "date")) {
            (_, Some(_)) => why.push("a transition at a date (drplan: after days)".into()),
            (Some(d), None) if STORAGE_CLASSES.contains(&class) => transitions.push(
                Block::new("transition")
                    .attr("after", format!("{d}d"))
                    .attr("storage_class", class),
            ),
            _ => why.push(format!("a transition to `{class}`")),
        }
    }
    if !why.is_empty() {
        return Err(why);
    }
    let mut b = Block::new("lifecycle_rule")
        .attr("prefix", prefix)
        .attr_opt("expire_after", expire.map(|d| format!("{d}d")))
        .attr_opt(
            "noncurrent_expire_after",
            noncurrent_days.map(|d| format!("{d}d")),
        );
    for t in transitions {
        b.push_block(t);
    }
    Ok(b)
}

fn replication(
    p: &Placed,
    split: Option<&Instance>,
    buckets: &BTreeMap<&str, &Placed>,
    out: &mut Out,
) -> Vec<Block> {
    let b = p.bucket;
    let (source, role, rules) = match split {
        Some(s) => (s.source.clone(), s.str("role"), s.list("rule").to_vec()),
        None => match b.first("replication_configuration") {
            Some(c) => (b.source.clone(), text(c, "role"), list(c, "rules").to_vec()),
            None => return Vec::new(),
        },
    };
    let rules: Vec<&Map<String, Json>> = rules.iter().filter_map(Json::as_object).collect();
    let Some(role) = role else {
        if !rules.is_empty() {
            out.uncover(&source, "the replication configuration has no role");
        }
        return Vec::new();
    };
    let kept: Vec<(&str, Destination)> = rules
        .iter()
        .filter_map(|rule| {
            let id = text(rule, "id").unwrap_or("");
            match replication_rule(rule, p, buckets) {
                Ok(d) => Some((id, d)),
                Err(why) => {
                    out.uncover(
                        &source,
                        format!(
                            "replication rule `{id}` is not converted: {}",
                            why.join("; ")
                        ),
                    );
                    None
                }
            }
        })
        .collect();
    // drplan names the rules it writes itself: say which ids change.
    let several = kept.len() > 1;
    kept.into_iter()
        .map(|(id, d)| {
            let ours = if several {
                format!("{OWN_REPLICATION_RULE}-{}", d.label)
            } else {
                OWN_REPLICATION_RULE.to_string()
            };
            if id != ours {
                out.uncover(
                    &source,
                    format!(
                        "replication rule `{id}` becomes `{ours}`: the plan after import renames it"
                    ),
                );
            }
            let mut b = Block::new("replication")
                .attr("role_arn", role)
                .attr("destination", Value::raw(format!("bucket.{}", d.label)));
            if !d.prefix.is_empty() {
                b.push_attr("prefix", d.prefix);
            }
            b.attr_opt("storage_class", d.storage_class)
                .attr_opt("replica_kms_key_id", d.replica_kms_key_id)
        })
        .collect()
}

/// Where a replication rule copies to, in drplan's terms.
struct Destination {
    /// The destination bucket's label.
    label: String,
    prefix: String,
    storage_class: Option<String>,
    /// The destination region's key for the copies of SSE-KMS objects.
    replica_kms_key_id: Option<String>,
}

/// A replication rule's destination, or why drplan cannot express the rule.
fn replication_rule(
    rule: &Map<String, Json>,
    p: &Placed,
    buckets: &BTreeMap<&str, &Placed>,
) -> Result<Destination, Vec<String>> {
    let mut why = Vec::new();
    if text(rule, "status") != Some("Enabled") {
        why.push("it is disabled".to_string());
    }
    let mut prefix = text(rule, "prefix").unwrap_or("").to_string();
    if let Some(f) = first(rule, "filter") {
        if let Some(pr) = text(f, "prefix") {
            prefix = pr.to_string();
        }
        if !list(f, "tag").is_empty() || !list(f, "and").is_empty() {
            why.push("its filter has tags or several conditions (drplan filters by prefix)".into());
        }
    }
    if first(rule, "delete_marker_replication").and_then(|d| text(d, "status")) == Some("Enabled") {
        why.push("it replicates delete markers".into());
    }
    let dest = first(rule, "destination");
    // The replica key (the provider's v4 block, or v3's attribute) is drplan's
    // `replica_kms_key_id`; selecting SSE-KMS objects comes with it.
    let replica_kms_key_id = dest
        .and_then(|d| first(d, "encryption_configuration"))
        .and_then(|e| text(e, "replica_kms_key_id"))
        .or_else(|| dest.and_then(|d| text(d, "replica_kms_key_id")))
        .filter(|k| !k.is_empty())
        .map(str::to_string);
    if let Some(sel) = first(rule, "source_selection_criteria") {
        let empty = |v: &Json| match v {
            Json::Null => true,
            Json::Array(a) => a.is_empty(),
            _ => false,
        };
        let kms_only = sel
            .iter()
            .all(|(k, v)| k == "sse_kms_encrypted_objects" || empty(v))
            && first(sel, "sse_kms_encrypted_objects").is_some_and(|s| {
                text(s, "status") == Some("Enabled") || s.get("enabled") == Some(&Json::Bool(true))
            });
        if !kms_only || replica_kms_key_id.is_none() {
            why.push(
                "its source_selection_criteria is more than SSE-KMS objects with a replica key"
                    .into(),
            );
        }
    }
    for k in [
        "account",
        "access_control_translation",
        "metrics",
        "replication_time",
    ] {
        let set = dest.and_then(|d| d.get(k)).is_some_and(|v| match v {
            Json::Null => false,
            Json::String(s) => !s.is_empty(),
            Json::Array(a) => !a.is_empty(),
            _ => true,
        });
        if set {
            why.push(format!("its destination sets {k}"));
        }
    }
    let arn = dest.and_then(|d| text(d, "bucket")).unwrap_or("");
    let dest_name = arn.strip_prefix("arn:aws:s3:::").unwrap_or(arn);
    let target = buckets.get(dest_name);
    match target {
        None => why.push(format!(
            "its destination bucket {dest_name} is not converted from the state"
        )),
        Some(t) if t.site == p.site => why.push(format!(
            "its destination {dest_name} is in the same site (drplan replicates across sites)"
        )),
        Some(_) => {}
    }
    let class = dest.and_then(|d| text(d, "storage_class"));
    if let Some(c) = class.filter(|c| !STORAGE_CLASSES.contains(c)) {
        why.push(format!("storage class `{c}`"));
    }
    match target {
        Some(t) if why.is_empty() => Ok(Destination {
            label: t.label.clone(),
            prefix,
            storage_class: class.map(str::to_string),
            replica_kms_key_id,
        }),
        _ => Err(why),
    }
}
