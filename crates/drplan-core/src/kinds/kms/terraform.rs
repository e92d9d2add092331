//! The KMS family in Terraform's terms (see `kinds::network::terraform`).

use crate::kinds::{get, TfState};
use crate::live::LiveObject;
use serde_json::{json, Map, Value};

/// The alias is an attribute of the key in drplan (Terraform's aws_kms_alias has no
/// counterpart here), and the deletion window is the provider's argument.
pub fn key_values(a: &Map<String, Value>) -> Value {
    json!({
        "description": get(a, "description"),
        "multi_region": get(a, "multi_region"),
        "is_enabled": get(a, "enabled"),
        "enable_key_rotation": get(a, "enable_key_rotation"),
        "deletion_window_in_days": get(a, "deletion_window_days"),
        "tags": get(a, "tags"),
    })
}

pub fn replica_values(a: &Map<String, Value>) -> Value {
    json!({
        "primary_key_arn": get(a, "primary_key"),
        "description": get(a, "description"),
        "enabled": get(a, "enabled"),
        "deletion_window_in_days": get(a, "deletion_window_days"),
        "tags": get(a, "tags"),
    })
}

/// A live key as state: the provider's key attributes, and its alias (an attribute
/// of the key in drplan) as the provider's aws_kms_alias.
pub fn key_state(o: &LiveObject) -> TfState {
    let mut s = TfState::default();
    let a = &mut s.attributes;
    a.insert("arn".into(), json!(o.id));
    for k in ["description", "multi_region", "enable_key_rotation"] {
        a.insert(k.into(), get(&o.attrs, k).clone());
    }
    a.insert("is_enabled".into(), get(&o.attrs, "enabled").clone());
    a.insert(
        "deletion_window_in_days".into(),
        get(&o.attrs, "deletion_window_days").clone(),
    );
    alias(o, &mut s);
    s
}

/// A live replica as state; its primary (`primary_key_arn`) is the key's ARN, or its
/// address when this stack manages the key.
pub fn replica_state(o: &LiveObject) -> TfState {
    let mut s = TfState::default();
    let a = &mut s.attributes;
    a.insert("arn".into(), json!(o.id));
    a.insert(
        "primary_key_arn".into(),
        get(&o.attrs, "primary_key").clone(),
    );
    a.insert("description".into(), get(&o.attrs, "description").clone());
    a.insert("enabled".into(), get(&o.attrs, "enabled").clone());
    alias(o, &mut s);
    s
}

fn alias(o: &LiveObject, s: &mut TfState) {
    if let Some(name) = o.attrs.get("alias").and_then(Value::as_str) {
        s.companions.push((
            "aws_kms_alias",
            json!({"name": name, "target_key_arn": o.id, "region": o.region}),
        ));
    }
}
