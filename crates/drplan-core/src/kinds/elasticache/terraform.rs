//! The ElastiCache family in Terraform's terms (see `kinds::network::terraform`).

use crate::kinds::{get, TfState};
use crate::live::LiveObject;
use serde_json::{json, Map, Value};

/// The subnet group is part of the group in drplan, named after it.
pub fn values(a: &Map<String, Value>) -> Value {
    json!({
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
    })
}

/// A live group as state, with the subnet group it runs in (named after it: the
/// reader reads the group's own) as the provider's aws_elasticache_subnet_group.
pub fn state(o: &LiveObject) -> TfState {
    let mut s = TfState::default();
    let a = &mut s.attributes;
    a.insert("replication_group_id".into(), get(&o.attrs, "name").clone());
    for k in [
        "description",
        "engine",
        "engine_version",
        "node_type",
        "num_cache_clusters",
        "snapshot_retention_limit",
        "snapshot_window",
    ] {
        a.insert(k.into(), get(&o.attrs, k).clone());
    }
    a.insert(
        "automatic_failover_enabled".into(),
        get(&o.attrs, "automatic_failover").clone(),
    );
    a.insert("subnet_group_name".into(), get(&o.attrs, "name").clone());
    s.companions.push((
        "aws_elasticache_subnet_group",
        json!({"name": get(&o.attrs, "name"), "subnet_ids": get(&o.attrs, "subnets"), "region": o.region}),
    ));
    s
}
