//! The peering family in Terraform's terms (see `kinds::network::terraform`).

use crate::kinds::{get, TfState};
use crate::live::LiveObject;
use serde_json::{json, Map, Value};

/// The routes are attributes of the connection in drplan (Terraform's aws_route
/// resources have no counterpart here): the connection alone is rendered.
pub fn values(a: &Map<String, Value>) -> Value {
    json!({
        "vpc_id": get(a, "vpc"),
        "peer_vpc_id": get(a, "peer_vpc"),
        "peer_region": get(a, "peer_region"),
        "accept_status": get(a, "accept_status"),
        "tags": get(a, "tags"),
    })
}

pub fn state(o: &LiveObject) -> TfState {
    let mut s = TfState::default();
    let a = &mut s.attributes;
    a.insert("vpc_id".into(), get(&o.attrs, "vpc").clone());
    a.insert("peer_vpc_id".into(), get(&o.attrs, "peer_vpc").clone());
    a.insert("peer_region".into(), get(&o.attrs, "peer_region").clone());
    s
}
