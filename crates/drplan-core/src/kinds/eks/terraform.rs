//! The EKS family in Terraform's terms (see `kinds::network::terraform`).

use crate::kinds::{get, TfState};
use crate::live::LiveObject;
use serde_json::{json, Map, Value};

/// An EKS cluster in the provider's shape; the security settings only where the spec
/// says them (unsaid, they are whatever the cluster has: EKS's defaults at creation).
pub fn cluster_values(a: &Map<String, Value>) -> Value {
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

pub fn node_group_values(a: &Map<String, Value>) -> Value {
    json!({
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
    })
}

pub fn cluster_state(o: &LiveObject) -> TfState {
    let mut s = TfState::default();
    let a = &mut s.attributes;
    for k in ["name", "version", "role_arn"] {
        a.insert(k.into(), get(&o.attrs, k).clone());
    }
    a.insert(
        "vpc_config".into(),
        json!([{"subnet_ids": get(&o.attrs, "subnets")}]),
    );
    s
}

pub fn node_group_state(o: &LiveObject) -> TfState {
    let mut s = TfState::default();
    let a = &mut s.attributes;
    a.insert("cluster_name".into(), get(&o.attrs, "cluster_name").clone());
    a.insert("node_group_name".into(), get(&o.attrs, "name").clone());
    for k in [
        "node_role_arn",
        "instance_types",
        "disk_size",
        "capacity_type",
        "labels",
    ] {
        a.insert(k.into(), get(&o.attrs, k).clone());
    }
    a.insert("subnet_ids".into(), get(&o.attrs, "subnets").clone());
    a.insert(
        "scaling_config".into(),
        json!([{
            "min_size": get(&o.attrs, "min_size"),
            "desired_size": get(&o.attrs, "desired_size"),
            "max_size": get(&o.attrs, "max_size"),
        }]),
    );
    s
}
