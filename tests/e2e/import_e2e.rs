//! Issue 20: objects created out of band (every kind drplan manages) are taken over by
//! `import` blocks: the plan says "will be imported", apply writes the marks without
//! recreating anything (same ids), and the next plan exits 0.

use crate::secrets_e2e::world;
use crate::support::cli::{drplan, explain, stdout};
use crate::support::files::copy_dir;
use crate::support::moto::MotoServer;
use crate::support::outofband::{self, Created};
use drplan_core::resource::{Kind, Resource};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const BUCKET: &str = "shop-prod-backups-us-west-2";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A simple record (TTL 300, one value) made by hand, as another tool would.
async fn create_record(
    moto: &crate::support::moto::MotoServer,
    zone_id: &str,
    name: &str,
    rtype: aws_sdk_route53::types::RrType,
    value: &str,
) {
    use aws_sdk_route53::types::{
        Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet,
    };
    let set = ResourceRecordSet::builder()
        .name(name)
        .r#type(rtype)
        .ttl(300)
        .resource_records(
            ResourceRecord::builder()
                .value(value)
                .build()
                .expect("record"),
        )
        .build()
        .expect("set");
    let change = Change::builder()
        .action(ChangeAction::Create)
        .resource_record_set(set)
        .build()
        .expect("change");
    moto.route53()
        .change_resource_record_sets()
        .hosted_zone_id(zone_id)
        .change_batch(
            ChangeBatch::builder()
                .changes(change)
                .build()
                .expect("batch"),
        )
        .send()
        .await
        .expect("ChangeResourceRecordSets");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_and_a_zone_made_by_hand_are_imported_without_recreating_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    for sub in ["environments", "specs", "k8s"] {
        copy_dir(&repo_root().join(sub), &root.join(sub));
    }
    let (moto, _clusters) = world().await;
    let s3 = moto.s3("us-west-2");
    s3.create_bucket()
        .bucket(BUCKET)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::UsWest2)
                .build(),
        )
        .send()
        .await
        .expect("CreateBucket");
    let zone_id = moto
        .route53()
        .create_hosted_zone()
        .name("shop.example.com")
        .caller_reference("made-by-hand")
        .send()
        .await
        .expect("CreateHostedZone")
        .hosted_zone()
        .map(|z| z.id().to_string())
        .expect("zone id");

    // Without import blocks they are refused, as before.
    let out = drplan(&moto, root, &["plan", "-e", "prod"]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert!(
        explain(&out).contains("exists but is not managed by this stack"),
        "{}",
        explain(&out)
    );

    std::fs::write(
        root.join("specs/imports.hcl"),
        format!(
            "import {{\n  to = bucket.backups\n  id = \"{BUCKET}\"\n}}\n\nimport {{\n  to = zone.public\n  id = \"shop.example.com\"\n}}\n"
        ),
    )
    .expect("write imports.hcl");
    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!("# bucket.backups will be imported (id {BUCKET})")),
        "{text}"
    );
    assert!(
        text.contains("# zone.public will be imported (id shop.example.com)"),
        "{text}"
    );
    let out = drplan(&moto, root, &["plan", "-e", "prod", "--json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let bucket = doc["resource_changes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["address"] == "bucket.backups")
        .expect("bucket.backups planned");
    assert_eq!(bucket["importing"]["id"], BUCKET, "{bucket}");

    let out = drplan(&moto, root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let tags = s3
        .get_bucket_tagging()
        .bucket(BUCKET)
        .send()
        .await
        .expect("GetBucketTagging");
    let tag = |k: &str| {
        tags.tag_set()
            .iter()
            .find(|t| t.key() == k)
            .map(|t| t.value().to_string())
    };
    assert_eq!(tag("drplan:stack").as_deref(), Some("shop"));
    assert_eq!(tag("drplan:address").as_deref(), Some("bucket.backups"));
    let zones = moto
        .route53()
        .list_hosted_zones_by_name()
        .dns_name("shop.example.com")
        .send()
        .await
        .expect("ListHostedZonesByName");
    let same: Vec<_> = zones
        .hosted_zones()
        .iter()
        .filter(|z| z.name() == "shop.example.com.")
        .collect();
    assert_eq!(same.len(), 1, "the zone was not recreated: {same:?}");
    assert_eq!(same[0].id(), zone_id);
    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
}

#[test]
fn an_import_of_an_unknown_address_or_twice_is_an_error_with_its_place() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    for sub in ["environments", "specs", "k8s"] {
        copy_dir(&repo_root().join(sub), &root.join(sub));
    }
    std::fs::write(
        root.join("specs/imports.hcl"),
        "import {\n  to = network.primary\n  id = \"vpc-123\"\n}\n\nimport {\n  to = bucket.nope\n  id = \"b\"\n}\n\nimport {\n  to = network.primary\n  id = \"vpc-456\"\n}\n\nimport {\n  to = network.primary.subnet.typo\n  id = \"subnet-1\"\n}\n",
    )
    .expect("write imports.hcl");
    let out = assert_cmd::Command::cargo_bin("drplan")
        .expect("drplan")
        .arg("-C")
        .arg(root)
        .args(["validate", "-e", "prod"])
        .env("NO_COLOR", "1")
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("`bucket.nope` is not in the spec"), "{err}");
    assert!(err.contains("specs/imports.hcl:7"), "{err}");
    assert!(err.contains("`network.primary` is imported twice"), "{err}");
    assert!(err.contains("specs/imports.hcl:12"), "{err}");
    // A block that makes the same objects in every environment: a child it does not
    // make is a mistake, not skipped.
    assert!(
        err.contains("`network.primary.subnet.typo` is not in the spec"),
        "{err}"
    );
}

/// The `id` an import block names for `r`, in the forms docs/spec-reference.md gives.
fn import_id(r: &Resource, created: &Created) -> String {
    let attr = |k: &str| {
        r.attrs
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim_end_matches('.')
            .to_string()
    };
    match r.kind {
        Kind::Vpc
        | Kind::Subnet
        | Kind::VpcPeering
        | Kind::KmsKey
        | Kind::KmsReplicaKey
        | Kind::HealthCheck => created.ids[r.address.as_str()].clone(),
        Kind::EksCluster
        | Kind::Bucket
        | Kind::EcrRepository
        | Kind::CacheReplicationGroup
        | Kind::DnsZone => attr("name"),
        Kind::NodeGroup => format!("{}/{}", attr("cluster_name"), attr("name")),
        Kind::DnsRecord => {
            let mut id = format!("{}/{}/{}", attr("zone"), attr("name"), attr("type"));
            if !attr("set_identifier").is_empty() {
                id = format!("{id}/{}", attr("set_identifier"));
            }
            id
        }
        Kind::K8sObject => match attr("namespace").as_str() {
            "" => attr("name"),
            ns => format!("{ns}/{}", attr("name")),
        },
    }
}

/// The manifest of `r` as another tool (Helm) would have applied it: no drplan mark.
fn unmarked(r: &Resource) -> Resource {
    let mut r = r.clone();
    if let Some(meta) = r
        .attrs
        .get_mut("manifest")
        .and_then(|m| m.get_mut("metadata"))
        .and_then(Value::as_object_mut)
    {
        for key in ["labels", "annotations"] {
            if let Some(map) = meta.get_mut(key).and_then(Value::as_object_mut) {
                map.retain(|k, _| {
                    !k.starts_with("drplan.io/") && k != "app.kubernetes.io/managed-by"
                });
                if key == "labels" {
                    map.insert("app.kubernetes.io/managed-by".into(), "Helm".into());
                }
            }
        }
    }
    r
}

/// Issue 20, done when: every object of the root project made out of band — VPCs with
/// subnets, clusters (their node groups: see below), buckets, the zone, the failover records and
/// their health check, the Kubernetes objects — is imported by import blocks; after
/// apply each carries its marks, nothing was recreated (same ids), and the next plan
/// exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_made_out_of_band_is_imported_with_its_ids_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    for sub in ["environments", "specs", "k8s"] {
        copy_dir(&repo_root().join(sub), &root.join(sub));
    }
    let project = drplan_core::spec::load_project(root, "prod")
        .unwrap_or_else(|d| panic!("{}", d.render(false, 100)));
    let (moto, clusters) = world().await;
    // moto's EKS TagResource tags clusters only ("It does not tag a managed node
    // group", moto/eks/models.py), so an imported node group cannot be marked there:
    // the node groups are made as drplan makes them, and node-group import is covered
    // by the core plan tests.
    let (groups, others): (Vec<Resource>, Vec<Resource>) = project
        .resources
        .iter()
        .cloned()
        .partition(|r| r.kind == Kind::NodeGroup);
    let created = outofband::create_all(&moto, "", &others)
        .await
        .unwrap_or_else(|e| panic!("creating the live objects: {e:?}"));
    outofband::create_node_groups(&moto, &project.environment.stack, &groups, &created)
        .await
        .unwrap_or_else(|e| panic!("creating the node groups: {e:?}"));
    let k8s: Vec<Resource> = project
        .resources
        .iter()
        .filter(|r| r.kind == Kind::K8sObject)
        .map(unmarked)
        .collect();
    outofband::create_k8s(&clusters.kubeconfig, &project.environment, &k8s)
        .await
        .unwrap_or_else(|e| panic!("creating the Kubernetes objects: {e}"));

    let out = drplan(&moto, root, &["plan", "-e", "prod"]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));

    let mut imports = String::new();
    for r in &others {
        imports.push_str(&format!(
            "import {{\n  to = {}\n  id = \"{}\"\n}}\n\n",
            r.address,
            import_id(r, &created)
        ));
    }
    std::fs::write(root.join("specs/imports.hcl"), imports).expect("write imports.hcl");
    let out = drplan(&moto, root, &["plan", "-e", "prod", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("json");
    let changes = doc["resource_changes"].as_array().expect("changes");
    for r in &others {
        let change = changes
            .iter()
            .find(|c| c["address"] == r.address.as_str())
            .unwrap_or_else(|| panic!("{} is not planned: {doc}", r.address));
        assert_eq!(
            change["importing"]["id"],
            import_id(r, &created).as_str(),
            "{change}"
        );
        assert_ne!(change["change"]["actions"][0], "create", "{change}");
    }

    let out = drplan(&moto, root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));

    // The marks, on the very objects made by hand.
    let ec2 = moto.ec2("us-west-2");
    let vpc_id = &created.ids["network.primary"];
    let vpcs = ec2
        .describe_vpcs()
        .vpc_ids(vpc_id)
        .send()
        .await
        .expect("DescribeVpcs");
    let tags: BTreeMap<&str, &str> = vpcs.vpcs()[0]
        .tags()
        .iter()
        .map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))
        .collect();
    assert_eq!(tags.get("drplan:stack"), Some(&"shop"), "{tags:?}");
    assert_eq!(
        tags.get("drplan:address"),
        Some(&"network.primary"),
        "{tags:?}"
    );
    let all_vpcs = ec2.describe_vpcs().send().await.expect("DescribeVpcs");
    let same_cidr = all_vpcs
        .vpcs()
        .iter()
        .filter(|v| v.cidr_block() == Some("10.10.0.0/16"))
        .count();
    assert_eq!(same_cidr, 1, "the network was not recreated");
    let subnets = ec2
        .describe_subnets()
        .subnet_ids(&created.ids["network.primary.subnet.private-a"])
        .send()
        .await
        .expect("DescribeSubnets");
    assert!(
        subnets.subnets()[0]
            .tags()
            .iter()
            .any(|t| t.key() == Some("drplan:address")
                && t.value() == Some("network.primary.subnet.private-a")),
        "{subnets:?}"
    );
    let checks = moto
        .route53()
        .list_health_checks()
        .send()
        .await
        .expect("ListHealthChecks");
    assert_eq!(checks.health_checks().len(), 1, "{checks:?}");
    let check_id = &created.ids["dns.api.target.primary.health_check"];
    assert_eq!(checks.health_checks()[0].id(), check_id);
    let check_tags = moto
        .route53()
        .list_tags_for_resource()
        .resource_type(aws_sdk_route53::types::TagResourceType::Healthcheck)
        .resource_id(check_id)
        .send()
        .await
        .expect("ListTagsForResource");
    assert!(
        check_tags
            .resource_tag_set()
            .into_iter()
            .flat_map(|s| s.tags())
            .any(|t| t.key() == Some("drplan:stack") && t.value() == Some("shop")),
        "{check_tags:?}"
    );
    let zone_id = outofband::zone_ids(&moto).await.expect("zones")["shop.example.com."].clone();
    let sets = moto
        .route53()
        .list_resource_record_sets()
        .hosted_zone_id(&zone_id)
        .send()
        .await
        .expect("ListResourceRecordSets");
    let owner = sets
        .resource_record_sets()
        .iter()
        .find(|s| s.name() == "_drplan.api.shop.example.com.")
        .unwrap_or_else(|| panic!("no ownership record: {sets:?}"));
    assert_eq!(owner.resource_records().len(), 2, "{owner:?}");
    let api_sets = sets
        .resource_record_sets()
        .iter()
        .filter(|s| s.name() == "api.shop.example.com.")
        .count();
    assert_eq!(api_sets, 2, "the records were not duplicated: {sets:?}");
    let client = crate::objectives_e2e::kube_client(&clusters.servers[0], "shop-primary").await;
    let deployment: k8s_openapi::api::apps::v1::Deployment = kube::Api::namespaced(client, "shop")
        .get("shop-api")
        .await
        .expect("get the Deployment");
    let labels = deployment.metadata.labels.unwrap_or_default();
    assert_eq!(
        labels.get("drplan.io/stack").map(String::as_str),
        Some("shop"),
        "{labels:?}"
    );

    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
}

/// `drift --unmanaged` (driftctl's "unmanaged"): beside a stack in sync, the objects
/// of managed kinds no stack marks, in the sites' regions, Route53 and the spec's
/// namespaces of its clusters, are listed as
/// information (the exit code stays 0) — KMS keys, ECR repositories and ElastiCache
/// replication groups among them; drplan's own, another stack's, the default VPC, a
/// bucket in a region no site uses and a key scheduled for deletion are not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_lists_what_no_stack_marks_as_unmanaged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    for sub in ["environments", "specs", "k8s"] {
        copy_dir(&repo_root().join(sub), &root.join(sub));
    }
    let project = drplan_core::spec::load_project(root, "prod")
        .unwrap_or_else(|d| panic!("{}", d.render(false, 100)));
    let (moto, clusters) = world().await;
    outofband::create_all(&moto, &project.environment.stack, &project.resources)
        .await
        .unwrap_or_else(|e| panic!("creating the live objects: {e:?}"));
    outofband::create_k8s(
        &clusters.kubeconfig,
        &project.environment,
        &project.resources,
    )
    .await
    .unwrap_or_else(|e| panic!("creating the Kubernetes objects: {e}"));

    let ec2 = moto.ec2("us-west-2");
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.99.0.0/16")
        .send()
        .await
        .expect("CreateVpc");
    let vpc_id = vpc
        .vpc()
        .and_then(|v| v.vpc_id())
        .expect("vpc id")
        .to_string();
    let subnet = ec2
        .create_subnet()
        .vpc_id(&vpc_id)
        .cidr_block("10.99.0.0/24")
        .availability_zone("us-west-2a")
        .send()
        .await
        .expect("CreateSubnet");
    let subnet_id = subnet
        .subnet()
        .and_then(|s| s.subnet_id())
        .expect("subnet id")
        .to_string();
    moto.s3("us-east-1")
        .create_bucket()
        .bucket("hand-made-logs")
        .send()
        .await
        .expect("CreateBucket");
    outofband::create_bucket_in(&moto.s3("eu-west-1"), "far-away-bucket", "eu-west-1").await;
    let other_stack = BTreeMap::from([("drplan:stack".to_string(), "other".to_string())]);
    moto.s3("us-east-1")
        .create_bucket()
        .bucket("other-stacks-bucket")
        .send()
        .await
        .expect("CreateBucket");
    outofband::put_bucket_tags(&moto.s3("us-east-1"), "other-stacks-bucket", &other_stack)
        .await
        .expect("tag");
    moto.route53()
        .create_hosted_zone()
        .name("other.example.com")
        .caller_reference("by-hand")
        .send()
        .await
        .expect("CreateHostedZone");
    // A repository and a Redis group made by hand; a key made by hand and scheduled
    // for deletion is not listed (nothing to import), the test account's keys (made
    // by hand for the readiness check, `PREREQUISITE_KEY_ALIASES`) are.
    aws_sdk_ecr::Client::new(&moto.regional_config("us-west-2"))
        .create_repository()
        .repository_name("hand-made/api")
        .send()
        .await
        .expect("CreateRepository");
    let ec = moto.elasticache("us-west-2");
    ec.create_cache_subnet_group()
        .cache_subnet_group_name("hand-made")
        .cache_subnet_group_description("by hand")
        .subnet_ids(&subnet_id)
        .send()
        .await
        .expect("CreateCacheSubnetGroup");
    ec.create_replication_group()
        .replication_group_id("hand-made")
        .replication_group_description("by hand")
        .engine("redis")
        .cache_node_type("cache.t4g.small")
        .num_cache_clusters(1)
        .cache_subnet_group_name("hand-made")
        .send()
        .await
        .expect("CreateReplicationGroup");
    let leaving = moto
        .kms("us-west-2")
        .create_key()
        .send()
        .await
        .expect("CreateKey")
        .key_metadata
        .map(|m| m.key_id)
        .expect("key id");
    moto.kms("us-west-2")
        .schedule_key_deletion()
        .key_id(&leaving)
        .pending_window_in_days(7)
        .send()
        .await
        .expect("ScheduleKeyDeletion");
    let mut account_keys = Vec::new();
    for region in ["us-west-2", "us-east-1"] {
        let aliases = moto
            .kms(region)
            .list_aliases()
            .send()
            .await
            .expect("ListAliases");
        account_keys.extend(
            aliases
                .aliases()
                .iter()
                .filter(|a| {
                    crate::support::moto::PREREQUISITE_KEY_ALIASES
                        .contains(&a.alias_name().unwrap_or_default())
                })
                .filter_map(|a| a.target_key_id().map(str::to_string)),
        );
    }
    assert!(!account_keys.is_empty());
    let zone_id = outofband::zone_ids(&moto).await.expect("zones")["shop.example.com."].clone();
    create_record(
        &moto,
        &zone_id,
        "manual.shop.example.com",
        aws_sdk_route53::types::RrType::A,
        "192.0.2.10",
    )
    .await;

    // Kubernetes: a Secret made with kubectl in the spec's namespace is listed; one in
    // a namespace the spec does not use is not.
    {
        use k8s_openapi::api::core::v1::{Namespace, Secret};
        use kube::api::{Api, PostParams};
        let client = crate::objectives_e2e::kube_client(&clusters.servers[0], "shop-primary").await;
        let ns: Namespace =
            serde_json::from_value(serde_json::json!({"metadata": {"name": "elsewhere"}}))
                .expect("namespace");
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &ns)
            .await
            .expect("create namespace elsewhere");
        for namespace in ["shop", "elsewhere"] {
            let secret: Secret = serde_json::from_value(serde_json::json!({
                "metadata": {"name": "hand-made", "namespace": namespace},
                "stringData": {"token": "not-drplans"},
            }))
            .expect("secret");
            Api::<Secret>::namespaced(client.clone(), namespace)
                .create(&PostParams::default(), &secret)
                .await
                .expect("create a Secret by hand");
        }
    }

    let out = drplan(
        &moto,
        root,
        &["drift", "-e", "prod", "--unmanaged", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("json");
    let listed: Vec<(String, String)> = doc["unmanaged"]
        .as_array()
        .unwrap_or_else(|| panic!("no unmanaged list: {doc}"))
        .iter()
        .map(|u| {
            (
                u["type"].as_str().unwrap_or_default().to_string(),
                u["id"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let mut expected: Vec<(String, String)> = [
        ("aws_ecr_repository", "hand-made/api"),
        ("aws_elasticache_replication_group", "hand-made"),
        (
            "aws_route53_record",
            "shop.example.com./manual.shop.example.com./A/",
        ),
        ("aws_route53_zone", "other.example.com"),
        ("aws_s3_bucket", "hand-made-logs"),
        ("aws_subnet", subnet_id.as_str()),
        ("aws_vpc", vpc_id.as_str()),
        ("kubernetes_object", "shop/hand-made"),
    ]
    .iter()
    .map(|(t, i)| (t.to_string(), i.to_string()))
    .collect();
    expected.extend(
        account_keys
            .iter()
            .map(|id| ("aws_kms_key".to_string(), id.clone())),
    );
    expected.sort();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(sorted, expected, "{doc}");

    // Text says it is information, and plain drift lists nothing of it.
    let out = drplan(&moto, root, &["drift", "-e", "prod", "--unmanaged"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "Unmanaged ({} objects no drplan stack marks",
            expected.len()
        )),
        "{text}"
    );
    assert!(
        text.contains("  hand-made/api (aws_ecr_repository, us-west-2)"),
        "{text}"
    );
    assert!(
        text.contains(&format!("  {vpc_id} (aws_vpc, us-west-2)")),
        "{text}"
    );
    assert!(
        text.contains("  shop/hand-made (kubernetes_object, cluster.primary v1 Secret, us-west-2)"),
        "{text}"
    );
    let out = drplan(&moto, root, &["drift", "-e", "prod", "--format", "json"]);
    let doc: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(doc.get("unmanaged").is_none(), "{doc}");
}

/// Issue 20, done when: the checked-in Terraform state (a VPC with two subnets, a
/// versioned bucket, a zone and a record; a KMS key with its alias, an ECR repository
/// with its lifecycle policy, a Redis group in the subnets) converts to import and
/// spec blocks that
/// validate and, against moto objects with those ids, plan nothing but the imports;
/// after apply, the plan exits 0 and nothing was recreated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terraform_state_converts_to_blocks_that_import_with_no_other_change() {
    use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("specs")).expect("specs");
    std::fs::create_dir_all(root.join("environments")).expect("environments");
    std::fs::write(
        root.join("specs/main.hcl"),
        "site \"primary\" {\n  region = \"us-west-2\"\n}\n",
    )
    .expect("main.hcl");
    std::fs::write(
        root.join("environments/prod.hcl"),
        "stack      = \"lanka\"\naccount_id = \"123456789012\"\n",
    )
    .expect("prod.hcl");
    let moto = crate::support::moto::MotoServer::start();

    // What Terraform made, with the ids moto hands out.
    let tags = |rt: ResourceType, pairs: &[(&str, &str)]| {
        let mut spec = TagSpecification::builder().resource_type(rt);
        for (k, v) in pairs {
            spec = spec.tags(Tag::builder().key(*k).value(*v).build());
        }
        spec.build()
    };
    let ec2 = moto.ec2("us-west-2");
    let vpc_id = ec2
        .create_vpc()
        .cidr_block("10.0.0.0/16")
        .tag_specifications(tags(
            ResourceType::Vpc,
            &[("Name", "lanka-main"), ("managed-by", "terraform")],
        ))
        .send()
        .await
        .expect("CreateVpc")
        .vpc()
        .and_then(|v| v.vpc_id())
        .expect("vpc id")
        .to_string();
    let mut subnet_ids = Vec::new();
    for (cidr, az, name) in [
        ("10.0.0.0/20", "us-west-2a", "lanka-private-a"),
        ("10.0.16.0/20", "us-west-2b", "lanka-private-b"),
    ] {
        let id = ec2
            .create_subnet()
            .vpc_id(&vpc_id)
            .cidr_block(cidr)
            .availability_zone(az)
            .tag_specifications(tags(ResourceType::Subnet, &[("Name", name)]))
            .send()
            .await
            .expect("CreateSubnet")
            .subnet()
            .and_then(|s| s.subnet_id())
            .expect("subnet id")
            .to_string();
        subnet_ids.push(id);
    }
    ec2.modify_subnet_attribute()
        .subnet_id(&subnet_ids[1])
        .map_public_ip_on_launch(
            aws_sdk_ec2::types::AttributeBooleanValue::builder()
                .value(true)
                .build(),
        )
        .send()
        .await
        .expect("ModifySubnetAttribute");
    let s3 = moto.s3("us-west-2");
    outofband::create_bucket_in(&s3, "lanka-platform-backups", "us-west-2").await;
    s3.put_bucket_versioning()
        .bucket("lanka-platform-backups")
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .expect("PutBucketVersioning");
    // S3 encrypts every new bucket with AES256 (the state says so); moto does not.
    s3.put_bucket_encryption()
        .bucket("lanka-platform-backups")
        .server_side_encryption_configuration(
            aws_sdk_s3::types::ServerSideEncryptionConfiguration::builder()
                .rules(
                    aws_sdk_s3::types::ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(
                            aws_sdk_s3::types::ServerSideEncryptionByDefault::builder()
                                .sse_algorithm(aws_sdk_s3::types::ServerSideEncryption::Aes256)
                                .build()
                                .expect("sse"),
                        )
                        .build(),
                )
                .build()
                .expect("sse configuration"),
        )
        .send()
        .await
        .expect("PutBucketEncryption");
    outofband::put_bucket_tags(
        &s3,
        "lanka-platform-backups",
        &BTreeMap::from([("team".to_string(), "platform".to_string())]),
    )
    .await
    .expect("tags");
    let zone_id = moto
        .route53()
        .create_hosted_zone()
        .name("lanka-platform.com")
        .caller_reference("terraform-20260101")
        .hosted_zone_config(
            aws_sdk_route53::types::HostedZoneConfig::builder()
                .comment("Managed by Terraform")
                .build(),
        )
        .send()
        .await
        .expect("CreateHostedZone")
        .hosted_zone()
        .map(|z| z.id().rsplit('/').next().unwrap_or_default().to_string())
        .expect("zone id");
    moto.route53()
        .change_tags_for_resource()
        .resource_type(aws_sdk_route53::types::TagResourceType::Hostedzone)
        .resource_id(&zone_id)
        .add_tags(
            aws_sdk_route53::types::Tag::builder()
                .key("team")
                .value("platform")
                .build(),
        )
        .send()
        .await
        .expect("ChangeTagsForResource");
    create_record(
        &moto,
        &zone_id,
        "www.lanka-platform.com",
        aws_sdk_route53::types::RrType::Cname,
        "primary-lb.us-west-2.elb.amazonaws.com",
    )
    .await;

    // The key (moto chooses its id), the repository, the group.
    let kms = moto.kms("us-west-2");
    let key_id = kms
        .create_key()
        .description("lanka backups")
        .send()
        .await
        .expect("CreateKey")
        .key_metadata
        .map(|m| m.key_id)
        .expect("key id");
    kms.create_alias()
        .alias_name("alias/lanka-archive")
        .target_key_id(&key_id)
        .send()
        .await
        .expect("CreateAlias");
    let ecr = aws_sdk_ecr::Client::new(&moto.regional_config("us-west-2"));
    ecr.create_repository()
        .repository_name("lanka/api")
        .send()
        .await
        .expect("CreateRepository");
    ecr.put_lifecycle_policy()
        .repository_name("lanka/api")
        .lifecycle_policy_text(
            r#"{"rules":[{"rulePriority":1,"description":"expire old images","selection":{"tagStatus":"any","countType":"sinceImagePushed","countUnit":"days","countNumber":30},"action":{"type":"expire"}}]}"#,
        )
        .send()
        .await
        .expect("PutLifecyclePolicy");
    let ec = moto.elasticache("us-west-2");
    ec.create_cache_subnet_group()
        .cache_subnet_group_name("lanka-sessions")
        .cache_subnet_group_description("Managed by Terraform")
        .set_subnet_ids(Some(subnet_ids.clone()))
        .send()
        .await
        .expect("CreateCacheSubnetGroup");
    ec.create_replication_group()
        .replication_group_id("lanka-sessions")
        .replication_group_description("lanka sessions")
        .engine("redis")
        .engine_version("7.1")
        .cache_node_type("cache.t4g.small")
        .num_cache_clusters(1)
        .cache_subnet_group_name("lanka-sessions")
        .send()
        .await
        .expect("CreateReplicationGroup");

    // The checked-in state, with moto's ids in place of the ones written by hand.
    let fixture = std::fs::read_to_string(
        repo_root().join("crates/drplan-core/tests/core/tfstate_fixture/terraform.tfstate"),
    )
    .expect("fixture");
    let state = fixture
        .replace("vpc-0123456789abcdef0", &vpc_id)
        .replace("subnet-0a1b2c3d4e5f60001", &subnet_ids[0])
        .replace("subnet-0a1b2c3d4e5f60002", &subnet_ids[1])
        .replace("Z0123456789ABCDEFGHIJ", &zone_id)
        .replace("1234abcd-12ab-34cd-56ef-1234567890ab", &key_id);
    std::fs::write(root.join("terraform.tfstate"), state).expect("state");

    let out = drplan(
        &moto,
        root,
        &[
            "import",
            "-e",
            "prod",
            "--from-terraform-state",
            "terraform.tfstate",
            "--generate-config-out",
            "specs/adopted.hcl",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "not converted: aws_iam_role.eks_cluster: drplan does not manage aws_iam_role"
        ),
        "{err}"
    );
    assert!(err.contains("9 import block(s)"), "{err}");
    std::fs::write(root.join("specs/imports.hcl"), &out.stdout).expect("imports.hcl");
    let adopted = std::fs::read_to_string(root.join("specs/adopted.hcl")).expect("adopted");
    assert!(adopted.contains("network \"main\" {"), "{adopted}");

    // Never overwrites.
    let again = drplan(
        &moto,
        root,
        &[
            "import",
            "-e",
            "prod",
            "--from-terraform-state",
            "terraform.tfstate",
            "--generate-config-out",
            "specs/adopted.hcl",
        ],
    );
    assert_eq!(again.status.code(), Some(1), "{}", explain(&again));
    assert!(
        explain(&again).contains("already exists"),
        "{}",
        explain(&again)
    );

    let out = drplan(&moto, root, &["validate", "-e", "prod"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let out = drplan(&moto, root, &["plan", "-e", "prod", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("json");
    let changes = doc["resource_changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 9, "{doc}");
    for c in changes {
        assert!(c["importing"]["id"].is_string(), "{c}");
        // The attributes the spec sets; a cache's snapshot window that the spec
        // leaves to AWS is read but not compared, and absent from `after`.
        let after = c["change"]["after"].as_object().expect("after");
        let before = &c["change"]["before"];
        for (key, value) in after {
            assert_eq!(&before[key], value, "an import with a change of {key}: {c}");
        }
    }

    let out = drplan(&moto, root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let vpcs = ec2.describe_vpcs().send().await.expect("DescribeVpcs");
    assert_eq!(
        vpcs.vpcs()
            .iter()
            .filter(|v| v.cidr_block() == Some("10.0.0.0/16"))
            .map(|v| v.vpc_id().unwrap_or_default())
            .collect::<Vec<_>>(),
        [vpc_id.as_str()]
    );
}

/// Issue 20: `drplan import --generate-config-out FILE` writes, from the live objects,
/// the spec blocks of import blocks that have none (a network with its subnet, a
/// cluster with its node group, a bucket with a lifecycle rule, a zone); with them the
/// project validates and the plan imports each object with no other change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_config_out_writes_the_blocks_of_imports_from_the_live_objects() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("specs")).expect("specs");
    std::fs::create_dir_all(root.join("environments")).expect("environments");
    std::fs::write(
        root.join("specs/main.hcl"),
        "site \"primary\" {\n  region = \"us-west-2\"\n}\n",
    )
    .expect("main.hcl");
    std::fs::write(
        root.join("environments/prod.hcl"),
        "stack      = \"archive\"\naccount_id = \"123456789012\"\n",
    )
    .expect("prod.hcl");
    // The cluster's API: a test API server behind the kubeconfig context.
    let (moto, _clusters) = world().await;
    let ec2 = moto.ec2("us-west-2");
    let vpc_id = ec2
        .create_vpc()
        .cidr_block("10.50.0.0/16")
        .send()
        .await
        .expect("CreateVpc")
        .vpc()
        .and_then(|v| v.vpc_id())
        .expect("vpc id")
        .to_string();
    let subnet_id = ec2
        .create_subnet()
        .vpc_id(&vpc_id)
        .cidr_block("10.50.0.0/20")
        .availability_zone("us-west-2a")
        .send()
        .await
        .expect("CreateSubnet")
        .subnet()
        .and_then(|s| s.subnet_id())
        .expect("subnet id")
        .to_string();
    let eks = moto.eks("us-west-2");
    eks.create_cluster()
        .name("archive")
        .version("1.29")
        .role_arn("arn:aws:iam::123456789012:role/archive-eks")
        .resources_vpc_config(
            aws_sdk_eks::types::VpcConfigRequest::builder()
                .subnet_ids(&subnet_id)
                .build(),
        )
        .send()
        .await
        .expect("CreateCluster");
    eks.create_nodegroup()
        .cluster_name("archive")
        .nodegroup_name("workers")
        .node_role("arn:aws:iam::123456789012:role/archive-node")
        .subnets(&subnet_id)
        .instance_types("m5.large")
        .scaling_config(
            aws_sdk_eks::types::NodegroupScalingConfig::builder()
                .min_size(1)
                .desired_size(2)
                .max_size(3)
                .build(),
        )
        .send()
        .await
        .expect("CreateNodegroup");
    let s3 = moto.s3("us-west-2");
    outofband::create_bucket_in(&s3, "archive-backups", "us-west-2").await;
    s3.put_public_access_block()
        .bucket("archive-backups")
        .public_access_block_configuration(
            aws_sdk_s3::types::PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .expect("PutPublicAccessBlock");
    outofband::put_lifecycle(
        &s3,
        "archive-backups",
        &[serde_json::json!({"id": "expire-old", "prefix": "db/", "expiration_days": 30})],
    )
    .await
    .expect("lifecycle");
    moto.route53()
        .create_hosted_zone()
        .name("archive.example.com")
        .caller_reference("by-hand")
        .send()
        .await
        .expect("CreateHostedZone");

    std::fs::write(
        root.join("specs/imports.hcl"),
        format!(
            "import {{\n  to = network.archive\n  id = \"{vpc_id}\"\n}}\n\n\
             import {{\n  to = network.archive.subnet.a\n  id = \"{subnet_id}\"\n}}\n\n\
             import {{\n  to = cluster.archive\n  id = \"archive\"\n}}\n\n\
             import {{\n  to = cluster.archive.node_group.workers\n  id = \"archive/workers\"\n}}\n\n\
             import {{\n  to = bucket.archive\n  id = \"archive-backups\"\n}}\n\n\
             import {{\n  to = zone.archive\n  id = \"archive.example.com\"\n}}\n"
        ),
    )
    .expect("imports.hcl");
    // Without the blocks, validate names each import.
    let out = drplan(&moto, root, &["validate", "-e", "prod"]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert!(
        explain(&out).contains("--generate-config-out"),
        "{}",
        explain(&out)
    );

    let generated = generate_config(&moto, root, 6);
    for line in [
        "network \"archive\" {",
        "subnet \"a\" {",
        "cluster \"archive\" {",
        "node_group \"workers\" {",
        "bucket \"archive\" {",
        "zone \"archive\" {",
        "lifecycle_rule \"expire-old\" {",
        "block_public_access = true",
    ] {
        assert!(generated.contains(line), "no `{line}` in:\n{generated}");
    }
    // How to reach the generated cluster's API, as for any cluster.
    let mut env = std::fs::read_to_string(root.join("environments/prod.hcl")).expect("env");
    env.push_str("\ncluster_access \"archive\" {\n  context = \"shop-primary\"\n}\n");
    std::fs::write(root.join("environments/prod.hcl"), env).expect("env");
    plan_imports_only(&moto, root, &generated, 6);
    // A second run finds nothing left to write.
    let out = drplan(
        &moto,
        root,
        &[
            "import",
            "-e",
            "prod",
            "--generate-config-out",
            "specs/more.hcl",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    assert!(
        explain(&out).contains("nothing to write"),
        "{}",
        explain(&out)
    );
}

/// Issue 20 for the newer kinds: `drplan import --generate-config-out FILE` writes,
/// from the live objects, the `kms_key` block of a multi-region key with its replica
/// and alias, the `registry` block of a repository with its lifecycle policy, and the
/// `cache` block of a replication group in the subnets of a network imported beside
/// it; with them the project validates and the plan imports each object with no other
/// change, the key and its replica both named by the key id they share.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_config_out_writes_keys_repositories_and_caches() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("specs")).expect("specs");
    std::fs::create_dir_all(root.join("environments")).expect("environments");
    std::fs::write(
        root.join("specs/main.hcl"),
        "site \"primary\" {\n  region = \"us-west-2\"\n}\n\nsite \"dr\" {\n  region = \"us-east-1\"\n  role   = \"dr\"\n}\n",
    )
    .expect("main.hcl");
    std::fs::write(
        root.join("environments/prod.hcl"),
        "stack      = \"archive\"\naccount_id = \"123456789012\"\n",
    )
    .expect("prod.hcl");
    let moto = crate::support::moto::MotoServer::start();

    // A network and a Redis group in it.
    let ec2 = moto.ec2("us-west-2");
    let vpc_id = ec2
        .create_vpc()
        .cidr_block("10.60.0.0/16")
        .send()
        .await
        .expect("CreateVpc")
        .vpc()
        .and_then(|v| v.vpc_id())
        .expect("vpc id")
        .to_string();
    let mut subnet_ids = Vec::new();
    for (az, cidr) in [
        ("us-west-2a", "10.60.0.0/20"),
        ("us-west-2b", "10.60.16.0/20"),
    ] {
        subnet_ids.push(
            ec2.create_subnet()
                .vpc_id(&vpc_id)
                .cidr_block(cidr)
                .availability_zone(az)
                .send()
                .await
                .expect("CreateSubnet")
                .subnet()
                .and_then(|s| s.subnet_id())
                .expect("subnet id")
                .to_string(),
        );
    }
    let ec = moto.elasticache("us-west-2");
    ec.create_cache_subnet_group()
        .cache_subnet_group_name("sessions")
        .cache_subnet_group_description("made by hand")
        .set_subnet_ids(Some(subnet_ids.clone()))
        .send()
        .await
        .expect("CreateCacheSubnetGroup");
    ec.create_replication_group()
        .replication_group_id("sessions")
        .replication_group_description("sessions, by hand")
        .engine("redis")
        .engine_version("7.1")
        .cache_node_type("cache.r6g.large")
        .num_cache_clusters(2)
        .automatic_failover_enabled(true)
        .multi_az_enabled(true)
        .cache_subnet_group_name("sessions")
        .snapshot_retention_limit(5)
        .snapshot_window("02:00-03:00")
        .send()
        .await
        .expect("CreateReplicationGroup");

    // A multi-region key, its replica, the alias in both regions.
    let west = moto.kms("us-west-2");
    let key_id = west
        .create_key()
        .multi_region(true)
        .description("archive keys")
        .send()
        .await
        .expect("CreateKey")
        .key_metadata
        .map(|m| m.key_id)
        .expect("key id");
    west.replicate_key()
        .key_id(&key_id)
        .replica_region("us-east-1")
        .description("archive keys")
        .send()
        .await
        .expect("ReplicateKey");
    for region in ["us-west-2", "us-east-1"] {
        moto.kms(region)
            .create_alias()
            .alias_name("alias/archive")
            .target_key_id(&key_id)
            .send()
            .await
            .expect("CreateAlias");
    }

    // A repository with a lifecycle policy.
    let ecr = aws_sdk_ecr::Client::new(&moto.regional_config("us-west-2"));
    ecr.create_repository()
        .repository_name("archive/api")
        .send()
        .await
        .expect("CreateRepository");
    ecr.put_lifecycle_policy()
        .repository_name("archive/api")
        .lifecycle_policy_text(
            serde_json::json!({"rules": [{"rulePriority": 1, "description": "old",
                "selection": {"tagStatus": "any", "countType": "sinceImagePushed",
                              "countUnit": "days", "countNumber": 14},
                "action": {"type": "expire"}}]})
            .to_string(),
        )
        .send()
        .await
        .expect("PutLifecyclePolicy");

    std::fs::write(
        root.join("specs/imports.hcl"),
        format!(
            "import {{\n  to = network.cachenet\n  id = \"{vpc_id}\"\n}}\n\n\
             import {{\n  to = network.cachenet.subnet.a\n  id = \"{}\"\n}}\n\n\
             import {{\n  to = network.cachenet.subnet.b\n  id = \"{}\"\n}}\n\n\
             import {{\n  to = cache.sessions\n  id = \"sessions\"\n}}\n\n\
             import {{\n  to = kms_key.archive\n  id = \"{key_id}\"\n}}\n\n\
             import {{\n  to = kms_key.archive.replica.dr\n  id = \"{key_id}\"\n}}\n\n\
             import {{\n  to = registry.api\n  id = \"archive/api\"\n}}\n",
            subnet_ids[0], subnet_ids[1]
        ),
    )
    .expect("imports.hcl");
    let generated = generate_config(&moto, root, 7);
    for line in [
        "cache \"sessions\" {",
        "network        = network.cachenet",
        "subnets        = [\"a\", \"b\"]",
        "retention_days = 5",
        "kms_key \"archive\" {",
        "replicas             = [site.dr]",
        "alias                = \"alias/archive\"",
        "registry \"api\" {",
        "lifecycle_policy",
    ] {
        assert!(generated.contains(line), "no `{line}` in:\n{generated}");
    }
    plan_imports_only(&moto, root, &generated, 7);
}

/// `drplan import --generate-config-out specs/generated.hcl`: succeeds, writes all
/// `count` import blocks' spec blocks; the file written.
fn generate_config(moto: &MotoServer, root: &Path, count: usize) -> String {
    let out = drplan(
        moto,
        root,
        &[
            "import",
            "-e",
            "prod",
            "--generate-config-out",
            "specs/generated.hcl",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let written = format!("{count} of {count} import block(s) without a spec block written");
    assert!(explain(&out).contains(&written), "{}", explain(&out));
    std::fs::read_to_string(root.join("specs/generated.hcl")).expect("generated")
}

/// With the `generated` blocks the project validates and the plan imports `count`
/// objects, each with no other change.
fn plan_imports_only(moto: &MotoServer, root: &Path, generated: &str, count: usize) {
    let out = drplan(moto, root, &["validate", "-e", "prod"]);
    assert_eq!(out.status.code(), Some(0), "{}\n{generated}", explain(&out));
    let out = drplan(moto, root, &["plan", "-e", "prod", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("json");
    let changes = doc["resource_changes"].as_array().expect("changes");
    assert_eq!(changes.len(), count, "{doc}");
    for c in changes {
        assert!(c["importing"]["id"].is_string(), "{c}");
        assert_eq!(
            c["change"]["before"], c["change"]["after"],
            "an import with an attribute change:\n{generated}\n{c}"
        );
    }
}
