//! Recovery objectives against the live cloud (issue 12), through the real binary.

use crate::secrets_e2e::world;
use crate::support::cli::{drplan, explain, stdout};
use crate::support::files::copy_dir;
use std::path::PathBuf;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A copy of the root project applied to an empty moto and its two clusters.
pub(crate) async fn applied_root_project() -> (
    tempfile::TempDir,
    crate::support::moto::MotoServer,
    crate::support::clusters::Clusters,
) {
    let dir = tempfile::tempdir().expect("tempdir");
    for sub in ["environments", "specs", "k8s"] {
        copy_dir(&repo_root().join(sub), &dir.path().join(sub));
    }
    let (moto, clusters) = world().await;
    let out = drplan(
        &moto,
        dir.path(),
        &["apply", "-e", "prod", "--auto-approve"],
    );
    assert_eq!(out.status.code(), Some(0), "first apply\n{}", explain(&out));
    (dir, moto, clusters)
}

/// Drift exited 2 on a breach when there was drift too, contrary to the docs and the
/// CI example: a breach outranks drift (3), and `--allow-objective-breach` downgrades.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_with_a_breached_rpo_exits_3_not_2() {
    let (dir, moto, _clusters) = applied_root_project().await;
    let root = dir.path();

    // Backups every 6 hours under a 1h RPO: the CronJob drifts and the RPO breaks.
    let storage = root.join("specs/storage.hcl");
    let text = std::fs::read_to_string(&storage).expect("read storage.hcl");
    std::fs::write(
        &storage,
        text.replace(
            "incremental { schedule = \"0 * * * *\" }",
            "incremental { schedule = \"0 */6 * * *\" }",
        ),
    )
    .expect("write storage.hcl");

    let out = drplan(&moto, root, &["drift", "-e", "prod"]);
    assert_eq!(out.status.code(), Some(3), "{}", explain(&out));
    let text = stdout(&out);
    assert!(text.contains("longest gap 6h > RPO 1h"), "{text}");
    assert!(
        text.contains("orders-db-backup-incremental") || text.contains("cronjob.incremental"),
        "the drift is reported too:\n{text}"
    );

    let out = drplan(
        &moto,
        root,
        &["drift", "-e", "prod", "--format", "markdown"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", explain(&out));
    let md = stdout(&out);
    assert!(md.contains("### Objectives"), "{md}");
    assert!(md.contains("| **FAIL** | rpo |"), "{md}");

    let out = drplan(
        &moto,
        root,
        &["drift", "-e", "prod", "--allow-objective-breach"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));

    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "plan follows the same precedence\n{}",
        explain(&out)
    );
}

pub(crate) async fn kube_client(
    server: &kube_testserver::TestServer,
    context: &str,
) -> kube::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let kubeconfig =
        kube::config::Kubeconfig::from_yaml(&server.kubeconfig_yaml(context)).expect("kubeconfig");
    let options = kube::config::KubeConfigOptions {
        context: Some(context.to_string()),
        ..Default::default()
    };
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .expect("config");
    kube::Client::try_from(config).expect("client")
}

fn assert_code(out: &std::process::Output, code: i32, what: &str) {
    assert_eq!(out.status.code(), Some(code), "{what}\n{}", explain(out));
}

/// Issue 12: what the verdicts rest on is read from the live cloud. A deleted backup
/// CronJob, a suspended one, suspended versioning and a removed replication rule each
/// breach (exit 3) naming the live cause; apply repairs each; the healthy case passes
/// and says its verdicts rest on the live cloud.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_backup_machinery_breaches_the_objectives_naming_the_live_cause() {
    use k8s_openapi::api::batch::v1::CronJob;
    use kube::api::{Api, DeleteParams, Patch, PatchParams};

    let (dir, moto, clusters) = applied_root_project().await;
    let root = dir.path();

    // Before any backup ran: no recovery point anywhere is a warning, not a breach.
    let out = drplan(&moto, root, &["drift", "-e", "prod"]);
    assert_code(&out, 0, "drift before the first backup");
    assert!(
        stdout(&out)
            .contains("no full backup recorded in source bucket shop-prod-backups-us-west-2"),
        "{}",
        explain(&out)
    );

    // Healthy: the backups ran (written here through S3 as a finished backup Job and
    // S3 replication would), and the verdicts rest on the live cloud.
    let now = chrono::Utc::now();
    for (region, bucket) in PRIMARY_AND_DR {
        for kind in ["full", "incremental"] {
            put_recovery_point(
                &moto,
                region,
                bucket,
                kind,
                now - chrono::TimeDelta::minutes(5),
            )
            .await;
        }
    }
    let out = drplan(&moto, root, &["drift", "-e", "prod", "--format", "json"]);
    assert_code(&out, 0, "drift of the healthy stack");
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    let checks = json["objectives"]["checks"]
        .as_array()
        .expect("checks")
        .clone();
    let rpo = checks
        .iter()
        .find(|c| c["name"] == "rpo")
        .expect("an rpo check");
    assert_eq!(rpo["basis"], "live", "{rpo}");
    assert_eq!(rpo["verdict"], "pass", "{rpo}");
    assert!(
        rpo["details"]
            .to_string()
            .contains("CronJob orders-db-backup-incremental runs \\\"0 * * * *\\\" as written"),
        "{rpo}"
    );
    let details = rpo["details"].to_string();
    assert!(
        details.contains("newest full backup in source bucket shop-prod-backups-us-west-2 (primary, us-west-2) is 5m"),
        "{rpo}"
    );
    assert!(
        details.contains("newest full backup in DR copy bucket shop-prod-backups-us-east-1 (dr, us-east-1) is 5m"),
        "{rpo}"
    );
    assert!(details.contains("replays no incrementals"), "{rpo}");
    let points = json["objectives"]["recovery_points"]
        .as_array()
        .expect("recovery_points")
        .clone();
    assert_eq!(points.len(), 4, "{points:?}");
    for p in &points {
        assert_eq!(p["state"], "found", "{p}");
        let age = p["age_seconds"].as_u64().expect("age");
        assert!((300..400).contains(&age), "{p}");
    }

    let cronjobs: Api<CronJob> = Api::namespaced(
        kube_client(&clusters.servers[0], "shop-primary").await,
        "shop",
    );
    let cases: Vec<(&str, &str)> = vec![
        (
            "a deleted CronJob",
            "CronJob orders-db-backup-incremental is missing",
        ),
        (
            "a suspended CronJob",
            "CronJob orders-db-backup-full is suspended",
        ),
        (
            "suspended versioning",
            "versioning is suspended on bucket shop-prod-backups-us-west-2",
        ),
        (
            "a removed replication rule",
            "replication rule drplan-replication is missing on bucket shop-prod-backups-us-west-2",
        ),
    ];
    let s3 = moto.s3("us-west-2");
    for (what, cause) in cases {
        match what {
            "a deleted CronJob" => {
                cronjobs
                    .delete("orders-db-backup-incremental", &DeleteParams::default())
                    .await
                    .expect("delete the CronJob");
            }
            "a suspended CronJob" => {
                cronjobs
                    .patch(
                        "orders-db-backup-full",
                        &PatchParams::default(),
                        &Patch::Merge(serde_json::json!({"spec": {"suspend": true}})),
                    )
                    .await
                    .expect("suspend the CronJob");
            }
            "suspended versioning" => {
                s3.put_bucket_versioning()
                    .bucket("shop-prod-backups-us-west-2")
                    .versioning_configuration(
                        aws_sdk_s3::types::VersioningConfiguration::builder()
                            .status(aws_sdk_s3::types::BucketVersioningStatus::Suspended)
                            .build(),
                    )
                    .send()
                    .await
                    .expect("suspend versioning");
            }
            _ => {
                s3.delete_bucket_replication()
                    .bucket("shop-prod-backups-us-west-2")
                    .send()
                    .await
                    .expect("delete replication");
            }
        }
        let out = drplan(&moto, root, &["drift", "-e", "prod"]);
        assert_code(&out, 3, what);
        assert!(stdout(&out).contains(cause), "{what}: {}", explain(&out));
        let out = drplan(&moto, root, &["apply", "-e", "prod", "--auto-approve"]);
        assert_code(&out, 0, &format!("apply repairs {what}"));
        let out = drplan(&moto, root, &["drift", "-e", "prod"]);
        assert_code(&out, 0, &format!("in sync after repairing {what}"));
    }

    // The last backup Job failed (the CronJob's status, as the controller writes it:
    // scheduled 10 minutes ago, last success 70 minutes ago, nothing running). Apply
    // cannot repair that; the next successful run does.
    let at = |minutes: i64| {
        (now - chrono::TimeDelta::minutes(minutes))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let status = |scheduled: i64, succeeded: i64| {
        Patch::Merge(serde_json::json!({"status": {
            "lastScheduleTime": at(scheduled),
            "lastSuccessfulTime": at(succeeded),
        }}))
    };
    cronjobs
        .patch_status(
            "orders-db-backup-incremental",
            &PatchParams::default(),
            &status(10, 70),
        )
        .await
        .expect("write the CronJob's status");
    let out = drplan(&moto, root, &["drift", "-e", "prod"]);
    assert_code(&out, 3, "a failed last backup Job");
    let text = stdout(&out);
    assert!(
        text.contains("CronJob orders-db-backup-incremental: the last Job, scheduled at ")
            && text.contains("did not succeed (last success "),
        "{}",
        explain(&out)
    );
    cronjobs
        .patch_status(
            "orders-db-backup-incremental",
            &PatchParams::default(),
            &status(10, 8),
        )
        .await
        .expect("write the CronJob's status");
    let out = drplan(&moto, root, &["drift", "-e", "prod"]);
    assert_code(&out, 0, "the next run succeeded");

    // Replication stalled: the primary copy is fresh, the DR copy 3h old. A regional
    // failover would restore 3h-old data: a breach naming the copy and the lag.
    let (dr_region, dr_bucket) = PRIMARY_AND_DR[1];
    put_recovery_point(
        &moto,
        dr_region,
        dr_bucket,
        "full",
        now - chrono::TimeDelta::hours(3),
    )
    .await;
    let out = drplan(&moto, root, &["drift", "-e", "prod"]);
    assert_code(&out, 3, "a DR copy older than the RPO");
    let text = stdout(&out);
    assert!(
        text.contains("newest full backup in DR copy bucket shop-prod-backups-us-east-1 (dr, us-east-1) is 3h")
            && text.contains("behind the source")
            && text.contains("> RPO 1h"),
        "{}",
        explain(&out)
    );
    let out = drplan(&moto, root, &["drift", "-e", "prod", "--format", "json"]);
    assert_code(&out, 3, "the same, as JSON");
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    let copy = json["objectives"]["recovery_points"]
        .as_array()
        .expect("recovery_points")
        .iter()
        .find(|p| p["role"] == "copy" && p["kind"] == "full")
        .expect("the DR copy's full backup")
        .clone();
    let lag = copy["lag_seconds"].as_u64().expect("lag");
    assert!((3 * 3600 - 400..=3 * 3600).contains(&lag), "{copy}");
}

const PRIMARY_AND_DR: [(&str, &str); 2] = [
    ("us-west-2", "shop-prod-backups-us-west-2"),
    ("us-east-1", "shop-prod-backups-us-east-1"),
];

/// The recovery point a finished backup Job of `orders_db` writes (format 1).
async fn put_recovery_point(
    moto: &crate::support::moto::MotoServer,
    region: &str,
    bucket: &str,
    kind: &str,
    time: chrono::DateTime<chrono::Utc>,
) {
    let stamp = time.format("%Y%m%dT%H%M%SZ");
    let body = serde_json::json!({
        "format": 1,
        "time": time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "engine": "postgres",
        "kind": kind,
        "size_bytes": 1024,
        "sha256": "0".repeat(64),
        "source_site": "primary",
        "run": format!("s3://shop-prod-backups-us-west-2/orders-db/{kind}/{stamp}/"),
    });
    moto.s3(region)
        .put_object()
        .bucket(bucket)
        .key(format!("orders-db/recovery-points/{kind}.json"))
        .body(body.to_string().into_bytes().into())
        .send()
        .await
        .expect("put the recovery point");
}

/// What a failover needs and drplan does not manage, read from the cloud: a deleted
/// KMS alias in the DR region and a deleted IAM role each breach (exit 3) naming what
/// is missing, the fix and the spec location; the healthy case shows what was found.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dr_readiness_breaches_on_a_deleted_dr_key_alias_and_a_missing_role() {
    let (dir, moto, _clusters) = applied_root_project().await;
    let root = dir.path();

    let out = drplan(&moto, root, &["plan", "-e", "prod", "--json"]);
    assert_code(&out, 0, "plan of the applied root project");
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("plan JSON");
    let readiness = doc["objectives"]["readiness"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let seen: Vec<(String, String)> = readiness
        .iter()
        .map(|f| {
            (
                f["subject"].as_str().unwrap_or_default().to_string(),
                f["verdict"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    for subject in [
        "IAM role shop-eks-node (used by cluster.dr.node_group.general, cluster.primary.node_group.general)",
        "KMS key alias/shop-backups in us-east-1 (used by bucket.backups_dr)",
        "instance type m5.large in us-east-1 (used by cluster.dr.node_group.general)",
        "EKS cluster shop-prod-dr in us-east-1",
        "node group shop-prod-dr/general in us-east-1",
    ] {
        assert!(
            seen.contains(&(subject.to_string(), "pass".to_string())),
            "{subject} passes: {seen:#?}"
        );
    }

    // The DR region's alias is deleted: the DR copy could not be read after a failover.
    let kms = aws_sdk_kms::Client::new(&moto.sdk_config("us-east-1"));
    kms.delete_alias()
        .alias_name("alias/shop-backups")
        .send()
        .await
        .expect("DeleteAlias");
    let out = drplan(&moto, root, &["plan", "-e", "prod"]);
    assert_code(&out, 3, "plan with the DR key alias deleted");
    let text = stdout(&out);
    assert!(
        text.contains(
            "FAIL KMS key alias/shop-backups in us-east-1 (used by bucket.backups_dr): not found"
        ) && text.contains("aws kms create-alias --alias-name alias/shop-backups")
            && text.contains("(at specs/storage.hcl:"),
        "{text}"
    );
    assert!(text.contains("FAIL  dr_readiness"), "{text}");

    // A role the DR node group needs is gone too.
    let iam = aws_sdk_iam::Client::new(&moto.sdk_config("us-east-1"));
    iam.delete_role()
        .role_name("shop-eks-node")
        .send()
        .await
        .expect("DeleteRole");
    let out = drplan(&moto, root, &["drift", "-e", "prod"]);
    assert_code(&out, 3, "drift with the node role deleted");
    let text = stdout(&out);
    assert!(
        text.contains("FAIL IAM role shop-eks-node (used by cluster.dr.node_group.general")
            && text.contains("NoSuchEntity")
            && text.contains("(at specs/clusters.hcl:26:3)"),
        "{text}"
    );
    assert!(
        text.contains("failover to site dr: 2 of 9 prerequisites not ready"),
        "{text}"
    );

    // --allow-objective-breach still downgrades it.
    let out = drplan(
        &moto,
        root,
        &["drift", "-e", "prod", "--allow-objective-breach"],
    );
    assert_code(&out, 0, "drift with breaches allowed");
}
