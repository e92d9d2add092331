//! Drift end to end: the root project built by hand in moto (tests/e2e/support/outofband.rs),
//! then changed out of band the way operators do in a console; `plan` must show exactly
//! those changes and `drift` must name them in every format.

use crate::support::cli::{drplan, explain, stdout};
use crate::support::clusters::Clusters;
use crate::support::moto::MotoServer;
use crate::support::outofband::{self, Created};
use drplan_core::model::Project;
use drplan_core::resource::Resource;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The root project (stack `shop`), built by hand in a fresh moto.
async fn matching_cloud() -> (MotoServer, Project, Created, Clusters) {
    let moto = MotoServer::start();
    let project = drplan_core::spec::load_project(&repo_root(), "prod")
        .unwrap_or_else(|d| panic!("{}", d.render(false, 100)));
    let created = outofband::create_all(&moto, &project.environment.stack, &project.resources)
        .await
        .unwrap_or_else(|e| panic!("creating the live objects: {e}"));
    let clusters = Clusters::start(&["shop-primary", "shop-dr"]).await;
    moto.add_cli_env(clusters.env());
    outofband::create_k8s(
        &clusters.kubeconfig,
        &project.environment,
        &project.resources,
    )
    .await
    .unwrap_or_else(|e| panic!("creating the Kubernetes objects: {e}"));
    (moto, project, created, clusters)
}

fn resource<'a>(project: &'a Project, address: &str) -> &'a Resource {
    project
        .resources
        .iter()
        .find(|r| r.address.as_str() == address)
        .unwrap_or_else(|| panic!("{address} is not in the spec"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_attributes_changed_by_hand_show_as_exactly_three_updates() {
    let (moto, project, created, _clusters) = matching_cloud().await;
    let group = resource(&project, "cluster.primary.node_group.general");
    let bucket = resource(&project, "bucket.backups");
    let record = resource(&project, "dns.api.target.dr");
    outofband::set_node_group_desired_size(&moto, group, 3)
        .await
        .expect("scale node group");
    outofband::set_lifecycle_expiration(&moto, bucket, "drplan-backup-orders_db", 45)
        .await
        .expect("edit lifecycle");
    outofband::set_record_values(
        &moto,
        record,
        &created,
        &["shop-api-old.us-east-1.elb.amazonaws.com"],
    )
    .await
    .expect("move the failover target");

    let root = repo_root();
    let plan = drplan(&moto, &root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(2), "{}", explain(&plan));
    let text = stdout(&plan);
    // The plan reads live -> spec: what apply would put back.
    for line in [
        "      ~ desired_size = 3 -> 2\n",
        "              ~ expiration_days = 45 -> 30\n",
        "          - \"shop-api-old.us-east-1.elb.amazonaws.com\",\n",
        "          + \"shop-api.us-east-1.elb.amazonaws.com\",\n",
        "Plan: 0 to add, 3 to change, 0 to destroy.\n",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    insta::assert_snapshot!("plan_text_after_three_edits", &text);

    let json = drplan(&moto, &root, &["plan", "-e", "prod", "--json"]);
    let doc: Value = serde_json::from_slice(&json.stdout).expect("plan --json parses");
    let changed: BTreeMap<&str, Vec<&str>> = doc["resource_changes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["change"]["actions"] != serde_json::json!(["no-op"]))
        .map(|c| {
            let actions = c["change"]["actions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            (c["address"].as_str().unwrap_or(""), actions)
        })
        .collect();
    assert_eq!(
        changed,
        BTreeMap::from([
            ("bucket.backups", vec!["update"]),
            ("cluster.primary.node_group.general", vec!["update"]),
            ("dns.api.target.dr", vec!["update"]),
        ])
    );

    let drift = drplan(&moto, &root, &["drift", "-e", "prod"]);
    assert_eq!(drift.status.code(), Some(2), "{}", explain(&drift));
    let drift_text = stdout(&drift);
    assert!(drift_text.starts_with(
        "Drift in stack shop, environment prod: 3 drifted, 0 missing, 0 orphaned, 0 conflicts."
    ));
    assert!(
        drift_text.contains("      desired_size: 3 → 2\n"),
        "{drift_text}"
    );
    insta::assert_snapshot!("drift_text_after_three_edits", drift_text);
    let drift_md = drplan(
        &moto,
        &root,
        &["drift", "-e", "prod", "--format", "markdown"],
    );
    assert_eq!(drift_md.status.code(), Some(2), "{}", explain(&drift_md));
    insta::assert_snapshot!("drift_markdown_after_three_edits", stdout(&drift_md));
    let drift_json = drplan(&moto, &root, &["drift", "-e", "prod", "--format", "json"]);
    assert_eq!(
        drift_json.status.code(),
        Some(2),
        "{}",
        explain(&drift_json)
    );
    let report: Value =
        serde_json::from_slice(&drift_json.stdout).expect("drift --format json parses");
    assert_eq!(
        report["summary"],
        serde_json::json!({"drifted": 3, "missing": 0, "orphaned": 0, "conflicts": 0})
    );
    let differences: BTreeMap<&str, Vec<(&str, &Value, &Value)>> = report["drifted"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| {
            let differences = item["differences"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|d| (d["path"].as_str().unwrap_or(""), &d["live"], &d["desired"]))
                .collect();
            (item["address"].as_str().unwrap_or(""), differences)
        })
        .collect();
    assert_eq!(differences.len(), 3, "{report:#}");
    let group = &differences["cluster.primary.node_group.general"];
    assert_eq!(group, &[("desired_size", &Value::from(3), &Value::from(2))]);
    let record = &differences["dns.api.target.dr"];
    assert_eq!(record.len(), 1);
    assert_eq!(record[0].0, "records[0]");
    assert_eq!(
        record[0].1,
        &Value::from("shop-api-old.us-east-1.elb.amazonaws.com")
    );
    let lifecycle = &differences["bucket.backups"];
    assert_eq!(
        lifecycle,
        &[(
            "lifecycle_rules[0].expiration_days",
            &Value::from(45),
            &Value::from(30)
        )]
    );
}

/// A change deep inside a list (one lifecycle rule's expiration) must be readable in
/// the text and markdown reports, as it is in the plan (`~ expiration_days = 45 -> 30`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_text_names_the_value_that_changed_inside_a_list() {
    let (moto, project, _created, _clusters) = matching_cloud().await;
    let bucket = resource(&project, "bucket.backups");
    outofband::set_lifecycle_expiration(&moto, bucket, "drplan-backup-orders_db", 45)
        .await
        .expect("edit lifecycle");
    for format in ["text", "markdown"] {
        let drift = drplan(
            &moto,
            &repo_root(),
            &["drift", "-e", "prod", "--format", format],
        );
        assert_eq!(drift.status.code(), Some(2), "{}", explain(&drift));
        let report = stdout(&drift);
        assert!(
            report.contains("expiration_days") && report.contains("45") && report.contains("30"),
            "{format}:\n{report}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_marked_bucket_gone_from_the_spec_is_an_orphan_protected_from_destroy() {
    let (moto, project, _created, _clusters) = matching_cloud().await;
    let mut orphan = resource(&project, "bucket.backups").clone();
    orphan.address = drplan_core::address::Address::new("bucket.old_archive");
    orphan
        .attrs
        .insert("name".into(), Value::from("shop-prod-old-archive"));
    orphan.attrs.insert("replication".into(), Value::Null);
    outofband::create_all(
        &moto,
        &project.environment.stack,
        std::slice::from_ref(&orphan),
    )
    .await
    .expect("create the orphan");

    // Marked for another stack: not ours, never an orphan of this one.
    let mut foreign = orphan.clone();
    foreign
        .attrs
        .insert("name".into(), Value::from("someone-elses-archive"));
    outofband::create_all(&moto, "other-stack", std::slice::from_ref(&foreign))
        .await
        .expect("create the foreign bucket");

    let root = repo_root();
    let plan = drplan(&moto, &root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_eq!(
        plan.status.code(),
        Some(1),
        "a protected destroy makes the plan an error: {}",
        explain(&plan)
    );
    let text = stdout(&plan);
    assert!(
        text.contains("  - bucket.old_archive (aws_s3_bucket) will be destroyed\n"),
        "{text}"
    );
    assert!(
        text.contains("Plan: 0 to add, 0 to change, 1 to destroy."),
        "{text}"
    );
    assert!(
        text.contains("help: pass --allow-destroy bucket.old_archive to allow it"),
        "{text}"
    );
    assert!(!text.contains("someone-elses-archive"), "{text}");

    let allowed = drplan(
        &moto,
        &root,
        &[
            "plan",
            "-e",
            "prod",
            "--detailed-exitcode",
            "--allow-destroy",
            "bucket.old_archive",
        ],
    );
    assert_eq!(allowed.status.code(), Some(2), "{}", explain(&allowed));
    assert!(
        !stdout(&allowed).contains("--allow-destroy"),
        "{}",
        stdout(&allowed)
    );

    let drift = drplan(&moto, &root, &["drift", "-e", "prod"]);
    assert_eq!(drift.status.code(), Some(2), "{}", explain(&drift));
    insta::assert_snapshot!("drift_text_orphan", stdout(&drift));
    let drift_json = drplan(&moto, &root, &["drift", "-e", "prod", "--format", "json"]);
    assert_eq!(
        drift_json.status.code(),
        Some(2),
        "{}",
        explain(&drift_json)
    );
    let report: Value =
        serde_json::from_slice(&drift_json.stdout).expect("drift --format json parses");
    assert_eq!(
        report["summary"],
        serde_json::json!({"drifted": 0, "missing": 0, "orphaned": 1, "conflicts": 1})
    );
    assert_eq!(report["orphaned"][0]["address"], "bucket.old_archive");
    assert_eq!(report["orphaned"][0]["live_id"], "shop-prod-old-archive");
    let drift_md = drplan(
        &moto,
        &root,
        &["drift", "-e", "prod", "--format", "markdown"],
    );
    assert_eq!(drift_md.status.code(), Some(2), "{}", explain(&drift_md));
    assert!(
        stdout(&drift_md).contains("`bucket.old_archive`"),
        "{}",
        stdout(&drift_md)
    );
}
