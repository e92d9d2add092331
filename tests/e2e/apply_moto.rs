//! Apply against the moto AWS emulator: every AWS kind from an empty account, marks
//! read back through the SDK, reruns that create nothing twice (also through a
//! fault-injecting proxy and after a crash at a failpoint), and the apply lock.
//!
//! Needs the emulator installed by `scripts/setup-test-env.sh` (see tests/e2e/support/moto.rs).

use crate::support::faultproxy::{FaultConfig, FaultProxy};
use crate::support::moto::MotoServer;
use crate::support::planning::{pending, plan_against};
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use drplan::apply::clients::{Clients, ClientsFromConfig};
use drplan::apply::context::Timeouts;
use drplan::apply::{apply, ApplyOptions};
use drplan::lock::{force_unlock, AcquireOptions, ApplyLock, LockError, Unlocked};
use drplan_core::address::Address;
use drplan_core::marks;
use drplan_core::model::environment::LockSettings;
use drplan_core::plan::{Action, Plan, ResourceChange};
use drplan_core::resource::Kind;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

pub(crate) const STACK: &str = "lanka";
pub(crate) const PRIMARY: &str = "eu-west-1";
pub(crate) const DR: &str = "eu-central-1";

pub(crate) fn start_moto() -> (MotoServer, SocketAddr) {
    let moto = MotoServer::start();
    let addr = moto
        .endpoint()
        .trim_start_matches("http://")
        .parse()
        .expect("moto endpoint is http://127.0.0.1:PORT");
    (moto, addr)
}

pub(crate) async fn sdk_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(PRIMARY))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(10)
                .with_initial_backoff(Duration::from_millis(5))
                .with_max_backoff(Duration::from_millis(50)),
        )
        .load()
        .await
}

pub(crate) fn options() -> ApplyOptions {
    ApplyOptions {
        timeouts: Timeouts {
            first_poll_interval: Duration::from_millis(20),
            max_poll_interval: Duration::from_millis(200),
            ..Timeouts::default()
        },
        progress: false,
        ..ApplyOptions::default()
    }
}

fn change(address: &str, kind: Kind, region: Option<&str>, after: Value) -> ResourceChange {
    ResourceChange {
        address: Address::new(address),
        kind,
        site: region.map(|r| {
            if r == DR {
                "dr".to_string()
            } else {
                "primary".to_string()
            }
        }),
        region: region.map(str::to_string),
        action: Action::Create,
        before: None,
        after: after.as_object().cloned().map(Into::into),
        replace_because: vec![],
        unknown_after: vec![],
        sensitive: vec![],
        sensitive_changed: vec![],
        live_id: None,
        depends_on: vec![],
        protect: kind.is_stateful(),
        moved_from: None,
        wait_for: Vec::new(),
        adopt: false,
        import_id: None,
        attr_diff: Default::default(),
    }
}

/// One object of every AWS kind, as `diff` would plan them from an empty account.
pub(crate) fn full_plan() -> Plan {
    let changes = vec![
        change(
            "network.main",
            Kind::Vpc,
            Some(PRIMARY),
            json!({"cidr_block": "10.20.0.0/16", "tags": {"team": "platform"}}),
        ),
        change(
            "network.main.subnet.a",
            Kind::Subnet,
            Some(PRIMARY),
            json!({
                "vpc": "network.main", "cidr_block": "10.20.1.0/24", "availability_zone": "eu-west-1a", "public": true, "tags": {}
            }),
        ),
        change(
            "network.main.subnet.b",
            Kind::Subnet,
            Some(PRIMARY),
            json!({
                "vpc": "network.main", "cidr_block": "10.20.2.0/24", "availability_zone": "eu-west-1b", "public": false, "tags": {}
            }),
        ),
        change(
            "cluster.app",
            Kind::EksCluster,
            Some(PRIMARY),
            json!({
                "name": "app", "version": "1.31", "role_arn": "arn:aws:iam::123456789012:role/eks",
                "subnets": ["network.main.subnet.a", "network.main.subnet.b"], "tags": {"team": "platform"}
            }),
        ),
        change(
            "cluster.app.node_group.general",
            Kind::NodeGroup,
            Some(PRIMARY),
            json!({
                "cluster_name": "app", "name": "general", "node_role_arn": "arn:aws:iam::123456789012:role/node",
                "instance_types": ["m6i.large"], "min_size": 1, "max_size": 4, "desired_size": 2, "disk_size": 50,
                "capacity_type": "ON_DEMAND", "labels": {"role": "general"},
                "subnets": ["network.main.subnet.a", "network.main.subnet.b"], "tags": {}
            }),
        ),
        change(
            "bucket.backups",
            Kind::Bucket,
            Some(PRIMARY),
            json!({
                "name": "lanka-backups", "versioning": true,
                "encryption": {"algorithm": "aws:kms", "kms_key_id": "alias/backups"},
                "lifecycle_rules": [{"id": "neo4j", "prefix": "neo4j/", "expiration_days": 30, "noncurrent_expiration_days": 7, "transitions": []}],
                "replication": {"role_arn": "arn:aws:iam::123456789012:role/replication", "rules": [
                    {"id": "to-dr", "prefix": "", "destination_bucket": "lanka-backups-dr", "storage_class": "STANDARD_IA"}
                ]},
                "tags": {"data": "backups"}
            }),
        ),
        change(
            "bucket.backups_dr",
            Kind::Bucket,
            Some(DR),
            json!({
                "name": "lanka-backups-dr", "versioning": true, "encryption": null, "lifecycle_rules": [], "replication": null, "tags": {}
            }),
        ),
        change(
            "zone.main",
            Kind::DnsZone,
            None,
            json!({"name": "lanka.example.com.", "comment": "drplan test", "tags": {}}),
        ),
        change(
            "dns.api.target.primary.health_check",
            Kind::HealthCheck,
            None,
            json!({
                "type": "HTTPS", "fqdn": "primary.lanka.example.com", "port": 443, "resource_path": "/healthz",
                "request_interval": 30, "failure_threshold": 3, "tags": {}
            }),
        ),
        change(
            "dns.api.target.primary",
            Kind::DnsRecord,
            None,
            json!({
                "zone": "lanka.example.com.", "name": "api.lanka.example.com.", "type": "CNAME", "ttl": 60,
                "records": ["primary.lanka.example.com"], "set_identifier": "primary", "failover": "PRIMARY",
                "health_check": "dns.api.target.primary.health_check"
            }),
        ),
        change(
            "dns.api.target.dr",
            Kind::DnsRecord,
            None,
            json!({
                "zone": "lanka.example.com.", "name": "api.lanka.example.com.", "type": "CNAME", "ttl": 60,
                "records": ["dr.lanka.example.com"], "set_identifier": "dr", "failover": "SECONDARY", "health_check": null
            }),
        ),
    ];
    Plan {
        format_version: "1.0".into(),
        stack: STACK.into(),
        environment: "prod".into(),
        spec_digest: "test".into(),
        changes,
        live_fingerprints: Default::default(),
        errors: vec![],
        objectives: None,
        unreachable: vec![],
        deferred: vec![],
        targets: vec![],
        left_out: vec![],
        replace: vec![],
    }
}

fn tag<'a>(tags: impl IntoIterator<Item = (&'a str, &'a str)>, key: &str) -> Option<String> {
    tags.into_iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.to_string())
}

/// Everything `full_plan` creates, counted and checked through the SDK.
pub(crate) async fn assert_full_plan_converged(clients: &dyn Clients) {
    let ec2 = clients.ec2(PRIMARY);
    let vpcs = ec2
        .describe_vpcs()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name(format!("tag:{}", marks::STACK_KEY))
                .values(STACK)
                .build(),
        )
        .send()
        .await
        .expect("DescribeVpcs");
    assert_eq!(vpcs.vpcs().len(), 1, "exactly one marked VPC");
    let vpc = &vpcs.vpcs()[0];
    assert_eq!(vpc.cidr_block(), Some("10.20.0.0/16"));
    let vtags = vpc
        .tags()
        .iter()
        .map(|t| (t.key().unwrap_or(""), t.value().unwrap_or("")));
    assert_eq!(
        tag(vtags.clone(), marks::ADDRESS_KEY).as_deref(),
        Some("network.main")
    );
    assert_eq!(tag(vtags, "team").as_deref(), Some("platform"));

    let subnets = ec2
        .describe_subnets()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name(format!("tag:{}", marks::STACK_KEY))
                .values(STACK)
                .build(),
        )
        .send()
        .await
        .expect("DescribeSubnets");
    assert_eq!(subnets.subnets().len(), 2, "exactly two marked subnets");
    for s in subnets.subnets() {
        assert_eq!(s.vpc_id(), vpc.vpc_id());
        let addr = tag(
            s.tags()
                .iter()
                .map(|t| (t.key().unwrap_or(""), t.value().unwrap_or(""))),
            marks::ADDRESS_KEY,
        );
        let public = addr.as_deref() == Some("network.main.subnet.a");
        assert_eq!(s.map_public_ip_on_launch(), Some(public), "{addr:?}");
    }

    let eks = clients.eks(PRIMARY);
    let clusters = eks.list_clusters().send().await.expect("ListClusters");
    assert_eq!(clusters.clusters(), ["app"]);
    let cluster = eks
        .describe_cluster()
        .name("app")
        .send()
        .await
        .expect("DescribeCluster");
    let cluster = cluster.cluster().expect("cluster");
    assert_eq!(
        cluster
            .tags()
            .and_then(|t| t.get(marks::ADDRESS_KEY))
            .map(String::as_str),
        Some("cluster.app")
    );
    let subnet_ids = cluster.resources_vpc_config().map(|c| c.subnet_ids().len());
    assert_eq!(subnet_ids, Some(2));
    let groups = eks
        .list_nodegroups()
        .cluster_name("app")
        .send()
        .await
        .expect("ListNodegroups");
    assert_eq!(groups.nodegroups(), ["general"]);
    let ng = eks
        .describe_nodegroup()
        .cluster_name("app")
        .nodegroup_name("general")
        .send()
        .await
        .expect("DescribeNodegroup");
    let ng = ng.nodegroup().expect("nodegroup");
    assert_eq!(ng.scaling_config().and_then(|s| s.desired_size()), Some(2));
    assert_eq!(
        ng.tags()
            .and_then(|t| t.get(marks::STACK_KEY))
            .map(String::as_str),
        Some(STACK)
    );

    let s3 = clients.s3(PRIMARY);
    let buckets = s3.list_buckets().send().await.expect("ListBuckets");
    let mut names: Vec<&str> = buckets.buckets().iter().filter_map(|b| b.name()).collect();
    names.sort();
    assert_eq!(names, ["lanka-backups", "lanka-backups-dr"]);
    let tagging = s3
        .get_bucket_tagging()
        .bucket("lanka-backups")
        .send()
        .await
        .expect("GetBucketTagging");
    let btags = tagging.tag_set().iter().map(|t| (t.key(), t.value()));
    assert_eq!(
        tag(btags.clone(), marks::ADDRESS_KEY).as_deref(),
        Some("bucket.backups")
    );
    assert_eq!(tag(btags, "data").as_deref(), Some("backups"));
    let versioning = s3
        .get_bucket_versioning()
        .bucket("lanka-backups")
        .send()
        .await
        .expect("GetBucketVersioning");
    assert_eq!(versioning.status().map(|s| s.as_str()), Some("Enabled"));
    let replication = s3
        .get_bucket_replication()
        .bucket("lanka-backups")
        .send()
        .await
        .expect("GetBucketReplication");
    let rule = &replication
        .replication_configuration()
        .expect("replication")
        .rules()[0];
    assert_eq!(
        rule.destination().map(|d| d.bucket()),
        Some("arn:aws:s3:::lanka-backups-dr")
    );
    let lifecycle = s3
        .get_bucket_lifecycle_configuration()
        .bucket("lanka-backups")
        .send()
        .await
        .expect("lifecycle");
    assert_eq!(lifecycle.rules().len(), 1);
    assert_eq!(
        lifecycle.rules()[0].expiration().and_then(|e| e.days()),
        Some(30)
    );

    let r53 = clients.route53();
    let zones = r53
        .list_hosted_zones_by_name()
        .dns_name("lanka.example.com.")
        .send()
        .await
        .expect("zones");
    let zones: Vec<_> = zones
        .hosted_zones()
        .iter()
        .filter(|z| z.name() == "lanka.example.com.")
        .collect();
    assert_eq!(zones.len(), 1, "exactly one zone");
    let zone_id = zones[0].id().rsplit('/').next().unwrap_or("").to_string();
    let records = r53
        .list_resource_record_sets()
        .hosted_zone_id(&zone_id)
        .send()
        .await
        .expect("records");
    let api: Vec<_> = records
        .resource_record_sets()
        .iter()
        .filter(|r| r.name() == "api.lanka.example.com.")
        .collect();
    assert_eq!(api.len(), 2, "primary and secondary record sets");
    let primary = api
        .iter()
        .find(|r| r.set_identifier() == Some("primary"))
        .expect("primary record");
    assert_eq!(primary.failover().map(|f| f.as_str()), Some("PRIMARY"));
    assert!(
        primary.health_check_id().is_some(),
        "the primary record carries its health check"
    );
    let owner: Vec<String> = records
        .resource_record_sets()
        .iter()
        .filter(|r| r.name() == "_drplan.api.lanka.example.com.")
        .flat_map(|r| r.resource_records().iter().map(|v| v.value().to_string()))
        .collect();
    let mut owned: Vec<String> = owner
        .iter()
        .filter_map(|v| marks::parse_dns_owner_value(v))
        .map(|(s, a, _, _)| format!("{s} {a}"))
        .collect();
    owned.sort();
    assert_eq!(
        owned,
        ["lanka dns.api.target.dr", "lanka dns.api.target.primary"]
    );

    let checks = r53
        .list_health_checks()
        .send()
        .await
        .expect("health checks");
    assert_eq!(checks.health_checks().len(), 1, "exactly one health check");
    let hc = &checks.health_checks()[0];
    assert_eq!(primary.health_check_id(), Some(hc.id()));
    let hc_tags = r53
        .list_tags_for_resource()
        .resource_type(aws_sdk_route53::types::TagResourceType::Healthcheck)
        .resource_id(hc.id())
        .send()
        .await
        .expect("health check tags");
    let hc_tags = hc_tags
        .resource_tag_set()
        .map(|s| s.tags().to_vec())
        .unwrap_or_default();
    let hc_tags = hc_tags
        .iter()
        .map(|t| (t.key().unwrap_or(""), t.value().unwrap_or("")));
    assert_eq!(
        tag(hc_tags, marks::ADDRESS_KEY).as_deref(),
        Some("dns.api.target.primary.health_check")
    );
}

#[tokio::test]
async fn apply_creates_every_aws_kind_marked_and_a_rerun_creates_nothing_twice() {
    let (_moto, moto_addr) = start_moto();
    let clients = ClientsFromConfig::new(sdk_config(&format!("http://{}", moto_addr)).await);
    let plan = full_plan();

    let report = apply(&plan, &clients, &options())
        .await
        .expect("plan accepted");
    assert!(report.succeeded(), "{}", report.render_text());
    assert_eq!(
        report.summary(),
        "Apply complete! Resources: 11 added, 0 changed, 0 destroyed."
    );
    assert_full_plan_converged(&clients).await;

    // The same create plan again (a stale plan, or a rerun after a crash): every
    // object is found by its mark or name and adopted.
    let again = apply(&plan, &clients, &options())
        .await
        .expect("plan accepted");
    assert!(again.succeeded(), "{}", again.render_text());
    assert_full_plan_converged(&clients).await;
}

#[tokio::test]
async fn a_plan_without_changes_makes_no_api_calls() {
    let (_moto, moto_addr) = start_moto();
    let proxy = FaultProxy::start(moto_addr, FaultConfig::default())
        .await
        .expect("proxy");
    let clients = ClientsFromConfig::new(sdk_config(&proxy.url()).await);
    let mut plan = full_plan();
    for c in &mut plan.changes {
        c.action = Action::NoOp;
    }
    let report = apply(&plan, &clients, &options())
        .await
        .expect("plan accepted");
    assert_eq!(
        report.render_text(),
        "Apply complete! Resources: 0 added, 0 changed, 0 destroyed.\n"
    );
    assert_eq!(
        proxy
            .counters
            .requests
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}

#[tokio::test]
async fn apply_converges_through_throttling_errors_and_dropped_connections() {
    let (_moto, moto_addr) = start_moto();
    let config = FaultConfig {
        seed: 42,
        fault_rate: 0.2,
        latency: Duration::from_millis(2),
        ..FaultConfig::default()
    };
    let proxy = FaultProxy::start(moto_addr, config).await.expect("proxy");
    let clients = ClientsFromConfig::new(sdk_config(&proxy.url()).await);

    let report = apply(&full_plan(), &clients, &options())
        .await
        .expect("plan accepted");
    let faults = proxy.counters.faults();
    let requests = proxy
        .counters
        .requests
        .load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        report.succeeded(),
        "{}\n{faults} faults in {requests} requests",
        report.render_text()
    );
    assert!(
        faults > 0,
        "the proxy injected faults ({requests} requests)"
    );
    eprintln!("fault proxy: {faults} faults injected in {requests} requests");

    let direct = ClientsFromConfig::new(sdk_config(&format!("http://{}", moto_addr)).await);
    assert_full_plan_converged(&direct).await;
}

/// Runs as a child process of `a_crash_at_a_failpoint_then_rerun_converges`: applies
/// the full plan with `DRPLAN_FAILPOINT` set, and is expected to abort.
#[tokio::test]
#[ignore = "run by a_crash_at_a_failpoint_then_rerun_converges as a child process"]
async fn failpoint_child() {
    let Ok(endpoint) = std::env::var("DRPLAN_TEST_ENDPOINT") else {
        return;
    };
    let clients = ClientsFromConfig::new(sdk_config(&endpoint).await);
    let report = apply(&full_plan(), &clients, &options()).await;
    eprintln!("child finished without reaching the failpoint: {report:?}");
}

#[tokio::test]
async fn a_crash_at_a_failpoint_then_rerun_converges() {
    let (_moto, moto_addr) = start_moto();
    let endpoint = format!("http://{}", moto_addr);
    for failpoint in [
        "network.main.subnet.a:after",
        "dns.api.target.primary.health_check:after",
        "bucket.backups:before",
    ] {
        let status = Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "--ignored",
                "--exact",
                "apply_moto::failpoint_child",
                "--nocapture",
            ])
            .env("DRPLAN_TEST_ENDPOINT", &endpoint)
            .env("DRPLAN_FAILPOINT", failpoint)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("child runs");
        assert!(!status.success(), "the child must abort at {failpoint}");
    }
    let clients = ClientsFromConfig::new(sdk_config(&endpoint).await);
    let report = apply(&full_plan(), &clients, &options())
        .await
        .expect("plan accepted");
    assert!(report.succeeded(), "{}", report.render_text());
    assert_full_plan_converged(&clients).await;
}

#[tokio::test]
async fn the_apply_lock_admits_one_holder_and_names_it_to_the_next() {
    let (_moto, moto_addr) = start_moto();
    let clients = ClientsFromConfig::new(sdk_config(&format!("http://{}", moto_addr)).await);
    let s3 = clients.s3("us-east-1");
    s3.create_bucket()
        .bucket("drplan-locks")
        .send()
        .await
        .expect("lock bucket");
    let settings = LockSettings {
        bucket: "drplan-locks".into(),
        region: "us-east-1".into(),
        key: None,
        lease: Duration::from_secs(120),
    };
    let now = AcquireOptions::default();

    let held = ApplyLock::acquire(&s3, &settings, STACK, "prod", &now)
        .await
        .expect("first apply takes the lock");
    let second = ApplyLock::acquire(&s3, &settings, STACK, "prod-dr", &now).await;
    match second {
        Err(e @ LockError::Held { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains(&held.info().holder), "{msg}");
            assert!(
                msg.contains(&format!("pid {}", std::process::id())),
                "{msg}"
            );
            assert!(msg.contains("drplan/locks/lanka.json"), "{msg}");
        }
        other => panic!(
            "second acquire must fail naming the holder, got {:?}",
            other.map(|l| l.info().clone())
        ),
    }
    // Another stack is not blocked.
    let other = ApplyLock::acquire(&s3, &settings, "staging", "staging", &now)
        .await
        .expect("other stack");
    other.release().await.expect("release");

    held.release().await.expect("release");
    let again = ApplyLock::acquire(&s3, &settings, STACK, "prod", &now)
        .await
        .expect("free again after release");
    // A dead holder's lock is broken with unlock --force.
    std::mem::forget(again);
    let removed = force_unlock(&s3, &settings, STACK).await.expect("unlock");
    assert!(
        matches!(removed, Unlocked::Broke(ref i) if i.env == "prod"),
        "{removed:?}"
    );
    ApplyLock::acquire(&s3, &settings, STACK, "prod", &now)
        .await
        .expect("free after unlock")
        .release()
        .await
        .expect("release");
}

fn as_update(
    c: &ResourceChange,
    live_id: Option<String>,
    edit: impl FnOnce(&mut serde_json::Map<String, Value>),
) -> ResourceChange {
    let mut c = c.clone();
    c.action = Action::Update;
    c.before = c.after.clone();
    if let Some(after) = c.after.as_mut() {
        edit(after);
    }
    c.live_id = live_id;
    c
}

fn as_delete(c: &ResourceChange, live_id: Option<String>) -> ResourceChange {
    let mut c = c.clone();
    c.action = Action::Delete;
    c.before = c.after.take();
    c.live_id = live_id;
    c.protect = false;
    c
}

#[tokio::test]
async fn updates_change_only_what_changed_and_deletes_run_in_reverse_order() {
    let (_moto, moto_addr) = start_moto();
    let clients = ClientsFromConfig::new(sdk_config(&format!("http://{}", moto_addr)).await);
    let created = full_plan();
    let report = apply(&created, &clients, &options())
        .await
        .expect("plan accepted");
    assert!(report.succeeded(), "{}", report.render_text());

    let ec2 = clients.ec2(PRIMARY);
    let find = |addr: &'static str| {
        let ec2 = ec2.clone();
        async move {
            drplan::apply::network::find_subnet(&ec2, STACK, &Address::new(addr))
                .await
                .expect("find")
                .expect("exists")
        }
    };
    let subnet_b = find("network.main.subnet.b").await;
    let vpc = drplan::apply::network::find_vpc(&ec2, STACK, &Address::new("network.main"))
        .await
        .expect("find")
        .expect("vpc");
    let by = |a: &str| {
        created
            .changes
            .iter()
            .find(|c| c.address.as_str() == a)
            .cloned()
            .expect("in plan")
    };

    let mut plan = created.clone();
    plan.changes = vec![
        as_update(&by("network.main.subnet.b"), Some(subnet_b.clone()), |a| {
            a.insert("public".into(), json!(true));
            a.insert("tags".into(), json!({"tier": "private"}));
        }),
        as_update(&by("cluster.app.node_group.general"), None, |a| {
            a.insert("desired_size".into(), json!(3));
        }),
        as_update(&by("bucket.backups"), None, |a| {
            a.insert("tags".into(), json!({"data": "backups", "owner": "sre"}));
            a.insert("lifecycle_rules".into(), json!([]));
        }),
        as_update(&by("dns.api.target.dr"), None, |a| {
            a.insert("ttl".into(), json!(30));
        }),
    ];
    let report = apply(&plan, &clients, &options())
        .await
        .expect("plan accepted");
    assert!(report.succeeded(), "{}", report.render_text());
    assert_eq!(
        report.summary(),
        "Apply complete! Resources: 0 added, 4 changed, 0 destroyed."
    );

    let subnet = ec2
        .describe_subnets()
        .subnet_ids(&subnet_b)
        .send()
        .await
        .expect("subnet");
    let subnet = &subnet.subnets()[0];
    assert_eq!(subnet.map_public_ip_on_launch(), Some(true));
    let stags = subnet
        .tags()
        .iter()
        .map(|t| (t.key().unwrap_or(""), t.value().unwrap_or("")));
    assert_eq!(tag(stags.clone(), "tier").as_deref(), Some("private"));
    assert_eq!(
        tag(stags, marks::ADDRESS_KEY).as_deref(),
        Some("network.main.subnet.b"),
        "marks survive a tag update"
    );
    let ng = clients
        .eks(PRIMARY)
        .describe_nodegroup()
        .cluster_name("app")
        .nodegroup_name("general")
        .send()
        .await
        .expect("ng");
    assert_eq!(
        ng.nodegroup()
            .and_then(|n| n.scaling_config())
            .and_then(|s| s.desired_size()),
        Some(3)
    );
    let s3 = clients.s3(PRIMARY);
    let tagging = s3
        .get_bucket_tagging()
        .bucket("lanka-backups")
        .send()
        .await
        .expect("tags");
    let btags = tagging.tag_set().iter().map(|t| (t.key(), t.value()));
    assert_eq!(tag(btags.clone(), "owner").as_deref(), Some("sre"));
    assert_eq!(tag(btags, marks::STACK_KEY).as_deref(), Some(STACK));
    assert!(
        s3.get_bucket_lifecycle_configuration()
            .bucket("lanka-backups")
            .send()
            .await
            .is_err(),
        "lifecycle removed"
    );

    // Destroy everything: the walk deletes dependents first (records before the health
    // check and zone, node group before cluster before subnets before the VPC).
    let zone_id = clients
        .route53()
        .list_hosted_zones_by_name()
        .dns_name("lanka.example.com.")
        .send()
        .await
        .expect("zones")
        .hosted_zones()
        .first()
        .map(|z| z.id().rsplit('/').next().unwrap_or("").to_string());
    let hc_id = clients
        .route53()
        .list_health_checks()
        .send()
        .await
        .expect("hcs")
        .health_checks()
        .first()
        .map(|h| h.id().to_string());
    let subnet_a = find("network.main.subnet.a").await;
    let mut destroy = created.clone();
    destroy.changes = created
        .changes
        .iter()
        .map(|c| {
            let id = match c.address.as_str() {
                "network.main" => Some(vpc.clone()),
                "network.main.subnet.a" => Some(subnet_a.clone()),
                "network.main.subnet.b" => Some(subnet_b.clone()),
                "zone.main" => zone_id.clone(),
                "dns.api.target.primary.health_check" => hc_id.clone(),
                _ => None,
            };
            as_delete(c, id)
        })
        .collect();
    // Replication must go before its destination bucket can be deleted.
    let report = apply(&destroy, &clients, &options())
        .await
        .expect("plan accepted");
    assert!(report.succeeded(), "{}", report.render_text());
    assert_eq!(
        report.summary(),
        "Apply complete! Resources: 0 added, 0 changed, 11 destroyed."
    );
    assert!(
        drplan::apply::network::find_vpc(&ec2, STACK, &Address::new("network.main"))
            .await
            .expect("find")
            .is_none()
    );
    assert!(clients
        .eks(PRIMARY)
        .list_clusters()
        .send()
        .await
        .expect("clusters")
        .clusters()
        .is_empty());
    assert!(s3
        .list_buckets()
        .send()
        .await
        .expect("buckets")
        .buckets()
        .is_empty());
    assert!(clients
        .route53()
        .list_health_checks()
        .send()
        .await
        .expect("hcs")
        .health_checks()
        .is_empty());
}

#[tokio::test]
async fn protected_objects_are_not_destroyed_without_allow_destroy() {
    let mut plan = full_plan();
    plan.changes = vec![as_delete(&plan.changes[5], None)];
    plan.changes[0].protect = true;
    let clients = ClientsFromConfig::new(sdk_config("http://127.0.0.1:9").await);
    let err = apply(&plan, &clients, &options())
        .await
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some("refusing to destroy protected object(s): bucket.backups; pass --allow-destroy ADDRESS for each one you mean to lose")
    );
}

/// Not a timed assertion: prints how apply's wall time compares with the sum of its
/// operations when every request takes 50 ms more (`--nocapture` to see it).
#[tokio::test]
async fn slow_requests_overlap_along_the_graph() {
    let (_moto, moto_addr) = start_moto();
    let config = FaultConfig {
        latency: Duration::from_millis(50),
        ..FaultConfig::default()
    };
    let proxy = FaultProxy::start(moto_addr, config).await.expect("proxy");
    let clients = ClientsFromConfig::new(sdk_config(&proxy.url()).await);
    let report = apply(&full_plan(), &clients, &options())
        .await
        .expect("plan accepted");
    assert!(report.succeeded(), "{}", report.render_text());
    let sum: Duration = report.entries.iter().filter_map(|e| e.elapsed).sum();
    let longest_chain = [
        "network.main",
        "network.main.subnet.a",
        "cluster.app",
        "cluster.app.node_group.general",
    ]
    .iter()
    .filter_map(|a| {
        report
            .entries
            .iter()
            .find(|e| e.address.as_str() == *a)
            .and_then(|e| e.elapsed)
    })
    .sum::<Duration>();
    eprintln!(
        "apply with +50ms/request: wall {:.2}s, sum of operations {:.2}s, vpc->subnet->cluster->nodegroup chain {:.2}s, {} requests",
        report.wall_time.as_secs_f64(),
        sum.as_secs_f64(),
        longest_chain.as_secs_f64(),
        proxy.counters.requests.load(std::sync::atomic::Ordering::SeqCst)
    );
    assert!(report.wall_time < sum, "independent changes overlap");
}

/// What apply wrote is what the live readers read: for every object of the plan, the
/// reader's normalized attributes equal the desired ones, so the next plan is empty.
#[tokio::test]
async fn after_apply_the_live_readers_see_exactly_the_desired_attributes() {
    let (moto, moto_addr) = start_moto();
    let clients = ClientsFromConfig::new(sdk_config(&format!("http://{}", moto_addr)).await);
    let plan = full_plan();
    let report = apply(&plan, &clients, &options())
        .await
        .expect("plan accepted");
    assert!(report.succeeded(), "{}", report.render_text());

    let resources: Vec<drplan_core::resource::Resource> = plan
        .changes
        .iter()
        .map(|c| drplan_core::resource::Resource {
            ignore_changes: Vec::new(),
            address: c.address.clone(),
            kind: c.kind,
            site: c.site.clone(),
            region: c.region.clone(),
            attrs: c.after.clone().unwrap_or_default(),
            sensitive: vec![],
            depends_on: vec![],
            protect: c.protect,
            source: None,
        })
        .collect();
    let scope = drplan::live::ReadScope::from_resources(STACK, &resources);
    let mut live = drplan::live::read_live(&moto.context(), &scope).await;
    assert!(live.read_errors.is_empty(), "{:?}", live.read_errors);
    live.resolve_ids();
    let mut differences = Vec::new();
    for r in &resources {
        let Some(found) = live
            .objects
            .iter()
            .find(|o| o.kind == r.kind && o.identity() == r.identity())
        else {
            differences.push(format!("{}: not found by the readers", r.address));
            continue;
        };
        assert_eq!(
            found.address.as_ref(),
            Some(&r.address),
            "{} is marked with its address",
            r.address
        );
        for (k, want) in &r.attrs {
            let got = found.attrs.get(k).unwrap_or(&Value::Null);
            if got != want {
                differences.push(format!(
                    "{}.{k}: applied {want}, read back {got}",
                    r.address
                ));
            }
        }
    }
    assert!(
        differences.is_empty(),
        "apply and the readers disagree:\n{}",
        differences.join("\n")
    );
}

pub(crate) fn desired_resources() -> Vec<drplan_core::resource::Resource> {
    let mut resources: Vec<drplan_core::resource::Resource> = full_plan()
        .changes
        .iter()
        .map(|c| drplan_core::resource::Resource {
            ignore_changes: Vec::new(),
            address: c.address.clone(),
            kind: c.kind,
            site: c.site.clone(),
            region: c.region.clone(),
            attrs: c.after.clone().unwrap_or_default(),
            sensitive: vec![],
            depends_on: vec![],
            protect: c.protect,
            source: None,
        })
        .collect();
    // What the spec loader writes as explicit edges.
    for r in &mut resources {
        r.depends_on = match r.address.as_str() {
            "dns.api.target.primary" | "dns.api.target.dr" => vec![Address::new("zone.main")],
            "bucket.backups" => vec![Address::new("bucket.backups_dr")],
            _ => vec![],
        };
    }
    resources
}

/// The whole loop with the real diff and readers: plan from an empty account, apply,
/// plan again (nothing to do); change the spec, plan, apply, plan again (nothing).
#[tokio::test]
async fn diff_apply_diff_reaches_a_fixed_point() {
    let (moto, moto_addr) = start_moto();
    let clients = ClientsFromConfig::new(sdk_config(&format!("http://{}", moto_addr)).await);
    let mut desired = desired_resources();

    let first = plan_against(&moto, STACK, &desired).await;
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    assert_eq!(first.summary().add, 11, "{:?}", pending(&first));
    let report = apply(&first, &clients, &options())
        .await
        .expect("plan accepted");
    assert!(report.succeeded(), "{}", report.render_text());
    let second = plan_against(&moto, STACK, &desired).await;
    assert!(
        pending(&second).is_empty(),
        "nothing to do after apply, got {:?}",
        pending(&second)
    );

    for r in &mut desired {
        match r.address.as_str() {
            "cluster.app.node_group.general" => {
                r.attrs.insert("desired_size".into(), json!(3));
            }
            "bucket.backups" => {
                r.attrs
                    .insert("tags".into(), json!({"data": "backups", "owner": "sre"}));
            }
            "dns.api.target.dr" => {
                r.attrs
                    .insert("records".into(), json!(["dr2.lanka.example.com"]));
            }
            "dns.api.target.primary.health_check" => {
                r.attrs.insert("failure_threshold".into(), json!(5));
            }
            _ => {}
        }
    }
    let third = plan_against(&moto, STACK, &desired).await;
    assert_eq!(third.summary().change, 4, "{:?}", pending(&third));
    let report = apply(&third, &clients, &options())
        .await
        .expect("plan accepted");
    assert!(report.succeeded(), "{}", report.render_text());
    assert_eq!(
        report.summary(),
        "Apply complete! Resources: 0 added, 4 changed, 0 destroyed."
    );
    let fourth = plan_against(&moto, STACK, &desired).await;
    assert!(
        pending(&fourth).is_empty(),
        "nothing to do after the update, got {:?}",
        pending(&fourth)
    );
}
