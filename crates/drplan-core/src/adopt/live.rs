//! `drplan import --generate-config-out FILE` for `import` blocks that no spec block
//! makes yet: the unmarked live objects they name, written as a Terraform state (v4,
//! the AWS provider's attribute names) so that the one conversion, [`super::tfstate`],
//! writes their spec blocks — same mapping, same labels rules, same list of what it
//! cannot say. Each object's Terraform name is the label its import block gives it, so
//! the written block lands at the import's `to`.
//!
//! Kinds written: `network` (and its `subnet`s named by imports too), `cluster` (and
//! its `node_group`s, which the conversion labels by their name), `cache` (with its
//! subnet group), `kms_key` (its replicas named by imports too, and its alias),
//! `bucket` (with its public access block and Object Lock, as the provider's split
//! resources), `registry` (with its lifecycle policy), `zone`.
//! DNS records, health checks and Kubernetes objects are listed as not written: a
//! `dns` block is written by hand around its zone, and a Kubernetes object's spec is
//! its manifest (`kubectl get -o yaml`).

use super::tfstate::Uncovered;
use crate::address::Address;
use crate::live::LiveObject;
use crate::model::Import;
use crate::resource::Kind;
use serde_json::{json, Map, Value};

/// What an import's `to` makes: the kind whose address shape it has.
pub fn kind_of(to: &Address) -> Option<Kind> {
    Kind::ALL.into_iter().find(|k| k.info().import.makes(to))
}

/// The state document (JSON) of the objects `imports` name among `live`, and the
/// imports it cannot write, with the reason.
pub fn state_of(imports: &[Import], live: &[LiveObject]) -> (String, Vec<Uncovered>) {
    let mut resources = Vec::new();
    let mut unwritten = Vec::new();
    let mut skip = |i: &Import, reason: &str| {
        unwritten.push(Uncovered {
            source: i.to.to_string(),
            reason: reason.to_string(),
        })
    };
    for i in imports {
        let Some(kind) = kind_of(&i.to) else {
            skip(i, "no spec block has this address shape");
            continue;
        };
        let tf_type = kind.type_name();
        let write = match kind.info().import.state {
            Ok(write) => write,
            Err(reason) => {
                skip(i, reason);
                continue;
            }
        };
        let named: Vec<&LiveObject> = live
            .iter()
            .filter(|o| o.kind == kind && i.names(o))
            .collect();
        let object = match named.as_slice() {
            [object] => *object,
            [] => {
                skip(
                    i,
                    &format!(
                        "no unmarked {tf_type} `{}` was found in the sites' regions",
                        i.id
                    ),
                );
                continue;
            }
            // A multi-region KMS key's copies share its key id.
            several => {
                let ids: Vec<&str> = several.iter().map(|o| o.id.as_str()).collect();
                skip(
                    i,
                    &format!(
                        "`{}` names {} unmarked {tf_type}s ({}): give the id of the one to import",
                        i.id,
                        several.len(),
                        ids.join(", ")
                    ),
                );
                continue;
            }
        };
        let name = i.to.as_str().rsplit('.').next().unwrap_or_default();
        let state = write(object);
        if let Some(reason) = state.unwritten {
            skip(i, reason);
        }
        let resource = |tf_type: &str, attributes: Value| {
            json!({
                "mode": "managed",
                "type": tf_type,
                "name": name,
                "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
                "instances": [{"attributes": attributes, "sensitive_attributes": []}],
            })
        };
        resources.push(resource(
            tf_type,
            Value::Object(attributes(object, state.attributes)),
        ));
        // The settings the provider keeps as resources of their own.
        for (tf_type, attributes) in state.companions {
            resources.push(resource(tf_type, attributes));
        }
    }
    let state = json!({"version": 4, "terraform_version": "drplan-live", "resources": resources});
    (state.to_string(), unwritten)
}

/// `object`'s id, region and tags in the provider's names, then its kind's
/// attributes (`own`).
fn attributes(o: &LiveObject, own: Map<String, Value>) -> Map<String, Value> {
    let mut a = Map::new();
    a.insert("id".into(), json!(o.id));
    if let Some(region) = &o.region {
        a.insert("region".into(), json!(region));
    }
    a.insert(
        "tags".into(),
        o.attrs.get("tags").cloned().unwrap_or(Value::Null),
    );
    a.extend(own);
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn import(to: &str, id: &str) -> Import {
        Import {
            to: Address::new(to),
            id: id.into(),
        }
    }

    fn object(kind: Kind, id: &str, region: Option<&str>, attrs: Value) -> LiveObject {
        LiveObject {
            kind,
            id: id.into(),
            region: region.map(str::to_string),
            address: None,
            stack: None,
            attrs: attrs.as_object().cloned().unwrap_or_default().into(),
        }
    }

    #[test]
    fn addresses_say_their_kind() {
        assert_eq!(
            kind_of(&Address::new("network.a.subnet.b")),
            Some(Kind::Subnet)
        );
        assert_eq!(
            kind_of(&Address::new("cluster.a.node_group.b")),
            Some(Kind::NodeGroup)
        );
        assert_eq!(kind_of(&Address::new("bucket.a.b")), None);
    }

    /// Live objects become blocks at the import's address; what cannot be written
    /// from a live object is listed with its reason, never dropped.
    #[test]
    fn a_bucket_is_written_at_its_import_and_a_record_is_listed() {
        let live = vec![
            object(
                Kind::Bucket,
                "logs-bucket",
                Some("us-west-2"),
                json!({"name": "logs-bucket", "versioning": true, "encryption": null,
                       "lifecycle_rules": [], "replication": null, "tags": {"team": "ops"}}),
            ),
            object(
                Kind::DnsRecord,
                "example.com./www.example.com./A/",
                None,
                json!({"name": "www.example.com."}),
            ),
        ];
        let imports = vec![
            import("bucket.logs", "logs-bucket"),
            import("dns.www.target.primary", "example.com/www.example.com/A"),
            import("bucket.gone", "no-such-bucket"),
        ];
        let (state, unwritten) = state_of(&imports, &live);
        let sites =
            std::collections::BTreeMap::from([("us-west-2".to_string(), "primary".to_string())]);
        let c = super::super::tfstate::convert(&state, &sites).expect("convert");
        assert_eq!(
            c.adoptions
                .iter()
                .map(|a| a.to.as_str())
                .collect::<Vec<_>>(),
            ["bucket.logs"]
        );
        assert!(
            c.config.contains("name       = \"logs-bucket\""),
            "{}",
            c.config
        );
        let reasons: Vec<&str> = unwritten.iter().map(|u| u.source.as_str()).collect();
        assert_eq!(reasons, ["dns.www.target.primary", "bucket.gone"]);
        assert!(unwritten[1]
            .reason
            .contains("no unmarked aws_s3_bucket `no-such-bucket`"));
    }

    /// A multi-region key and its replica, both imported by the key id they share,
    /// become one `kms_key` block with the replica's site in `replicas` and the
    /// alias; a key id that names replicas in two regions is listed, not guessed.
    #[test]
    fn a_key_and_its_replica_are_one_block_and_an_ambiguous_id_is_listed() {
        let key_arn = "arn:aws:kms:us-west-2:123456789012:key/mrk-1";
        let replica = |region: &str| {
            object(
                Kind::KmsReplicaKey,
                &format!("arn:aws:kms:{region}:123456789012:key/mrk-1"),
                Some(region),
                json!({"primary_key": key_arn, "description": "d", "enabled": true,
                       "alias": "alias/k", "deletion_window_days": 30, "tags": {}}),
            )
        };
        let key = object(
            Kind::KmsKey,
            key_arn,
            Some("us-west-2"),
            json!({"description": "d", "multi_region": true, "enabled": true,
                   "enable_key_rotation": false, "alias": "alias/k",
                   "deletion_window_days": 30, "tags": {}}),
        );
        let sites = std::collections::BTreeMap::from([
            ("us-west-2".to_string(), "primary".to_string()),
            ("us-east-1".to_string(), "dr".to_string()),
            ("us-east-2".to_string(), "dr2".to_string()),
        ]);
        let imports = vec![
            import("kms_key.k", "mrk-1"),
            import("kms_key.k.replica.dr", "mrk-1"),
        ];
        let live = vec![key.clone(), replica("us-east-1")];
        let (state, unwritten) = state_of(&imports, &live);
        assert!(unwritten.is_empty(), "{unwritten:?}");
        let c = super::super::tfstate::convert(&state, &sites).expect("convert");
        let to: Vec<&str> = c.adoptions.iter().map(|a| a.to.as_str()).collect();
        assert_eq!(to, ["kms_key.k", "kms_key.k.replica.dr"]);
        for line in [
            "kms_key \"k\" {",
            "replicas             = [site.dr]",
            "alias                = \"alias/k\"",
        ] {
            assert!(c.config.contains(line), "{line} in:\n{}", c.config);
        }
        assert!(c.uncovered.is_empty(), "{:?}", c.uncovered);

        let live = vec![key, replica("us-east-1"), replica("us-east-2")];
        let (_, unwritten) = state_of(&imports, &live);
        assert_eq!(unwritten.len(), 1, "{unwritten:?}");
        assert!(
            unwritten[0]
                .reason
                .contains("names 2 unmarked aws_kms_replica_keys"),
            "{}",
            unwritten[0].reason
        );
    }
}
