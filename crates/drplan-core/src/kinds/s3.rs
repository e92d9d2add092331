//! The S3 family: `bucket` blocks (with the lifecycle and replication rules backup
//! policies compile into them). A bucket's replication destinations are links, not
//! references (`plan::links`): buckets may replicate to each other.

use super::{text, KindInfo, MarkPlace, NameKey};
use crate::address::Address;
use crate::resource::{Kind, Resource};
use crate::spec::lower::{tags, Lowering};
use serde_json::{json, Value};

pub const BUCKET: KindInfo = KindInfo {
    type_name: "aws_s3_bucket",
    stateful: true,
    regional: true,
    force_new: &["name"],
    unknown_after_apply: &[],
    regional_service: Some("s3"),
    apply_service: "s3",
    identity: |_, _, attrs| text(attrs, "name").to_string(),
    identified_by_mark: false,
    mark: MarkPlace::Tags,
    references: &[],
    name_key: Some(NameKey {
        attr: "name",
        regional: false,
        trim_dot: false,
    }),
    importable: true,
    forgettable: true,
    estimate_create: 10,
    estimate_update: 10,
};

/// Lowers the family's blocks to resources in the normalized form (`spec::lower`).
pub(crate) fn lower(lw: &Lowering, out: &mut Vec<Resource>) {
    let t = lw.t;
    for b in t.buckets.values() {
        let mut rules = b.lifecycle_rules.clone();
        rules.sort_by(|x, y| x.id.cmp(&y.id));
        let lifecycle: Vec<Value> = rules
            .iter()
            .map(|r| {
                json!({
                    "id": r.id,
                    "prefix": r.prefix,
                    "expiration_days": r.expiration_days,
                    "noncurrent_expiration_days": r.noncurrent_expiration_days,
                    "transitions": r.transitions.iter().map(|t| json!({"days": t.days, "storage_class": t.storage_class})).collect::<Vec<_>>(),
                })
            })
            .collect();
        // Not an ordering edge: the replication configuration is apply's link step,
        // after this bucket and its destinations (buckets may replicate to each other).
        let depends_on = Vec::new();
        let replication = match &b.replication {
            None => Value::Null,
            Some(rep) => {
                let mut rules = rep.rules.clone();
                rules.sort_by(|x, y| x.id.cmp(&y.id));
                json!({
                    "role_arn": rep.role_arn,
                    "rules": rules.iter().map(|r| json!({
                        "id": r.id,
                        "prefix": r.prefix,
                        "destination_bucket": t.buckets.get(&r.destination).map(|d| d.name.clone()).unwrap_or_else(|| r.destination.clone()),
                        "storage_class": r.storage_class,
                    })).collect::<Vec<_>>(),
                })
            }
        };
        let encryption = match &b.encryption {
            Some(e) => json!({"algorithm": e.algorithm, "kms_key_id": e.kms_key_id}),
            None => Value::Null,
        };
        out.push(lw.resource(
            Address::block("bucket", &b.label),
            Kind::Bucket,
            Some(&b.site),
            json!({
                "name": b.name,
                "versioning": b.versioning,
                "encryption": encryption,
                "lifecycle_rules": lifecycle,
                "replication": replication,
                "tags": tags(&b.tags),
            }),
            depends_on,
            b.protect,
            &b.source,
        ));
    }
}
