//! The Route53 family in Terraform's terms (see `kinds::network::terraform`): the
//! provider's names are drplan's, but for a record's alias block (a list).

use crate::kinds::{get, TfState};
use crate::live::LiveObject;
use serde_json::{json, Map, Value};

pub fn record_values(a: &Map<String, Value>) -> Value {
    let mut record = a.clone();
    let alias = match a.get("alias") {
        Some(Value::Object(alias)) => json!([alias]),
        _ => json!([]),
    };
    record.insert("alias".into(), alias);
    Value::Object(record)
}

/// Zones and health checks: drplan's attributes as they are.
pub fn same_values(a: &Map<String, Value>) -> Value {
    Value::Object(a.clone())
}

pub fn zone_state(o: &LiveObject) -> TfState {
    let mut s = TfState::default();
    let a = &mut s.attributes;
    let name = o
        .attrs
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    a.insert("name".into(), json!(name.trim_end_matches('.')));
    a.insert("zone_id".into(), json!(o.id));
    a.insert("comment".into(), get(&o.attrs, "comment").clone());
    s
}
