//! What a new user hits first (issue 16), end to end against moto: each test is headed
//! by the symptom it guards against.

use crate::support::cli::{drplan, explain, stdout};
use crate::support::moto::MotoServer;
use std::path::Path;

const SITES: &str = r#"
site "primary" {
  region = "us-west-2"
}

site "dr" {
  region = "us-east-1"
  role   = "dr"
}
"#;

const ENV: &str = r#"
stack      = "duo"
account_id = "123456789012"

lock {
  bucket = "duo-drplan-locks"
  region = "us-east-1"
}
"#;

/// A project of `spec` (after the two sites) and the `prod` environment, in `dir`.
fn project(dir: &Path, spec: &str) {
    for (path, text) in [
        ("specs/main.hcl", format!("{SITES}{spec}")),
        ("environments/prod.hcl", ENV.to_string()),
    ] {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }
}

async fn moto_with_lock() -> MotoServer {
    let moto = MotoServer::start();
    moto.s3("us-east-1")
        .create_bucket()
        .bucket("duo-drplan-locks")
        .send()
        .await
        .expect("create the lock bucket");
    moto
}

const TWO_WAY: &str = r#"
bucket "east" {
  site = site.primary
  name = "duo-east"
  replication {
    role_arn    = "arn:aws:iam::123456789012:role/s3-replication"
    destination = bucket.west
  }
}

bucket "west" {
  site = site.dr
  name = "duo-west"
  replication {
    role_arn    = "arn:aws:iam::123456789012:role/s3-replication"
    destination = bucket.east
  }
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_way_replication_is_no_longer_rejected_as_a_reference_cycle() {
    let dir = tempfile::tempdir().expect("tempdir");
    project(dir.path(), TWO_WAY);
    let moto = moto_with_lock().await;

    let out = drplan(&moto, dir.path(), &["validate", "-e", "prod"]);
    assert_eq!(out.status.code(), Some(0), "validate\n{}", explain(&out));
    let out = drplan(
        &moto,
        dir.path(),
        &["apply", "-e", "prod", "--auto-approve"],
    );
    assert_eq!(out.status.code(), Some(0), "apply\n{}", explain(&out));

    // Each bucket replicates to the other, as read back from S3.
    for (bucket, region, dest) in [
        ("duo-east", "us-west-2", "arn:aws:s3:::duo-west"),
        ("duo-west", "us-east-1", "arn:aws:s3:::duo-east"),
    ] {
        let got = moto
            .s3(region)
            .get_bucket_replication()
            .bucket(bucket)
            .send()
            .await
            .unwrap_or_else(|e| panic!("replication of {bucket}: {e:?}"));
        let rules = got
            .replication_configuration()
            .map(|c| c.rules().to_vec())
            .unwrap_or_default();
        let dests: Vec<&str> = rules
            .iter()
            .filter_map(|r| r.destination().map(|d| d.bucket()))
            .collect();
        assert_eq!(dests, [dest], "{bucket}");
    }

    // Converged: the next plan has nothing to do.
    let out = drplan(
        &moto,
        dir.path(),
        &["plan", "-e", "prod", "--detailed-exitcode"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "plan after apply\n{}",
        explain(&out)
    );
    assert!(stdout(&out).contains("No changes"), "{}", explain(&out));
}

const KEEP_AND_OTHER: &str = r#"
bucket "keep" {
  site = site.primary
  name = "duo-keep"
  tags = { team = "data" }
}

bucket "other" {
  site = site.dr
  name = "duo-other"
  TAGS
}
"#;

async fn bucket_tags(moto: &MotoServer, region: &str, bucket: &str) -> Vec<(String, String)> {
    let out = moto
        .s3(region)
        .get_bucket_tagging()
        .bucket(bucket)
        .send()
        .await
        .unwrap_or_else(|e| panic!("tags of {bucket}: {e:?}"));
    let mut tags: Vec<(String, String)> = out
        .tag_set()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect();
    tags.sort();
    tags
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_protected_orphan_no_longer_blocks_every_other_change_and_a_removed_block_keeps_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    project(dir.path(), &KEEP_AND_OTHER.replace("TAGS", ""));
    let moto = moto_with_lock().await;
    let out = drplan(
        &moto,
        dir.path(),
        &["apply", "-e", "prod", "--auto-approve"],
    );
    assert_eq!(out.status.code(), Some(0), "first apply\n{}", explain(&out));

    // bucket.keep leaves the spec (a protected orphan) while bucket.other gains a tag.
    let spec = KEEP_AND_OTHER.replace("TAGS", "tags = { team = \"ops\" }");
    let other_only = &spec[spec.find("bucket \"other\"").expect("other")..];
    project(dir.path(), other_only);
    let out = drplan(&moto, dir.path(), &["plan", "-e", "prod"]);
    assert_eq!(out.status.code(), Some(1), "plan\n{}", explain(&out));
    assert!(
        stdout(&out).contains(
            "apply holds this change and what depends on it, and makes the other changes"
        ),
        "{}",
        explain(&out)
    );
    let out = drplan(
        &moto,
        dir.path(),
        &["apply", "-e", "prod", "--auto-approve"],
    );
    assert_eq!(out.status.code(), Some(1), "apply\n{}", explain(&out));
    assert!(
        stdout(&out).contains("1 change(s) failed") && stdout(&out).contains("1 changed"),
        "{}",
        explain(&out)
    );
    assert!(
        crate::support::cli::stderr(&out).contains("held, not applied"),
        "{}",
        explain(&out)
    );
    // The other change was made; the orphan is untouched.
    assert!(bucket_tags(&moto, "us-east-1", "duo-other")
        .await
        .contains(&("team".to_string(), "ops".to_string())));
    assert!(bucket_tags(&moto, "us-west-2", "duo-keep")
        .await
        .contains(&("drplan:address".to_string(), "bucket.keep".to_string())));

    // A removed block keeps the object and drops drplan's marks.
    let removed = format!(
        "{other_only}\nremoved {{\n  from = bucket.keep\n  lifecycle {{\n    destroy = false\n  }}\n}}\n"
    );
    project(dir.path(), &removed);
    let out = drplan(
        &moto,
        dir.path(),
        &["plan", "-e", "prod", "--detailed-exitcode"],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "plan with removed\n{}",
        explain(&out)
    );
    let text = stdout(&out);
    assert!(
        text.contains("bucket.keep (aws_s3_bucket) will no longer be managed by drplan")
            && text.contains("0 to destroy, 1 to forget."),
        "{}",
        explain(&out)
    );
    let out = drplan(
        &moto,
        dir.path(),
        &["apply", "-e", "prod", "--auto-approve"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "apply with removed\n{}",
        explain(&out)
    );
    assert!(stdout(&out).contains("1 forgotten"), "{}", explain(&out));
    assert_eq!(
        bucket_tags(&moto, "us-west-2", "duo-keep").await,
        [("team".to_string(), "data".to_string())],
        "the marks are gone, the user's tag stays"
    );
    let out = drplan(
        &moto,
        dir.path(),
        &["plan", "-e", "prod", "--detailed-exitcode"],
    );
    assert_eq!(out.status.code(), Some(0), "plan after\n{}", explain(&out));
}
