//! Hand-built desired resources and live objects shared by the plan and render tests.
#![allow(dead_code)]

use drplan_core::address::Address;
use drplan_core::live::{LiveObject, LiveState};
use drplan_core::plan::diff::{diff, DiffContext};
use drplan_core::plan::Plan;
use drplan_core::resource::{AttrMap, Kind, Resource};
use serde_json::{json, Value};

pub const STACK: &str = "lanka-platform";

pub fn ctx() -> DiffContext {
    DiffContext {
        stack: STACK.into(),
        environment: "prod".into(),
        spec_digest: "sha256:0f3c".into(),
        allow_destroy: Vec::new(),
        activated_site: None,
        imports: Vec::new(),
        replace: Vec::new(),
        removed: Vec::new(),
        site_regions: Default::default(),
    }
}

pub fn attrs(v: Value) -> AttrMap {
    match v {
        Value::Object(m) => m.into(),
        _ => panic!("fixture attrs must be an object"),
    }
}

fn regional(address: &str, kind: Kind, site: &str, region: &str, a: Value) -> Resource {
    Resource {
        ignore_changes: Vec::new(),
        address: Address::new(address),
        kind,
        site: Some(site.into()),
        region: Some(region.into()),
        attrs: attrs(a),
        sensitive: Vec::new(),
        depends_on: Vec::new(),
        protect: kind.is_stateful(),
        source: None,
    }
}

fn global(address: &str, kind: Kind, a: Value) -> Resource {
    Resource {
        ignore_changes: Vec::new(),
        address: Address::new(address),
        kind,
        site: None,
        region: None,
        attrs: attrs(a),
        sensitive: Vec::new(),
        depends_on: Vec::new(),
        protect: kind.is_stateful(),
        source: None,
    }
}

/// A typical desired resource of each kind.
pub fn sample(kind: Kind) -> Resource {
    match kind {
        Kind::Vpc => regional(
            "network.primary",
            kind,
            "primary",
            "us-west-2",
            json!({"cidr_block": "10.0.0.0/16", "tags": {"Name": "lanka-primary"}}),
        ),
        Kind::Subnet => regional(
            "network.primary.subnet.a",
            kind,
            "primary",
            "us-west-2",
            json!({"vpc": "network.primary", "cidr_block": "10.0.1.0/24", "availability_zone": "us-west-2a",
                   "public": false, "tags": {"Name": "lanka-primary-a"}}),
        ),
        Kind::VpcPeering => regional(
            "peering.primary_dr",
            kind,
            "primary",
            "us-west-2",
            json!({"vpc": "network.primary", "peer_vpc": "network.dr", "peer_region": "us-east-1",
                   "accept_status": "active", "requester_routes": ["10.1.0.0/16"],
                   "accepter_routes": ["10.0.0.0/16"], "tags": {}}),
        ),
        Kind::EksCluster => regional(
            "cluster.primary",
            kind,
            "primary",
            "us-west-2",
            json!({"name": "lanka-primary", "version": "1.29", "role_arn": "arn:aws:iam::123456789012:role/eks",
                   "subnets": ["network.primary.subnet.a", "network.primary.subnet.b"], "tags": {"team": "platform"}}),
        ),
        Kind::NodeGroup => regional(
            "cluster.primary.node_group.general",
            kind,
            "primary",
            "us-west-2",
            json!({"cluster_name": "lanka-primary", "name": "general", "node_role_arn": "arn:aws:iam::123456789012:role/node",
                   "instance_types": ["m5.large"], "min_size": 2, "max_size": 6, "desired_size": 3, "disk_size": 50,
                   "capacity_type": "ON_DEMAND", "labels": {"tier": "general"},
                   "subnets": ["network.primary.subnet.a", "network.primary.subnet.b"], "tags": {}}),
        ),
        Kind::KmsKey => regional(
            "kms_key.backups",
            kind,
            "primary",
            "us-west-2",
            json!({"description": "backups", "multi_region": true, "enabled": true,
                   "enable_key_rotation": true, "alias": "alias/backups",
                   "deletion_window_days": 30, "tags": {}}),
        ),
        Kind::KmsReplicaKey => regional(
            "kms_key.backups.replica.dr",
            kind,
            "dr",
            "us-east-1",
            json!({"primary_key": "kms_key.backups", "description": "backups", "enabled": true,
                   "alias": "alias/backups", "deletion_window_days": 30, "tags": {}}),
        ),
        Kind::Bucket => regional(
            "bucket.backups",
            kind,
            "primary",
            "us-west-2",
            json!({"name": "lanka-platform-backups", "versioning": true,
                   "encryption": {"algorithm": "aws:kms", "kms_key_id": "alias/backups"},
                   "lifecycle_rules": [{"id": "drplan-backup-neo4j", "prefix": "neo4j/", "expiration_days": 30,
                                        "noncurrent_expiration_days": null, "transitions": []}],
                   "replication": {"role_arn": "arn:aws:iam::123456789012:role/replication",
                                   "rules": [{"id": "to-dr", "prefix": "", "destination_bucket": "lanka-platform-backups-dr",
                                              "storage_class": "STANDARD_IA"}]},
                   "tags": {"env": "prod"}}),
        ),
        Kind::EcrRepository => regional(
            "registry.api",
            kind,
            "primary",
            "us-west-2",
            json!({"name": "lanka-platform/api", "image_tag_mutability": "MUTABLE", "scan_on_push": false,
                   "lifecycle_policy": drplan_core::kinds::ecr::expiry_policy(30),
                   "replicate_to": ["us-east-1"], "tags": {"team": "platform"}}),
        ),
        Kind::CacheReplicationGroup => regional(
            "cache.redis",
            kind,
            "primary",
            "us-west-2",
            json!({"name": "lanka-redis", "description": "drplan cache.redis", "engine": "redis",
                   "engine_version": "7.1", "node_type": "cache.r6g.large", "num_cache_clusters": 2,
                   "automatic_failover": true, "subnets": ["network.primary.subnet.a", "network.primary.subnet.b"],
                   "snapshot_retention_limit": 7, "snapshot_window": "03:00-05:00", "tags": {}}),
        ),
        Kind::DnsZone => global(
            "zone.main",
            kind,
            json!({"name": "lanka.example.com.", "comment": "Lanka public zone", "tags": {}}),
        ),
        Kind::DnsRecord => global(
            "dns.api.target.primary",
            kind,
            json!({"zone": "lanka.example.com.", "name": "api.lanka.example.com.", "type": "CNAME", "ttl": 60,
                   "records": ["api-primary.lanka.example.com"], "set_identifier": "primary", "failover": "PRIMARY",
                   "health_check": "dns.api.target.primary.health_check"}),
        ),
        Kind::HealthCheck => global(
            "dns.api.target.primary.health_check",
            kind,
            json!({"type": "HTTPS", "fqdn": "api-primary.lanka.example.com", "port": 443, "resource_path": "/healthz",
                   "request_interval": 30, "failure_threshold": 3, "tags": {}}),
        ),
        Kind::K8sObject => regional(
            "kubernetes.app.config_map.settings",
            kind,
            "primary",
            "us-west-2",
            json!({"cluster": "cluster.primary", "api_version": "v1", "kind": "ConfigMap", "namespace": "lanka",
                   "name": "settings",
                   "manifest": {"apiVersion": "v1", "kind": "ConfigMap",
                                "metadata": {"name": "settings", "namespace": "lanka"},
                                "data": {"LOG_LEVEL": "info"}}}),
        ),
    }
}

/// An attribute of each kind that can change in place, and a new value for it.
pub fn in_place_change(kind: Kind) -> (&'static str, Value) {
    match kind {
        Kind::Vpc => ("tags", json!({"Name": "lanka-primary", "env": "prod"})),
        Kind::Subnet => ("public", json!(true)),
        Kind::VpcPeering => ("accepter_routes", json!([])),
        Kind::EksCluster => ("version", json!("1.30")),
        Kind::NodeGroup => ("desired_size", json!(5)),
        Kind::KmsKey => ("enable_key_rotation", json!(false)),
        Kind::KmsReplicaKey => ("enabled", json!(false)),
        Kind::Bucket => ("versioning", json!(false)),
        Kind::EcrRepository => ("replicate_to", json!([])),
        Kind::CacheReplicationGroup => ("snapshot_retention_limit", json!(14)),
        Kind::DnsZone => ("comment", json!("public zone")),
        Kind::DnsRecord => ("ttl", json!(300)),
        Kind::HealthCheck => ("port", json!(8443)),
        Kind::K8sObject => (
            "manifest",
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                                               "metadata": {"name": "settings", "namespace": "lanka"},
                                               "data": {"LOG_LEVEL": "debug"}}),
        ),
    }
}

/// An attribute of each kind whose change forces replacement, and a new value.
pub fn forcing_change(kind: Kind) -> (&'static str, Value) {
    match kind {
        Kind::Vpc => ("cidr_block", json!("10.9.0.0/16")),
        Kind::Subnet => ("availability_zone", json!("us-west-2c")),
        Kind::VpcPeering => ("peer_vpc", json!("network.other")),
        Kind::EksCluster => ("role_arn", json!("arn:aws:iam::123456789012:role/eks-v2")),
        Kind::NodeGroup => ("instance_types", json!(["m5.xlarge"])),
        Kind::KmsKey => ("multi_region", json!(false)),
        Kind::KmsReplicaKey => ("primary_key", json!("kms_key.other")),
        Kind::Bucket => ("name", json!("lanka-platform-backups-v2")),
        Kind::EcrRepository => ("name", json!("lanka-platform/api-v2")),
        Kind::CacheReplicationGroup => ("name", json!("lanka-redis-v2")),
        Kind::DnsZone => ("name", json!("lanka.example.org.")),
        Kind::DnsRecord => ("type", json!("A")),
        Kind::HealthCheck => ("type", json!("TCP")),
        Kind::K8sObject => ("namespace", json!("lanka-system")),
    }
}

/// The live object drplan would read for `r` once applied by stack `STACK`.
pub fn owned(r: &Resource) -> LiveObject {
    LiveObject {
        kind: r.kind,
        id: format!("live-{}", r.address),
        region: r.region.clone(),
        address: Some(r.address.clone()),
        stack: Some(STACK.into()),
        attrs: r.attrs.clone(),
    }
}

pub fn with_attr(mut r: Resource, key: &str, value: Value) -> Resource {
    r.attrs.insert(key.into(), value);
    r
}

pub fn live(objects: Vec<LiveObject>) -> LiveState {
    LiveState {
        objects,
        ..LiveState::default()
    }
}

fn set(o: &mut LiveObject, key: &str, value: Value) {
    o.attrs.insert(key.into(), value);
}

/// A secret that must never appear in any rendering or saved plan.
pub const SECRET_LIVE: &str = "c3VwZXJzZWNyZXQtb2xk";
pub const SECRET_DESIRED: &str = "c3VwZXJzZWNyZXQtbmV3";

/// A plan with every action, nested and multi-line diffs, a changed secret and plan
/// errors, across two sites and the global Route53 objects.
pub fn rich() -> (Vec<Resource>, LiveState, DiffContext) {
    let mut desired = Vec::new();
    let mut objects = Vec::new();

    // Unchanged VPC.
    let vpc = sample(Kind::Vpc);
    objects.push(owned(&vpc));
    desired.push(vpc);

    // Subnet replaced: its CIDR cannot change in place.
    let subnet = sample(Kind::Subnet);
    let mut live_subnet = owned(&subnet);
    live_subnet.id = "subnet-0a1b".into();
    let subnet = with_attr(subnet, "cidr_block", json!("10.0.9.0/24"));
    objects.push(live_subnet);
    desired.push(subnet);

    // Cluster updated in place (version), tags map with one changed key.
    let cluster = sample(Kind::EksCluster);
    let mut live_cluster = owned(&cluster);
    live_cluster.id = "lanka-primary".into();
    set(&mut live_cluster, "version", json!("1.29"));
    set(
        &mut live_cluster,
        "tags",
        json!({"team": "platform", "cost-center": "old"}),
    );
    let cluster = with_attr(cluster, "version", json!("1.30"));
    let cluster = with_attr(
        cluster,
        "tags",
        json!({"team": "platform", "cost-center": "dr-42"}),
    );
    objects.push(live_cluster);
    desired.push(cluster);

    // Node group scaled, a label added: 7 attributes stay hidden. Live sizes come back
    // as floats from some readers: 6.0 equals 6.
    let ng = sample(Kind::NodeGroup);
    let mut live_ng = owned(&ng);
    live_ng.id = "lanka-primary/general".into();
    set(&mut live_ng, "max_size", json!(6.0));
    let ng = with_attr(ng, "desired_size", json!(5));
    let ng = with_attr(ng, "labels", json!({"tier": "general", "team": "platform"}));
    objects.push(live_ng);
    desired.push(ng);

    // Orphaned node group: marked as ours, gone from the spec.
    let mut spot = owned(&sample(Kind::NodeGroup));
    spot.id = "lanka-primary/spot".into();
    spot.address = Some(Address::new("cluster.primary.node_group.spot"));
    set(&mut spot, "name", json!("spot"));
    set(&mut spot, "capacity_type", json!("SPOT"));
    objects.push(spot);

    // Bucket created.
    let mut backups = sample(Kind::Bucket);
    backups.depends_on = vec![Address::new("bucket.backups_dr")];
    desired.push(backups);

    // Bucket that exists without a drplan mark: a conflict, never an update.
    let archive = regional(
        "bucket.archive",
        Kind::Bucket,
        "primary",
        "us-west-2",
        json!({"name": "lanka-archive", "versioning": true}),
    );
    objects.push(LiveObject {
        kind: Kind::Bucket,
        id: "lanka-archive".into(),
        region: Some("us-west-2".into()),
        address: None,
        stack: None,
        attrs: attrs(json!({"name": "lanka-archive", "versioning": false})),
    });
    desired.push(archive);

    // Orphaned bucket the user allowed to destroy.
    objects.push(LiveObject {
        kind: Kind::Bucket,
        id: "lanka-old-logs".into(),
        region: Some("us-west-2".into()),
        address: Some(Address::new("bucket.old_logs")),
        stack: Some(STACK.into()),
        attrs: attrs(json!({"name": "lanka-old-logs", "versioning": true})),
    });

    // ConfigMap with a multi-line config file changed in the middle.
    let mut config = sample(Kind::K8sObject);
    let old_conf = "server {\n  listen 80;\n  location / {\n    proxy_pass http://api:8080;\n  }\n  gzip on;\n}\n";
    let new_conf = "server {\n  listen 80;\n  location / {\n    proxy_pass http://api:9090;\n    proxy_read_timeout 60s;\n  }\n  gzip on;\n}\n";
    config.attrs.insert(
        "manifest".into(),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "lanka"},
               "data": {"LOG_LEVEL": "info", "nginx.conf": old_conf}}),
    );
    let live_config = owned(&config);
    config.attrs.insert(
        "manifest".into(),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "lanka"},
               "data": {"LOG_LEVEL": "debug", "nginx.conf": new_conf}}),
    );
    objects.push(live_config);
    desired.push(config);

    // Secret whose data changed: the change is detected, the values never shown.
    let secret_attrs = |value: &str| {
        json!({"cluster": "cluster.primary", "api_version": "v1", "kind": "Secret", "namespace": "lanka",
               "name": "neo4j-auth",
               "manifest": {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "neo4j-auth", "namespace": "lanka"},
                            "type": "Opaque", "data": {"NEO4J_AUTH": value}}})
    };
    let mut secret = regional(
        "kubernetes.app.secret.neo4j_auth",
        Kind::K8sObject,
        "primary",
        "us-west-2",
        secret_attrs(SECRET_LIVE),
    );
    secret.sensitive = vec!["manifest.data".into()];
    objects.push(owned(&secret));
    secret.attrs = attrs(secret_attrs(SECRET_DESIRED));
    desired.push(secret);

    // DR cluster: protected, and its role cannot change in place.
    let dr_cluster = regional(
        "cluster.dr",
        Kind::EksCluster,
        "dr",
        "us-east-1",
        json!({"name": "lanka-dr", "version": "1.29", "role_arn": "arn:aws:iam::123456789012:role/eks",
               "subnets": ["network.dr.subnet.a"], "tags": {}}),
    );
    let mut live_dr = owned(&dr_cluster);
    live_dr.id = "lanka-dr".into();
    let dr_cluster = with_attr(
        dr_cluster,
        "role_arn",
        json!("arn:aws:iam::123456789012:role/eks-dr"),
    );
    objects.push(live_dr);
    desired.push(dr_cluster);

    // DR bucket created.
    let backups_dr = regional(
        "bucket.backups_dr",
        Kind::Bucket,
        "dr",
        "us-east-1",
        json!({"name": "lanka-platform-backups-dr", "versioning": true, "encryption": null,
               "lifecycle_rules": [], "replication": null, "tags": {"env": "prod"}}),
    );
    desired.push(backups_dr);

    // Orphaned cluster in the DR region, not allowed to be destroyed.
    objects.push(LiveObject {
        kind: Kind::EksCluster,
        id: "lanka-legacy".into(),
        region: Some("us-east-1".into()),
        address: Some(Address::new("cluster.legacy")),
        stack: Some(STACK.into()),
        attrs: attrs(json!({"name": "lanka-legacy", "version": "1.27"})),
    });

    // Zone unchanged, record's targets changed, health check missing.
    let zone = sample(Kind::DnsZone);
    objects.push(owned(&zone));
    desired.push(zone);
    let record = sample(Kind::DnsRecord);
    let mut live_record = owned(&record);
    set(
        &mut live_record,
        "records",
        json!(["api-old.lanka.example.com", "api-primary.lanka.example.com"]),
    );
    objects.push(live_record);
    desired.push(record);
    desired.push(sample(Kind::HealthCheck));

    // A record set owned by another stack where ours wants to be.
    let www = global(
        "dns.www.target.main",
        Kind::DnsRecord,
        json!({"zone": "lanka.example.com.", "name": "www.lanka.example.com.", "type": "A", "ttl": 300,
               "records": ["192.0.2.10"], "set_identifier": null, "failover": null, "health_check": null}),
    );
    let mut www_live = owned(&www);
    www_live.stack = Some("marketing-site".into());
    objects.push(www_live);
    desired.push(www);

    // Unrelated, unmarked VPC: not ours, not in the spec, not even fingerprinted.
    objects.push(LiveObject {
        kind: Kind::Vpc,
        id: "vpc-default".into(),
        region: Some("us-west-2".into()),
        address: None,
        stack: None,
        attrs: attrs(json!({"cidr_block": "172.31.0.0/16"})),
    });

    let mut ctx = ctx();
    ctx.allow_destroy = vec![Address::new("bucket.old_logs")];
    (desired, live(objects), ctx)
}

pub fn rich_plan() -> Plan {
    let (desired, live, ctx) = rich();
    diff(&desired, &live, &ctx)
}
