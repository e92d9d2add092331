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
//! plan format version this view follows, not a Terraform that ran. Each kind's
//! type, provider and attribute shape are its family's (`KindInfo::terraform`,
//! `kinds::<family>::terraform`).

use super::json::actions;
use crate::kinds::Provider;
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
            let key = provider_key(c.kind);
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

/// The provider's type of `kind`: drplan's type names are the provider's, but where
/// the kind says otherwise (Kubernetes objects).
fn tf_type(kind: Kind) -> &'static str {
    kind.info().terraform.type_name.unwrap_or(kind.type_name())
}

/// The source address of `kind`'s provider.
fn provider(kind: Kind) -> &'static str {
    match kind.info().terraform.provider {
        Provider::Aws => AWS,
        Provider::Kubernetes => KUBERNETES,
    }
}

/// The key of `kind`'s provider configuration.
fn provider_key(kind: Kind) -> &'static str {
    match kind.info().terraform.provider {
        Provider::Aws => "aws",
        Provider::Kubernetes => "kubernetes",
    }
}

/// `attrs` (drplan's normalized form) in the provider's attribute names and shapes.
fn values(kind: Kind, a: &Map<String, Value>) -> Value {
    (kind.info().terraform.values)(a)
}
