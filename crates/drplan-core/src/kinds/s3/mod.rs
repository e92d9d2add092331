//! The S3 family: `bucket` blocks (with the lifecycle and replication rules backup
//! policies compile into them). A bucket's replication destinations are links, not
//! references (`plan::links`): buckets may replicate to each other.

pub mod decode;
pub mod terraform;

use super::{
    text, type_name_of, Family, Import, KindInfo, MarkPlace, NameKey, Phase, Provider, Runbook,
    Terraform,
};
use crate::address::Address;
use crate::resource::{Kind, Resource};
use crate::spec::lower::Lowering;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A bucket's normalized attributes, typed: the lowering builds them from the spec
/// and the reader (`src/live/s3.rs`) from S3's answers, so the compiler checks that
/// both sides produce the same form (`into_attrs`). Lists are sorted by rule id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BucketAttrs {
    pub name: String,
    pub versioning: bool,
    pub encryption: Option<EncryptionAttrs>,
    pub lifecycle_rules: Vec<LifecycleRuleAttrs>,
    pub replication: Option<ReplicationAttrs>,
    /// All four public access block settings on (true) or none (false). Absent when
    /// the spec does not say: then neither compared nor read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_access_block: Option<bool>,
    /// The Object Lock default retention; absent when the spec does not say.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::present"
    )]
    pub object_lock: Option<Option<ObjectLockAttrs>>,
    /// Where S3 delivers this bucket's server access logs; absent when the spec does
    /// not say (then neither compared nor read), `null` when it logs nowhere.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::present"
    )]
    pub logging: Option<Option<LoggingAttrs>>,
    /// The buckets (names, sorted) whose access logs this bucket accepts: the
    /// `drplan-access-logs` statement of its bucket policy lets the S3 logging service
    /// write for them. Absent when no bucket of the spec logs into it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_delivery: Option<Vec<String>>,
    /// The user's tags; `None` where the reader adds them itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EncryptionAttrs {
    pub algorithm: String,
    pub kms_key_id: Option<String>,
}

/// S3 Object Lock's default retention. A bucket whose lock has no default retention
/// reads as `null`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObjectLockAttrs {
    pub mode: String,
    pub days: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoggingAttrs {
    /// The target bucket's name.
    pub target_bucket: String,
    pub prefix: String,
}

/// The `Sid` of the bucket policy statement drplan owns on a log target bucket; the
/// policy's other statements are the user's and kept as they are.
pub const LOG_DELIVERY_SID: &str = "drplan-access-logs";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LifecycleRuleAttrs {
    pub id: String,
    pub prefix: String,
    pub expiration_days: Option<i64>,
    pub noncurrent_expiration_days: Option<i64>,
    pub transitions: Vec<TransitionAttrs>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransitionAttrs {
    pub days: Option<i64>,
    pub storage_class: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReplicationAttrs {
    pub role_arn: String,
    pub rules: Vec<ReplicationRuleAttrs>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReplicationRuleAttrs {
    pub id: String,
    pub prefix: String,
    /// The destination's bucket name.
    pub destination_bucket: String,
    pub storage_class: Option<String>,
    /// Replicas of SSE-KMS objects encrypted with this key (and such objects
    /// replicated at all); absent when the rule says none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica_kms_key_id: Option<String>,
}

impl BucketAttrs {
    /// The attribute map of `Resource`/`LiveObject`.
    pub fn into_attrs(mut self) -> Map<String, Value> {
        self.lifecycle_rules.sort_by(|a, b| a.id.cmp(&b.id));
        if let Some(r) = &mut self.replication {
            r.rules.sort_by(|a, b| a.id.cmp(&b.id));
        }
        if let Some(sources) = &mut self.log_delivery {
            sources.sort();
            sources.dedup();
        }
        match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }
    }
}

/// The family in the registry (`kinds::FAMILIES`): its spec blocks, lowering and
/// checks across blocks.
pub(crate) const FAMILY: Family = Family {
    blocks: &[decode::BLOCK],
    lower: Some(lower),
    check: Some(|t, spans, _, diags| decode::check(t, spans, diags)),
};

pub const BUCKET: KindInfo = KindInfo {
    type_name: "aws_s3_bucket",
    stateful: true,
    regional: true,
    in_cluster: false,
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
    forgettable: true,
    estimate_create: 10,
    estimate_update: 10,
    // Lifecycle and replication rules differ per side (local and cross-region
    // retention, the direction of the copy); how the data is kept must not.
    parity: Some(&[
        "versioning",
        "encryption",
        "public_access_block",
        "object_lock",
    ]),
    deletion_means: None,
    terraform: Terraform {
        type_name: None,
        provider: Provider::Aws,
        values: terraform::values,
    },
    runbook: Runbook {
        what: type_name_of,
        phase: |_| Phase::Storage,
        verify,
    },
    import: Import {
        address_shape: &["bucket", "*"],
        state: Ok(terraform::state),
    },
};

/// Lowers the family's blocks to resources in the normalized form (`spec::lower`).
pub(crate) fn lower(lw: &Lowering, out: &mut Vec<Resource>) {
    let t = lw.t;
    let name_of = |label: &str| {
        t.buckets
            .get(label)
            .map_or_else(|| label.to_string(), |d| d.name.clone())
    };
    // Per log target (label), the names of the buckets logging into it.
    let mut log_sources: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for b in t.buckets.values() {
        if let Some(l) = &b.logging {
            log_sources
                .entry(l.target.as_str())
                .or_default()
                .push(b.name.clone());
        }
    }
    for b in t.buckets.values() {
        let attrs = BucketAttrs {
            name: b.name.clone(),
            versioning: b.versioning,
            encryption: b.encryption.as_ref().map(|e| EncryptionAttrs {
                algorithm: e.algorithm.clone(),
                kms_key_id: e.kms_key_id.clone(),
            }),
            lifecycle_rules: b
                .lifecycle_rules
                .iter()
                .map(|r| LifecycleRuleAttrs {
                    id: r.id.clone(),
                    prefix: r.prefix.clone(),
                    expiration_days: r.expiration_days,
                    noncurrent_expiration_days: r.noncurrent_expiration_days,
                    transitions: r
                        .transitions
                        .iter()
                        .map(|t| TransitionAttrs {
                            days: Some(t.days),
                            storage_class: Some(t.storage_class.clone()),
                        })
                        .collect(),
                })
                .collect(),
            replication: b.replication.as_ref().map(|rep| ReplicationAttrs {
                role_arn: rep.role_arn.clone(),
                rules: rep
                    .rules
                    .iter()
                    .map(|r| ReplicationRuleAttrs {
                        id: r.id.clone(),
                        prefix: r.prefix.clone(),
                        destination_bucket: name_of(&r.destination),
                        storage_class: r.storage_class.clone(),
                        replica_kms_key_id: r.replica_kms_key_id.clone(),
                    })
                    .collect(),
            }),
            public_access_block: b.block_public_access,
            object_lock: b.object_lock.as_ref().map(|l| {
                Some(ObjectLockAttrs {
                    mode: l.mode.clone(),
                    days: l.days,
                })
            }),
            logging: b.logging.as_ref().map(|l| {
                Some(LoggingAttrs {
                    target_bucket: name_of(&l.target),
                    prefix: l.prefix.clone(),
                })
            }),
            log_delivery: log_sources.get(b.label.as_str()).cloned(),
            tags: Some(b.tags.clone().into_iter().collect()),
        };
        // The declared KMS keys it uses wait for it: its encryption's in its own
        // region, each replication rule's in the destination's (that key's replica).
        let own_key = b
            .encryption
            .as_ref()
            .and_then(|e| e.kms_key_id.as_deref())
            .map(|k| (k, b.site.as_str()));
        let replica_keys = b.replication.iter().flat_map(|r| &r.rules).filter_map(|r| {
            let dest = t.buckets.get(&r.destination)?;
            Some((r.replica_kms_key_id.as_deref()?, dest.site.as_str()))
        });
        let mut keys: Vec<Address> = own_key
            .into_iter()
            .chain(replica_keys)
            .filter_map(|(key, site)| super::kms::holder_in(t, key, site))
            .collect();
        keys.sort();
        keys.dedup();
        // Not an ordering edge: the replication configuration is apply's link step,
        // after this bucket and its destinations (buckets may replicate to each other).
        out.push(lw.resource(
            Address::block("bucket", &b.label),
            Kind::Bucket,
            Some(&b.site),
            Value::Object(attrs.into_attrs()),
            keys,
            b.protect,
            &b.source,
        ));
    }
}

/// The S3 storage classes a lifecycle transition or a replication may name.
pub const STORAGE_CLASSES: &[&str] = &[
    "STANDARD",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "GLACIER_IR",
    "DEEP_ARCHIVE",
];

/// The runbook's check of a bucket (`KindInfo::runbook`).
fn verify(r: &Resource, _: &dyn Fn(&str) -> String) -> String {
    format!(
        "aws s3api get-bucket-replication --bucket {}",
        text(&r.attrs, "name")
    )
}
