//! `drplan apply` end to end: the real binary against an empty moto and one
//! kube-testserver per cluster. Each example goes prod -> prod-dr -> prod and every
//! step must leave nothing to plan; what apply created is read back through the SDK
//! and the API servers, never through drplan's own readers. Also: a saved plan that
//! went stale (live object or spec edited) is refused, and apply never asks a
//! question it cannot get answered.

use crate::support::cli::{drplan, explain, stderr};
use crate::support::clusters::Clusters;
pub(crate) use crate::support::examples::load;
use crate::support::files::copy_dir;
use crate::support::moto::MotoServer;
use assert_cmd::Command;
use drplan_core::model::Project;
use drplan_core::resource::{Kind, Resource};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;

pub(crate) fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn assert_exit(out: &Output, code: i32, what: &str) {
    assert_eq!(out.status.code(), Some(code), "{what}\n{}", explain(out));
}

/// An empty moto with the stack's lock bucket (the one thing apply expects to exist)
/// and the two clusters' API servers.
pub(crate) async fn empty_world(root: &Path) -> (MotoServer, Clusters) {
    let project = load(root, "prod");
    let stack = project.environment.stack.clone();
    let moto = MotoServer::start();
    crate::support::examples::seed_secrets(&moto).await;
    moto.use_site_accounts(&project).await;
    let lock = project
        .environment
        .lock
        .clone()
        .expect("the environment names a lock bucket");
    let s3 = moto.s3(&lock.region);
    let mut create = s3.create_bucket().bucket(&lock.bucket);
    if lock.region != "us-east-1" {
        create = create.create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
                    lock.region.as_str(),
                ))
                .build(),
        );
    }
    create.send().await.expect("create the lock bucket");
    let clusters = Clusters::start(&[&format!("{stack}-primary"), &format!("{stack}-dr")]).await;
    moto.add_cli_env(clusters.env());
    (moto, clusters)
}

fn of_kind(project: &Project, kind: Kind) -> Vec<&Resource> {
    project
        .resources
        .iter()
        .filter(|r| r.kind == kind)
        .collect()
}

fn attr<'a>(r: &'a Resource, key: &str) -> &'a str {
    r.attrs.get(key).and_then(Value::as_str).unwrap_or("")
}

fn regions(project: &Project) -> BTreeSet<String> {
    project
        .resources
        .iter()
        .filter_map(|r| r.region.clone())
        .collect()
}

/// How many objects of each AWS kind exist in moto, counted through the SDK. moto
/// starts empty, so everything but the lock bucket is the stack's.
pub(crate) async fn live_counts(moto: &MotoServer, project: &Project) -> BTreeMap<Kind, usize> {
    let mut counts = BTreeMap::new();
    for region in regions(project) {
        let ec2 = moto.ec2(&region);
        let vpcs = ec2.describe_vpcs().send().await.expect("DescribeVpcs");
        // moto seeds a default VPC (and its subnets) in every region.
        let ours =
            |tags: &[aws_sdk_ec2::types::Tag]| tags.iter().any(|t| t.key() == Some("drplan:stack"));
        *counts.entry(Kind::Vpc).or_default() +=
            vpcs.vpcs().iter().filter(|v| ours(v.tags())).count();
        let subnets = ec2
            .describe_subnets()
            .send()
            .await
            .expect("DescribeSubnets");
        *counts.entry(Kind::Subnet).or_default() +=
            subnets.subnets().iter().filter(|s| ours(s.tags())).count();
        let eks = moto.eks(&region);
        let clusters = eks.list_clusters().send().await.expect("ListClusters");
        *counts.entry(Kind::EksCluster).or_default() += clusters.clusters().len();
        for cluster in clusters.clusters() {
            let groups = eks
                .list_nodegroups()
                .cluster_name(cluster)
                .send()
                .await
                .expect("ListNodegroups");
            *counts.entry(Kind::NodeGroup).or_default() += groups.nodegroups().len();
        }
    }
    let lock = project
        .environment
        .lock
        .clone()
        .map(|l| l.bucket)
        .unwrap_or_default();
    // Listed with each region's clients: a site kept in another account (link-app's
    // DR) has its buckets there.
    let mut buckets = BTreeSet::new();
    for region in regions(project) {
        let listed = moto
            .s3(&region)
            .list_buckets()
            .send()
            .await
            .expect("ListBuckets");
        buckets.extend(
            listed
                .buckets()
                .iter()
                .filter_map(|b| b.name())
                .filter(|name| *name != lock.as_str())
                .map(str::to_string),
        );
    }
    counts.insert(Kind::Bucket, buckets.len());
    let route53 = moto.route53();
    let zones = route53
        .list_hosted_zones()
        .send()
        .await
        .expect("ListHostedZones");
    counts.insert(Kind::DnsZone, zones.hosted_zones().len());
    let checks = route53
        .list_health_checks()
        .send()
        .await
        .expect("ListHealthChecks");
    counts.insert(Kind::HealthCheck, checks.health_checks().len());
    counts
}

pub(crate) fn desired_counts(project: &Project) -> BTreeMap<Kind, usize> {
    [
        Kind::Vpc,
        Kind::Subnet,
        Kind::EksCluster,
        Kind::NodeGroup,
        Kind::Bucket,
        Kind::DnsZone,
        Kind::HealthCheck,
    ]
    .into_iter()
    .map(|k| (k, of_kind(project, k).len()))
    .collect()
}

/// Every record set of every hosted zone, keyed `name/type/set_identifier`, with its
/// failover role.
pub(crate) async fn live_records(moto: &MotoServer) -> BTreeMap<String, Option<String>> {
    let route53 = moto.route53();
    let zones = route53
        .list_hosted_zones()
        .send()
        .await
        .expect("ListHostedZones");
    let mut records = BTreeMap::new();
    for zone in zones.hosted_zones() {
        let sets = route53
            .list_resource_record_sets()
            .hosted_zone_id(zone.id())
            .max_items(300)
            .send()
            .await
            .expect("ListResourceRecordSets");
        for set in sets.resource_record_sets() {
            let key = format!(
                "{}/{}/{}",
                set.name(),
                set.r#type().as_str(),
                set.set_identifier().unwrap_or("")
            );
            records.insert(key, set.failover().map(|f| f.as_str().to_string()));
        }
    }
    records
}

fn record_key(r: &Resource) -> String {
    format!(
        "{}/{}/{}",
        attr(r, "name"),
        attr(r, "type"),
        attr(r, "set_identifier")
    )
}

/// Every alias record of the spec is an alias in Route53 to the spec's target (read
/// back through the SDK: the target's name and hosted zone, evaluate-target-health).
async fn assert_aliases(moto: &MotoServer, project: &Project) -> usize {
    let route53 = moto.route53();
    let zone_ids = crate::support::outofband::zone_ids(moto)
        .await
        .expect("zone ids");
    let mut checked = 0;
    for record in of_kind(project, Kind::DnsRecord) {
        let Some(alias) = record.attrs.get("alias").and_then(Value::as_object) else {
            continue;
        };
        let zone_id = &zone_ids[attr(record, "zone")];
        let sets = route53
            .list_resource_record_sets()
            .hosted_zone_id(zone_id)
            .max_items(300)
            .send()
            .await
            .expect("ListResourceRecordSets");
        let set = sets
            .resource_record_sets()
            .iter()
            .find(|s| {
                s.name() == attr(record, "name")
                    && s.r#type().as_str() == attr(record, "type")
                    && s.set_identifier().unwrap_or("") == attr(record, "set_identifier")
            })
            .unwrap_or_else(|| panic!("no record set for {}", record.address));
        let target = set
            .alias_target()
            .unwrap_or_else(|| panic!("{} is not an alias: {set:?}", record.address));
        assert_eq!(
            target.dns_name().trim_end_matches('.').to_lowercase(),
            alias["name"]
                .as_str()
                .unwrap_or_default()
                .trim_end_matches('.'),
            "{}",
            record.address
        );
        assert_eq!(
            Some(target.hosted_zone_id()),
            alias["zone_id"].as_str().or(Some(zone_id.as_str())),
            "{}",
            record.address
        );
        assert_eq!(
            Some(target.evaluate_target_health()),
            alias["evaluate_target_health"].as_bool()
        );
        assert!(set.ttl().is_none() && set.resource_records().is_empty());
        checked += 1;
    }
    checked
}

/// Every record of the spec exists with the failover role the spec gives it.
async fn assert_records(moto: &MotoServer, project: &Project) {
    let live = live_records(moto).await;
    for record in of_kind(project, Kind::DnsRecord) {
        let key = record_key(record);
        let failover = record
            .attrs
            .get("failover")
            .and_then(Value::as_str)
            .map(str::to_string);
        match live.get(&key) {
            Some(found) => assert_eq!(
                found, &failover,
                "failover role of {} ({key})",
                record.address
            ),
            None => panic!(
                "{} ({key}) is not in Route53; found {:?}",
                record.address,
                live.keys()
            ),
        }
    }
}

/// Every Kubernetes object of the spec is stored in its cluster's API server (servers
/// are started primary first, then dr); returns the `(cluster, kind)` pairs seen.
fn assert_k8s_objects(clusters: &Clusters, project: &Project) -> BTreeSet<(String, String)> {
    let mut seen = BTreeSet::new();
    for object in of_kind(project, Kind::K8sObject) {
        let cluster = attr(object, "cluster");
        let server = match cluster {
            "cluster.primary" => &clusters.servers[0],
            "cluster.dr" => &clusters.servers[1],
            other => panic!("{}: unexpected cluster {other}", object.address),
        };
        let (kind, namespace, name) = (
            attr(object, "kind"),
            attr(object, "namespace"),
            attr(object, "name"),
        );
        let found = server.objects().into_iter().any(|o| {
            o["kind"] == kind
                && o["metadata"]["name"] == name
                && o["metadata"]["namespace"].as_str().unwrap_or("") == namespace
        });
        assert!(
            found,
            "{} ({kind} {namespace}/{name}) is not in {cluster}'s API server",
            object.address
        );
        seen.insert((cluster.to_string(), kind.to_string()));
    }
    seen
}

async fn assert_node_group_sizes(moto: &MotoServer, project: &Project) {
    for group in of_kind(project, Kind::NodeGroup) {
        let region = group.region.as_deref().expect("node groups have a region");
        let live = moto
            .eks(region)
            .describe_nodegroup()
            .cluster_name(attr(group, "cluster_name"))
            .nodegroup_name(attr(group, "name"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("DescribeNodegroup {}: {e}", group.address));
        let scaling = live
            .nodegroup()
            .and_then(|n| n.scaling_config())
            .expect("scaling config");
        assert_eq!(
            scaling.desired_size().map(i64::from),
            group.attrs.get("desired_size").and_then(Value::as_i64),
            "desired size of {}",
            group.address
        );
    }
}

/// Issue 17: link-app's third site is a vault (role = "vault", us-east-2): its bucket is
/// object-locked (COMPLIANCE, 7 years) and the backups bucket replicates the Postgres
/// prefix to it beside the policies' rules to the DR bucket — all read back from S3.
async fn assert_vault_copy(moto: &MotoServer, prod: &Project) {
    let bucket = |label: &str| {
        of_kind(prod, Kind::Bucket)
            .into_iter()
            .find(|b| b.address.as_str() == format!("bucket.{label}"))
            .map(|b| {
                (
                    attr(b, "name").to_string(),
                    b.region.clone().unwrap_or_default(),
                )
            })
            .unwrap_or_else(|| panic!("bucket.{label} in the spec"))
    };
    let (vault, vault_region) = bucket("postgres_vault");
    assert_eq!(vault_region, "us-east-2", "the vault site's region");
    let lock = moto
        .s3(&vault_region)
        .get_object_lock_configuration()
        .bucket(&vault)
        .send()
        .await
        .expect("GetObjectLockConfiguration of the vault bucket");
    let retention = lock
        .object_lock_configuration()
        .and_then(|c| c.rule())
        .and_then(|r| r.default_retention())
        .expect("the vault's default retention");
    assert_eq!(retention.mode().map(|m| m.as_str()), Some("COMPLIANCE"));
    assert_eq!(retention.days(), Some(2555));

    let (backups, region) = bucket("backups");
    let replication = moto
        .s3(&region)
        .get_bucket_replication()
        .bucket(&backups)
        .send()
        .await
        .expect("GetBucketReplication of the backups bucket");
    let rules = replication
        .replication_configuration()
        .map(|c| c.rules())
        .unwrap_or_default();
    let destinations: Vec<(String, String)> = rules
        .iter()
        .map(|r| {
            let prefix = r
                .filter()
                .and_then(|f| f.prefix().or_else(|| f.and().and_then(|a| a.prefix())))
                .unwrap_or_default();
            let bucket = r.destination().map(|d| d.bucket()).unwrap_or_default();
            (prefix.to_string(), bucket.to_string())
        })
        .collect();
    assert!(
        destinations.contains(&("postgres-backups/".into(), format!("arn:aws:s3:::{vault}"))),
        "no rule copies postgres-backups/ to the vault: {destinations:?}"
    );
    let to_dr = destinations
        .iter()
        .filter(|(p, b)| p == "postgres-backups/" && !b.ends_with(&vault))
        .count();
    assert_eq!(
        to_dr, 1,
        "the DR copy's rule stays beside it: {destinations:?}"
    );
}

async fn prod_to_dr_and_back(example: &str) {
    let root = repo_root().join(example);
    let (moto, clusters) = empty_world(&root).await;
    let prod = load(&root, "prod");
    let dr = load(&root, "prod-dr");

    let expected = desired_counts(&prod);
    for kind in [
        Kind::Vpc,
        Kind::Subnet,
        Kind::EksCluster,
        Kind::NodeGroup,
        Kind::Bucket,
        Kind::DnsZone,
    ] {
        assert!(
            expected[&kind] > 0,
            "{example} has no {kind:?}: the count check would prove nothing"
        );
    }
    assert!(
        !of_kind(&prod, Kind::DnsRecord).is_empty(),
        "{example} has no DNS records"
    );

    let out = drplan(&moto, &root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_exit(&out, 0, "apply -e prod");
    assert_eq!(
        live_counts(&moto, &prod).await,
        desired_counts(&prod),
        "objects by kind after apply -e prod"
    );
    assert_records(&moto, &prod).await;
    let aliases = assert_aliases(&moto, &prod).await;
    if example.ends_with("link-app") {
        assert_eq!(aliases, 2, "link-app's apex is an alias pair to the NLBs");
        // Its DR site is in account 210987654321 (site_account "dr"): the DR network
        // and cluster are there, and the environment's account holds none in us-east-1.
        let marked = |vpcs: &aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsOutput| {
            vpcs.vpcs()
                .iter()
                .filter(|v| v.tags().iter().any(|t| t.key() == Some("drplan:stack")))
                .count()
        };
        let default_account = aws_sdk_ec2::Client::new(&moto.sdk_config("us-east-1"));
        let own = default_account
            .describe_vpcs()
            .send()
            .await
            .expect("DescribeVpcs");
        assert_eq!(
            marked(&own),
            0,
            "no DR network in the environment's account"
        );
        let dr = moto
            .ec2("us-east-1")
            .describe_vpcs()
            .send()
            .await
            .expect("DescribeVpcs");
        assert_eq!(marked(&dr), 1, "the DR network in the DR account");
        let who = aws_sdk_sts::Client::new(&moto.regional_config("us-east-1"))
            .get_caller_identity()
            .send()
            .await
            .expect("GetCallerIdentity");
        assert_eq!(who.account(), Some("210987654321"));
        assert_vault_copy(&moto, &prod).await;
    }
    let seen = assert_k8s_objects(&clusters, &prod);
    assert!(
        seen.contains(&("cluster.primary".to_string(), "CronJob".to_string())),
        "no backup CronJob in the primary cluster: {seen:?}"
    );
    let out = drplan(&moto, &root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(&out, 0, "plan -e prod after apply");
    runbook_covers_the_failover_plan(&moto, &root);

    let out = drplan(&moto, &root, &["apply", "-e", "prod-dr", "--auto-approve"]);
    assert_exit(&out, 0, "apply -e prod-dr");
    assert_node_group_sizes(&moto, &dr).await;
    let activated = of_kind(&dr, Kind::NodeGroup)
        .into_iter()
        .filter(|g| g.address.as_str().starts_with("cluster.dr."))
        .all(|g| {
            g.attrs
                .get("desired_size")
                .and_then(Value::as_i64)
                .unwrap_or(0)
                > 0
        });
    assert!(activated, "prod-dr leaves a DR node group at zero");
    assert_records(&moto, &dr).await;
    let dr_primary = of_kind(&dr, Kind::DnsRecord)
        .into_iter()
        .any(|r| r.address.as_str().ends_with(".target.dr") && attr(r, "failover") == "PRIMARY");
    assert!(dr_primary, "prod-dr makes no DR target the PRIMARY record");
    let seen = assert_k8s_objects(&clusters, &dr);
    for kind in ["Job", "CronJob"] {
        assert!(
            seen.contains(&("cluster.dr".to_string(), kind.to_string())),
            "no {kind} in the DR cluster: {seen:?}"
        );
    }
    let out = drplan(
        &moto,
        &root,
        &["plan", "-e", "prod-dr", "--detailed-exitcode"],
    );
    assert_exit(&out, 0, "plan -e prod-dr after apply");

    let out = drplan(&moto, &root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_exit(&out, 0, "apply -e prod (fail back)");
    assert_node_group_sizes(&moto, &prod).await;
    assert_records(&moto, &prod).await;
    let out = drplan(&moto, &root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(&out, 0, "plan -e prod after failing back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lanka_platform_fails_over_and_back_and_each_step_converges() {
    prod_to_dr_and_back("examples/lanka-platform").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_app_fails_over_and_back_and_each_step_converges() {
    prod_to_dr_and_back("examples/link-app").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_is_refused_once_the_cloud_or_the_spec_changed() {
    // A copy of the root project, so its spec can be edited.
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().to_path_buf();
    for sub in ["environments", "specs", "k8s"] {
        copy_dir(&repo_root().join(sub), &root.join(sub));
    }
    let (moto, _clusters) = empty_world(&root).await;
    let out = drplan(&moto, &root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_exit(&out, 0, "apply -e prod");

    // Live change between plan and apply: the DR node group scaled by hand.
    let saved = root.join("failover.plan");
    let saved_arg = saved.display().to_string();
    let out = drplan(
        &moto,
        &root,
        &["plan", "-e", "prod-dr", "--out", &saved_arg],
    );
    assert_exit(&out, 0, "plan -e prod-dr --out");
    let prod = load(&root, "prod");
    let group = of_kind(&prod, Kind::NodeGroup)
        .into_iter()
        .find(|g| g.address.as_str().starts_with("cluster.dr."))
        .expect("a DR node group");
    let size = group
        .attrs
        .get("desired_size")
        .and_then(Value::as_i64)
        .unwrap_or(0) as i32;
    moto.eks(group.region.as_deref().unwrap_or("us-east-1"))
        .update_nodegroup_config()
        .cluster_name(attr(group, "cluster_name"))
        .nodegroup_name(attr(group, "name"))
        .scaling_config(
            aws_sdk_eks::types::NodegroupScalingConfig::builder()
                .desired_size(size + 1)
                .max_size(size + 4)
                .build(),
        )
        .send()
        .await
        .expect("UpdateNodegroupConfig");
    let out = drplan(&moto, &root, &["apply", &saved_arg]);
    assert_exit(
        &out,
        1,
        "apply of a plan made before the node group changed",
    );
    let err = stderr(&out);
    assert!(err.contains("stale"), "{err}");
    assert!(
        err.contains(&group.identity()),
        "stderr does not name {}:\n{err}",
        group.identity()
    );

    // The same plan made again applies: the refusal was about the change, not the file.
    let out = drplan(
        &moto,
        &root,
        &["plan", "-e", "prod-dr", "--out", &saved_arg],
    );
    assert_exit(&out, 0, "plan -e prod-dr --out (again)");
    let out = drplan(&moto, &root, &["apply", &saved_arg]);
    assert_exit(&out, 0, "apply of a fresh saved failover plan");

    // Spec change between plan and apply: the fail-back plan, then a spec file edited.
    let out = drplan(&moto, &root, &["plan", "-e", "prod", "--out", &saved_arg]);
    assert_exit(&out, 0, "plan -e prod --out");
    let spec_file = root.join("specs/clusters.hcl");
    let text = std::fs::read_to_string(&spec_file).expect("read clusters.hcl");
    let edited = text.replacen("max_size       = 4", "max_size       = 5", 1);
    assert_ne!(edited, text, "the edit must change clusters.hcl");
    std::fs::write(&spec_file, edited).expect("edit clusters.hcl");
    let out = drplan(&moto, &root, &["apply", &saved_arg]);
    assert_exit(&out, 1, "apply of a plan made before the spec changed");
    let err = stderr(&out);
    assert!(err.contains("stale") && err.contains("digest"), "{err}");
}

#[test]
fn apply_without_a_terminal_needs_auto_approve() {
    let out = Command::cargo_bin("drplan")
        .expect("drplan binary")
        // Nowhere to go: the refusal must come before any cloud access.
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1")
        .arg("-C")
        .arg(repo_root())
        .args(["apply", "-e", "prod"])
        .output()
        .expect("run drplan");
    assert_exit(
        &out,
        1,
        "apply -e prod without --auto-approve or a terminal",
    );
    assert!(stderr(&out).contains("--auto-approve"), "{}", explain(&out));
}

/// Issue 14: the committed RUNBOOK.md is what `drplan runbook` writes now, and it
/// covers every change of `plan -e prod-dr` over the prod cloud, each address once,
/// every step after the steps it depends on.
fn runbook_covers_the_failover_plan(moto: &MotoServer, root: &std::path::Path) {
    let committed = root.join("RUNBOOK.md").display().to_string();
    let out = drplan(
        moto,
        root,
        &["runbook", "-e", "prod-dr", "--check", &committed],
    );
    assert_exit(&out, 0, "the committed RUNBOOK.md is current");
    let out = drplan(moto, root, &["runbook", "-e", "prod-dr"]);
    assert_exit(&out, 0, "runbook");
    let runbook = String::from_utf8_lossy(&out.stdout).into_owned();
    let listed: Vec<String> = runbook
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("- **`").or_else(|| l.strip_prefix("- `"))?;
            rest.split_once('`').map(|(a, _)| a.to_string())
        })
        .collect();
    let out = drplan(moto, root, &["plan", "-e", "prod-dr", "--json"]);
    assert_exit(&out, 0, "plan -e prod-dr --json");
    let doc: Value = serde_json::from_slice(&out.stdout).expect("plan json");
    let changes: Vec<&Value> = doc["resource_changes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["change"]["actions"] != serde_json::json!(["no-op"]))
        .collect();
    assert!(!changes.is_empty(), "the failover changes something");
    for c in &changes {
        let address = c["address"].as_str().unwrap_or_default();
        let times = listed.iter().filter(|a| *a == address).count();
        assert_eq!(
            times, 1,
            "{address} appears {times} times in the runbook:\n{runbook}"
        );
        let at = listed.iter().position(|a| a == address).unwrap_or_default();
        for dep in c["depends_on"].as_array().into_iter().flatten() {
            let dep = dep.as_str().unwrap_or_default();
            if let Some(before) = listed.iter().position(|a| a == dep) {
                assert!(
                    before < at,
                    "{address} is listed before {dep}, which it depends on"
                );
            }
        }
    }
    assert!(runbook.contains("Critical path: "), "{runbook}");
}
