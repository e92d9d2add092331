//! `drplan import --generate-config-out FILE` for `import` blocks that no spec block
//! makes yet: the unmarked live objects they name, written as a Terraform state (v4,
//! the AWS provider's attribute names) so that the one conversion, [`super::tfstate`],
//! writes their spec blocks — same mapping, same labels rules, same list of what it
//! cannot say. Each object's Terraform name is the label its import block gives it, so
//! the written block lands at the import's `to`.
//!
//! Kinds written: `network` (and its `subnet`s named by imports too), `cluster` (and
//! its `node_group`s, which the conversion labels by their name), `bucket` (with its
//! public access block and Object Lock, as the provider's split resources), `zone`.
//! DNS records, health checks and Kubernetes objects are listed as not written: a
//! `dns` block is written by hand around its zone, and a Kubernetes object's spec is
//! its manifest (`kubectl get -o yaml`).

use super::tfstate::Uncovered;
use crate::address::Address;
use crate::live::LiveObject;
use crate::model::Import;
use crate::resource::Kind;
use serde_json::{json, Map, Value};

/// What an import's `to` makes: the kind, from the address's shape.
pub fn kind_of(to: &Address) -> Option<Kind> {
    let parts: Vec<&str> = to.as_str().split('.').collect();
    match parts.as_slice() {
        ["network", _] => Some(Kind::Vpc),
        ["network", _, "subnet", _] => Some(Kind::Subnet),
        ["cluster", _] => Some(Kind::EksCluster),
        ["cluster", _, "node_group", _] => Some(Kind::NodeGroup),
        ["bucket", _] => Some(Kind::Bucket),
        ["zone", _] => Some(Kind::DnsZone),
        ["dns", _, "target", _] => Some(Kind::DnsRecord),
        ["dns", _, "target", _, "health_check"] => Some(Kind::HealthCheck),
        ["kubernetes", ..] => Some(Kind::K8sObject),
        _ => None,
    }
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
        let tf_type = match kind {
            Kind::DnsRecord | Kind::HealthCheck => {
                skip(
                    i,
                    "DNS records and health checks are not written from live objects yet: write the `dns` block, then plan",
                );
                continue;
            }
            Kind::K8sObject => {
                skip(
                    i,
                    "a Kubernetes object's spec is its manifest: save it (kubectl get -o yaml) into a `kubernetes` block's manifests",
                );
                continue;
            }
            other => other.type_name(),
        };
        let Some(object) = live.iter().find(|o| o.kind == kind && i.names(o)) else {
            skip(
                i,
                &format!(
                    "no unmarked {tf_type} `{}` was found in the sites' regions",
                    i.id
                ),
            );
            continue;
        };
        let name = i.to.as_str().rsplit('.').next().unwrap_or_default();
        let attributes = attributes(object);
        if kind == Kind::Bucket
            && object
                .attrs
                .get("replication")
                .is_some_and(|r| !r.is_null())
        {
            skip(
                i,
                "its replication is not written from the live object: add the `replication` block by hand",
            );
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
        resources.push(resource(tf_type, Value::Object(attributes)));
        if kind == Kind::Bucket {
            // The settings the provider keeps as resources of their own.
            if object.attrs.get("public_access_block") == Some(&Value::Bool(true)) {
                resources.push(resource(
                    "aws_s3_bucket_public_access_block",
                    json!({"bucket": object.id, "block_public_acls": true,
                           "ignore_public_acls": true, "block_public_policy": true,
                           "restrict_public_buckets": true}),
                ));
            }
            if let Some(lock) = object.attrs.get("object_lock").filter(|l| l.is_object()) {
                resources.push(resource(
                    "aws_s3_bucket_object_lock_configuration",
                    json!({"bucket": object.id, "object_lock_enabled": "Enabled",
                           "rule": [{"default_retention": [{
                               "mode": lock.get("mode"), "days": lock.get("days")}]}]}),
                ));
            }
        }
    }
    let state = json!({"version": 4, "terraform_version": "drplan-live", "resources": resources});
    (state.to_string(), unwritten)
}

fn text<'a>(o: &'a LiveObject, key: &str) -> &'a str {
    o.attrs.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn get(o: &LiveObject, key: &str) -> Value {
    o.attrs.get(key).cloned().unwrap_or(Value::Null)
}

/// `object`'s normalized attributes (`resource::Kind`) in the provider's names.
fn attributes(o: &LiveObject) -> Map<String, Value> {
    let mut a = Map::new();
    a.insert("id".into(), json!(o.id));
    if let Some(region) = &o.region {
        a.insert("region".into(), json!(region));
    }
    a.insert("tags".into(), get(o, "tags"));
    match o.kind {
        Kind::Vpc => {
            a.insert("cidr_block".into(), get(o, "cidr_block"));
        }
        Kind::Subnet => {
            a.insert("vpc_id".into(), get(o, "vpc"));
            a.insert("cidr_block".into(), get(o, "cidr_block"));
            a.insert("availability_zone".into(), get(o, "availability_zone"));
            a.insert("map_public_ip_on_launch".into(), get(o, "public"));
        }
        Kind::EksCluster => {
            for k in ["name", "version", "role_arn"] {
                a.insert(k.into(), get(o, k));
            }
            a.insert(
                "vpc_config".into(),
                json!([{"subnet_ids": get(o, "subnets")}]),
            );
        }
        Kind::NodeGroup => {
            a.insert("cluster_name".into(), get(o, "cluster_name"));
            a.insert("node_group_name".into(), get(o, "name"));
            for k in [
                "node_role_arn",
                "instance_types",
                "disk_size",
                "capacity_type",
                "labels",
            ] {
                a.insert(k.into(), get(o, k));
            }
            a.insert("subnet_ids".into(), get(o, "subnets"));
            a.insert(
                "scaling_config".into(),
                json!([{
                    "min_size": get(o, "min_size"),
                    "desired_size": get(o, "desired_size"),
                    "max_size": get(o, "max_size"),
                }]),
            );
        }
        Kind::Bucket => bucket(o, &mut a),
        Kind::DnsZone => {
            a.insert("name".into(), json!(text(o, "name").trim_end_matches('.')));
            a.insert("zone_id".into(), json!(o.id));
            a.insert("comment".into(), get(o, "comment"));
        }
        Kind::VpcPeering => {
            a.insert("vpc_id".into(), get(o, "vpc"));
            a.insert("peer_vpc_id".into(), get(o, "peer_vpc"));
            a.insert("peer_region".into(), get(o, "peer_region"));
        }
        Kind::KmsKey => {
            a.insert("arn".into(), json!(o.id));
            for k in ["description", "multi_region", "enable_key_rotation"] {
                a.insert(k.into(), get(o, k));
            }
            a.insert("is_enabled".into(), get(o, "enabled"));
        }
        Kind::KmsReplicaKey => {
            a.insert("arn".into(), json!(o.id));
            a.insert("primary_key_arn".into(), get(o, "primary_key"));
            a.insert("description".into(), get(o, "description"));
            a.insert("enabled".into(), get(o, "enabled"));
        }
        Kind::EcrRepository => {
            a.insert("name".into(), get(o, "name"));
            a.insert(
                "image_tag_mutability".into(),
                get(o, "image_tag_mutability"),
            );
            a.insert(
                "image_scanning_configuration".into(),
                json!([{"scan_on_push": get(o, "scan_on_push")}]),
            );
        }
        Kind::CacheReplicationGroup => {
            a.insert("replication_group_id".into(), get(o, "name"));
            for k in [
                "description",
                "engine",
                "engine_version",
                "node_type",
                "num_cache_clusters",
                "snapshot_retention_limit",
                "snapshot_window",
            ] {
                a.insert(k.into(), get(o, k));
            }
        }
        Kind::DnsRecord | Kind::HealthCheck | Kind::K8sObject => {}
    }
    a
}

fn bucket(o: &LiveObject, a: &mut Map<String, Value>) {
    a.insert("bucket".into(), json!(o.id));
    a.insert(
        "versioning".into(),
        json!([{"enabled": o.attrs.get("versioning").and_then(Value::as_bool).unwrap_or(false)}]),
    );
    if let Some(e) = o.attrs.get("encryption").and_then(Value::as_object) {
        a.insert(
            "server_side_encryption_configuration".into(),
            json!([{"rule": [{"apply_server_side_encryption_by_default": [{
                "sse_algorithm": e.get("algorithm"),
                "kms_master_key_id": e.get("kms_key_id"),
            }]}]}]),
        );
    }
    let rules: Vec<Value> = o
        .attrs
        .get("lifecycle_rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|r| {
            let days = |k: &str| r.get(k).cloned().unwrap_or(Value::Null);
            let transitions: Vec<Value> = r
                .get("transitions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|t| json!({"days": t.get("days"), "storage_class": t.get("storage_class")}))
                .collect();
            let expiration = match days("expiration_days") {
                Value::Null => json!([]),
                d => json!([{"days": d}]),
            };
            let noncurrent = match days("noncurrent_expiration_days") {
                Value::Null => json!([]),
                d => json!([{"days": d}]),
            };
            json!({
                "id": r.get("id"),
                "enabled": true,
                "prefix": r.get("prefix"),
                "expiration": expiration,
                "noncurrent_version_expiration": noncurrent,
                "transition": transitions,
            })
        })
        .collect();
    a.insert("lifecycle_rule".into(), Value::Array(rules));
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
}
