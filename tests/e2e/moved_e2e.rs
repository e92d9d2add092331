//! Renamed blocks end to end: the root project (plus a cluster without node groups)
//! applied to an empty moto and two kube-testservers, then a bucket block, that
//! cluster block and a kubernetes block renamed. The plan must move drplan's marks
//! (and only them), apply must write them where a user would look (tags read back
//! through the SDK, annotations in the API server), and a later change of a name must
//! replace the object at its new address instead of orphaning the original.

use crate::support::cli::{drplan, explain, stdout};
use crate::support::clusters::Clusters;
use crate::support::files::copy_dir;
use crate::support::moto::MotoServer;
use drplan_core::marks;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

const BUCKET: &str = "shop-prod-backups-us-west-2";
const CLUSTER: &str = "shop-tools";
/// A cluster of its own, without node groups: moto's EKS TagResource tags clusters
/// only, so a renamed node group's mark (TagResource on its ARN, as AWS documents it)
/// cannot be moved, or read back, against moto.
const TOOLS_CLUSTER: &str = r#"
cluster "tools" {
  site     = site.primary
  name     = "shop-tools"
  version  = var.cluster_version
  network  = network.primary
  role_arn = "arn:aws:iam::${local.account}:role/shop-eks-cluster"
}
"#;
const PRIMARY: &str = "us-west-2";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn assert_exit(out: &Output, code: i32, what: &str) {
    assert_eq!(out.status.code(), Some(code), "{what}\n{}", explain(out));
}

/// Replaces every `from` in the project file `file` by `to`; the edit must change it.
fn edit(root: &Path, file: &str, from: &str, to: &str) {
    let path = root.join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {file}: {e}"));
    let edited = text.replace(from, to);
    assert_ne!(edited, text, "`{from}` is not in {file}");
    std::fs::write(&path, edited).unwrap_or_else(|e| panic!("write {file}: {e}"));
}

/// A copy of the root project (stack `shop`) in a temp dir, applied to an empty moto.
async fn applied_project() -> (tempfile::TempDir, MotoServer, Clusters) {
    let dir = tempfile::tempdir().expect("temp dir");
    for sub in ["environments", "specs", "k8s"] {
        copy_dir(&repo_root().join(sub), &dir.path().join(sub));
    }
    let clusters_hcl = dir.path().join("specs/clusters.hcl");
    let mut text = std::fs::read_to_string(&clusters_hcl).expect("read clusters.hcl");
    text.push_str(TOOLS_CLUSTER);
    std::fs::write(&clusters_hcl, text).expect("write clusters.hcl");
    // Reached through the kubeconfig like the others: moto's EKS endpoints are not API servers.
    for env in ["environments/prod.hcl", "environments/prod-dr.hcl"] {
        let path = dir.path().join(env);
        let mut text = std::fs::read_to_string(&path).expect("read environment");
        text.push_str("\ncluster_access \"tools\" {\n  context = \"shop-tools\"\n}\n");
        std::fs::write(&path, text).expect("write environment");
    }
    let moto = MotoServer::start();
    // The stack's lock bucket is the one thing apply expects to exist.
    moto.s3("us-east-1")
        .create_bucket()
        .bucket("shop-drplan-locks")
        .send()
        .await
        .expect("create the lock bucket");
    let clusters = Clusters::start(&["shop-primary", "shop-dr", "shop-tools"]).await;
    moto.add_cli_env(clusters.env());
    let out = drplan(
        &moto,
        dir.path(),
        &["apply", "-e", "prod", "--auto-approve"],
    );
    assert_exit(&out, 0, "apply -e prod");
    (dir, moto, clusters)
}

/// `bucket "backups"` -> `"orders_backups"`, `cluster "tools"` -> `"ops"`,
/// `kubernetes "primary"` -> `"platform"`, `zone "public"` -> `"shop"`, `dns "api"` ->
/// `"public_api"` (with a `moved` block: its health check is known by its mark only).
/// Names unchanged.
fn rename_blocks(root: &Path) {
    edit(
        root,
        "specs/storage.hcl",
        "bucket \"backups\" {",
        "bucket \"orders_backups\" {",
    );
    edit(
        root,
        "specs/storage.hcl",
        "bucket  = bucket.backups\n",
        "bucket  = bucket.orders_backups\n",
    );
    edit(
        root,
        "specs/clusters.hcl",
        "cluster \"tools\" {",
        "cluster \"ops\" {",
    );
    edit(
        root,
        "specs/clusters.hcl",
        "kubernetes \"primary\" {",
        "kubernetes \"platform\" {",
    );
    edit(
        root,
        "specs/dns.hcl",
        "zone \"public\" {",
        "zone \"shop\" {",
    );
    edit(
        root,
        "specs/dns.hcl",
        "zone = zone.public",
        "zone = zone.shop",
    );
    edit(
        root,
        "specs/dns.hcl",
        "dns \"api\" {",
        "dns \"public_api\" {",
    );
    let dns = root.join("specs/dns.hcl");
    let mut text = std::fs::read_to_string(&dns).expect("read dns.hcl");
    text.push_str("\nmoved {\n  from = dns.api\n  to   = dns.public_api\n}\n");
    std::fs::write(&dns, text).expect("write dns.hcl");
    for env in ["environments/prod.hcl", "environments/prod-dr.hcl"] {
        edit(
            root,
            env,
            "cluster_access \"tools\"",
            "cluster_access \"ops\"",
        );
    }
}

fn plan_json(moto: &MotoServer, root: &Path, extra: &[&str]) -> (Output, Value) {
    let mut args = vec!["plan", "-e", "prod", "--json", "--detailed-exitcode"];
    args.extend_from_slice(extra);
    let out = drplan(moto, root, &args);
    let doc = serde_json::from_str(&stdout(&out))
        .unwrap_or_else(|e| panic!("plan JSON: {e}\n{}", explain(&out)));
    (out, doc)
}

/// `address -> (actions, previous_address)` of every change that is not a no-op.
fn changes(doc: &Value) -> BTreeMap<String, (String, Option<String>)> {
    doc["resource_changes"]
        .as_array()
        .expect("resource_changes")
        .iter()
        .filter(|c| c["change"]["actions"] != serde_json::json!(["no-op"]))
        .map(|c| {
            let actions: Vec<&str> = c["change"]["actions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            (
                c["address"].as_str().unwrap_or_default().to_string(),
                (
                    actions.join(","),
                    c["previous_address"].as_str().map(str::to_string),
                ),
            )
        })
        .collect()
}

async fn bucket_tags(moto: &MotoServer) -> BTreeMap<String, String> {
    let out = moto
        .s3(PRIMARY)
        .get_bucket_tagging()
        .bucket(BUCKET)
        .send()
        .await
        .expect("GetBucketTagging");
    out.tag_set()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

async fn cluster_tags(moto: &MotoServer) -> BTreeMap<String, String> {
    let out = moto
        .eks(PRIMARY)
        .describe_cluster()
        .name(CLUSTER)
        .send()
        .await
        .expect("DescribeCluster");
    out.cluster()
        .and_then(|c| c.tags())
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .collect()
}

async fn zone_tags(moto: &MotoServer) -> BTreeMap<String, String> {
    let r53 = moto.route53();
    let zones = r53
        .list_hosted_zones()
        .send()
        .await
        .expect("ListHostedZones");
    let zone = zones
        .hosted_zones()
        .iter()
        .find(|z| z.name() == "shop.example.com.")
        .expect("the shop zone");
    let id = zone.id().rsplit('/').next().unwrap_or(zone.id());
    let out = r53
        .list_tags_for_resource()
        .resource_type(aws_sdk_route53::types::TagResourceType::Hostedzone)
        .resource_id(id)
        .send()
        .await
        .expect("ListTagsForResource");
    out.resource_tag_set()
        .map(|set| {
            set.tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// The values of `api.shop.example.com`'s ownership TXT record.
async fn owner_txt_values(moto: &MotoServer) -> Vec<String> {
    let r53 = moto.route53();
    let zones = r53
        .list_hosted_zones()
        .send()
        .await
        .expect("ListHostedZones");
    let zone = zones
        .hosted_zones()
        .iter()
        .find(|z| z.name() == "shop.example.com.")
        .expect("the shop zone");
    let owner = format!("{}api.shop.example.com.", marks::DNS_OWNER_PREFIX);
    let out = r53
        .list_resource_record_sets()
        .hosted_zone_id(zone.id())
        .send()
        .await
        .expect("ListResourceRecordSets");
    out.resource_record_sets()
        .iter()
        .filter(|s| s.name() == owner)
        .flat_map(|s| s.resource_records().iter().map(|r| r.value().to_string()))
        .collect()
}

/// The address annotation of every object drplan marked in the primary cluster.
fn primary_k8s_addresses(clusters: &Clusters) -> Vec<String> {
    let mut addresses: Vec<String> = clusters.servers[0]
        .objects()
        .iter()
        .filter_map(|o| {
            o["metadata"]["annotations"][marks::K8S_ADDRESS_ANNOTATION]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    addresses.sort();
    addresses
}

fn address_of(tags: &BTreeMap<String, String>) -> Option<&str> {
    tags.get(marks::ADDRESS_KEY).map(String::as_str)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renamed_blocks_keep_their_objects_and_move_their_marks() {
    let (dir, moto, clusters) = applied_project().await;
    let root = dir.path();
    assert_eq!(
        address_of(&bucket_tags(&moto).await),
        Some("bucket.backups")
    );
    let before_k8s = primary_k8s_addresses(&clusters);
    assert!(
        before_k8s
            .iter()
            .any(|a| a.starts_with("kubernetes.primary.")),
        "{before_k8s:?}"
    );

    rename_blocks(root);
    let text = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(&text, 2, "plan after renaming blocks");
    let text = stdout(&text);
    for (to, from) in [
        ("bucket.orders_backups", "bucket.backups"),
        ("cluster.ops", "cluster.tools"),
        ("zone.shop", "zone.public"),
    ] {
        assert!(
            text.contains(&format!("  # {to} has moved from {from}\n")),
            "{to} not shown as moved:\n{text}"
        );
    }
    assert!(
        text.contains("will be updated in place: only drplan's mark changes"),
        "{text}"
    );

    let (out, doc) = plan_json(&moto, root, &[]);
    assert_exit(&out, 2, "plan --json after renaming blocks");
    let planned = changes(&doc);
    assert!(
        planned.len() >= 4,
        "bucket, cluster and the kubernetes objects: {planned:#?}"
    );
    for (address, (actions, previous)) in &planned {
        assert_eq!(
            actions, "update",
            "{address}: a rename is an update, nothing is created or destroyed: {planned:#?}"
        );
        let previous = previous
            .as_deref()
            .unwrap_or_else(|| panic!("{address} has no previous_address: {planned:#?}"));
        let expected = address
            .replacen("bucket.orders_backups", "bucket.backups", 1)
            .replacen("cluster.ops", "cluster.tools", 1)
            .replacen("zone.shop", "zone.public", 1)
            .replacen("dns.public_api.", "dns.api.", 1)
            .replacen("kubernetes.platform.", "kubernetes.primary.", 1);
        assert_eq!(previous, expected, "{address}");
    }
    let k8s_moves = planned
        .keys()
        .filter(|a| a.starts_with("kubernetes.platform."))
        .count();
    assert_eq!(
        k8s_moves,
        before_k8s
            .iter()
            .filter(|a| a.starts_with("kubernetes.primary."))
            .count()
    );

    let out = drplan(&moto, root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_exit(&out, 0, "apply of the moves");

    // Read back where a user would look, not through drplan's readers.
    let tags = bucket_tags(&moto).await;
    assert_eq!(address_of(&tags), Some("bucket.orders_backups"), "{tags:?}");
    assert_eq!(
        tags.get(marks::STACK_KEY).map(String::as_str),
        Some("shop"),
        "the other marks are kept: {tags:?}"
    );
    assert_eq!(address_of(&cluster_tags(&moto).await), Some("cluster.ops"));
    assert_eq!(address_of(&zone_tags(&moto).await), Some("zone.shop"));
    let owners = owner_txt_values(&moto).await;
    assert_eq!(
        owners.len(),
        2,
        "one entry per record, old ones gone: {owners:?}"
    );
    assert!(
        owners
            .iter()
            .all(|v| v.contains("address=dns.public_api.target.")),
        "{owners:?}"
    );
    let after_k8s = primary_k8s_addresses(&clusters);
    assert!(
        !after_k8s
            .iter()
            .any(|a| a.starts_with("kubernetes.primary.")),
        "{after_k8s:?}"
    );
    assert_eq!(
        after_k8s,
        {
            let mut moved: Vec<String> = before_k8s
                .iter()
                .map(|a| a.replacen("kubernetes.primary.", "kubernetes.platform.", 1))
                .collect();
            moved.sort();
            moved
        },
        "same objects, new marks"
    );

    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(&out, 0, "plan after applying the moves");

    // Now a name changes. The object is found by its (moved) mark: a replacement at
    // the new address, refused while protected, and never an orphan of the old one.
    edit(
        root,
        "specs/storage.hcl",
        "name = \"${local.name}-backups-us-west-2\"",
        "name = \"${local.name}-orders-us-west-2\"",
    );
    edit(
        root,
        "specs/clusters.hcl",
        "name     = \"shop-tools\"\n",
        "name     = \"shop-ops\"\n",
    );
    let (out, doc) = plan_json(&moto, root, &[]);
    assert_exit(
        &out,
        1,
        "plan replacing protected objects without --allow-destroy",
    );
    let errors: Vec<&str> = doc["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["address"].as_str())
        .collect();
    assert!(
        errors.contains(&"bucket.orders_backups") && errors.contains(&"cluster.ops"),
        "{errors:?}\n{}",
        explain(&out)
    );
    assert!(
        !errors
            .iter()
            .any(|a| *a == "bucket.backups" || *a == "cluster.tools"),
        "{errors:?}"
    );

    let (out, doc) = plan_json(
        &moto,
        root,
        &[
            "--allow-destroy",
            "bucket.orders_backups",
            "--allow-destroy",
            "cluster.ops",
        ],
    );
    assert_exit(&out, 2, "plan replacing with --allow-destroy");
    let planned = changes(&doc);
    for address in ["bucket.orders_backups", "cluster.ops"] {
        assert_eq!(
            planned.get(address).map(|(a, _)| a.as_str()),
            Some("delete,create"),
            "{address}: {planned:#?}"
        );
    }
    let stale: Vec<&String> = planned
        .keys()
        .filter(|a| {
            *a == "bucket.backups" || *a == "cluster.tools" || a.starts_with("kubernetes.primary.")
        })
        .collect();
    assert!(stale.is_empty(), "old addresses must not appear: {stale:?}");
    assert!(
        !planned.values().any(|(a, _)| a == "delete"),
        "no orphan deletes: {planned:#?}"
    );
}

/// The VPC and subnets carry only the mark, so a renamed `network` block needs a
/// `moved` block: with it, the objects keep their ids and their tags move; the cluster
/// that references the subnets is unchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moved_block_carries_a_renamed_network_over_to_its_new_address() {
    let (dir, moto, _clusters) = applied_project().await;
    let root = dir.path();
    let ids_before = network_ids(&moto).await;
    assert_eq!(
        ids_before.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "network.primary",
            "network.primary.subnet.private-a",
            "network.primary.subnet.private-b"
        ]
    );

    edit(
        root,
        "specs/network.hcl",
        "network \"primary\" {",
        "network \"core\" {",
    );
    edit(
        root,
        "specs/clusters.hcl",
        "network  = network.primary",
        "network  = network.core",
    );
    // Without the moved block the network would be created anew beside its orphan, and
    // the cluster on its subnets replaced (refused: clusters are protected).
    let (out, doc) = plan_json(&moto, root, &[]);
    assert_exit(&out, 1, "plan of a renamed network without a moved block");
    assert!(
        changes(&doc)
            .get("network.primary")
            .is_some_and(|(a, _)| a == "delete"),
        "{:#?}",
        changes(&doc)
    );

    let spec = root.join("specs/network.hcl");
    let mut text = std::fs::read_to_string(&spec).expect("read network.hcl");
    text.push_str("\nmoved {\n  from = network.primary\n  to   = network.core\n}\n");
    std::fs::write(&spec, text).expect("write network.hcl");
    let (out, doc) = plan_json(&moto, root, &[]);
    assert_exit(&out, 2, "plan with the moved block");
    let planned = changes(&doc);
    let expected: BTreeMap<String, (String, Option<String>)> = ids_before
        .keys()
        .map(|old| {
            (
                old.replacen("network.primary", "network.core", 1),
                ("update".to_string(), Some(old.clone())),
            )
        })
        .collect();
    assert_eq!(planned, expected, "only the three marks move");

    let out = drplan(&moto, root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_exit(&out, 0, "apply of the moved network");
    let ids_after = network_ids(&moto).await;
    let renamed: BTreeMap<String, String> = ids_before
        .into_iter()
        .map(|(a, id)| (a.replacen("network.primary", "network.core", 1), id))
        .collect();
    assert_eq!(ids_after, renamed, "same VPC and subnet ids, new marks");
    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(
        &out,
        0,
        "plan after applying the move (the moved block may stay)",
    );
}

/// `drplan:address -> id` of the marked VPC and subnets in the primary region.
async fn network_ids(moto: &MotoServer) -> BTreeMap<String, String> {
    let ec2 = moto.ec2(PRIMARY);
    let address = |tags: &[aws_sdk_ec2::types::Tag]| {
        tags.iter()
            .find(|t| t.key() == Some(marks::ADDRESS_KEY))
            .and_then(|t| t.value())
            .map(str::to_string)
    };
    let mut ids = BTreeMap::new();
    for vpc in ec2
        .describe_vpcs()
        .send()
        .await
        .expect("DescribeVpcs")
        .vpcs()
    {
        if let (Some(a), Some(id)) = (address(vpc.tags()), vpc.vpc_id()) {
            ids.insert(a, id.to_string());
        }
    }
    for subnet in ec2
        .describe_subnets()
        .send()
        .await
        .expect("DescribeSubnets")
        .subnets()
    {
        if let (Some(a), Some(id)) = (address(subnet.tags()), subnet.subnet_id()) {
            ids.insert(a, id.to_string());
        }
    }
    ids
}
