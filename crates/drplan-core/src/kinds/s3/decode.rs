use crate::model::{
    Bucket, BucketLogging, Encryption, LifecycleRule, ObjectLock, Replication, ReplicationRule,
    Topology, Transition,
};
use crate::spec::body::{self, BlockBody, Schema};
use crate::spec::decode::{
    check_arn, check_tags, label_of, object, site_of, source_ref, Cx, SpanTable,
};
use crate::spec::diagnostic::{Diagnostics, SourceFile, SpecDiagnostic};
use crate::spec::duration::{parse_duration, whole_days, DURATION_HELP};
use hcl::Value;
use std::collections::BTreeMap;

pub const SCHEMA: Schema = Schema::new(
    &[
        "site",
        "name",
        "versioning",
        "protect",
        "tags",
        "depends_on",
        "block_public_access",
    ],
    &[
        "encryption",
        "lifecycle_rule",
        "replication",
        "object_lock",
        "logging",
    ],
)
.with_repeatable(&["replication"]);

/// The `bucket` block in the table of blocks (registered in `kinds::FAMILIES`).
pub const BLOCK: crate::spec::blocks::Block = crate::spec::blocks::Block::family::<Bucket>(
    "bucket",
    &["name", "arn", "site", "region", "address"],
    6,
    &SCHEMA,
);

impl crate::spec::decode::FamilyBlock for Bucket {
    const LINKS: &'static [&'static str] = &LINK_BLOCKS;

    fn decode(label: &str, b: &mut BlockBody, cx: &mut Cx) -> Option<Self> {
        decode(label, b, cx)
    }

    fn object(&self, sites: &BTreeMap<String, crate::model::Site>) -> Value {
        bucket_object(self, &crate::spec::decode::region_in(sites, &self.site))
    }

    fn models(t: &mut crate::model::Topology) -> &mut BTreeMap<String, Self> {
        &mut t.buckets
    }

    /// Its `replication` blocks (the rules of one replication configuration) and its
    /// `logging` block.
    fn decode_links(
        &mut self,
        address: &str,
        file: &SourceFile,
        blocks: &[&hcl_edit::structure::Block],
        cx: &mut Cx,
    ) {
        let (rules, log): (Vec<_>, Vec<_>) = blocks
            .iter()
            .copied()
            .partition(|b| b.ident.as_str() == "replication");
        self.replication = match rules.is_empty() {
            true => None,
            false => replication(address, file, &rules, cx),
        };
        self.logging = log.first().and_then(|b| logging(address, file, b, cx));
    }
}

/// Nested blocks naming other buckets that may name this one back: decoded once every
/// block is published (`replication`, `logging`), and no evaluation-order edge.
pub const LINK_BLOCKS: [&str; 2] = ["replication", "logging"];
const LOGGING: Schema = Schema::new(&["target", "prefix"], &[]);
const ENCRYPTION: Schema = Schema::new(&["algorithm", "kms_key_id"], &[]);
const LIFECYCLE: Schema = Schema::new(
    &["prefix", "expire_after", "noncurrent_expire_after"],
    &["transition"],
)
.with_repeatable(&["transition"]);
const TRANSITION: Schema = Schema::new(&["after", "storage_class"], &[]);
const OBJECT_LOCK: Schema = Schema::new(&["mode", "retention"], &[]);
const REPLICATION: Schema = Schema::new(
    &[
        "role_arn",
        "destination",
        "prefix",
        "storage_class",
        "replica_kms_key_id",
    ],
    &[],
);

use crate::kinds::s3::STORAGE_CLASSES;

/// Rule id of the replication rule a bucket's own `replication` block compiles to.
pub const OWN_REPLICATION_RULE: &str = "drplan-replication";

pub fn decode(label: &str, b: &mut BlockBody, cx: &mut Cx) -> Option<Bucket> {
    let address = format!("bucket.{label}");
    let site = site_of(
        b,
        cx,
        "name the site this bucket is in: site = site.primary",
    );
    let name = b.string_or(cx.diags, "name", || label.to_string());
    if let Some(Err(why)) = name.as_deref().map(check_bucket_name) {
        let name = name.clone().unwrap_or_default();
        b.invalid(cx.diags, "drplan::bucket_name", "name", format!("`{name}` is not a valid S3 bucket name: {why}"), "3-63 characters: lowercase letters, digits, `.` and `-`, starting and ending with a letter or digit");
    }
    cx.spans.record(&address, "name", b);
    let versioning = b.bool(cx.diags, "versioning").unwrap_or(true);
    cx.spans.record(&address, "versioning", b);
    let protect = b.bool(cx.diags, "protect").unwrap_or(true);
    let tags = b.string_map(cx.diags, "tags").unwrap_or_default();
    check_tags(b, cx.diags, &tags);

    let mut encryption = None;
    for block in b.nested("encryption").collect::<Vec<_>>() {
        let mut e = body::read(b.file, block, &ENCRYPTION, cx.scope, cx.ctx, cx.diags);
        let algorithm = e
            .string(cx.diags, "algorithm")
            .unwrap_or_else(|| "AES256".into());
        let kms_key_id = key_id(&mut e, cx, "kms_key_id");
        cx.spans
            .record_as(&address, "encryption.kms_key_id", &e, "kms_key_id");
        match algorithm.as_str() {
            "AES256" if kms_key_id.is_some() => e.invalid(
                cx.diags,
                "drplan::invalid_value",
                "kms_key_id",
                "kms_key_id needs algorithm = \"aws:kms\"".into(),
                "remove kms_key_id or set algorithm = \"aws:kms\"",
            ),
            "AES256" | "aws:kms" => {}
            other => e.invalid(
                cx.diags,
                "drplan::invalid_value",
                "algorithm",
                format!("encryption algorithm `{other}` is not known"),
                "use \"AES256\" or \"aws:kms\"",
            ),
        }
        encryption = Some(Encryption {
            algorithm,
            kms_key_id,
        });
    }

    let mut lifecycle_rules: Vec<LifecycleRule> = Vec::new();
    for block in b.nested("lifecycle_rule").collect::<Vec<_>>() {
        let mut l = body::read(b.file, block, &LIFECYCLE, cx.scope, cx.ctx, cx.diags);
        let Some(id) = label_of(block) else {
            cx.diags.push(
                SpecDiagnostic::new(
                    "drplan::missing_label",
                    "lifecycle_rule needs a label (its rule id)",
                )
                .at(b.file, l.header.clone(), "no label")
                .help("write lifecycle_rule \"tmp\" { ... }"),
            );
            continue;
        };
        if lifecycle_rules.iter().any(|r| r.id == id) {
            cx.diags.push(
                SpecDiagnostic::new(
                    "drplan::duplicate_label",
                    format!("lifecycle_rule \"{id}\" is declared twice"),
                )
                .at(b.file, l.header.clone(), "again here")
                .help("rule ids are unique within a bucket"),
            );
            continue;
        }
        let prefix = l.string(cx.diags, "prefix").unwrap_or_default();
        let expiration_days = days(&mut l, cx, "expire_after");
        let noncurrent_expiration_days = days(&mut l, cx, "noncurrent_expire_after");
        let mut transitions = Vec::new();
        for tb in l.nested("transition").collect::<Vec<_>>() {
            let mut t = body::read(b.file, tb, &TRANSITION, cx.scope, cx.ctx, cx.diags);
            if !t.has("after") {
                t.missing(
                    cx.diags,
                    "after",
                    "when to move objects, e.g. after = \"30d\"",
                );
            }
            let d = days(&mut t, cx, "after");
            let class = t.required_string(
                cx.diags,
                "storage_class",
                "e.g. storage_class = \"GLACIER\"",
            );
            if let Some(c) = &class {
                check_storage_class(&t, cx, "storage_class", c);
            }
            if let (Some(days), Some(storage_class)) = (d, class) {
                transitions.push(Transition {
                    days,
                    storage_class,
                });
            }
        }
        lifecycle_rules.push(LifecycleRule {
            id,
            prefix,
            expiration_days,
            noncurrent_expiration_days,
            transitions,
        });
    }

    let block_public_access = b.bool(cx.diags, "block_public_access");
    cx.spans.record(&address, "block_public_access", b);
    let mut object_lock = None;
    for block in b.nested("object_lock").collect::<Vec<_>>() {
        let mut l = body::read(b.file, block, &OBJECT_LOCK, cx.scope, cx.ctx, cx.diags);
        let mode = l.required_string(
            cx.diags,
            "mode",
            "\"GOVERNANCE\" (removable with a permission) or \"COMPLIANCE\" (by no one)",
        );
        if let Some(m) = mode
            .as_deref()
            .filter(|m| !["GOVERNANCE", "COMPLIANCE"].contains(m))
        {
            l.invalid(
                cx.diags,
                "drplan::invalid_value",
                "mode",
                format!("object lock mode `{m}` is not known"),
                "use \"GOVERNANCE\" or \"COMPLIANCE\"",
            );
        }
        if !l.has("retention") {
            l.missing(
                cx.diags,
                "retention",
                "how long a new object cannot be deleted, e.g. retention = \"7y\"",
            );
        }
        let retention = days(&mut l, cx, "retention");
        if !versioning {
            l.invalid(
                cx.diags,
                "drplan::invalid_value",
                "mode",
                "object lock needs versioning".into(),
                "S3 locks object versions: set versioning = true (the default)",
            );
        }
        if let (Some(mode), Some(days)) = (mode, retention) {
            object_lock = Some(ObjectLock { mode, days });
        }
    }

    // `replication` blocks are decoded after every block (`replication`): two buckets
    // may replicate to each other.
    Some(Bucket {
        label: label.to_string(),
        name: name?,
        site: site?,
        versioning,
        encryption,
        lifecycle_rules,
        replication: None,
        block_public_access,
        object_lock,
        logging: None,
        protect,
        tags,
        source: source_ref(b),
    })
}

/// A bucket's `logging` block (at most one: the schema refuses a second): where S3
/// delivers its server access logs. Decoded with the links, like `replication`: a log
/// bucket may log into the bucket it receives logs from.
pub fn logging(
    address: &str,
    file: &SourceFile,
    block: &hcl_edit::structure::Block,
    cx: &mut Cx,
) -> Option<BucketLogging> {
    let mut l = body::read(file, block, &LOGGING, cx.scope, cx.ctx, cx.diags);
    if !l.has("target") {
        l.missing(
            cx.diags,
            "target",
            "the bucket that receives the access logs: target = bucket.logs",
        );
    }
    let target = l.block_ref(cx.diags, cx.scope, "target", "bucket");
    cx.spans.record_as(address, "logging.target", &l, "target");
    let prefix = l.string(cx.diags, "prefix").unwrap_or_default();
    Some(BucketLogging {
        target: target?,
        prefix,
    })
}

/// Every `replication` block is one rule of the bucket's replication configuration
/// (to the DR site, to a vault account ...). S3 takes one role for all rules.
///
/// Decoded once every block is published, and not an evaluation-order edge: a
/// replication destination's name does not depend on the destination's own
/// replication, so two buckets replicating to each other (S3's active/active) are
/// not a reference cycle. Apply puts the configuration once both buckets exist.
pub fn replication(
    address: &str,
    file: &SourceFile,
    blocks: &[&hcl_edit::structure::Block],
    cx: &mut Cx,
) -> Option<Replication> {
    let several = blocks.len() > 1;
    let mut out: Option<Replication> = None;
    for block in blocks {
        let mut r = body::read(file, block, &REPLICATION, cx.scope, cx.ctx, cx.diags);
        let role_arn = r.required_string(cx.diags, "role_arn", "the IAM role S3 replicates as");
        check_arn(&r, cx, "role_arn", role_arn.as_deref());
        if !r.has("destination") {
            r.missing(
                cx.diags,
                "destination",
                "the bucket to copy to: destination = bucket.backups_dr",
            );
        }
        let destination = r.block_ref(cx.diags, cx.scope, "destination", "bucket");
        cx.spans
            .record_as(address, "replication.destination", &r, "destination");
        let prefix = r.string(cx.diags, "prefix").unwrap_or_default();
        let storage_class = r.string(cx.diags, "storage_class");
        if let Some(c) = &storage_class {
            check_storage_class(&r, cx, "storage_class", c);
        }
        let replica_kms_key_id = key_id(&mut r, cx, "replica_kms_key_id");
        cx.spans.record_as(
            address,
            "replication.replica_kms_key_id",
            &r,
            "replica_kms_key_id",
        );
        if let Some(key) = &replica_kms_key_id {
            let declared = r.value("replica_kms_key_id").is_some_and(|v| v.is_object());
            if !declared && (!key.starts_with("arn:") || !key.contains(":kms:")) {
                r.invalid(
                    cx.diags,
                    "drplan::invalid_value",
                    "replica_kms_key_id",
                    format!("`{key}` is not a KMS key ARN"),
                    "S3 replication takes the destination region's key by ARN (arn:aws:kms:<region>:<account>:key/<id>), or name a declared key: replica_kms_key_id = kms_key.backups",
                );
            }
        }
        let (Some(role_arn), Some(destination)) = (role_arn, destination) else {
            continue;
        };
        // One block keeps the rule id it always had; several are told apart by destination.
        let id = if several {
            format!("{OWN_REPLICATION_RULE}-{destination}")
        } else {
            OWN_REPLICATION_RULE.to_string()
        };
        let rule = ReplicationRule {
            id,
            prefix,
            destination,
            storage_class,
            replica_kms_key_id,
        };
        match &mut out {
            None => {
                out = Some(Replication {
                    role_arn,
                    rules: vec![rule],
                })
            }
            Some(rep) => {
                if rep.role_arn != role_arn {
                    r.invalid(
                        cx.diags,
                        "drplan::replication",
                        "role_arn",
                        format!("this replication block's role differs from the first one's (`{}`)", rep.role_arn),
                        "S3 replicates every rule of a bucket as one role: use the same role_arn in each replication block",
                    );
                } else if rep.rules.iter().any(|o| o.destination == rule.destination) {
                    r.invalid(
                        cx.diags,
                        "drplan::replication",
                        "destination",
                        format!(
                            "bucket.{} is already a replication destination of this bucket",
                            rule.destination
                        ),
                        "one replication block per destination bucket",
                    );
                } else {
                    rep.rules.push(rule);
                }
            }
        }
    }
    out
}

/// A KMS key as written (an ARN, alias or key id), or a reference to a `kms_key`
/// block (`kms_key.backups`), kept as its address: that key in the region where it
/// is used (`kinds::kms`).
fn key_id(b: &mut BlockBody, cx: &mut Cx, attr: &str) -> Option<String> {
    match b.value(attr)? {
        Value::Object(_) => b
            .block_ref(cx.diags, cx.scope, attr, "kms_key")
            .map(|label| format!("kms_key.{label}")),
        _ => b.string(cx.diags, attr),
    }
}

fn days(b: &mut BlockBody, cx: &mut Cx, attr: &str) -> Option<i64> {
    let s = b.string(cx.diags, attr)?;
    match parse_duration(&s) {
        Ok(d) => match whole_days(d) {
            Some(n) => Some(n),
            None => {
                b.invalid(
                    cx.diags,
                    "drplan::retention",
                    attr,
                    format!("`{s}` is not a whole number of days"),
                    "S3 lifecycle rules count in days: use e.g. \"2d\" instead of \"36h\"",
                );
                None
            }
        },
        Err(e) => {
            b.invalid(cx.diags, "drplan::duration", attr, e, DURATION_HELP);
            None
        }
    }
}

fn check_storage_class(b: &BlockBody, cx: &mut Cx, attr: &str, c: &str) {
    if !STORAGE_CLASSES.contains(&c) {
        b.invalid(
            cx.diags,
            "drplan::invalid_value",
            attr,
            format!("storage class `{c}` is not known"),
            format!("use one of: {}", STORAGE_CLASSES.join(", ")),
        );
    }
}

/// S3's bucket naming rules (general purpose buckets).
pub fn check_bucket_name(n: &str) -> Result<(), &'static str> {
    if n.len() < 3 || n.len() > 63 {
        return Err("it must be 3 to 63 characters long");
    }
    if !n
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
    {
        return Err("only lowercase letters, digits, `.` and `-` are allowed");
    }
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !edge_ok(n.chars().next()) || !edge_ok(n.chars().last()) {
        return Err("it must start and end with a letter or digit");
    }
    if n.contains("..") || n.contains(".-") || n.contains("-.") {
        return Err("dots may not be adjacent to each other or to `-`");
    }
    if n.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err("it must not look like an IP address");
    }
    if n.starts_with("xn--")
        || n.starts_with("sthree-")
        || n.ends_with("-s3alias")
        || n.ends_with("--ol-s3")
    {
        return Err("it uses a prefix or suffix S3 reserves");
    }
    Ok(())
}

pub fn bucket_object(bk: &Bucket, region: &str) -> Value {
    object(&[
        ("name", Value::from(bk.name.clone())),
        ("arn", Value::from(format!("arn:aws:s3:::{}", bk.name))),
        ("site", Value::from(bk.site.clone())),
        ("region", Value::from(region)),
        ("address", Value::from(format!("bucket.{}", bk.label))),
    ])
}

/// Across blocks: bucket names are unique, replication goes to another site between
/// versioned buckets, and access logs go where S3 delivers them.
pub fn check(t: &Topology, spans: &SpanTable, diags: &mut Diagnostics) {
    let mut names: BTreeMap<&str, &str> = BTreeMap::new();
    for b in t.buckets.values() {
        let addr = format!("bucket.{}", b.label);
        if let Some(other) = names.insert(b.name.as_str(), b.label.as_str()) {
            let d = SpecDiagnostic::new(
                "drplan::duplicate_name",
                format!(
                    "buckets \"{other}\" and \"{}\" are both named `{}`",
                    b.label, b.name
                ),
            )
            .help("S3 bucket names are global: give each bucket its own name");
            diags.push(spans.at(&addr, "name", d, "name used twice"));
        }
        access_logs(t, spans, b, diags);
        let Some(rep) = &b.replication else { continue };
        for rule in &rep.rules {
            let Some(dest) = t.buckets.get(&rule.destination) else {
                continue;
            };
            if dest.site == b.site {
                let d = SpecDiagnostic::new(
                    "drplan::replication",
                    format!(
                        "bucket \"{}\" replicates to \"{}\" in the same site \"{}\"",
                        b.label, dest.label, b.site
                    ),
                )
                .help("cross-region replication needs a destination bucket in another site");
                diags.push(spans.at(&addr, "replication.destination", d, "same-site destination"));
            }
            if dest.label == b.label {
                continue;
            }
            for (who, bucket) in [("source", b), ("destination", dest)] {
                if !bucket.versioning {
                    let d = SpecDiagnostic::new(
                        "drplan::replication",
                        format!("replication needs versioning, but the {who} bucket \"{}\" has versioning = false", bucket.label),
                    )
                    .help("set versioning = true on both buckets of a replication");
                    diags.push(spans.at(
                        &format!("bucket.{}", bucket.label),
                        "versioning",
                        d,
                        "versioning is off",
                    ));
                }
            }
        }
    }
}

/// What S3 requires of a server access log target: the source's region, not the
/// source itself (its own log writes would be logged without end), no Object Lock
/// default retention, and SSE-S3 rather than SSE-KMS default encryption.
fn access_logs(t: &Topology, spans: &SpanTable, b: &Bucket, diags: &mut Diagnostics) {
    let Some(logging) = &b.logging else { return };
    let Some(target) = t.buckets.get(&logging.target) else {
        return;
    };
    let addr = format!("bucket.{}", b.label);
    let mut refuse = |message: String, help: &str, label: &str| {
        let d = SpecDiagnostic::new("drplan::access_logs", message).help(help.to_string());
        diags.push(spans.at(&addr, "logging.target", d, label));
    };
    if target.label == b.label {
        refuse(
            format!("bucket \"{}\" logs into itself", b.label),
            "S3 would log its own log deliveries without end: use a bucket kept for logs",
            "itself",
        );
    } else if target.site != b.site {
        refuse(
            format!(
                "bucket \"{}\" in site \"{}\" logs into bucket \"{}\" in site \"{}\"",
                b.label, b.site, target.label, target.site
            ),
            "S3 delivers access logs only to a bucket in the source's region: use a log bucket of the same site",
            "another site's bucket",
        );
    }
    if target.object_lock.is_some() {
        refuse(
            format!("bucket \"{}\" receives access logs but has an Object Lock default retention", target.label),
            "S3 does not deliver access logs to a bucket with a default retention: log into a bucket without object_lock",
            "locked target",
        );
    }
    if target
        .encryption
        .as_ref()
        .is_some_and(|e| e.algorithm == "aws:kms")
    {
        refuse(
            format!("bucket \"{}\" receives access logs but is encrypted with aws:kms", target.label),
            "S3 delivers access logs only to buckets encrypted with SSE-S3: algorithm = \"AES256\" on the log bucket",
            "KMS-encrypted target",
        );
    }
}
