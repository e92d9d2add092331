//! `drplan bootstrap`: a fresh account goes from nothing to a first apply with no
//! bucket created by hand (issue 16: the first apply failed with NoSuchBucket).

use crate::support::cli::{drplan, explain};
use crate::support::clusters::Clusters;
use crate::support::files::copy_dir;
use crate::support::moto::MotoServer;
use aws_sdk_s3::types::{BucketVersioningStatus, ServerSideEncryption};
use std::path::PathBuf;

/// The root project (specs, environments, manifests) in `to`.
fn copy_project(to: &std::path::Path) {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for sub in ["specs", "environments", "k8s"] {
        copy_dir(&repo.join(sub), &to.join(sub));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_apply_no_longer_fails_with_no_such_bucket_after_bootstrap() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_project(dir.path());
    let root = dir.path();
    let moto = MotoServer::start();
    let clusters = Clusters::start(&["shop-primary", "shop-dr"]).await;
    moto.add_cli_env(clusters.env());

    for round in ["creates", "is idempotent"] {
        let out = drplan(&moto, root, &["bootstrap", "-e", "prod"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "bootstrap {round}\n{}",
            explain(&out)
        );
    }
    let s3 = moto.s3("us-east-1");
    let versioning = s3
        .get_bucket_versioning()
        .bucket("shop-drplan-locks")
        .send()
        .await
        .expect("versioning");
    assert_eq!(versioning.status(), Some(&BucketVersioningStatus::Enabled));
    let enc = s3
        .get_bucket_encryption()
        .bucket("shop-drplan-locks")
        .send()
        .await
        .expect("encryption");
    let algo = enc
        .server_side_encryption_configuration()
        .and_then(|c| c.rules().first())
        .and_then(|r| r.apply_server_side_encryption_by_default())
        .map(|d| d.sse_algorithm().clone());
    assert_eq!(algo, Some(ServerSideEncryption::Aes256));
    assert!(
        crate::support::outofband::public_access_blocked(&s3, "shop-drplan-locks").await,
        "the lock bucket's public access block is not all on"
    );

    let out = drplan(&moto, root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(0), "first apply\n{}", explain(&out));
    // The lock bucket is drplan's own, not a managed object: the next plan is clean.
    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "plan after apply\n{}",
        explain(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_in_the_wrong_account_creates_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_project(dir.path());
    let env = dir.path().join("environments/prod.hcl");
    let text = std::fs::read_to_string(&env)
        .expect("env")
        .replace("123456789012", "210987654321");
    std::fs::write(&env, text).expect("write env");
    let moto = MotoServer::start();
    let out = drplan(&moto, dir.path(), &["bootstrap", "-e", "prod"]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    let buckets = moto
        .s3("us-east-1")
        .list_buckets()
        .send()
        .await
        .expect("ListBuckets");
    assert!(buckets.buckets().is_empty(), "{:?}", buckets.buckets());
}

/// Issue 16: a first apply before `drplan bootstrap` failed on the lock with S3's
/// NoSuchBucket alone; it names the command that creates the bucket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_before_bootstrap_names_drplan_bootstrap() {
    let moto = MotoServer::start();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = drplan(&moto, &root, &["apply", "-e", "prod", "--auto-approve"]);
    let text = explain(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("drplan bootstrap -e ENV"), "{text}");
    assert!(
        text.contains("NoSuchBucket") || text.contains("does not exist"),
        "{text}"
    );
}
