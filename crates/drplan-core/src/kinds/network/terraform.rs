//! The network family in Terraform's terms: the provider's attributes of the plan
//! JSON (`render::terraform`) and of the state `drplan import
//! --generate-config-out` writes from a live object (`adopt::live`).

use crate::kinds::{get, TfState};
use crate::live::LiveObject;
use serde_json::{json, Map, Value};

pub fn vpc_values(a: &Map<String, Value>) -> Value {
    json!({"cidr_block": get(a, "cidr_block"), "tags": get(a, "tags")})
}

pub fn subnet_values(a: &Map<String, Value>) -> Value {
    json!({
        "cidr_block": get(a, "cidr_block"),
        "availability_zone": get(a, "availability_zone"),
        "vpc_id": get(a, "vpc"),
        "map_public_ip_on_launch": get(a, "public"),
        "tags": get(a, "tags"),
    })
}

pub fn vpc_state(o: &LiveObject) -> TfState {
    let mut s = TfState::default();
    s.attributes
        .insert("cidr_block".into(), get(&o.attrs, "cidr_block").clone());
    s
}

pub fn subnet_state(o: &LiveObject) -> TfState {
    let mut s = TfState::default();
    let a = &mut s.attributes;
    a.insert("vpc_id".into(), get(&o.attrs, "vpc").clone());
    a.insert("cidr_block".into(), get(&o.attrs, "cidr_block").clone());
    a.insert(
        "availability_zone".into(),
        get(&o.attrs, "availability_zone").clone(),
    );
    a.insert(
        "map_public_ip_on_launch".into(),
        get(&o.attrs, "public").clone(),
    );
    s
}
