//! The KMS family: a `kms_key` block lowers to the key in its site (`aws_kms_key`) and
//! one replica per site in `replicas` (`aws_kms_replica_key`, a multi-region key's
//! copy: same key id, same key material, usable in its own region). The alias is an
//! attribute of the key and of each replica (the alias of that name in their region):
//! aliases take no tags, so they are drplan's through the key they point at, and they
//! are diffed and put with it (an alias deleted out of band is an in-place update).
//!
//! Keys are stateful: a key that encrypts data can never be deleted silently. KMS has
//! no immediate deletion either: drplan schedules it (`deletion_window_days`, 7-30
//! days, during which the key is unusable and the deletion can be cancelled).
//!
//! A bucket names a declared key by its address (`kms_key.backups`): the key in the
//! bucket's own region, the primary's or a replica's ARN (the same key id: the apply
//! side takes the primary's ARN with the bucket's region, `arn_in_region`), and the
//! reader writes the ARN it reads back as that address (`resolve_bucket_keys`).

pub mod decode;
pub mod terraform;

use super::{
    by_mark, region_of, type_name_of, Family, Import, KindInfo, MarkPlace, Phase, Provider,
    Reference, Runbook, Terraform,
};
use crate::address::Address;
use crate::live::LiveObject;
use crate::model::{KmsKey, Topology};
use crate::resource::{Kind, Resource};
use crate::spec::lower::{tags, Lowering};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The tag that keeps a key's deletion window on the key itself (KMS has the setting
/// only once a deletion is scheduled), so that an orphan is scheduled with the window
/// its spec said.
pub const DELETION_WINDOW_TAG: &str = "drplan:deletion-window-days";

/// What deleting a key means, said wherever a plan would delete one.
pub const DELETION_MEANS: &str = "KMS does not delete a key at once: drplan schedules its deletion (the key's deletion_window_days, 7-30 days; 30 for a key that does not say), the key is unusable from then on, and once the window ends every object encrypted with it is unreadable for good (`aws kms cancel-key-deletion` stops it until then)";

/// The address of the replica of `key` in `site`.
pub fn replica_address(key: &Address, site: &str) -> Address {
    key.child("replica", site)
}

/// The family in the registry (`kinds::FAMILIES`): its spec blocks, lowering and
/// checks across blocks.
pub(crate) const FAMILY: Family = Family {
    blocks: &[decode::BLOCK],
    lower: Some(lower),
    check: Some(decode::check),
};

pub const KEY: KindInfo = KindInfo {
    type_name: "aws_kms_key",
    stateful: true,
    regional: true,
    in_cluster: false,
    force_new: &["multi_region"],
    unknown_after_apply: &[],
    regional_service: Some("kms"),
    apply_service: "kms",
    identity: by_mark,
    identified_by_mark: true,
    mark: MarkPlace::Tags,
    references: &[],
    name_key: None,
    forgettable: true,
    // CreateKey, EnableKeyRotation, CreateAlias: seconds.
    estimate_create: 5,
    estimate_update: 5,
    // A key is in one site; its copies in the others are its replicas.
    parity: None,
    deletion_means: Some(DELETION_MEANS),
    terraform: Terraform {
        type_name: None,
        provider: Provider::Aws,
        values: terraform::key_values,
    },
    runbook: Runbook {
        what: type_name_of,
        phase: |_| Phase::Storage,
        verify,
    },
    import: Import {
        address_shape: &["kms_key", "*"],
        state: Ok(terraform::key_state),
    },
};

pub const REPLICA: KindInfo = KindInfo {
    type_name: "aws_kms_replica_key",
    stateful: true,
    regional: true,
    in_cluster: false,
    force_new: &["primary_key"],
    unknown_after_apply: &[],
    regional_service: Some("kms"),
    apply_service: "kms",
    identity: by_mark,
    identified_by_mark: true,
    mark: MarkPlace::Tags,
    references: &[Reference::Address("primary_key")],
    name_key: None,
    forgettable: true,
    // ReplicateKey (sent in the primary's region), CreateAlias in the replica's.
    estimate_create: 10,
    estimate_update: 5,
    parity: None,
    deletion_means: Some(DELETION_MEANS),
    terraform: Terraform {
        type_name: None,
        provider: Provider::Aws,
        values: terraform::replica_values,
    },
    runbook: Runbook {
        what: type_name_of,
        phase: |_| Phase::Storage,
        verify,
    },
    import: Import {
        address_shape: &["kms_key", "*", "replica", "*"],
        state: Ok(terraform::replica_state),
    },
};

/// Lowers the family's blocks to resources in the normalized form (`spec::lower`).
pub(crate) fn lower(lw: &Lowering, out: &mut Vec<Resource>) {
    for k in lw.t.kms_keys.values() {
        let address = Address::block("kms_key", &k.label);
        out.push(lw.resource(
            address.clone(),
            Kind::KmsKey,
            Some(&k.site),
            json!({
                "description": k.description,
                "multi_region": k.multi_region,
                "enabled": true,
                "enable_key_rotation": k.enable_key_rotation,
                "alias": k.alias,
                "deletion_window_days": k.deletion_window_days,
                "tags": tags(&k.tags),
            }),
            Vec::new(),
            true,
            &k.source,
        ));
        for site in k.replicas.iter().filter(|s| lw.t.sites.contains_key(*s)) {
            out.push(lw.resource(
                replica_address(&address, site),
                Kind::KmsReplicaKey,
                Some(site),
                json!({
                    "primary_key": address.as_str(),
                    "description": k.description,
                    "enabled": true,
                    "alias": k.alias,
                    "deletion_window_days": k.deletion_window_days,
                    "tags": tags(&k.tags),
                }),
                Vec::new(),
                true,
                &k.source,
            ));
        }
    }
}

/// The declared key a bucket attribute names (`kms_key.backups`), if it names one.
pub fn declared<'t>(t: &'t Topology, value: &str) -> Option<&'t KmsKey> {
    t.kms_keys.get(value.strip_prefix("kms_key.")?)
}

/// The object that holds the declared key `value` in `site` (the key itself, or its
/// replica there): what a bucket using it there waits for.
pub fn holder_in(t: &Topology, value: &str, site: &str) -> Option<Address> {
    let k = declared(t, value)?;
    let key = Address::block("kms_key", &k.label);
    if k.site == site {
        return Some(key);
    }
    k.replicas
        .iter()
        .any(|r| r == site)
        .then(|| replica_address(&key, site))
}

/// The ARN of a multi-region key's copy in `region`: the same account and key id,
/// with the other region (`arn:aws:kms:<region>:<account>:key/<id>`).
pub fn arn_in_region(arn: &str, region: &str) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "kms", _, account, resource] if resource.starts_with("key/") => {
            Some(format!("arn:{partition}:kms:{region}:{account}:{resource}"))
        }
        _ => None,
    }
}

/// `<account>:key/<id>`: what the copies of one multi-region key share.
fn key_identity(arn: &str) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "kms", _, account, resource] if resource.starts_with("key/") => {
            Some(format!("{account}:{resource}"))
        }
        _ => None,
    }
}

/// The ARNs in the bucket attributes that name a key of this stack (in any region: a
/// replica's ARN has its primary's key id) rewritten as the key's address, so they
/// compare equal to the spec's `kms_key.<label>`. Other ARNs, aliases and ids stay as
/// read (and show up as a difference where the spec names a declared key).
pub fn resolve_bucket_keys(objects: &mut [LiveObject]) {
    let keys: BTreeMap<String, String> = objects
        .iter()
        .filter(|o| matches!(o.kind, Kind::KmsKey | Kind::KmsReplicaKey))
        .filter_map(|o| {
            let key = o.address.as_ref()?.root_block();
            Some((key_identity(&o.id)?, key.0))
        })
        .collect();
    if keys.is_empty() {
        return;
    }
    let address_of = |v: &Value| v.as_str().and_then(key_identity).and_then(|k| keys.get(&k));
    let resolve = |v: &mut Value| {
        if let Some(address) = address_of(v) {
            *v = Value::String(address.clone());
        }
    };
    // Only a bucket naming one of the keys is written: the others may share the
    // desired map (`live::DesiredMaps`), which a write would copy.
    let names_a_key = |o: &LiveObject| {
        o.attrs
            .get("encryption")
            .and_then(|e| e.get("kms_key_id"))
            .is_some_and(|v| address_of(v).is_some())
            || o.attrs
                .get("replication")
                .and_then(|r| r.get("rules"))
                .and_then(Value::as_array)
                .is_some_and(|rules| {
                    rules
                        .iter()
                        .filter_map(|r| r.get("replica_kms_key_id"))
                        .any(|v| address_of(v).is_some())
                })
    };
    for o in objects
        .iter_mut()
        .filter(|o| o.kind == Kind::Bucket && names_a_key(o))
    {
        if let Some(v) = o
            .attrs
            .get_mut("encryption")
            .and_then(|e| e.get_mut("kms_key_id"))
        {
            resolve(v);
        }
        if let Some(Value::Array(rules)) = o
            .attrs
            .get_mut("replication")
            .and_then(|r| r.get_mut("rules"))
        {
            for rule in rules {
                if let Some(v) = rule.get_mut("replica_kms_key_id") {
                    resolve(v);
                }
            }
        }
    }
}

/// The runbook's check of a key or replica (`KindInfo::runbook`).
fn verify(r: &Resource, _: &dyn Fn(&str) -> String) -> String {
    format!(
        "aws kms describe-key --region {} --key-id {} --query 'KeyMetadata.[KeyState,MultiRegionConfiguration.MultiRegionKeyType]'",
        region_of(r),
        r.attrs
            .get("alias")
            .and_then(Value::as_str)
            .unwrap_or("<key-id>")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::Address;
    use crate::resource::AttrMap;
    use serde_json::json;

    fn object(kind: Kind, id: &str, address: &str, attrs: Value) -> LiveObject {
        LiveObject {
            kind,
            id: id.into(),
            region: Some("us-west-2".into()),
            address: Some(Address::new(address)),
            stack: Some("shop".into()),
            attrs: attrs.as_object().expect("object").clone().into(),
        }
    }

    /// A bucket that names none of the stack's keys may hold the spec's map
    /// (`live::DesiredMaps`): resolving the others' key ARNs leaves it shared.
    #[test]
    fn resolving_key_arns_leaves_a_bucket_naming_no_key_shared() {
        let arn = "arn:aws:kms:us-east-1:123456789012:key/mrk-1";
        let spec: AttrMap = json!({"encryption": {"kms_key_id": "alias/other"}})
            .as_object()
            .expect("object")
            .clone()
            .into();
        let mut shared = object(Kind::Bucket, "b", "bucket.b", json!({}));
        shared.attrs = spec.clone();
        let mut objects = vec![
            object(Kind::KmsKey, arn, "kms_key.main", json!({})),
            object(
                Kind::Bucket,
                "a",
                "bucket.a",
                json!({"encryption": {"kms_key_id": "arn:aws:kms:us-west-2:123456789012:key/mrk-1"}}),
            ),
            shared,
        ];
        resolve_bucket_keys(&mut objects);
        assert_eq!(objects[1].attrs["encryption"]["kms_key_id"], "kms_key.main");
        assert!(
            objects[2].attrs.shares(&spec),
            "a bucket naming no key was copied"
        );
    }
}
