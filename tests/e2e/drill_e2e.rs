//! Drills (issue 13) through the real binary, against moto and the test API servers
//! (which settle rollouts and Jobs at once: `simulate_rollouts`).

use crate::objectives_e2e::applied_root_project;
use crate::support::cli::{drplan, explain, stdout};
use crate::support::moto::MotoServer;
use serde_json::Value;
use std::path::Path;

const DR_CLUSTER: &str = "shop-prod-dr";
const DR_NODE_GROUP: &str = "general";

/// Every object of a test API server, as `kind namespace/name`, sorted.
fn listing(server: &kube_testserver::TestServer) -> Vec<String> {
    let mut out: Vec<String> = server
        .objects()
        .iter()
        .map(|o| {
            format!(
                "{} {}/{}",
                o["kind"].as_str().unwrap_or_default(),
                o.pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
                o.pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
            )
        })
        .collect();
    out.sort();
    out
}

/// Objects carrying a drill mark, anywhere.
fn drill_objects(server: &kube_testserver::TestServer) -> Vec<String> {
    server
        .objects()
        .iter()
        .filter(|o| o.pointer("/metadata/labels/drplan.io~1drill").is_some())
        .map(|o| o.to_string())
        .collect()
}

/// The DR node group's min/desired/max and its tags.
async fn node_group(moto: &MotoServer) -> ((i32, i32, i32), Vec<String>) {
    let out = moto
        .eks("us-east-1")
        .describe_nodegroup()
        .cluster_name(DR_CLUSTER)
        .nodegroup_name(DR_NODE_GROUP)
        .send()
        .await
        .expect("describe the DR node group");
    let ng = out.nodegroup().expect("node group");
    let s = ng.scaling_config().expect("scaling");
    let mut tags: Vec<String> = ng
        .tags()
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default();
    tags.sort();
    (
        (
            s.min_size().unwrap_or(-1),
            s.desired_size().unwrap_or(-1),
            s.max_size().unwrap_or(-1),
        ),
        tags,
    )
}

fn drill(moto: &MotoServer, root: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["drill"];
    all.extend_from_slice(args);
    drplan(moto, root, &all)
}

/// A drill restores and verifies in an isolated namespace of the DR cluster, times
/// every step, records itself, and leaves the clusters and the node group exactly as
/// they were. A drill while the DR site is active is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drill_restores_verifies_measures_and_leaves_nothing_behind() {
    let (dir, moto, clusters) = applied_root_project().await;
    let root = dir.path();
    // The backup credentials drplan does not manage, kept in the DR cluster by the
    // platform team (External Secrets, say): the drill copies them into its namespace.
    {
        use k8s_openapi::api::core::v1::{Namespace, Secret};
        use kube::api::{Api, PostParams};
        let client = crate::objectives_e2e::kube_client(&clusters.servers[1], "shop-dr").await;
        let ns: Namespace =
            serde_json::from_value(serde_json::json!({"metadata": {"name": "shop"}}))
                .expect("namespace");
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &ns)
            .await
            .expect("create namespace shop in the DR cluster");
        let secret: Secret = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "orders-db-backup", "namespace": "shop"},
            "stringData": {"PGPASSWORD": "drill-test-only"},
        }))
        .expect("secret");
        Api::<Secret>::namespaced(client, "shop")
            .create(&PostParams::default(), &secret)
            .await
            .expect("create the backup credentials in the DR cluster");
    }
    let before_primary = listing(&clusters.servers[0]);
    let before_dr = listing(&clusters.servers[1]);
    let before_ng = node_group(&moto).await;
    assert_eq!(before_ng.0 .1, 0, "the DR node group is a pilot light at 0");

    let out = drill(&moto, root, &["-e", "prod", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let record: Value = serde_json::from_str(&stdout(&out)).expect("the drill record as JSON");
    assert_eq!(record["outcome"], "passed", "{record:#}");
    assert_eq!(record["cleaned_up"], true, "{record:#}");
    let steps: Vec<&str> = record["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| s["step"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        steps,
        [
            "scale_node_group",
            "namespace",
            "workloads",
            "restore",
            "verify",
            "teardown"
        ],
        "{record:#}"
    );
    for s in record["steps"].as_array().expect("steps") {
        assert_eq!(s["outcome"], "ok", "{s}");
        assert!(s["seconds"].as_f64().is_some(), "{s}");
    }
    let restore = &record["steps"][3];
    assert_eq!(restore["component"], "orders-db", "{restore}");
    assert!(
        restore["what"]
            .as_str()
            .unwrap_or_default()
            .contains("s3://shop-prod-backups-us-east-1/orders-db/full/"),
        "the restore reads the DR copy: {restore}"
    );
    assert_eq!(restore["estimate_seconds"], 1200, "{restore}");
    assert!(
        record["steps"][4]["what"]
            .as_str()
            .unwrap_or_default()
            .contains("table count"),
        "{record:#}"
    );
    assert!(
        record["steps"][0]["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("was 0/0/"),
        "{record:#}"
    );
    let workloads = record["steps"][2]["what"].as_str().unwrap_or_default();
    assert!(workloads.contains("bring up 4 object(s)"), "{record:#}");
    assert!(
        record["steps"][2]["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("copied Secret orders-db-backup"),
        "{record:#}"
    );
    assert!(
        !stdout(&out).contains("drill-test-only"),
        "the copied secret's value is never shown"
    );

    // Nothing left: every namespace, object and the node group as before.
    assert_eq!(listing(&clusters.servers[1]), before_dr);
    assert_eq!(
        listing(&clusters.servers[0]),
        before_primary,
        "production untouched"
    );
    assert_eq!(node_group(&moto).await, before_ng);
    // The drill changed nothing drplan manages.
    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));

    // Measured beats estimated: the RTO path now uses the drill's restore time.
    let id = record["id"].as_str().expect("id").to_string();
    let out = drplan(&moto, root, &["plan", "-e", "prod-dr"]);
    let text = stdout(&out);
    assert!(
        text.contains(&format!("measured in drill {id} on ")),
        "{}",
        explain(&out)
    );
    assert!(
        !text.contains("-> backup.orders_db.placement.dr.job.restore (20m)"),
        "{}",
        explain(&out)
    );
    // The node group's scale-up the drill measured replaces its 4m estimate too.
    assert!(
        text.lines().any(|l| {
            l.contains("scale-up of cluster.dr.node_group.general ")
                && l.contains(&format!(", measured in drill {id} on "))
        }) && !text.contains("cluster.dr.node_group.general (4m)"),
        "{}",
        explain(&out)
    );

    // The record is kept beside the lock.
    let out = drill(&moto, root, &["history", "-e", "prod", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let history: Value = serde_json::from_str(&stdout(&out)).expect("history JSON");
    assert_eq!(history.as_array().map(Vec::len), Some(1), "{history:#}");
    assert_eq!(history[0]["id"], record["id"]);
    let out = drill(&moto, root, &["history", "-e", "prod"]);
    assert!(stdout(&out).contains("passed"), "{}", explain(&out));

    // The hand-made namespace goes before the activation, which creates its own.
    {
        use k8s_openapi::api::core::v1::Namespace;
        use kube::api::{Api, DeleteParams};
        let client = crate::objectives_e2e::kube_client(&clusters.servers[1], "shop-dr").await;
        Api::<Namespace>::all(client)
            .delete("shop", &DeleteParams::default())
            .await
            .expect("delete namespace shop");
        let gone = std::time::Instant::now();
        while clusters.servers[1]
            .object("v1", "namespaces", None, "shop")
            .is_some()
        {
            assert!(
                gone.elapsed() < std::time::Duration::from_secs(30),
                "namespace shop stays"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    // During DR activation the drill is refused.
    let out = drplan(&moto, root, &["apply", "-e", "prod-dr", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    assert!(
        explain(&out).contains("Recorded the DR activation (passed, "),
        "{}",
        explain(&out)
    );
    // The activation itself is recorded: each scale-up, restore and the DNS flip, and
    // the recovery time from the start to the flip.
    let out = drill(
        &moto,
        root,
        &["history", "-e", "prod-dr", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let history: Value = serde_json::from_str(&stdout(&out)).expect("history JSON");
    let activation = &history[0];
    assert_eq!(activation["kind"], "activation", "{history:#}");
    assert_eq!(activation["outcome"], "passed", "{history:#}");
    assert!(
        activation["recovery_seconds"].as_f64().is_some(),
        "{history:#}"
    );
    let kinds: std::collections::BTreeSet<&str> = activation["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["step"].as_str())
        .collect();
    assert_eq!(
        kinds,
        ["dns_flip", "restore", "scale_node_group"]
            .into_iter()
            .collect(),
        "{history:#}"
    );
    let after_activation = listing(&clusters.servers[1]);
    let out = drill(&moto, root, &["-e", "prod"]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert!(explain(&out).contains("looks active"), "{}", explain(&out));
    assert_eq!(listing(&clusters.servers[1]), after_activation);
}

/// A drill killed at any point (a crash at each step's end), then `drill cleanup`:
/// no drill object remains and the node group has its size back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_drill_then_cleanup_leaves_zero_drill_objects() {
    let (dir, moto, clusters) = applied_root_project().await;
    let root = dir.path();
    let before_dr = listing(&clusters.servers[1]);
    let before_ng = node_group(&moto).await;
    for point in [
        "scale_node_group",
        "namespace",
        "workloads",
        "restore",
        "verify",
    ] {
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("drplan"))
            .envs(moto.env_for_cli())
            .env("NO_COLOR", "1")
            .env("DRPLAN_FAILPOINT", format!("drill.{point}:after"))
            .arg("-C")
            .arg(root)
            .args(["drill", "-e", "prod"])
            .output()
            .expect("run drplan");
        assert_ne!(out.status.code(), Some(0), "{point}: {}", explain(&out));
        assert!(
            explain(&out).contains("failpoint"),
            "{point}: {}",
            explain(&out)
        );
        let left = drill_objects(&clusters.servers[1]);
        if point != "scale_node_group" {
            assert!(
                !left.is_empty(),
                "{point}: the crash left the drill's objects"
            );
        }
        let out = drill(
            &moto,
            root,
            &["cleanup", "-e", "prod", "--lock-timeout", "2m"],
        );
        assert_eq!(out.status.code(), Some(0), "{point}: {}", explain(&out));
        assert!(
            drill_objects(&clusters.servers[1]).is_empty(),
            "{point}: {:?}",
            drill_objects(&clusters.servers[1])
        );
        assert_eq!(listing(&clusters.servers[1]), before_dr, "{point}");
        assert_eq!(node_group(&moto).await, before_ng, "{point}");
    }
    // Nothing to clean: says so, changes nothing.
    let out = drill(&moto, root, &["cleanup", "-e", "prod"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    assert!(
        explain(&out).contains("Nothing left by a drill"),
        "{}",
        explain(&out)
    );
}

/// Every node group in `region`: `cluster/name min/desired/max`, sorted.
async fn node_groups(moto: &MotoServer, region: &str) -> Vec<String> {
    let eks = moto.eks(region);
    let mut out = Vec::new();
    let clusters = eks.list_clusters().send().await.expect("list clusters");
    for cluster in clusters.clusters() {
        let groups = eks
            .list_nodegroups()
            .cluster_name(cluster)
            .send()
            .await
            .expect("list node groups");
        for name in groups.nodegroups() {
            let ng = eks
                .describe_nodegroup()
                .cluster_name(cluster)
                .nodegroup_name(name)
                .send()
                .await
                .expect("describe node group");
            let s = ng.nodegroup().and_then(|n| n.scaling_config());
            out.push(format!(
                "{cluster}/{name} {}/{}/{}",
                s.and_then(|s| s.min_size()).unwrap_or(-1),
                s.and_then(|s| s.desired_size()).unwrap_or(-1),
                s.and_then(|s| s.max_size()).unwrap_or(-1)
            ));
        }
    }
    out.sort();
    out
}

/// The Link seed's drill: postgres, redis and qdrant restored and verified in the DR
/// cluster, each step timed; afterwards every namespace, object and node-group size is
/// as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drill_of_link_app_restores_and_verifies_every_store_and_leaves_nothing() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/link-app");
    let (moto, clusters) = crate::apply_e2e::empty_world(&root).await;
    let out = drplan(&moto, &root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(0), "apply\n{}", explain(&out));
    let dr_region = drplan_core::spec::load_project(&root, "prod")
        .ok()
        .and_then(|p| {
            p.topology
                .sites
                .values()
                .find(|s| s.role == drplan_core::model::SiteRole::Dr)
                .map(|s| s.region.clone())
        })
        .expect("a DR site");
    let before = (
        listing(&clusters.servers[0]),
        listing(&clusters.servers[1]),
        node_groups(&moto, &dr_region).await,
    );

    let out = drill(&moto, &root, &["-e", "prod", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let record: Value = serde_json::from_str(&stdout(&out)).expect("the drill record as JSON");
    assert_eq!(record["outcome"], "passed", "{record:#}");
    assert_eq!(record["cleaned_up"], true, "{record:#}");
    let steps = record["steps"].as_array().expect("steps");
    for s in steps {
        assert_eq!(s["outcome"], "ok", "{s}");
        assert!(s["seconds"].as_f64().is_some(), "{s}");
    }
    let of = |step: &str| -> Vec<String> {
        let mut v: Vec<String> = steps
            .iter()
            .filter(|s| s["step"] == step)
            .map(|s| s["component"].as_str().unwrap_or_default().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(of("restore"), ["postgres", "qdrant", "redis"], "{record:#}");
    assert_eq!(of("verify"), ["postgres", "qdrant", "redis"], "{record:#}");
    let verified: Vec<&str> = steps
        .iter()
        .filter(|s| s["step"] == "verify")
        .map(|s| s["what"].as_str().unwrap_or_default())
        .collect();
    for check in ["table count", "DBSIZE", "collection"] {
        assert!(
            verified.iter().any(|w| w.contains(check)),
            "{check}: {verified:?}"
        );
    }

    let after = (
        listing(&clusters.servers[0]),
        listing(&clusters.servers[1]),
        node_groups(&moto, &dr_region).await,
    );
    assert_eq!(after, before, "the drill left something behind");
    let out = drplan(&moto, &root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
}
