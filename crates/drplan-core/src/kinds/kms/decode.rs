//! The `kms_key` block: a KMS key in one site, replicated (a multi-region key) into
//! others, with one alias in every region that holds it. The block's own checks are
//! here; the checks across blocks (replica sites in the key's account, buckets naming
//! a key that is not in their region) run once every block is decoded (`check`,
//! called from `spec::checks`).

use crate::model::{KmsKey, Topology};
use crate::spec::body::{BlockBody, Schema};
use crate::spec::decode::{check_tags, object, site_of, source_ref, Cx, SpanTable};
use crate::spec::diagnostic::{Diagnostics, SpecDiagnostic};
use crate::spec::environment::EnvSettings;
use hcl::Value;
use std::collections::BTreeMap;

pub const SCHEMA: Schema = Schema::new(
    &[
        "site",
        "description",
        "multi_region",
        "replicas",
        "alias",
        "deletion_window_days",
        "enable_key_rotation",
        "tags",
        "depends_on",
    ],
    &[],
);

/// The `kms_key` block in the table of blocks (registered in `kinds::FAMILIES`).
pub const BLOCK: crate::spec::blocks::Block = crate::spec::blocks::Block::family::<KmsKey>(
    "kms_key",
    &["name", "site", "region", "alias", "replicas", "address"],
    5,
    &SCHEMA,
);

impl crate::spec::decode::FamilyBlock for KmsKey {
    fn decode(label: &str, b: &mut BlockBody, cx: &mut Cx) -> Option<Self> {
        decode(label, b, cx)
    }

    fn object(&self, sites: &BTreeMap<String, crate::model::Site>) -> Value {
        kms_key_object(self, &crate::spec::decode::region_in(sites, &self.site))
    }

    fn models(t: &mut crate::model::Topology) -> &mut BTreeMap<String, Self> {
        &mut t.kms_keys
    }
}

/// KMS's bounds on the waiting period of a scheduled deletion.
pub const DELETION_WINDOW_DAYS: std::ops::RangeInclusive<i64> = 7..=30;

pub fn decode(label: &str, b: &mut BlockBody, cx: &mut Cx) -> Option<KmsKey> {
    let address = format!("kms_key.{label}");
    let site = site_of(
        b,
        cx,
        "name the site the primary key is in: site = site.primary",
    );
    let description = b.string(cx.diags, "description").unwrap_or_default();
    let replicas = b
        .block_ref_list(cx.diags, cx.scope, "replicas", "site")
        .unwrap_or_default();
    cx.spans.record(&address, "replicas", b);
    let multi_region = b
        .bool(cx.diags, "multi_region")
        .unwrap_or(!replicas.is_empty());
    cx.spans.record(&address, "multi_region", b);
    if !multi_region && !replicas.is_empty() {
        b.invalid(
            cx.diags,
            "drplan::invalid_value",
            "replicas",
            "only a multi-region key has replicas".into(),
            "set multi_region = true (it cannot be changed after the key is created), or remove replicas",
        );
    }
    if let Some(site) = site.as_ref().filter(|s| replicas.contains(s)) {
        b.invalid(
            cx.diags,
            "drplan::invalid_value",
            "replicas",
            format!("site \"{site}\" holds the primary key; a replica must be in another site"),
            "list only the other sites: replicas = [site.dr]",
        );
    }
    for (i, r) in replicas.iter().enumerate() {
        if replicas[..i].contains(r) {
            b.invalid(
                cx.diags,
                "drplan::invalid_value",
                "replicas",
                format!("site \"{r}\" is listed twice"),
                "a region holds at most one replica of a key",
            );
        }
    }
    let alias = b.string(cx.diags, "alias");
    if let Some(Err(why)) = alias.as_deref().map(check_alias) {
        let a = alias.clone().unwrap_or_default();
        b.invalid(
            cx.diags,
            "drplan::invalid_value",
            "alias",
            format!("`{a}` is not a valid KMS alias: {why}"),
            "alias/<name>: letters, digits, `/`, `_` and `-`; alias/aws/ is AWS's",
        );
    }
    let deletion_window_days = match b.int(cx.diags, "deletion_window_days") {
        Some(d) if !DELETION_WINDOW_DAYS.contains(&d) => {
            b.invalid(
                cx.diags,
                "drplan::invalid_value",
                "deletion_window_days",
                format!("KMS keeps a key scheduled for deletion 7 to 30 days, not {d}"),
                "a number of days from 7 to 30 (default 30)",
            );
            None
        }
        d => Some(d.unwrap_or(*DELETION_WINDOW_DAYS.end())),
    };
    let enable_key_rotation = b.bool(cx.diags, "enable_key_rotation").unwrap_or(true);
    let tags = b.string_map(cx.diags, "tags").unwrap_or_default();
    check_tags(b, cx.diags, &tags);
    Some(KmsKey {
        label: label.to_string(),
        site: site?,
        description,
        multi_region,
        replicas,
        alias,
        deletion_window_days: deletion_window_days?,
        enable_key_rotation,
        tags,
        source: source_ref(b),
    })
}

/// KMS's alias naming rules.
pub fn check_alias(a: &str) -> Result<(), &'static str> {
    let Some(name) = a.strip_prefix("alias/") else {
        return Err("it must start with `alias/`");
    };
    if name.is_empty() || a.len() > 256 {
        return Err("the name after `alias/` must be 1 to 250 characters long");
    }
    if name.starts_with("aws/") {
        return Err("alias/aws/ is reserved for AWS managed keys");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-'))
    {
        return Err("only letters, digits, `/`, `_` and `-` are allowed");
    }
    Ok(())
}

pub fn kms_key_object(k: &KmsKey, region: &str) -> Value {
    object(&[
        ("name", Value::from(k.label.clone())),
        ("site", Value::from(k.site.clone())),
        ("region", Value::from(region)),
        (
            "alias",
            k.alias.clone().map(Value::from).unwrap_or(Value::Null),
        ),
        (
            "replicas",
            Value::Array(k.replicas.iter().cloned().map(Value::from).collect()),
        ),
        ("address", Value::from(format!("kms_key.{}", k.label))),
    ])
}

/// Across blocks: a replica lives in its primary's account (KMS replicates within
/// one account), and a bucket that names a declared key (its encryption, or a
/// replication rule's replica key) must be in a region that key is in.
pub fn check(t: &Topology, spans: &SpanTable, env: &EnvSettings, diags: &mut Diagnostics) {
    let account = |site: &str| env.site_accounts.get(site).map(|a| a.0.account_id.clone());
    for k in t.kms_keys.values() {
        let address = format!("kms_key.{}", k.label);
        for r in &k.replicas {
            if account(r) != account(&k.site) {
                let d = SpecDiagnostic::new(
                    "drplan::kms_replica_account",
                    format!(
                        "kms_key \"{}\": site \"{r}\" is in another account than site \"{}\", and a multi-region key is replicated only within its account",
                        k.label, k.site
                    ),
                )
                .help(format!(
                    "declare a key of its own in site \"{r}\" (kms_key \"{}_{r}\" {{ site = site.{r} }}) and name it where that site's buckets need a key",
                    k.label
                ));
                diags.push(match spans.get(&address, "replicas") {
                    Some((f, span)) => d.at(f, span.clone(), "another account"),
                    None => d,
                });
            }
        }
    }
    for b in t.buckets.values() {
        let address = format!("bucket.{}", b.label);
        if let Some(key) = b.encryption.as_ref().and_then(|e| e.kms_key_id.as_deref()) {
            in_region(
                t,
                spans,
                diags,
                &address,
                "encryption.kms_key_id",
                key,
                &b.site,
            );
        }
        for rule in b.replication.iter().flat_map(|r| &r.rules) {
            let (Some(key), Some(dest)) = (
                rule.replica_kms_key_id.as_deref(),
                t.buckets.get(&rule.destination),
            ) else {
                continue;
            };
            in_region(
                t,
                spans,
                diags,
                &address,
                "replication.replica_kms_key_id",
                key,
                &dest.site,
            );
        }
    }
}

/// A bucket attribute naming the declared key `key` must be used in `site`, where the
/// key or one of its replicas is.
fn in_region(
    t: &Topology,
    spans: &SpanTable,
    diags: &mut Diagnostics,
    address: &str,
    attr: &str,
    key: &str,
    site: &str,
) {
    let Some(k) = crate::kinds::kms::declared(t, key) else {
        return;
    };
    if k.site == site || k.replicas.iter().any(|r| r == site) {
        return;
    }
    let d = SpecDiagnostic::new(
        "drplan::kms_key_region",
        format!(
            "{address} uses {key} in site \"{site}\", where that key has no {}",
            match k.multi_region {
                true => "replica".to_string(),
                false => format!("copy (a single-region key, in site \"{}\")", k.site),
            }
        ),
    )
    .help(format!(
        "add site.{site} to the key's replicas (a multi-region key), or name a key that is in site \"{site}\""
    ));
    diags.push(match spans.get(address, attr) {
        Some((f, span)) => d.at(f, span.clone(), "not in this region"),
        None => d,
    });
}
