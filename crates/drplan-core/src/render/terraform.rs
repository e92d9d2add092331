//! The plan as Terraform's plan JSON shapes it (`drplan plan --terraform-json`), for
//! the policy tools teams already run on Terraform plans: checkov
//! (`--framework terraform_plan`), terraform-compliance, OPA/conftest policies. They
//! read `planned_values.root_module.resources[]` (the state after apply) and
//! `resource_changes[]` with the AWS provider's resource types and attribute shapes,
//! and `configuration` for references. drplan's own plan JSON (docs/plan-json.md)
//! stays the contract for drplan; this is a translation of it.
//!
//! S3 buckets carry the provider's inline shape (`versioning`,
//! `server_side_encryption_configuration`, `lifecycle_rule`,
//! `replication_configuration`), which the tools' S3 checks read; VPCs, subnets, EKS
//! clusters and node groups and Route53 objects carry the provider's main attribute
//! names; Kubernetes objects are `kubernetes_manifest`. `terraform_version` names the
//! plan format version this view follows, not a Terraform that ran.

use super::json::actions;
use crate::plan::{Action, Plan, ResourceChange};
use crate::resource::Kind;
use serde_json::{json, Map, Value};

/// The Terraform plan JSON format this view follows.
pub const FORMAT_VERSION: &str = "1.2";
/// The Terraform release whose plan JSON this view follows (tools check it exists).
pub const TERRAFORM_VERSION: &str = "1.5.7";
const AWS: &str = "registry.terraform.io/hashicorp/aws";
const KUBERNETES: &str = "registry.terraform.io/hashicorp/kubernetes";

/// The Terraform-shaped document of `plan`.
pub fn render(plan: &Plan) -> String {
    let planned: Vec<Value> = plan
        .changes
        .iter()
        .filter(|c| !matches!(c.action, Action::Delete | Action::Forget))
        .filter_map(|c| {
            let values = c.after.as_ref().map(|a| values(c.kind, a))?;
            Some(entry(
                c,
                json!({"provider_name": provider(c.kind), "schema_version": 0, "values": values, "sensitive_values": {}}),
            ))
        })
        .collect();
    let changes: Vec<Value> = plan
        .changes
        .iter()
        .map(|c| {
            entry(
                c,
                json!({
                    "provider_name": provider(c.kind),
                    "change": {
                        "actions": actions(c.action),
                        "before": c.before.as_ref().map(|b| values(c.kind, b)),
                        "after": c.after.as_ref().map(|a| values(c.kind, a)),
                        "after_unknown": {},
                        "before_sensitive": {},
                        "after_sensitive": {},
                    },
                }),
            )
        })
        .collect();
    let configured: Vec<Value> = plan
        .changes
        .iter()
        .filter(|c| !matches!(c.action, Action::Delete | Action::Forget))
        .map(|c| {
            let key = if c.kind == Kind::K8sObject {
                "kubernetes"
            } else {
                "aws"
            };
            entry(
                c,
                json!({"provider_config_key": key, "expressions": {}, "schema_version": 0}),
            )
        })
        .collect();
    let doc = json!({
        "format_version": FORMAT_VERSION,
        "terraform_version": TERRAFORM_VERSION,
        "drplan": {"stack": plan.stack, "environment": plan.environment, "spec_digest": plan.spec_digest},
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "configuration": {
            "provider_config": {
                "aws": {"name": "aws", "full_name": AWS},
                "kubernetes": {"name": "kubernetes", "full_name": KUBERNETES},
            },
            "root_module": {"resources": configured},
        },
    });
    // One line, as `terraform show -json` writes it: terraform-compliance reads a plan
    // file's first line only (a multi-line one is "not a valid JSON file").
    let mut text = serde_json::to_string(&doc).unwrap_or_default();
    text.push('\n');
    text
}

/// One resource entry of `c`: its address, mode, type and name, then `more`.
fn entry(c: &ResourceChange, more: Value) -> Value {
    let mut e =
        json!({"address": address(c), "mode": "managed", "type": tf_type(c.kind), "name": name(c)});
    if let (Some(e), Value::Object(more)) = (e.as_object_mut(), more) {
        e.extend(more);
    }
    e
}

/// `bucket.backups` -> `aws_s3_bucket.bucket_backups`: one Terraform-style address
/// per drplan address (dots and other characters made `_`, the drplan address kept
/// readable in the name).
fn name(c: &ResourceChange) -> String {
    c.address
        .as_str()
        .chars()
        .map(|ch| {
            if ch.is_ascii_alphanumeric() || ch == '-' || ch == '_' {
                ch
            } else {
                '_'
            }
        })
        .collect()
}

fn address(c: &ResourceChange) -> String {
    format!("{}.{}", tf_type(c.kind), name(c))
}

/// drplan's type names are the provider's, but for Kubernetes objects.
fn tf_type(kind: Kind) -> &'static str {
    match kind {
        Kind::K8sObject => "kubernetes_manifest",
        other => other.type_name(),
    }
}

fn provider(kind: Kind) -> &'static str {
    if kind == Kind::K8sObject {
        KUBERNETES
    } else {
        AWS
    }
}

fn get<'a>(a: &'a Map<String, Value>, k: &str) -> &'a Value {
    a.get(k).unwrap_or(&Value::Null)
}

/// `attrs` (drplan's normalized form) in the provider's attribute names and shapes.
fn values(kind: Kind, a: &Map<String, Value>) -> Value {
    match kind {
        Kind::Bucket => bucket(a),
        Kind::Vpc => json!({"cidr_block": get(a, "cidr_block"), "tags": get(a, "tags")}),
        Kind::Subnet => json!({
            "cidr_block": get(a, "cidr_block"),
            "availability_zone": get(a, "availability_zone"),
            "vpc_id": get(a, "vpc"),
            "map_public_ip_on_launch": get(a, "public"),
            "tags": get(a, "tags"),
        }),
        // The routes are attributes of the connection in drplan (Terraform's aws_route
        // resources have no counterpart here): the connection alone is rendered.
        Kind::VpcPeering => json!({
            "vpc_id": get(a, "vpc"),
            "peer_vpc_id": get(a, "peer_vpc"),
            "peer_region": get(a, "peer_region"),
            "accept_status": get(a, "accept_status"),
            "tags": get(a, "tags"),
        }),
        // The alias is an attribute of the key in drplan (Terraform's aws_kms_alias has
        // no counterpart here), and the deletion window is the provider's argument.
        Kind::KmsKey => json!({
            "description": get(a, "description"),
            "multi_region": get(a, "multi_region"),
            "is_enabled": get(a, "enabled"),
            "enable_key_rotation": get(a, "enable_key_rotation"),
            "deletion_window_in_days": get(a, "deletion_window_days"),
            "tags": get(a, "tags"),
        }),
        Kind::KmsReplicaKey => json!({
            "primary_key_arn": get(a, "primary_key"),
            "description": get(a, "description"),
            "enabled": get(a, "enabled"),
            "deletion_window_in_days": get(a, "deletion_window_days"),
            "tags": get(a, "tags"),
        }),
        // The lifecycle policy and the replication rules are resources of their own in
        // Terraform (aws_ecr_lifecycle_policy, aws_ecr_replication_configuration); here
        // they are attributes of the repository, rendered under drplan's names.
        Kind::EcrRepository => json!({
            "name": get(a, "name"),
            "image_tag_mutability": get(a, "image_tag_mutability"),
            "image_scanning_configuration": [{"scan_on_push": get(a, "scan_on_push")}],
            "lifecycle_policy": get(a, "lifecycle_policy"),
            "replicate_to": get(a, "replicate_to"),
            "tags": get(a, "tags"),
        }),
        Kind::EksCluster => cluster(a),
        // The subnet group is part of the group in drplan, named after it.
        Kind::CacheReplicationGroup => json!({
            "replication_group_id": get(a, "name"),
            "description": get(a, "description"),
            "engine": get(a, "engine"),
            "engine_version": get(a, "engine_version"),
            "node_type": get(a, "node_type"),
            "num_cache_clusters": get(a, "num_cache_clusters"),
            "automatic_failover_enabled": get(a, "automatic_failover"),
            "subnet_group_name": get(a, "name"),
            "snapshot_retention_limit": get(a, "snapshot_retention_limit"),
            "snapshot_window": get(a, "snapshot_window"),
            "tags": get(a, "tags"),
        }),
        Kind::NodeGroup => json!({
            "cluster_name": get(a, "cluster_name"),
            "node_group_name": get(a, "name"),
            "node_role_arn": get(a, "node_role_arn"),
            "instance_types": get(a, "instance_types"),
            "scaling_config": [{
                "min_size": get(a, "min_size"),
                "desired_size": get(a, "desired_size"),
                "max_size": get(a, "max_size"),
            }],
            "disk_size": get(a, "disk_size"),
            "capacity_type": get(a, "capacity_type"),
            "labels": get(a, "labels"),
            "subnet_ids": get(a, "subnets"),
            "tags": get(a, "tags"),
        }),
        Kind::K8sObject => json!({"manifest": get(a, "manifest")}),
        // Route53: the provider's names are drplan's, but for the alias block (a list).
        Kind::DnsRecord => {
            let mut record = a.clone();
            let alias = match a.get("alias") {
                Some(Value::Object(alias)) => json!([alias]),
                _ => json!([]),
            };
            record.insert("alias".into(), alias);
            Value::Object(record)
        }
        Kind::DnsZone | Kind::HealthCheck => Value::Object(a.clone()),
    }
}

/// An EKS cluster in the provider's shape; the security settings only where the spec
/// says them (unsaid, they are whatever the cluster has: EKS's defaults at creation).
fn cluster(a: &Map<String, Value>) -> Value {
    let mut vpc = json!({"subnet_ids": get(a, "subnets")});
    for key in ["endpoint_public_access", "endpoint_private_access"] {
        if let (Some(v), Some(map)) = (a.get(key), vpc.as_object_mut()) {
            map.insert(key.into(), v.clone());
        }
    }
    let mut out = json!({
        "name": get(a, "name"),
        "version": get(a, "version"),
        "role_arn": get(a, "role_arn"),
        "vpc_config": [vpc],
        "tags": get(a, "tags"),
    });
    if let Some(map) = out.as_object_mut() {
        if let Some(logs) = a.get("control_plane_logs") {
            map.insert("enabled_cluster_log_types".into(), logs.clone());
        }
        if let Some(key) = a.get("secrets_encryption_key") {
            map.insert(
                "encryption_config".into(),
                json!([{"resources": ["secrets"], "provider": [{"key_arn": key}]}]),
            );
        }
    }
    out
}

/// An S3 bucket in the AWS provider's inline shape.
fn bucket(a: &Map<String, Value>) -> Value {
    let versioning =
        json!([{"enabled": get(a, "versioning").as_bool().unwrap_or(false), "mfa_delete": false}]);
    let encryption = match a.get("encryption").and_then(Value::as_object) {
        Some(e) => json!([{"rule": [{
            "apply_server_side_encryption_by_default": [{
                "sse_algorithm": get(e, "algorithm"),
                "kms_master_key_id": get(e, "kms_key_id"),
            }],
            "bucket_key_enabled": false,
        }]}]),
        None => json!([]),
    };
    let lifecycle: Vec<Value> = get(a, "lifecycle_rules")
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let days = |k: &str| r.get(k).filter(|v| !v.is_null()).map(|d| json!([{"days": d}]));
            json!({
                "id": r.get("id"),
                "enabled": true,
                "prefix": r.get("prefix"),
                "expiration": days("expiration_days").unwrap_or(json!([])),
                "noncurrent_version_expiration": days("noncurrent_expiration_days").unwrap_or(json!([])),
                "transition": r.get("transitions").cloned().unwrap_or(json!([])),
            })
        })
        .collect();
    let replication = match a.get("replication").and_then(Value::as_object) {
        Some(r) => json!([{
            "role": get(r, "role_arn"),
            "rules": get(r, "rules").as_array().into_iter().flatten().map(|rule| json!({
                "id": rule.get("id"),
                "status": "Enabled",
                "prefix": rule.get("prefix"),
                "destination": [{
                    "bucket": format!("arn:aws:s3:::{}", rule.get("destination_bucket").and_then(Value::as_str).unwrap_or_default()),
                    "storage_class": rule.get("storage_class"),
                }],
            })).collect::<Vec<_>>(),
        }]),
        None => json!([]),
    };
    let logging = match a.get("logging").and_then(Value::as_object) {
        Some(l) => json!([{
            "target_bucket": get(l, "target_bucket"),
            "target_prefix": get(l, "prefix"),
        }]),
        None => json!([]),
    };
    let mut values = json!({
        "bucket": get(a, "name"),
        "versioning": versioning,
        "server_side_encryption_configuration": encryption,
        "lifecycle_rule": lifecycle,
        "replication_configuration": replication,
        "tags": get(a, "tags"),
    });
    // Only where the bucket logs: checkov reads an empty `logging` as logging on.
    if logging.as_array().is_some_and(|l| !l.is_empty()) {
        values["logging"] = logging;
    }
    values
}
