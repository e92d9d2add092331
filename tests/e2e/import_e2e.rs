//! Issue 20: objects created out of band (a bucket, a hosted zone) are taken over by
//! `import` blocks: the plan says "will be imported", apply writes the marks without
//! recreating anything (same ids), and the next plan exits 0.

use crate::secrets_e2e::world;
use crate::support::cli::{drplan, explain, stdout};
use crate::support::files::copy_dir;
use std::path::PathBuf;

const BUCKET: &str = "shop-prod-backups-us-west-2";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
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
fn an_import_of_a_kind_not_built_or_an_unknown_address_is_an_error_with_its_place() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    for sub in ["environments", "specs", "k8s"] {
        copy_dir(&repo_root().join(sub), &root.join(sub));
    }
    std::fs::write(
        root.join("specs/imports.hcl"),
        "import {\n  to = network.primary\n  id = \"vpc-123\"\n}\n\nimport {\n  to = bucket.nope\n  id = \"b\"\n}\n",
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
    assert!(
        err.contains("importing aws_vpc objects is not built yet"),
        "{err}"
    );
    assert!(err.contains("`bucket.nope` is not in the spec"), "{err}");
    assert!(err.contains("specs/imports.hcl:2"), "{err}");
}
