//! Policy tools on drplan's plan (issue 16): checkov read 0 resources from `plan
//! --json` (it reads Terraform's `planned_values`), so a CI gate built on it passed
//! vacuously. `plan --terraform-json` gives the Terraform plan shape; checkov's S3
//! versioning, encryption and replication checks run on it — and fail a bucket
//! without encryption. terraform-compliance (which asserts `terraform_version`,
//! `planned_values` and `configuration`, and reads a plan file's first line only)
//! accepts the same plan and fails it likewise.

use crate::support::cli::{drplan, explain, stdout};
use crate::support::files::copy_dir;
use crate::support::moto::MotoServer;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn checkov() -> PathBuf {
    let path = std::env::var_os("DRPLAN_CHECKOV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv-checkov/bin/checkov")
        });
    assert!(
        path.exists(),
        "checkov not found at {}: run scripts/setup-checkov.sh first",
        path.display()
    );
    path
}

/// (check id, resource, passed) for every S3 check checkov ran on `plan`.
fn s3_results(plan_json: &str, dir: &Path) -> Vec<(String, String, bool)> {
    checkov_results(plan_json, dir, "aws_s3_bucket.")
}

/// (check id, resource, passed) for every check checkov ran on `plan`'s resources
/// whose address starts with `prefix`.
fn checkov_results(plan_json: &str, dir: &Path, prefix: &str) -> Vec<(String, String, bool)> {
    let file = dir.join("tfplan.json");
    std::fs::write(&file, plan_json).expect("write the plan");
    let out = std::process::Command::new(checkov())
        .args([
            "--framework",
            "terraform_plan",
            "--compact",
            "-o",
            "json",
            "-f",
        ])
        .arg(&file)
        .env("BC_SKIP_MAPPING", "TRUE")
        .env("CHECKOV_RUN_SCA_PACKAGE_SCAN_V2", "false")
        .output()
        .expect("run checkov");
    let text = String::from_utf8_lossy(&out.stdout);
    let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "checkov's output is not JSON ({e}): {text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let reports = match doc {
        Value::Array(a) => a,
        one => vec![one],
    };
    let mut results = Vec::new();
    for r in &reports {
        assert_eq!(r["check_type"], "terraform_plan", "{r}");
        assert!(
            r["summary"]["resource_count"].as_u64().unwrap_or(0) > 0,
            "checkov read no resource: {}",
            r["summary"]
        );
        for (key, passed) in [("passed_checks", true), ("failed_checks", false)] {
            for c in r["results"][key].as_array().into_iter().flatten() {
                let resource = c["resource"].as_str().unwrap_or_default();
                if resource.starts_with(prefix) {
                    results.push((
                        c["check_id"].as_str().unwrap_or_default().to_string(),
                        resource.to_string(),
                        passed,
                    ));
                }
            }
        }
    }
    results
}

fn terraform_compliance() -> PathBuf {
    let path = std::env::var_os("DRPLAN_TERRAFORM_COMPLIANCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv-tfc/bin/terraform-compliance")
        });
    assert!(
        path.exists(),
        "terraform-compliance not found at {}: run scripts/setup-terraform-compliance.sh first",
        path.display()
    );
    path
}

const S3_FEATURE: &str = r#"Feature: S3 backup buckets are versioned and encrypted

  Scenario: every bucket has versioning
    Given I have aws_s3_bucket defined
    Then it must contain versioning

  Scenario: every bucket encrypts at rest
    Given I have aws_s3_bucket defined
    Then it must contain server_side_encryption_configuration
"#;

/// terraform-compliance on `plan` with `S3_FEATURE`: (passed, its output).
fn compliance(plan_json: &str, dir: &Path) -> (bool, String) {
    let features = dir.join("features");
    std::fs::create_dir_all(&features).expect("mkdir");
    std::fs::write(features.join("s3.feature"), S3_FEATURE).expect("write the feature");
    let file = dir.join("tfplan.json");
    std::fs::write(&file, plan_json).expect("write the plan");
    let out = std::process::Command::new(terraform_compliance())
        .arg("-p")
        .arg(&file)
        .arg("-f")
        .arg(&features)
        .output()
        .expect("run terraform-compliance");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), without_ansi(&text))
}

/// `text` without its terminal colour sequences (ESC [ ... m).
fn without_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A copy of the root project (environments, specs, manifests) the test may edit.
fn root_project_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for sub in ["environments", "specs", "k8s"] {
        copy_dir(&repo.join(sub), &dir.path().join(sub));
    }
    dir
}

fn result(results: &[(String, String, bool)], check: &str, resource: &str) -> Option<bool> {
    results
        .iter()
        .find(|(c, r, _)| c == check && r == resource)
        .map(|(_, _, p)| *p)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkov_reads_the_terraform_shaped_plan_and_fails_a_bucket_without_encryption() {
    let dir = root_project_copy();
    let root = dir.path();
    let moto = MotoServer::start();

    let out = drplan(&moto, root, &["plan", "-e", "prod", "--terraform-json"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let plan: Value = serde_json::from_str(&stdout(&out)).expect("plan JSON");
    assert!(plan["terraform_version"].is_string());
    let planned = plan["planned_values"]["root_module"]["resources"]
        .as_array()
        .expect("planned_values")
        .len();
    assert!(planned >= 20, "{planned} resources planned");

    let scratch = tempfile::tempdir().expect("tempdir");
    let (passed, report) = compliance(&stdout(&out), scratch.path());
    assert!(passed, "terraform-compliance accepts the plan: {report}");
    assert!(report.contains("2 scenarios (2 passed)"), "{report}");
    let results = s3_results(&stdout(&out), scratch.path());
    let source = "aws_s3_bucket.bucket_backups";
    for (check, what) in [
        ("CKV_AWS_21", "versioning"),
        ("CKV_AWS_145", "KMS encryption"),
        ("CKV_AWS_19", "encryption at rest"),
        ("CKV_AWS_144", "cross-region replication"),
    ] {
        assert_eq!(
            result(&results, check, source),
            Some(true),
            "{check} ({what}) on {source}: {results:?}"
        );
    }
    // The DR copy replicates nowhere: checkov says so.
    assert_eq!(
        result(&results, "CKV_AWS_144", "aws_s3_bucket.bucket_backups_dr"),
        Some(false)
    );

    // Encryption removed from the source bucket: the check fails.
    let storage = root.join("specs/storage.hcl");
    let text = std::fs::read_to_string(&storage).expect("read storage.hcl");
    let start = text.find("  encryption {").expect("an encryption block");
    let end = start + text[start..].find("\n  }\n").expect("its end") + 5;
    std::fs::write(&storage, format!("{}{}", &text[..start], &text[end..])).expect("write");
    let out = drplan(&moto, root, &["plan", "-e", "prod", "--terraform-json"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let results = s3_results(&stdout(&out), scratch.path());
    assert_eq!(
        result(&results, "CKV_AWS_145", source),
        Some(false),
        "a bucket without encryption fails: {results:?}"
    );
    let (passed, report) = compliance(&stdout(&out), scratch.path());
    assert!(!passed, "terraform-compliance fails it: {report}");
    assert!(report.contains("aws_s3_bucket.bucket_backups"), "{report}");
}

/// Issue 17: the EKS settings checkov checks reach the Terraform-shaped plan. The root
/// project's clusters say nothing about them, so checkov assumes EKS's defaults (a
/// public endpoint, no secrets encryption) and fails them; once the spec says them,
/// the same checks pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkov_passes_a_cluster_with_a_private_endpoint_and_encrypted_secrets() {
    let dir = root_project_copy();
    let root = dir.path();
    let moto = MotoServer::start();
    let scratch = tempfile::tempdir().expect("tempdir");
    let cluster = "aws_eks_cluster.cluster_primary";
    let checks = |plan: &str| {
        let results = checkov_results(plan, scratch.path(), "aws_eks_cluster.");
        (
            result(&results, "CKV_AWS_39", cluster),
            result(&results, "CKV_AWS_58", cluster),
            results,
        )
    };

    let out = drplan(&moto, root, &["plan", "-e", "prod", "--terraform-json"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let (public, secrets, results) = checks(&stdout(&out));
    assert_eq!(
        public,
        Some(false),
        "public endpoint by default: {results:?}"
    );
    assert_eq!(secrets, Some(false), "no secrets encryption: {results:?}");

    let clusters = root.join("specs/clusters.hcl");
    let text = std::fs::read_to_string(&clusters).expect("read clusters.hcl");
    let said = text.replacen(
        "  role_arn = \"arn:aws:iam::${local.account}:role/shop-eks-cluster\"\n",
        "  role_arn = \"arn:aws:iam::${local.account}:role/shop-eks-cluster\"\n\
         \n  endpoint_public_access  = false\n  endpoint_private_access = true\n  \
         control_plane_logs      = [\"api\", \"audit\"]\n  \
         secrets_encryption_key  = \"arn:aws:kms:us-west-2:${local.account}:key/5d1c9a6e-4b1f-4f07-9c0e-2a7e3b1d8f44\"\n",
        1,
    );
    assert_ne!(said, text, "the primary cluster's role_arn line was found");
    std::fs::write(&clusters, said).expect("write clusters.hcl");
    let out = drplan(&moto, root, &["plan", "-e", "prod", "--terraform-json"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let (public, secrets, results) = checks(&stdout(&out));
    assert_eq!(public, Some(true), "private endpoint: {results:?}");
    assert_eq!(secrets, Some(true), "secrets encrypted: {results:?}");
}

/// Issue 17: a bucket's access logging reaches the Terraform-shaped plan. The root
/// project's backups bucket logs nowhere, so checkov's access-logging check fails it;
/// with a `logging` block into a log bucket of its site, the same check passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkov_passes_a_bucket_whose_access_logs_go_to_a_log_bucket() {
    let dir = root_project_copy();
    let root = dir.path();
    let moto = MotoServer::start();
    let scratch = tempfile::tempdir().expect("tempdir");
    let source = "aws_s3_bucket.bucket_backups";

    let out = drplan(&moto, root, &["plan", "-e", "prod", "--terraform-json"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let results = s3_results(&stdout(&out), scratch.path());
    assert_eq!(
        result(&results, "CKV_AWS_18", source),
        Some(false),
        "no access logging: {results:?}"
    );

    let storage = root.join("specs/storage.hcl");
    let text = std::fs::read_to_string(&storage).expect("read storage.hcl");
    let said = text.replacen(
        "  name = \"${local.name}-backups-us-west-2\"\n",
        "  name = \"${local.name}-backups-us-west-2\"\n\n  logging {\n    target = bucket.access_logs\n    prefix = \"s3/backups/\"\n  }\n",
        1,
    );
    assert_ne!(said, text, "the backups bucket's name line was found");
    let said = format!(
        "{said}\nbucket \"access_logs\" {{\n  site = site.primary\n  name = \"${{local.name}}-access-logs-us-west-2\"\n  encryption {{\n    algorithm = \"AES256\"\n  }}\n}}\n"
    );
    std::fs::write(&storage, said).expect("write storage.hcl");
    let out = drplan(&moto, root, &["plan", "-e", "prod", "--terraform-json"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let results = s3_results(&stdout(&out), scratch.path());
    assert_eq!(
        result(&results, "CKV_AWS_18", source),
        Some(true),
        "access logs to a log bucket: {results:?}"
    );
}
