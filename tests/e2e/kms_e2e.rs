//! Issue 17, KMS keys: a multi-region key in us-west-2 with its replica in us-east-1
//! and the same alias in both regions, used by a bucket in each site (their default
//! encryption) and by the replication between them (the replica key of the rule).
//! Applied to moto and read back through the SDK (DescribeKey's
//! MultiRegionConfiguration in both regions, the aliases, the rotation, the buckets'
//! key ARNs); the next plan exits 0; a replica disabled and its alias deleted by hand,
//! the rotation turned off, and a deletion scheduled by hand are drift that apply
//! reverts; a key removed from the spec is refused until --allow-destroy, and then
//! scheduled for deletion with its window, never deleted at once (and a bucket that
//! still names it by ARN fails the DR readiness check).
//!
//! moto implements every call used, with gaps drplan does not paper over: its
//! ReplicateKey made a shallow copy (the replica shared the primary's aliases, and
//! describing it turned the primary into a "REPLICA") and ignored `Tags`; the three are
//! patched in scripts/setup-test-env.sh (patch 4) to what KMS does. moto accepts any
//! string as a bucket's KMS key and any pending window, and keeps no key material
//! per replica, so whether S3 can really use the key is not exercised here.

use crate::support::cli::{drplan, explain, stderr, stdout};
use crate::support::moto::MotoServer;
use aws_sdk_kms::types::{KeyMetadata, KeyState, MultiRegionKeyType};
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

const KEY: &str = r#"
kms_key "backups" {
  site                 = site.primary
  multi_region         = true
  replicas             = [site.dr]
  alias                = "alias/kms-e2e-backups"
  description          = "backups, both regions"
  deletion_window_days = 14
  enable_key_rotation  = true
  tags                 = { data = "backups" }
}
"#;

/// A single-region key that stays in the spec throughout (so KMS is read when the
/// multi-region key's block is gone: drplan reads KMS where a spec declares a key).
const LOGS_KEY: &str = r#"
kms_key "logs" {
  site  = site.dr
  alias = "alias/kms-e2e-logs"
}
"#;

fn buckets(key: &str, replica_key: &str) -> String {
    format!(
        r#"
bucket "backups" {{
  site = site.primary
  name = "kms-e2e-backups-primary"
  encryption {{
    algorithm  = "aws:kms"
    kms_key_id = {key}
  }}
  replication {{
    role_arn           = "arn:aws:iam::123456789012:role/s3-replication"
    destination        = bucket.backups_dr
    replica_kms_key_id = {replica_key}
  }}
}}

bucket "backups_dr" {{
  site = site.dr
  name = "kms-e2e-backups-dr"
  encryption {{
    algorithm  = "aws:kms"
    kms_key_id = {key}
  }}
}}
"#
    )
}

fn project(root: &Path, spec: &str) {
    crate::support::files::write_project(
        root,
        spec,
        "stack      = \"keys\"\naccount_id = \"123456789012\"\n",
    );
}

fn assert_exit(out: &std::process::Output, code: i32, what: &str) {
    assert_eq!(out.status.code(), Some(code), "{what}\n{}", explain(out));
}

async fn describe(moto: &MotoServer, region: &str, key: &str) -> KeyMetadata {
    moto.kms(region)
        .describe_key()
        .key_id(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DescribeKey {key} in {region}: {e:?}"))
        .key_metadata
        .expect("key metadata")
}

/// The key id the alias points at in `region`, if the alias exists there.
async fn alias_target(moto: &MotoServer, region: &str, alias: &str) -> Option<String> {
    let out = moto
        .kms(region)
        .list_aliases()
        .send()
        .await
        .expect("ListAliases");
    out.aliases()
        .iter()
        .find(|a| a.alias_name() == Some(alias))
        .and_then(|a| a.target_key_id().map(str::to_string))
}

async fn tags(moto: &MotoServer, region: &str, key: &str) -> Vec<(String, String)> {
    let out = moto
        .kms(region)
        .list_resource_tags()
        .key_id(key)
        .send()
        .await
        .expect("ListResourceTags");
    out.tags()
        .iter()
        .map(|t| (t.tag_key().to_string(), t.tag_value().to_string()))
        .collect()
}

fn has_tag(tags: &[(String, String)], key: &str, value: &str) -> bool {
    tags.iter().any(|(k, v)| k == key && v == value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_region_key_is_replicated_to_the_dr_site_used_by_both_buckets_and_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let full = [
        SITES,
        KEY,
        LOGS_KEY,
        &buckets("kms_key.backups", "kms_key.backups"),
    ]
    .concat();
    project(root, &full);
    let moto = MotoServer::start();

    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(&out, 2, "plan");
    let text = stdout(&out);
    for line in [
        "+ kms_key.backups",
        "+ kms_key.backups.replica.dr",
        "aws_kms_replica_key",
        "+ bucket.backups",
    ] {
        assert!(text.contains(line), "{line} in:\n{text}");
    }

    let out = drplan(&moto, root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_exit(&out, 0, "apply");

    // Read back through the SDK, not through drplan: the alias in each region, and
    // the key it names there.
    let primary_id = alias_target(&moto, "us-west-2", "alias/kms-e2e-backups")
        .await
        .expect("the alias in us-west-2");
    let replica_id = alias_target(&moto, "us-east-1", "alias/kms-e2e-backups")
        .await
        .expect("the alias in us-east-1");
    assert!(primary_id.starts_with("mrk-"), "{primary_id}");
    assert_eq!(replica_id, primary_id, "one multi-region key id");
    let primary = describe(&moto, "us-west-2", "alias/kms-e2e-backups").await;
    let replica = describe(&moto, "us-east-1", "alias/kms-e2e-backups").await;
    let primary_arn = primary.arn().expect("arn").to_string();
    let replica_arn = replica.arn().expect("arn").to_string();
    assert!(primary_arn.contains(":us-west-2:"), "{primary_arn}");
    assert!(replica_arn.contains(":us-east-1:"), "{replica_arn}");
    assert_eq!(primary.multi_region(), Some(true));
    assert_eq!(primary.description(), Some("backups, both regions"));
    assert_eq!(primary.key_state(), Some(&KeyState::Enabled));
    let config = primary
        .multi_region_configuration()
        .expect("primary config");
    assert_eq!(
        config.multi_region_key_type(),
        Some(&MultiRegionKeyType::Primary)
    );
    assert!(
        config
            .replica_keys()
            .iter()
            .any(|r| r.region() == Some("us-east-1") && r.arn() == Some(replica_arn.as_str())),
        "{config:?}"
    );
    let config = replica
        .multi_region_configuration()
        .expect("replica config");
    assert_eq!(
        config.multi_region_key_type(),
        Some(&MultiRegionKeyType::Replica)
    );
    assert_eq!(
        config.primary_key().and_then(|p| p.arn()),
        Some(primary_arn.as_str())
    );
    let rotation = moto
        .kms("us-west-2")
        .get_key_rotation_status()
        .key_id(&primary_arn)
        .send()
        .await
        .expect("GetKeyRotationStatus");
    assert!(rotation.key_rotation_enabled());
    for (region, arn, address) in [
        ("us-west-2", &primary_arn, "kms_key.backups"),
        ("us-east-1", &replica_arn, "kms_key.backups.replica.dr"),
    ] {
        let t = tags(&moto, region, arn).await;
        assert!(has_tag(&t, "drplan:address", address), "{t:?}");
        assert!(has_tag(&t, "drplan:stack", "keys"), "{t:?}");
        assert!(has_tag(&t, "drplan:deletion-window-days", "14"), "{t:?}");
        assert!(has_tag(&t, "data", "backups"), "{t:?}");
    }
    // The single-region key: in its own region only.
    let logs = describe(&moto, "us-east-1", "alias/kms-e2e-logs").await;
    assert_eq!(logs.multi_region(), Some(false));
    assert!(alias_target(&moto, "us-west-2", "alias/kms-e2e-logs")
        .await
        .is_none());

    // Each bucket is encrypted with the key's copy in its own region, and the
    // replication rule re-encrypts with the replica.
    let bucket_key = |region: &'static str, bucket: &'static str| {
        let s3 = moto.s3(region);
        async move {
            let out = s3
                .get_bucket_encryption()
                .bucket(bucket)
                .send()
                .await
                .expect("GetBucketEncryption");
            out.server_side_encryption_configuration()
                .and_then(|c| c.rules().first())
                .and_then(|r| r.apply_server_side_encryption_by_default())
                .and_then(|d| d.kms_master_key_id())
                .map(str::to_string)
        }
    };
    assert_eq!(
        bucket_key("us-west-2", "kms-e2e-backups-primary").await,
        Some(primary_arn.clone())
    );
    assert_eq!(
        bucket_key("us-east-1", "kms-e2e-backups-dr").await,
        Some(replica_arn.clone())
    );
    let replication = moto
        .s3("us-west-2")
        .get_bucket_replication()
        .bucket("kms-e2e-backups-primary")
        .send()
        .await
        .expect("GetBucketReplication");
    let rule_key = replication
        .replication_configuration()
        .and_then(|c| c.rules().first())
        .and_then(|r| r.destination())
        .and_then(|d| d.encryption_configuration())
        .and_then(|e| e.replica_kms_key_id())
        .map(str::to_string);
    assert_eq!(rule_key, Some(replica_arn.clone()));

    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(&out, 0, "plan after apply");

    // Drift: the replica disabled and its alias deleted by hand, the primary's
    // rotation turned off. The plan says so; apply puts them back.
    let dr = moto.kms("us-east-1");
    // moto's DisableKey and ScheduleKeyDeletion take the key id only (KMS: the ARN too).
    dr.disable_key()
        .key_id(&replica_id)
        .send()
        .await
        .expect("DisableKey");
    dr.delete_alias()
        .alias_name("alias/kms-e2e-backups")
        .send()
        .await
        .expect("DeleteAlias");
    moto.kms("us-west-2")
        .disable_key_rotation()
        .key_id(&primary_arn)
        .send()
        .await
        .expect("DisableKeyRotation");
    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(&out, 2, "plan after the drift");
    let text = stdout(&out);
    for part in [
        "~ kms_key.backups.replica.dr",
        "enabled",
        "alias",
        "~ kms_key.backups ",
        "enable_key_rotation",
    ] {
        assert!(text.contains(part), "{part} in:\n{text}");
    }
    assert!(alias_target(&moto, "us-west-2", "alias/kms-e2e-backups")
        .await
        .is_some());
    let out = drplan(&moto, root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_exit(&out, 0, "apply reverts the drift");
    let replica = describe(&moto, "us-east-1", &replica_arn).await;
    assert_eq!(replica.key_state(), Some(&KeyState::Enabled));
    assert_eq!(
        alias_target(&moto, "us-east-1", "alias/kms-e2e-backups").await,
        Some(replica_id.clone())
    );
    let rotation = moto
        .kms("us-west-2")
        .get_key_rotation_status()
        .key_id(&primary_arn)
        .send()
        .await
        .expect("GetKeyRotationStatus");
    assert!(rotation.key_rotation_enabled());
    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(&out, 0, "plan after the drift was reverted");

    // A deletion scheduled by hand is cancelled: the key is still declared.
    moto.kms("us-west-2")
        .schedule_key_deletion()
        .key_id(&primary_id)
        .pending_window_in_days(7)
        .send()
        .await
        .expect("ScheduleKeyDeletion");
    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(&out, 2, "plan after a deletion was scheduled by hand");
    let out = drplan(&moto, root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_exit(&out, 0, "apply cancels the deletion");
    let primary = describe(&moto, "us-west-2", &primary_arn).await;
    assert_eq!(primary.key_state(), Some(&KeyState::Enabled));
    assert!(primary.deletion_date().is_none());
    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(&out, 0, "plan after the deletion was cancelled");

    // Out of the spec (the buckets keep a key named by its ARN): keys are stateful,
    // so the plan refuses, and says what deleting a key means.
    let without = [
        SITES,
        LOGS_KEY,
        &buckets(&format!("\"{primary_arn}\""), &format!("\"{replica_arn}\"")),
    ]
    .concat();
    project(root, &without);
    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(&out, 1, "plan without the key block");
    let err = explain(&out);
    assert!(
        err.contains("kms_key.backups") && err.contains("--allow-destroy"),
        "{err}"
    );
    assert!(
        err.contains("schedules its deletion") && err.contains("7-30 days"),
        "the plan says what deleting a key means:\n{err}"
    );
    let allow = [
        "--allow-destroy",
        "kms_key.backups",
        "--allow-destroy",
        "kms_key.backups.replica.dr",
    ];
    let plan_args = [&["plan", "-e", "prod", "--detailed-exitcode"][..], &allow].concat();
    let out = drplan(&moto, root, &plan_args);
    assert_exit(&out, 2, "plan allowed to destroy the keys");
    let text = stdout(&out);
    assert!(
        text.contains("- kms_key.backups") && text.contains("- kms_key.backups.replica.dr"),
        "{text}"
    );
    let apply_args = [&["apply", "-e", "prod", "--auto-approve"][..], &allow].concat();
    let out = drplan(&moto, root, &apply_args);
    assert_exit(&out, 0, "apply schedules the deletions");
    for (region, arn) in [("us-west-2", &primary_arn), ("us-east-1", &replica_arn)] {
        let key = describe(&moto, region, arn).await;
        assert_eq!(key.key_state(), Some(&KeyState::PendingDeletion), "{arn}");
        let days = key
            .deletion_date()
            .map(|d| (d.secs() - chrono_now()) as f64 / 86_400.0)
            .expect("a deletion date");
        assert!(
            (13.0..=14.01).contains(&days),
            "the key's 14-day window: {days}"
        );
        let t = tags(&moto, region, arn).await;
        assert!(
            !t.iter()
                .any(|(k, _)| k == "drplan:stack" || k == "drplan:address"),
            "the marks are dropped: {t:?}"
        );
    }
    // Nothing left to change (the keys are no longer the stack's), but the buckets
    // still name the key by ARN: the DR readiness check says it is going (exit 3).
    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(&out, 3, "plan after the deletions were scheduled");
    let text = stdout(&out);
    assert!(text.contains("No changes."), "{text}");
    assert!(
        text.contains(&format!("FAIL KMS key {primary_arn} in us-west-2"))
            && text.contains("is PendingDeletion"),
        "{text}"
    );
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

#[test]
fn a_replica_in_another_account_and_a_bucket_outside_the_keys_regions_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let spec = format!(
        "{SITES}\nsite \"vault\" {{\n  region = \"eu-west-1\"\n  role   = \"dr\"\n}}\n{KEY}\nbucket \"vault\" {{\n  site = site.vault\n  name = \"kms-e2e-vault\"\n  encryption {{\n    algorithm  = \"aws:kms\"\n    kms_key_id = kms_key.backups\n  }}\n}}\n"
    );
    crate::support::files::write_project(
        root,
        &spec,
        "stack      = \"keys\"\naccount_id = \"123456789012\"\n\nsite_account \"dr\" {\n  account_id = \"210987654321\"\n  role_arn   = \"arn:aws:iam::210987654321:role/drplan\"\n}\n",
    );
    let out = assert_cmd::Command::cargo_bin("drplan")
        .expect("binary")
        .arg("-C")
        .arg(root)
        .args(["validate", "-e", "prod"])
        .env("NO_COLOR", "1")
        .output()
        .expect("drplan validate");
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    let err = stderr(&out);
    assert!(
        err.contains("another account") && err.contains("replicated only within its account"),
        "{err}"
    );
    assert!(
        err.contains("bucket.vault uses kms_key.backups in site \"vault\""),
        "{err}"
    );
    // file:line:col of each value.
    for (needle, value) in [
        ("replicas", "[site.dr]"),
        ("kms_key_id = kms_key", "kms_key.backups"),
    ] {
        let (line, text) = spec
            .lines()
            .enumerate()
            .find(|(_, l)| l.trim_start().starts_with(needle))
            .expect("the line");
        let column = text.find(value).expect("the value") + 1;
        let at = format!("specs/main.hcl:{}:{column}", line + 1);
        assert!(err.contains(&at), "an error points at {at}:\n{err}");
    }
}

/// The key and replica an import test declares: the multi-region key, its replica in
/// the DR site, an alias and rotation the hand-made key lacks.
const IMPORTED_KEY: &str = r#"
kms_key "adopted" {
  site                 = site.primary
  multi_region         = true
  replicas             = [site.dr]
  alias                = "alias/kms-e2e-adopted"
  description          = "made by hand"
  deletion_window_days = 14
  enable_key_rotation  = true
}
"#;

/// Issue 20 for KMS: a multi-region key and its replica made by hand (another tool's
/// keys carry no drplan mark, so no plan reads them) are taken over by `import`
/// blocks — the key by its key id, the replica by its ARN — without a new key: the
/// plan says "will be imported" with the alias and rotation the hand-made key lacks,
/// apply marks both and puts those, and the next plan exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_and_its_replica_made_by_hand_are_imported_without_a_new_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let moto = MotoServer::start();
    let west = moto.kms("us-west-2");
    let key = west
        .create_key()
        .multi_region(true)
        .description("made by hand")
        .send()
        .await
        .expect("CreateKey")
        .key_metadata
        .expect("key metadata");
    let key_id = key.key_id().to_string();
    let primary_arn = key.arn().expect("arn").to_string();
    let replica_arn = west
        .replicate_key()
        .key_id(&key_id)
        .replica_region("us-east-1")
        .description("made by hand")
        .send()
        .await
        .expect("ReplicateKey")
        .replica_key_metadata
        .and_then(|m| m.arn)
        .expect("replica arn");
    assert!(replica_arn.contains(":us-east-1:"), "{replica_arn}");
    let key_count = |region: &'static str| {
        let kms = moto.kms(region);
        async move { kms.list_keys().send().await.expect("ListKeys").keys().len() }
    };
    let before = (key_count("us-west-2").await, key_count("us-east-1").await);

    project(root, &[SITES, IMPORTED_KEY].concat());
    // Without imports the keys are not this stack's: the plan would make new ones.
    let out = drplan(&moto, root, &["plan", "-e", "prod"]);
    assert!(
        stdout(&out).contains("+ kms_key.adopted"),
        "{}",
        explain(&out)
    );

    let imports = format!(
        "import {{\n  to = kms_key.adopted\n  id = \"{key_id}\"\n}}\n\n\
         import {{\n  to = kms_key.adopted.replica.dr\n  id = \"{replica_arn}\"\n}}\n"
    );
    std::fs::write(root.join("specs/imports.hcl"), imports).expect("imports.hcl");
    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(&out, 2, "plan with imports");
    let text = stdout(&out);
    for line in [
        format!("# kms_key.adopted will be imported (id {key_id})"),
        format!("# kms_key.adopted.replica.dr will be imported (id {replica_arn})"),
        "alias/kms-e2e-adopted".to_string(),
    ] {
        assert!(text.contains(&line), "{line} in:\n{text}");
    }
    assert!(
        !text.contains("must be replaced") && !text.contains("+ kms_key"),
        "an import recreates nothing:\n{text}"
    );

    let out = drplan(&moto, root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_exit(&out, 0, "apply");
    for (region, arn, address) in [
        ("us-west-2", &primary_arn, "kms_key.adopted"),
        ("us-east-1", &replica_arn, "kms_key.adopted.replica.dr"),
    ] {
        let t = tags(&moto, region, arn).await;
        assert!(has_tag(&t, "drplan:address", address), "{t:?}");
        assert!(has_tag(&t, "drplan:stack", "keys"), "{t:?}");
        assert!(has_tag(&t, "drplan:deletion-window-days", "14"), "{t:?}");
        // The alias of each region points at the imported copy.
        assert_eq!(
            alias_target(&moto, region, "alias/kms-e2e-adopted").await,
            Some(key_id.clone()),
            "{region}"
        );
    }
    assert_eq!(
        (key_count("us-west-2").await, key_count("us-east-1").await),
        before,
        "no key made"
    );
    let rotation = west
        .get_key_rotation_status()
        .key_id(&key_id)
        .send()
        .await
        .expect("GetKeyRotationStatus");
    assert!(rotation.key_rotation_enabled());

    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_exit(&out, 0, "plan after the import");
}
