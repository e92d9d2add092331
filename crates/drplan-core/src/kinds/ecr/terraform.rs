//! The ECR family in Terraform's terms (see `kinds::network::terraform`).

use crate::kinds::{get, TfState};
use crate::live::LiveObject;
use serde_json::{json, Map, Value};

/// The lifecycle policy and the replication rules are resources of their own in
/// Terraform (aws_ecr_lifecycle_policy, aws_ecr_replication_configuration); here they
/// are attributes of the repository, rendered under drplan's names.
pub fn values(a: &Map<String, Value>) -> Value {
    json!({
        "name": get(a, "name"),
        "image_tag_mutability": get(a, "image_tag_mutability"),
        "image_scanning_configuration": [{"scan_on_push": get(a, "scan_on_push")}],
        "lifecycle_policy": get(a, "lifecycle_policy"),
        "replicate_to": get(a, "replicate_to"),
        "tags": get(a, "tags"),
    })
}

/// A live repository as state, its lifecycle policy as the provider's
/// aws_ecr_lifecycle_policy; its replication (drplan's rules only, which an unmarked
/// repository has none of) is not written.
pub fn state(o: &LiveObject) -> TfState {
    let mut s = TfState::default();
    let a = &mut s.attributes;
    a.insert("name".into(), get(&o.attrs, "name").clone());
    a.insert(
        "image_tag_mutability".into(),
        get(&o.attrs, "image_tag_mutability").clone(),
    );
    a.insert(
        "image_scanning_configuration".into(),
        json!([{"scan_on_push": get(&o.attrs, "scan_on_push")}]),
    );
    let policy = match get(&o.attrs, "lifecycle_policy") {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        v => Some(v.to_string()),
    };
    if let Some(policy) = policy {
        s.companions.push((
            "aws_ecr_lifecycle_policy",
            json!({"repository": get(&o.attrs, "name"), "policy": policy, "region": o.region}),
        ));
    }
    s
}
