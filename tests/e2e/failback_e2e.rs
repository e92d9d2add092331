//! Failback order end to end: the root project applied as prod, failed over with
//! `apply -e prod-dr`, then failed back with `apply -e prod`, against moto and one
//! test API server per cluster. Apply's progress lines (stderr) show the order: the
//! DR backups start after DR's restore; in the failback, the primary's restore of
//! DR's data completes before DNS flips back, and DR scales down only after the flip.
//! Then `plan -e prod --detailed-exitcode` exits 0: the failback's restore Job is its
//! record, not drift.

use crate::support::cli::{drplan, explain, stdout};
use crate::support::clusters::Clusters;
use crate::support::moto::MotoServer;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn assert_exit(out: &Output, code: i32, what: &str) {
    assert_eq!(out.status.code(), Some(code), "{what}\n{}", explain(out));
}

/// Moto with the lock bucket, and the two clusters' API servers.
async fn world(root: &Path) -> (MotoServer, Clusters) {
    let project = drplan_core::spec::load_project(root, "prod")
        .unwrap_or_else(|d| panic!("{}", d.render(false, 100)));
    let lock = project
        .environment
        .lock
        .clone()
        .expect("the environment names a lock bucket");
    let moto = MotoServer::start();
    moto.s3(&lock.region)
        .create_bucket()
        .bucket(&lock.bucket)
        .send()
        .await
        .expect("create the lock bucket");
    let stack = project.environment.stack.clone();
    let clusters = Clusters::start(&[&format!("{stack}-primary"), &format!("{stack}-dr")]).await;
    moto.add_cli_env(clusters.env());
    (moto, clusters)
}

/// The index of the first progress line that starts with `address: ` and holds `what`.
fn line(stderr: &str, address: &str, what: &str) -> usize {
    stderr
        .lines()
        .position(|l| l.starts_with(&format!("{address}: ")) && l.contains(what))
        .unwrap_or_else(|| panic!("no `{address}: ...{what}` line in:\n{stderr}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failback_restores_dr_data_then_flips_dns_then_scales_dr_down() {
    let root = repo_root();
    let (moto, clusters) = world(&root).await;
    assert_exit(
        &drplan(&moto, &root, &["apply", "-e", "prod", "--auto-approve"]),
        0,
        "apply -e prod",
    );

    // DR activation: the plan says the DR backups wait for the restore, and apply
    // starts them only once the restore Job has completed.
    let out = drplan(&moto, &root, &["plan", "-e", "prod-dr", "--json"]);
    let plan: Value =
        serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{e}\n{}", explain(&out)));
    let restore = "backup.orders_db.placement.dr.job.restore";
    for cronjob in [
        "backup.orders_db.placement.dr.cronjob.full",
        "backup.orders_db.placement.dr.cronjob.incremental",
    ] {
        let change = plan["resource_changes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["address"] == cronjob)
            .expect(cronjob);
        let deps = change["depends_on"].as_array().cloned().unwrap_or_default();
        assert!(
            deps.iter().any(|d| d == restore),
            "{cronjob} depends on {deps:?}"
        );
    }
    let out = drplan(&moto, &root, &["apply", "-e", "prod-dr", "--auto-approve"]);
    assert_exit(&out, 0, "apply -e prod-dr");
    let activation = String::from_utf8_lossy(&out.stderr).into_owned();
    let restored = line(&activation, restore, "Creation complete");
    assert!(
        restored
            < line(
                &activation,
                "backup.orders_db.placement.dr.cronjob.full",
                "Creating"
            ),
        "{activation}"
    );
    assert!(
        restored
            < line(
                &activation,
                "backup.orders_db.placement.dr.cronjob.incremental",
                "Creating"
            ),
        "{activation}"
    );

    // The failback plan shows its order.
    let out = drplan(&moto, &root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(&out, 2, "plan -e prod (failback)");
    let text = stdout(&out);
    assert!(
        text.contains("backup.orders_db.placement.primary.job.failback"),
        "{text}"
    );
    assert!(
        text.contains("# starts after: dns.api.target.dr, dns.api.target.primary"),
        "{text}"
    );

    let out = drplan(&moto, &root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_exit(&out, 0, "apply -e prod (failback)");
    let failback = String::from_utf8_lossy(&out.stderr).into_owned();
    let data_back = line(
        &failback,
        "backup.orders_db.placement.primary.job.failback",
        "Creation complete",
    );
    let flips: Vec<usize> = ["dns.api.target.primary", "dns.api.target.dr"]
        .iter()
        .map(|a| line(&failback, a, "Modifying"))
        .collect();
    let flipped = ["dns.api.target.primary", "dns.api.target.dr"]
        .iter()
        .map(|a| line(&failback, a, "Modifications complete"))
        .max()
        .unwrap_or_default();
    for flip in &flips {
        assert!(
            data_back < *flip,
            "DNS flipped back before the primary's restore completed:\n{failback}"
        );
    }
    for cronjob in [
        "backup.orders_db.placement.primary.cronjob.full",
        "backup.orders_db.placement.primary.cronjob.incremental",
    ] {
        assert!(
            data_back < line(&failback, cronjob, "Creating"),
            "{cronjob} started before the restore:\n{failback}"
        );
    }
    for (address, what) in [
        ("cluster.dr.node_group.general", "Modifying"),
        (restore, "Destroying"),
        ("backup.orders_db.placement.dr.cronjob.full", "Destroying"),
    ] {
        assert!(
            flipped < line(&failback, address, what),
            "{address} scaled down before the DNS flip:\n{failback}"
        );
    }

    // The primary's restore read the bucket DR's backups went to.
    let job = clusters.servers[0]
        .objects()
        .into_iter()
        .find(|o| o["kind"] == "Job" && o["metadata"]["name"] == "orders-db-failback-restore")
        .expect("the failback restore Job is in the primary cluster");
    let fetch = job
        .pointer("/spec/template/spec/initContainers/0/env")
        .map(Value::to_string)
        .unwrap_or_default();
    assert!(
        fetch.contains("s3://shop-prod-backups-us-east-1/orders-db/full/"),
        "{fetch}"
    );
    assert!(
        !clusters.servers[1]
            .objects()
            .iter()
            .any(|o| o["metadata"]["name"] == "orders-db-restore"),
        "DR's restore Job is gone"
    );

    let out = drplan(&moto, &root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(&out, 0, "plan -e prod after the failback");
}
