//! Whole CLI runs of the no-cloud commands: validate, graph, fmt.

use crate::support::files::copy_dir;
use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn drplan(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("drplan")
        .expect("binary")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn validate_every_environment() {
    let (code, stdout, stderr) = drplan(&fixture("valid"), &["validate"]);
    assert_eq!(code, 0, "{stderr}");
    // Issue 12: each environment's spec-only Objectives section follows its line.
    assert!(
        stdout.starts_with(
            "Success! prod: 17 resources in 2 sites.\n\nObjectives of prod (RTO 2h, RPO 1h):\n"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("\nSuccess! prod-dr: 19 resources in 2 sites.\n\nObjectives of prod-dr (RTO 2h, RPO 1h):\n"), "{stdout}");
    assert!(
        stdout.contains("ok    rpo                neo4j      longest gap 1h <= RPO 1h"),
        "{stdout}"
    );
    assert_eq!(
        stdout
            .matches("Objectives: 0 breached, 0 warnings, 5 met.")
            .count(),
        2,
        "{stdout}"
    );
}

#[test]
fn validate_reports_every_mistake_and_exits_1() {
    let (code, stdout, stderr) = drplan(&fixture("broken"), &["validate", "-e", "prod"]);
    assert_eq!(code, 1);
    assert_eq!(stdout, "", "stdout carries only results");
    insta::assert_snapshot!(stderr);
}

/// CI annotations need the diagnostics as data (issue 16): `validate --json` gives
/// every one with its code, file, line and column, and the same exit codes.
#[test]
fn validate_json_gives_every_diagnostic_with_its_place() {
    let (code, stdout, _) = drplan(&fixture("broken"), &["validate", "-e", "prod", "--json"]);
    assert_eq!(code, 1);
    let doc: serde_json::Value =
        serde_json::from_str(&stdout).expect("one JSON document on stdout");
    assert_eq!(doc["valid"], false);
    assert_eq!(doc["environments"][0]["name"], "prod");
    let diags = doc["diagnostics"].as_array().expect("diagnostics");
    let (_, _, shown) = drplan(&fixture("broken"), &["validate", "-e", "prod"]);
    assert!(
        shown.contains(&format!("Error: {} problem(s) found", diags.len())),
        "as many as the text lists: {shown}"
    );
    for d in diags {
        assert!(
            d["code"]
                .as_str()
                .unwrap_or_default()
                .starts_with("drplan::"),
            "{d}"
        );
        assert!(!d["message"].as_str().unwrap_or_default().is_empty(), "{d}");
    }
    let first = &diags[0];
    assert_eq!(first["code"], "drplan::unknown_variable", "{first}");
    assert_eq!(first["file"], "environments/prod.hcl", "{first}");
    assert_eq!(
        (first["line"].as_u64(), first["column"].as_u64()),
        (Some(4), Some(3))
    );
    assert_eq!(first["help"], "did you mean `environment`?");

    let (code, stdout, _) = drplan(&fixture("valid"), &["validate", "--json"]);
    assert_eq!(code, 0);
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(doc["valid"], true);
    assert_eq!(doc["diagnostics"], serde_json::json!([]));
    let envs: Vec<(&str, &str)> = doc["environments"]
        .as_array()
        .expect("environments")
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap_or_default(),
                e["objectives"]["status"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(envs, [("prod", "met"), ("prod-dr", "met")]);
}

#[test]
fn validate_unknown_environment() {
    let (code, _, stderr) = drplan(&fixture("valid"), &["validate", "-e", "staging"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("environment `staging` not found"),
        "{stderr}"
    );
    assert!(
        stderr.contains("environments here: prod, prod-dr"),
        "{stderr}"
    );
}

#[test]
fn validate_survives_garbage_and_deep_nesting() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&fixture("valid"), dir.path());
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(dir.path().join("specs/garbage.hcl"), garbage).expect("write");
    let deep = format!(
        "locals {{\n  x = {}1{}\n}}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    std::fs::write(dir.path().join("specs/deep.hcl"), deep).expect("write");
    let (code, _, stderr) = drplan(dir.path(), &["validate", "-e", "prod"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("specs/garbage.hcl"), "{stderr}");
    assert!(stderr.contains("specs/deep.hcl"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn graph_dot_and_mermaid() {
    let (code, dot, stderr) = drplan(&fixture("valid"), &["graph", "-e", "prod"]);
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!("graph_dot", dot);
    let (code, mermaid, _) = drplan(
        &fixture("valid"),
        &["graph", "-e", "prod-dr", "--format", "mermaid"],
    );
    assert_eq!(code, 0);
    assert!(mermaid.starts_with("flowchart LR\n"));
    assert!(
        mermaid.contains("network_dr --> network_dr_subnet_private_a"),
        "{mermaid}"
    );
}

#[test]
fn fmt_check_then_rewrite_keeps_comments() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&fixture("valid"), dir.path());
    let messy = "# the zone\nzone \"public\" {\nname = \"lanka-platform.com\"   # apex\n      comment=\"public\"\n}\n";
    std::fs::write(dir.path().join("specs/zone.hcl"), messy).expect("write");
    std::fs::remove_file(dir.path().join("specs/dns.hcl")).expect("rm");
    let (code, stdout, _) = drplan(dir.path(), &["fmt", "--check"]);
    assert_eq!((code, stdout.as_str()), (1, "specs/zone.hcl\n"));
    let (code, _, _) = drplan(dir.path(), &["fmt"]);
    assert_eq!(code, 0);
    let formatted = std::fs::read_to_string(dir.path().join("specs/zone.hcl")).expect("read");
    assert_eq!(formatted, "# the zone\nzone \"public\" {\n  name    = \"lanka-platform.com\" # apex\n  comment = \"public\"\n}\n");
    let (code, stdout, _) = drplan(dir.path(), &["fmt", "--check"]);
    assert_eq!((code, stdout.as_str()), (0, ""));
}

#[test]
fn mistyped_flag_in_a_workflow_exits_1_not_2_which_means_changes() {
    let (code, stdout, stderr) = drplan(
        &fixture("valid"),
        &["plan", "-e", "prod", "--detailed-exitcod"],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("--detailed-exitcod"), "{stderr}");
}

#[test]
fn terraform_style_single_dash_flag_points_to_the_double_dash_form() {
    let (code, _, stderr) = drplan(&fixture("valid"), &["apply", "-e", "prod", "-auto-approve"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("write `--auto-approve` instead of `-auto-approve`"),
        "{stderr}"
    );
    let (code, _, stderr) = drplan(&fixture("valid"), &["plan", "-var", "x=1"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("variable values live in environments/<env>.hcl"),
        "{stderr}"
    );
}

#[test]
fn help_still_exits_0() {
    let (code, stdout, _) = drplan(&fixture("valid"), &["plan", "--help"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("--detailed-exitcode"), "{stdout}");
}

#[test]
fn missing_project_directory_says_so() {
    let (code, _, stderr) = drplan(
        Path::new("/nonexistent/drplan-project"),
        &["validate", "-e", "prod"],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("the project directory /nonexistent/drplan-project does not exist"),
        "{stderr}"
    );
}

/// Without credentials, `plan` printed a Rust debug dump of an IMDS answer and
/// "could not reach AWS".
#[test]
fn no_credentials_is_said_as_such_not_as_a_debug_dump() {
    for profile in [None, Some("no-such-profile")] {
        let mut cmd = Command::cargo_bin("drplan").expect("binary");
        cmd.arg("-C")
            .arg(env!("CARGO_MANIFEST_DIR"))
            .args(["plan", "-e", "prod"])
            .env("NO_COLOR", "1")
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE")
            .env_remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
            .env_remove("AWS_CONTAINER_CREDENTIALS_FULL_URI")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
            .env("AWS_CONFIG_FILE", "/nonexistent/config")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9");
        match profile {
            Some(p) => cmd.env("AWS_PROFILE", p),
            None => cmd.env_remove("AWS_PROFILE"),
        };
        let out = cmd.output().expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("no AWS credentials found"), "{stderr}");
        assert!(stderr.contains("AWS_ACCESS_KEY_ID"), "{stderr}");
        assert!(!stderr.contains("DispatchFailure("), "{stderr}");
        if let Some(p) = profile {
            assert!(stderr.contains(&format!("profile `{p}`")), "{stderr}");
        }
    }
}

/// Issue 18: a release promoted to prod but not to prod-dr makes a failover deploy
/// the older one. `validate` says so while neither environment extends the other.
#[test]
fn validate_warns_when_prod_dr_lags_prod_without_extends() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for sub in ["specs", "environments", "k8s"] {
        copy_dir(&root.join(sub), &dir.path().join(sub));
    }
    let prod = dir.path().join("environments/prod.hcl");
    let text = std::fs::read_to_string(&prod).expect("read prod");
    std::fs::write(
        &prod,
        text.replace("api_image_tag = \"1.0.0\"", "api_image_tag = \"1.0.1\""),
    )
    .expect("write prod");
    let (code, _, stderr) = drplan(dir.path(), &["validate"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("Warning: environments prod and prod-dr (stack shop) differ in promotable values (api_image_tag)"),
        "{stderr}"
    );
    assert!(stderr.contains("extends = \"prod\""), "{stderr}");

    std::fs::write(
        dir.path().join("environments/prod-dr.hcl"),
        "extends     = \"prod\"\nactive_site = \"dr\"\n",
    )
    .expect("write prod-dr");
    let (code, stdout, stderr) = drplan(dir.path(), &["validate"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("Warning"), "{stderr}");
    assert!(
        stdout.contains("Success! prod-dr: 29 resources"),
        "{stdout}"
    );
}

/// Issue 12: `validate` exited 0 when the incremental schedule went from hourly to
/// every 6 hours under a 1h RPO. It evaluates the spec-only objectives now.
#[test]
fn validate_exits_3_when_an_incremental_schedule_of_6h_breaks_a_1h_rpo() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/lanka-platform");
    for sub in ["specs", "environments", "k8s"] {
        copy_dir(&root.join(sub), &dir.path().join(sub));
    }
    let backups = dir.path().join("specs/backups.hcl");
    let text = std::fs::read_to_string(&backups).expect("read backups.hcl");
    assert!(text.contains("\"0 * * * *\""), "{text}");
    std::fs::write(
        &backups,
        text.replacen("\"0 * * * *\"", "\"0 */6 * * *\"", 1),
    )
    .expect("write");
    let (code, stdout, stderr) = drplan(dir.path(), &["validate", "-e", "prod"]);
    assert_eq!(code, 3, "{stdout}{stderr}");
    assert!(
        stdout.contains("FAIL  rpo                neo4j           longest gap 6h > RPO 1h"),
        "{stdout}"
    );
    assert!(stdout.contains("at specs/backups.hcl:"), "{stdout}");
    assert!(stderr.contains("objectives breached (prod)"), "{stderr}");
    let (code, stdout, _) = drplan(
        dir.path(),
        &["validate", "-e", "prod", "--allow-objective-breach"],
    );
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("Breaches allowed for this run"), "{stdout}");
}

/// Issue 14: a spec change that alters the failover makes `runbook --check` fail,
/// with a diff and the changed steps named.
#[test]
fn runbook_check_fails_on_a_stale_runbook_naming_the_changed_steps() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/lanka-platform");
    for sub in ["specs", "environments", "k8s"] {
        copy_dir(&root.join(sub), &dir.path().join(sub));
    }
    std::fs::copy(root.join("RUNBOOK.md"), dir.path().join("RUNBOOK.md")).expect("copy");
    let (code, _, stderr) = drplan(
        dir.path(),
        &["runbook", "-e", "prod-dr", "--check", "RUNBOOK.md"],
    );
    // `--check` reads the file relative to the working directory; this one is not it.
    assert_ne!(code, 0, "{stderr}");
    let check = dir.path().join("RUNBOOK.md").display().to_string();
    let (code, _, stderr) = drplan(dir.path(), &["runbook", "-e", "prod-dr", "--check", &check]);
    assert_eq!(code, 0, "the committed runbook is current: {stderr}");

    // Restores take 45 minutes now: the restore step and the totals change.
    let backups = dir.path().join("specs/backups.hcl");
    let text = std::fs::read_to_string(&backups).expect("read");
    let edited = text.replacen(
        "backup \"neo4j\" {",
        "backup \"neo4j\" {\n  restore_estimate = \"45m\"",
        1,
    );
    assert_ne!(edited, text);
    std::fs::write(&backups, edited).expect("write");
    let (code, stdout, stderr) =
        drplan(dir.path(), &["runbook", "-e", "prod-dr", "--check", &check]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains("is stale (changed steps: backup.neo4j.placement.dr.job.restore)"),
        "{stderr}"
    );
    assert!(
        stdout.contains("+- **`backup.neo4j.placement.dr.job.restore`**"),
        "{stdout}"
    );
    assert!(
        stdout.contains("(~45m, `backup.neo4j.restore_estimate`)"),
        "{stdout}"
    );
}

/// Issue 18: the DR mirror is written once, but a change to one site only (the
/// primary's cluster upgraded, DR left behind: the classic failed failover) is still
/// possible through an expression; `validate` warns about the DR mirror, exit 0.
#[test]
fn validate_warns_when_only_the_primary_cluster_is_upgraded() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/link-app"),
        dir.path(),
    );
    let clusters = dir.path().join("specs/clusters.hcl");
    let text = std::fs::read_to_string(&clusters).expect("read clusters.hcl");
    let upgraded = text.replacen(
        "version  = var.cluster_version",
        "version  = each.key == \"primary\" ? \"1.30\" : var.cluster_version",
        1,
    );
    assert_ne!(upgraded, text, "the cluster block's version line");
    std::fs::write(&clusters, upgraded).expect("write clusters.hcl");
    let (code, _, stderr) = drplan(dir.path(), &["validate", "-e", "prod"]);
    assert_eq!(code, 0, "a warning, not an error: {stderr}");
    assert!(
        stderr.contains("cluster.dr differs from its mirror cluster.primary in `version`"),
        "{stderr}"
    );
    assert!(stderr.contains("specs/clusters.hcl:"), "{stderr}");
}
