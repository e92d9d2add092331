//! Issue 17, security basics and immutable copies: a vault bucket with its public
//! access block on and S3 Object Lock's default retention, applied to moto and read
//! back through the SDK; the next plan exits 0; a public access block deleted by hand
//! is drift, and apply puts it back.

use crate::support::cli::{drplan, explain, stdout};
use crate::support::files::write_project;
use crate::support::moto::MotoServer;
use crate::support::outofband;

const SPEC: &str = r#"
site "primary" {
  region = "us-west-2"
}

site "vault" {
  region = "us-east-1"
  role   = "dr"
}

bucket "vault" {
  site                = site.vault
  name                = "lanka-backup-vault"
  block_public_access = true

  object_lock {
    mode      = "COMPLIANCE"
    retention = "7y"
  }
}

bucket "scratch" {
  site = site.primary
  name = "lanka-scratch"
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vault_bucket_is_locked_and_private_and_drift_in_it_is_reverted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write_project(
        root,
        SPEC,
        "stack      = \"vault\"\naccount_id = \"123456789012\"\n",
    );
    let moto = MotoServer::start();

    let out = drplan(&moto, root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));

    let s3 = moto.s3("us-east-1");
    assert!(outofband::public_access_blocked(&s3, "lanka-backup-vault").await);
    let lock = s3
        .get_object_lock_configuration()
        .bucket("lanka-backup-vault")
        .send()
        .await
        .expect("GetObjectLockConfiguration");
    let config = lock
        .object_lock_configuration()
        .expect("lock configuration");
    assert_eq!(
        config.object_lock_enabled().map(|e| e.as_str()),
        Some("Enabled")
    );
    let retention = config
        .rule()
        .and_then(|r| r.default_retention())
        .expect("default retention");
    assert_eq!(retention.mode().map(|m| m.as_str()), Some("COMPLIANCE"));
    assert_eq!(retention.days(), Some(2555));
    // A bucket that does not say is left without either.
    let scratch = moto
        .s3("us-west-2")
        .get_public_access_block()
        .bucket("lanka-scratch")
        .send()
        .await;
    assert!(scratch.is_err(), "{scratch:?}");

    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));

    // Someone makes the vault public again.
    s3.delete_public_access_block()
        .bucket("lanka-backup-vault")
        .send()
        .await
        .expect("DeletePublicAccessBlock");
    let out = drplan(&moto, root, &["drift", "-e", "prod"]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(
        stdout(&out).contains("public_access_block"),
        "{}",
        stdout(&out)
    );
    let out = drplan(&moto, root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    s3.get_public_access_block()
        .bucket("lanka-backup-vault")
        .send()
        .await
        .expect("the public access block is back");
    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
}

/// Issue 17, KMS-encrypted backups replicated: a replication rule with the DR region's
/// key. Applied to moto and read back through the SDK (the replica key in the rule's
/// destination, SSE-KMS objects selected); the next plan exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kms_encrypted_backups_replicate_with_the_dr_regions_key() {
    const DR_KEY: &str =
        "arn:aws:kms:us-east-1:123456789012:key/7c0a2f1e-5b3d-4e6f-8a9b-0c1d2e3f4a5b";
    let spec = format!(
        r#"
site "primary" {{
  region = "us-west-2"
}}

site "dr" {{
  region = "us-east-1"
  role   = "dr"
}}

bucket "backups" {{
  site = site.primary
  name = "kms-backups-primary"
  encryption {{
    algorithm  = "aws:kms"
    kms_key_id = "alias/backups"
  }}
  replication {{
    role_arn           = "arn:aws:iam::123456789012:role/s3-replication"
    destination        = bucket.backups_dr
    replica_kms_key_id = "{DR_KEY}"
  }}
}}

bucket "backups_dr" {{
  site = site.dr
  name = "kms-backups-dr"
  encryption {{
    algorithm  = "aws:kms"
    kms_key_id = "alias/backups"
  }}
}}
"#
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write_project(
        root,
        &spec,
        "stack = \"kms\"\naccount_id = \"123456789012\"\n",
    );
    let moto = MotoServer::start();

    let out = drplan(&moto, root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let got = moto
        .s3("us-west-2")
        .get_bucket_replication()
        .bucket("kms-backups-primary")
        .send()
        .await
        .expect("GetBucketReplication");
    let rule = got
        .replication_configuration()
        .and_then(|c| c.rules().first())
        .expect("a replication rule");
    let key = rule
        .destination()
        .and_then(|d| d.encryption_configuration())
        .and_then(|e| e.replica_kms_key_id());
    assert_eq!(key, Some(DR_KEY), "{rule:?}");

    let again = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_eq!(again.status.code(), Some(0), "{}", explain(&again));
    assert!(
        stdout(&again).starts_with("No changes."),
        "{}",
        stdout(&again)
    );
}

/// Issue 17, access logging: a backup bucket's server access logs delivered to a log
/// bucket of its site. Apply puts the logging and, on the log bucket, the policy
/// statement the S3 logging service needs (moto, like S3, refuses the logging without
/// it); both read back through the SDK; the next plan exits 0. Logging turned off by
/// hand and the statement removed by hand are drift, reverted by apply — and a
/// statement of the user's own in the same policy is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_logs_reach_the_log_bucket_and_drift_in_them_is_reverted() {
    const SPEC: &str = r#"
site "primary" {
  region = "us-west-2"
}

bucket "logs" {
  site = site.primary
  name = "shop-access-logs"
  encryption {
    algorithm = "AES256"
  }
}

bucket "backups" {
  site                = site.primary
  name                = "shop-backups"
  block_public_access = true
  logging {
    target = bucket.logs
    prefix = "s3/shop-backups/"
  }
}
"#;
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write_project(
        root,
        SPEC,
        "stack      = \"shop\"\naccount_id = \"123456789012\"\n",
    );
    let moto = MotoServer::start();
    let out = drplan(&moto, root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));

    let s3 = moto.s3("us-west-2");
    let logging = |s3: aws_sdk_s3::Client| async move {
        s3.get_bucket_logging()
            .bucket("shop-backups")
            .send()
            .await
            .expect("GetBucketLogging")
            .logging_enabled()
            .map(|l| (l.target_bucket().to_string(), l.target_prefix().to_string()))
    };
    assert_eq!(
        logging(s3.clone()).await,
        Some(("shop-access-logs".into(), "s3/shop-backups/".into()))
    );
    let policy = |s3: aws_sdk_s3::Client| async move {
        let text = s3
            .get_bucket_policy()
            .bucket("shop-access-logs")
            .send()
            .await
            .expect("GetBucketPolicy")
            .policy()
            .unwrap_or_default()
            .to_string();
        serde_json::from_str::<serde_json::Value>(&text).expect("policy JSON")
    };
    let statement = policy(s3.clone()).await["Statement"][0].clone();
    assert_eq!(statement["Sid"], "drplan-access-logs");
    assert_eq!(
        statement["Principal"]["Service"],
        "logging.s3.amazonaws.com"
    );
    assert_eq!(
        statement["Condition"]["ArnLike"]["aws:SourceArn"],
        serde_json::json!(["arn:aws:s3:::shop-backups"])
    );
    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));

    // Someone turns the logging off, and replaces the log bucket's policy with a
    // statement of their own.
    s3.put_bucket_logging()
        .bucket("shop-backups")
        .bucket_logging_status(aws_sdk_s3::types::BucketLoggingStatus::builder().build())
        .send()
        .await
        .expect("PutBucketLogging (off)");
    let own = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            // {"AWS": "*"} is "*" for IAM; moto's logging check fails with a 500
            // on a statement whose Principal is the bare string.
            "Principal": {"AWS": "*"},
            "Action": "s3:*",
            "Resource": "arn:aws:s3:::shop-access-logs/*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }],
    });
    s3.put_bucket_policy()
        .bucket("shop-access-logs")
        .policy(own.to_string())
        .send()
        .await
        .expect("PutBucketPolicy (the user's own)");
    let out = drplan(&moto, root, &["drift", "-e", "prod"]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    let text = stdout(&out);
    assert!(text.contains("logging"), "{text}");
    assert!(text.contains("log_delivery"), "{text}");

    let out = drplan(&moto, root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    assert_eq!(
        logging(s3.clone()).await,
        Some(("shop-access-logs".into(), "s3/shop-backups/".into()))
    );
    let sids: Vec<String> = policy(s3.clone()).await["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["Sid"].as_str().map(str::to_string))
        .collect();
    assert_eq!(sids, ["DenyInsecureTransport", "drplan-access-logs"]);
    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
}
