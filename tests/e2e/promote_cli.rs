//! `drplan promote` end to end: exit codes, what goes to stdout (the diff only), what
//! is written, and the refusals (objectives breached, drift in the source's live
//! cloud, a live cloud that cannot be read).

use crate::support::cli::{drplan, explain, stderr, stdout};
use crate::support::clusters::Clusters;
use crate::support::moto::MotoServer;
use crate::support::outofband;
use assert_cmd::Command;
use std::path::Path;

fn scratch() -> tempfile::TempDir {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/drplan-core/tests/promote_fixture");
    let dir = tempfile::tempdir().expect("tempdir");
    for sub in ["specs", "environments"] {
        std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        for entry in std::fs::read_dir(fixture.join(sub)).expect("fixture dir") {
            let entry = entry.expect("entry");
            std::fs::copy(entry.path(), dir.path().join(sub).join(entry.file_name()))
                .expect("copy");
        }
    }
    // Reading staging's live state includes its cluster's Kubernetes API: the test's
    // API server, through a kubeconfig context.
    let staging = dir.path().join("environments/staging.hcl");
    let mut text = std::fs::read_to_string(&staging).expect("read staging.hcl");
    text.push_str("\ncluster_access \"primary\" {\n  context = \"shop-staging-primary\"\n}\n");
    std::fs::write(&staging, text).expect("write staging.hcl");
    dir
}

const PROMOTE: [&str; 5] = ["promote", "--from", "staging", "--to", "prod"];

fn promote(moto: &MotoServer, root: &Path, extra: &[&str]) -> std::process::Output {
    let args: Vec<&str> = PROMOTE.iter().chain(extra).copied().collect();
    drplan(moto, root, &args)
}

/// A fresh emulator (and cluster API) holding the staging environment as its spec
/// says.
async fn staging_applied(root: &Path) -> (MotoServer, Clusters) {
    let clusters = Clusters::start(&["shop-staging-primary"]).await;
    let moto = MotoServer::start();
    moto.add_cli_env(clusters.env());
    let out = drplan(&moto, root, &["apply", "-e", "staging", "--auto-approve"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "apply -e staging: {}",
        explain(&out)
    );
    (moto, clusters)
}

fn prod_file(root: &Path) -> String {
    std::fs::read_to_string(root.join("environments/prod.hcl")).expect("read prod.hcl")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shows_the_diff_then_writes_it() {
    let dir = scratch();
    let (moto, _clusters) = staging_applied(dir.path()).await;
    let before = prod_file(dir.path());

    let shown = promote(&moto, dir.path(), &[]);
    assert_eq!(
        shown.status.code(),
        Some(2),
        "changes shown, not written: {}",
        explain(&shown)
    );
    let diff = stdout(&shown);
    assert!(
        diff.starts_with("--- a/environments/prod.hcl\n+++ b/environments/prod.hcl\n"),
        "{diff}"
    );
    assert!(
        diff.contains("+  api_image_tag = \"v2.4.0-rc1\"\n"),
        "{diff}"
    );
    assert!(
        stderr(&shown).contains("staging is in sync with its spec."),
        "{}",
        explain(&shown)
    );
    assert_eq!(
        prod_file(dir.path()),
        before,
        "nothing written without --write"
    );

    let written = promote(&moto, dir.path(), &["--write"]);
    assert_eq!(written.status.code(), Some(0), "{}", explain(&written));
    let after = prod_file(dir.path());
    assert!(after.contains("# Pinned until the 1.30 soak in staging is over."));
    assert!(after.contains("cluster_version = \"1.30\" # keep in step with the DR runbook"));
    // Then the target's plan: prod is not deployed in this emulator, so all of it is
    // to create, with the promoted image tag in it.
    let shown = stdout(&written);
    assert!(
        shown.starts_with("--- a/environments/prod.hcl\n"),
        "{shown}"
    );
    let plan = &shown[shown.find("\n\n").map_or(0, |i| i + 2)..];
    assert!(
        plan.contains("Plan: "),
        "no plan after the diff: {}",
        explain(&written)
    );
    assert!(
        plan.contains("to add, 0 to change, 0 to destroy."),
        "{plan}"
    );
    assert!(
        stderr(&written).contains("The plan of prod with the promoted values:"),
        "{}",
        explain(&written)
    );

    let again = promote(&moto, dir.path(), &[]);
    assert_eq!(again.status.code(), Some(0), "{}", explain(&again));
    assert!(again.stdout.is_empty());
    assert!(stderr(&again).contains("Nothing to promote"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_a_source_with_drift_unless_forced() {
    let dir = scratch();
    let (moto, _clusters) = staging_applied(dir.path()).await;
    let staging = drplan_core::spec::load_project(dir.path(), "staging")
        .unwrap_or_else(|d| panic!("{}", d.render(false, 100)));
    let nodes = staging
        .resources
        .iter()
        .find(|r| r.address.as_str() == "cluster.primary.node_group.general")
        .expect("the fixture's node group");
    // Someone scaled staging's nodes by hand: what runs there is no longer the spec.
    outofband::set_node_group_desired_size(&moto, nodes, 3)
        .await
        .unwrap_or_else(|e| panic!("scaling by hand: {e}"));
    let before = prod_file(dir.path());

    let refused = promote(&moto, dir.path(), &["--write"]);
    assert_eq!(refused.status.code(), Some(1), "{}", explain(&refused));
    let text = stderr(&refused);
    assert!(text.contains("staging has drift"), "{text}");
    assert!(
        text.contains("  ~ cluster.primary.node_group.general\n"),
        "{text}"
    );
    assert!(text.contains("Refusing to promote from staging"), "{text}");
    assert!(
        refused.stdout.is_empty(),
        "no diff is shown for a refused source: {}",
        explain(&refused)
    );
    assert_eq!(prod_file(dir.path()), before, "nothing written");

    let forced = promote(&moto, dir.path(), &["--write", "--force"]);
    assert_eq!(forced.status.code(), Some(0), "{}", explain(&forced));
    assert!(
        stderr(&forced).contains("Not checking staging for drift (--force)."),
        "{}",
        explain(&forced)
    );
    assert!(prod_file(dir.path()).contains("api_image_tag = \"v2.4.0-rc1\""));
}

/// No cloud to read is no proof of being in sync.
#[test]
fn a_source_whose_cloud_cannot_be_read_is_refused_as_an_error() {
    let dir = scratch();
    let out = Command::cargo_bin("drplan")
        .expect("drplan binary")
        .env("NO_COLOR", "1")
        // Nothing listens on port 9: every request is refused at once.
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .arg("-C")
        .arg(dir.path())
        .args(PROMOTE)
        .arg("--write")
        .output()
        .expect("run drplan");
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    let text = stderr(&out);
    assert!(text.contains("cannot check staging for drift"), "{text}");
    assert!(text.contains("--force"), "{text}");
    assert!(
        !prod_file(dir.path()).contains("v2.4.0-rc1"),
        "nothing written"
    );
}

/// The objectives are a property of the spec: this refusal needs no cloud, and
/// `--force` skips the drift check too, so neither run reads AWS.
#[test]
fn refuses_a_source_that_breaches_its_objectives_unless_forced() {
    let dir = scratch();
    std::fs::write(
        dir.path().join("specs/objectives.hcl"),
        "objectives {\n  component \"orders\" {\n    rpo = \"1h\"\n  }\n}\n",
    )
    .expect("write objectives");
    let offline = |extra: &[&str]| {
        Command::cargo_bin("drplan")
            .expect("drplan binary")
            .env("NO_COLOR", "1")
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .arg("-C")
            .arg(dir.path())
            .args(PROMOTE)
            .args(extra)
            .output()
            .expect("run drplan")
    };

    let refused = offline(&["--write"]);
    assert_eq!(refused.status.code(), Some(3), "{}", explain(&refused));
    let text = stderr(&refused);
    assert!(text.contains("no backup policy, RPO 1h"), "{text}");
    assert!(text.contains("Refusing to promote from staging"), "{text}");
    assert!(!prod_file(dir.path()).contains("v2.4.0-rc1"));

    let forced = offline(&["--write", "--force"]);
    assert_eq!(forced.status.code(), Some(0), "{}", explain(&forced));
    let text = stderr(&forced);
    assert!(
        text.contains("Promoting despite the breached objectives (--force)."),
        "{text}"
    );
    assert!(
        text.contains("Not checking staging for drift (--force)."),
        "{text}"
    );
    assert!(prod_file(dir.path()).contains("v2.4.0-rc1"));
}
