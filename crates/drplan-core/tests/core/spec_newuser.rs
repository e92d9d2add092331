//! What a new user hits first in the spec loader (issue 16): each test is headed by
//! the symptom it guards against.

use crate::spec_support::*;
use drplan_core::resource::Kind;

const TWO_BUCKETS: &str = r#"
bucket "backups" {
  site = site.primary
  name = "acme-backups"
  replication {
    role_arn    = "arn:aws:iam::123456789012:role/s3-replication"
    destination = bucket.backups_dr
  }
  REPEAT
}

bucket "backups_dr" {
  site = site.dr
  name = "acme-backups-dr"
}

bucket "vault" {
  site = site.dr
  name = "acme-backups-vault"
}
"#;

fn load_spec(spec: &str) -> Result<drplan_core::model::Project, String> {
    let text = format!("{BASE}{spec}");
    load(&[("specs/main.hcl", &text), ("environments/test.hcl", ENV)])
        .map_err(|d| d.render(false, 120))
}

fn replication_rules(p: &drplan_core::model::Project) -> Vec<(String, String)> {
    let bucket = p
        .resources
        .iter()
        .find(|r| r.kind == Kind::Bucket && r.address.to_string() == "bucket.backups")
        .expect("bucket.backups");
    bucket.attrs["replication"]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap_or("").to_string(),
                r["destination_bucket"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn second_replication_block_no_longer_silently_drops_the_dr_copy() {
    let spec = TWO_BUCKETS.replace(
        "REPEAT",
        r#"replication {
    role_arn    = "arn:aws:iam::123456789012:role/s3-replication"
    destination = bucket.vault
  }"#,
    );
    let p = load_spec(&spec).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        replication_rules(&p),
        vec![
            (
                "drplan-replication-backups_dr".to_string(),
                "acme-backups-dr".to_string()
            ),
            (
                "drplan-replication-vault".to_string(),
                "acme-backups-vault".to_string()
            ),
        ]
    );
}

#[test]
fn one_replication_block_keeps_its_rule_id() {
    let p = load_spec(&TWO_BUCKETS.replace("REPEAT", "")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        replication_rules(&p),
        vec![(
            "drplan-replication".to_string(),
            "acme-backups-dr".to_string()
        )]
    );
}

#[test]
fn replication_blocks_with_two_roles_are_an_error() {
    let spec = TWO_BUCKETS.replace(
        "REPEAT",
        r#"replication {
    role_arn    = "arn:aws:iam::123456789012:role/other"
    destination = bucket.vault
  }"#,
    );
    let out = load_spec(&spec).expect_err("an error");
    assert!(
        out.contains("drplan::replication") && out.contains("role differs"),
        "{out}"
    );
}

#[test]
fn second_encryption_block_is_an_error_with_both_places_not_last_one_wins() {
    let spec = TWO_BUCKETS.replace(
        "REPEAT",
        r#"encryption {
    algorithm = "aws:kms"
    kms_key_id = "arn:aws:kms:us-west-2:123456789012:key/1"
  }
  encryption {
    algorithm = "AES256"
  }"#,
    );
    let out = load_spec(&spec).expect_err("an error");
    assert!(out.contains("drplan::duplicate_block"), "{out}");
    assert!(out.contains("has two `encryption` blocks"), "{out}");
    assert!(
        out.contains("again here") && out.contains("first here"),
        "{out}"
    );
}

#[test]
fn repeated_single_blocks_in_a_backup_and_an_environment_are_errors() {
    let env = "stack = \"test\"\nlock {\n  bucket = \"a\"\n  region = \"us-east-1\"\n}\nlock {\n  bucket = \"b\"\n  region = \"us-east-1\"\n}\n";
    let out = match load(&[("specs/main.hcl", BASE), ("environments/test.hcl", env)]) {
        Ok(_) => panic!("two lock blocks loaded"),
        Err(d) => d.render(false, 120),
    };
    assert!(out.contains("has two `lock` blocks"), "{out}");
}

#[test]
fn utf8_byte_order_mark_is_not_invalid_hcl() {
    let spec = format!("\u{feff}{BASE}");
    let env = format!("\u{feff}{ENV}");
    let p = load(&[("specs/main.hcl", &spec), ("environments/test.hcl", &env)]);
    assert!(
        p.is_ok(),
        "{}",
        p.err().map(|d| d.render(false, 120)).unwrap_or_default()
    );
}

#[test]
fn unknown_environment_is_one_error_without_knock_on_variable_errors() {
    let spec = format!("{BASE}\nvariable \"region\" {{\n  type = string\n}}\n");
    let dir = write(&[("specs/main.hcl", &spec), ("environments/prod.hcl", ENV)]);
    let d = drplan_core::spec::load_project(dir.path(), "prd").expect_err("an error");
    let codes: Vec<&str> = d.iter().map(|d| d.code).collect();
    assert_eq!(
        codes,
        ["drplan::missing_environment"],
        "{}",
        d.render(false, 120)
    );
}

#[test]
fn missing_project_directory_says_it_does_not_exist() {
    let d = drplan_core::spec::load_project(
        std::path::Path::new("/nonexistent/drplan-project"),
        "prod",
    )
    .expect_err("an error");
    let out = d.render(false, 120);
    assert!(
        out.contains("the project directory /nonexistent/drplan-project does not exist"),
        "{out}"
    );
    assert_eq!(d.len(), 1, "{out}");
}

#[test]
fn manifests_naming_a_folder_say_it_is_a_folder_not_that_it_does_not_exist() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = fixture("valid");
    for sub in ["specs", "environments"] {
        std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        for e in std::fs::read_dir(src.join(sub)).expect("fixture") {
            let e = e.expect("entry");
            let text = std::fs::read_to_string(e.path()).expect("read");
            let text = text.replace("[\"k8s/namespace.yaml\"]", "[\"k8s/overlay\"]");
            std::fs::write(dir.path().join(sub).join(e.file_name()), text).expect("write");
        }
    }
    std::fs::create_dir_all(dir.path().join("k8s/overlay")).expect("mkdir");
    std::fs::copy(
        src.join("k8s/namespace.yaml"),
        dir.path().join("k8s/overlay/namespace.yaml"),
    )
    .expect("copy");
    let out = rendered(dir.path(), "prod");
    assert!(out.contains("manifest `k8s/overlay` is a folder"), "{out}");
    assert!(out.contains("\"k8s/overlay/namespace.yaml\""), "{out}");
    assert!(!out.contains("does not exist"), "{out}");
}

#[test]
fn reference_cycle_no_longer_hides_an_invalid_schedule_behind_it() {
    let spec = r#"
bucket "a" {
  site = site.primary
  name = "x-${bucket.b.name}"
}
bucket "b" {
  site = site.dr
  name = "y-${bucket.a.name}"
}
backup "pg" {
  engine    = "postgres"
  namespace = "data"
  full { schedule = "every night" }
  placement "primary" {
    bucket  = bucket.a
  }
}
"#;
    let out = load_spec(spec).expect_err("errors");
    assert!(
        out.contains("reference cycle: bucket.a -> bucket.b -> bucket.a"),
        "{out}"
    );
    assert!(
        out.contains("schedule `every night` is not a valid cron expression"),
        "{out}"
    );
    // What refers into the cycle is not reported again: the cycle is the one cause.
    assert!(!out.contains("unresolved"), "{out}");
}

#[test]
fn two_way_replication_is_no_longer_rejected_as_a_reference_cycle() {
    let spec = r#"
bucket "east" {
  site = site.primary
  name = "acme-east"
  replication {
    role_arn    = "arn:aws:iam::123456789012:role/s3-replication"
    destination = bucket.west
  }
}
bucket "west" {
  site = site.dr
  name = "acme-west"
  replication {
    role_arn    = "arn:aws:iam::123456789012:role/s3-replication"
    destination = bucket.east
  }
}
"#;
    let p = load_spec(spec).unwrap_or_else(|e| panic!("{e}"));
    let dest = |address: &str| {
        let b = p
            .resources
            .iter()
            .find(|r| r.address.to_string() == address)
            .expect(address);
        b.attrs["replication"]["rules"][0]["destination_bucket"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(dest("bucket.east"), "acme-west");
    assert_eq!(dest("bucket.west"), "acme-east");
}

#[test]
fn a_bucket_replicating_to_itself_is_still_an_error() {
    let spec = r#"
bucket "east" {
  site = site.primary
  name = "acme-east"
  replication {
    role_arn    = "arn:aws:iam::123456789012:role/s3-replication"
    destination = bucket.east
  }
}
"#;
    let out = load_spec(spec).expect_err("an error");
    assert!(
        out.contains("bucket \"east\" replicates to \"east\" in the same site"),
        "{out}"
    );
}

#[test]
fn removed_block_is_read_and_checked_against_the_spec() {
    let spec = format!(
        "{}\nremoved {{\n  from = bucket.old\n  lifecycle {{\n    destroy = false\n  }}\n}}\n",
        TWO_BUCKETS.replace("REPEAT", "")
    );
    let p = load_spec(&spec).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        p.removed,
        vec![drplan_core::model::Removed {
            from: drplan_core::address::Address::new("bucket.old"),
            destroy: false
        }]
    );

    // Still in the spec, no lifecycle, a lifecycle that is not a bool: each an error.
    let still = spec.replace("bucket.old", "bucket.vault");
    let out = load_spec(&still).expect_err("an error");
    assert!(out.contains("`bucket.vault` is still in the spec"), "{out}");
    let bare = format!(
        "{}\nremoved {{\n  from = bucket.old\n}}\n",
        TWO_BUCKETS.replace("REPEAT", "")
    );
    let out = load_spec(&bare).expect_err("an error");
    assert!(
        out.contains("`removed` needs lifecycle { destroy = ... }"),
        "{out}"
    );
    let not_bool = spec.replace("destroy = false", "destroy = \"no\"");
    let out = load_spec(&not_bool).expect_err("an error");
    assert!(out.contains("`destroy` must be true or false"), "{out}");
}

/// Issue 15, "sources read once": manifests were read for the digest and again for
/// lowering, and the RTO's second evaluation read the whole project from disk again.
/// Now each file is read once per load, and a second evaluation reads none: it lowers
/// exactly the bytes the digest covers, even if a file changes on disk in between.
#[test]
fn the_rto_evaluation_reads_no_file_again_and_lowers_the_bytes_the_digest_covers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = fixture("valid");
    for sub in ["specs", "environments", "k8s"] {
        std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        for e in std::fs::read_dir(src.join(sub)).expect("fixture") {
            let e = e.expect("entry");
            std::fs::copy(e.path(), dir.path().join(sub).join(e.file_name())).expect("copy");
        }
    }
    let p = drplan_core::spec::load_project(dir.path(), "prod-dr")
        .unwrap_or_else(|d| panic!("{}", d.render(false, 100)));
    // The specs, the environment and the manifest.
    let files = std::fs::read_dir(dir.path().join("specs"))
        .expect("specs")
        .count()
        + 2;
    assert_eq!(p.sources.disk_reads(), files, "each file read once");

    let namespace = |p: &drplan_core::model::Project| {
        p.resources
            .iter()
            .find(|r| {
                r.kind == Kind::K8sObject
                    && r.attrs.get("kind") == Some(&"Namespace".into())
                    && r.attrs.get("name") == Some(&"lanka-platform".into())
            })
            .and_then(|r| r.attrs.get("manifest").cloned())
    };
    let before = namespace(&p).expect("the manifest's Namespace");
    std::fs::write(
        dir.path().join("k8s/namespace.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: lanka-platform\n  labels:\n    edited: \"yes\"\n",
    )
    .expect("edit the manifest");
    let other_site = p
        .topology
        .sites
        .keys()
        .find(|s| **s != p.environment.active_site)
        .cloned()
        .expect("a second site");
    let again = drplan_core::spec::reload_with_active_site(&p, &other_site)
        .unwrap_or_else(|d| panic!("{}", d.render(false, 100)));
    assert_eq!(
        p.sources.disk_reads(),
        files,
        "the second evaluation read nothing"
    );
    assert_eq!(again.digest, p.digest);
    let same = drplan_core::spec::reload_with_active_site(&again, "dr")
        .unwrap_or_else(|d| panic!("{}", d.render(false, 100)));
    assert_eq!(
        namespace(&same),
        Some(before),
        "the bytes read once are lowered"
    );
}
