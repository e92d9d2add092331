//! Issue 21, "Secrets", end to end: the root project with its sensitive `db_password`
//! flowing into a bucket tag, a ConfigMap (through `upper()` in a local) and the backup
//! CronJobs' HOST env, applied to moto and the test clusters, then the password
//! rotated. Every output drplan makes — plan text, `--json`, the saved plan file,
//! `show`, drift in every format, promote, apply and diagnostics — is grepped for both
//! passwords and their derivations; apply still writes the real value.

use crate::support::cli::{drplan, explain, stdout};
use crate::support::clusters::Clusters;
use crate::support::files::copy_dir;
use crate::support::moto::MotoServer;
use std::path::{Path, PathBuf};
use std::process::Output;

pub(crate) const OLD: &str = "Old-Pass-1234";
pub(crate) const NEW: &str = "New-Secret-5678";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn edit(path: &Path, from: &str, to: &str) {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    assert!(text.contains(from), "{} has no {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1))
        .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

fn set_password(root: &Path, env: &str, from: &str, to: &str) {
    edit(
        &root.join(format!("environments/{env}.hcl")),
        &format!("db_password   = \"{from}\""),
        &format!("db_password   = \"{to}\""),
    );
}

/// The root project, with the password flowing into three places it did not reach.
pub(crate) fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    for sub in ["environments", "specs", "k8s"] {
        copy_dir(&repo_root().join(sub), &root.join(sub));
    }
    let specs = root.join("specs");
    edit(
        &specs.join("main.hcl"),
        "locals {",
        "locals {\n  db_shout  = upper(var.db_password)",
    );
    edit(
        &specs.join("storage.hcl"),
        "  name = \"${local.name}-backups-us-west-2\"\n",
        "  name = \"${local.name}-backups-us-west-2\"\n  tags = { owner = \"shop\", rotation = \"pw-${var.db_password}\" }\n",
    );
    edit(
        &specs.join("storage.hcl"),
        "host      = \"orders-db.${local.namespace}.svc\"",
        "host      = \"${lower(var.db_password)}.orders-db.${local.namespace}.svc\"",
    );
    edit(
        &specs.join("clusters.hcl"),
        "manifests = [\"k8s/shop-api.yaml\", \"k8s/orders-db.yaml\"]",
        "manifests = [\"k8s/shop-api.yaml\", \"k8s/orders-db.yaml\", \"k8s/app-config.yaml\"]",
    );
    std::fs::write(
        root.join("k8s/app-config.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\n  namespace: ${local.namespace}\ndata:\n  mode: strict\n  shout: \"${local.db_shout}\"\n",
    )
    .expect("write manifest");
    for env in ["prod", "prod-dr"] {
        set_password(root, env, "demo-only-not-a-secret", OLD);
    }
    dir
}

pub(crate) async fn world() -> (MotoServer, Clusters) {
    let moto = MotoServer::start();
    let s3 = moto.s3("us-east-1");
    s3.create_bucket()
        .bucket("shop-drplan-locks")
        .send()
        .await
        .expect("create the lock bucket");
    let clusters = Clusters::start(&["shop-primary", "shop-dr"]).await;
    moto.add_cli_env(clusters.env());
    (moto, clusters)
}

pub(crate) fn assert_no_password(what: &str, out: &Output) {
    let text = explain(out);
    for secret in [OLD, NEW] {
        for form in [
            secret.to_string(),
            secret.to_uppercase(),
            secret.to_lowercase(),
        ] {
            assert!(!text.contains(&form), "{what} shows `{form}`:\n{text}");
        }
    }
}

fn run(moto: &MotoServer, root: &Path, what: &str, args: &[&str], code: i32) -> Output {
    let out = drplan(moto, root, args);
    assert_eq!(out.status.code(), Some(code), "{what}: {}", explain(&out));
    assert_no_password(what, &out);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_and_its_derivations_appear_in_no_output_and_apply_still_writes_it() {
    let dir = project();
    let root = dir.path();
    let (moto, _clusters) = world().await;

    run(
        &moto,
        root,
        "plan before the first apply",
        &["plan", "-e", "prod"],
        0,
    );
    run(
        &moto,
        root,
        "apply",
        &["apply", "-e", "prod", "--auto-approve"],
        0,
    );
    run(
        &moto,
        root,
        "plan after apply",
        &["plan", "-e", "prod", "--detailed-exitcode"],
        0,
    );

    // Rotate the password: every place it flows into changes.
    set_password(root, "prod", OLD, NEW);
    let plan = run(
        &moto,
        root,
        "plan",
        &["plan", "-e", "prod", "--detailed-exitcode"],
        2,
    );
    let text = stdout(&plan);
    for changed in [
        "bucket.backups",
        "kubernetes.primary.ConfigMap.shop.app-config",
        "backup.orders_db.placement.primary.cronjob.full",
        "kubernetes.primary.Secret.shop.orders-db",
    ] {
        assert!(
            text.contains(&format!(
                "~ {changed} (kubernetes_object) will be updated in place"
            )) || text.contains(&format!(
                "~ {changed} (aws_s3_bucket) will be updated in place"
            )),
            "{changed} not updated:\n{text}"
        );
    }
    assert!(text.contains("(sensitive value)"), "{text}");
    let json = stdout(&run(
        &moto,
        root,
        "plan --json",
        &["plan", "-e", "prod", "--json"],
        0,
    ));
    assert!(
        json.contains("\"owner\": \"shop\"") && json.contains("\"mode\": \"strict\""),
        "what is not secret still shows:\n{json}"
    );
    let saved = root.join("rotate.plan");
    let saved_arg = saved.display().to_string();
    run(
        &moto,
        root,
        "plan --out",
        &["plan", "-e", "prod", "--out", &saved_arg],
        0,
    );
    let file = std::fs::read_to_string(&saved).expect("read the saved plan");
    for form in [
        NEW,
        OLD,
        &NEW.to_uppercase(),
        &OLD.to_uppercase(),
        &NEW.to_lowercase(),
        &OLD.to_lowercase(),
    ] {
        assert!(!file.contains(form), "the saved plan holds `{form}`");
    }
    run(&moto, root, "show", &["show", &saved_arg], 0);
    run(
        &moto,
        root,
        "show --json",
        &["show", &saved_arg, "--json"],
        0,
    );
    for format in ["text", "json", "markdown"] {
        run(
            &moto,
            root,
            &format!("drift --format {format}"),
            &["drift", "-e", "prod", "--format", format],
            2,
        );
    }

    // promote's diff of prod-dr.hcl has its db_password line as context.
    edit(
        &root.join("environments/prod.hcl"),
        "api_image_tag = \"1.0.0\"",
        "api_image_tag = \"1.0.1\"",
    );
    let promoted = run(
        &moto,
        root,
        "promote --force",
        &["promote", "--from", "prod", "--to", "prod-dr", "--force"],
        2,
    );
    assert!(
        stdout(&promoted).contains(" db_password   = (sensitive value)"),
        "{}",
        explain(&promoted)
    );
    edit(
        &root.join("environments/prod.hcl"),
        "api_image_tag = \"1.0.1\"",
        "api_image_tag = \"1.0.0\"",
    );

    // Diagnostics on the environment file: a misspelled name, a wrong type.
    let prod = std::fs::read_to_string(root.join("environments/prod.hcl")).expect("read prod");
    std::fs::write(
        root.join("environments/typo.hcl"),
        prod.replace("db_password   =", "db_pasword    ="),
    )
    .expect("write typo");
    run(
        &moto,
        root,
        "validate with a misspelled name",
        &["validate", "-e", "typo"],
        1,
    );
    std::fs::write(
        root.join("environments/typo.hcl"),
        prod.replace(&format!("\"{NEW}\""), &format!("[\"{NEW}\"]")),
    )
    .expect("write typo");
    run(
        &moto,
        root,
        "validate with a wrong type",
        &["validate", "-e", "typo"],
        1,
    );
    std::fs::remove_file(root.join("environments/typo.hcl")).expect("remove typo");

    // Apply takes the real values from the spec.
    run(&moto, root, "apply FILE", &["apply", &saved_arg], 0);
    assert_eq!(rotation_tag(&moto).await, Some(format!("pw-{NEW}")));
    run(
        &moto,
        root,
        "plan after the rotation",
        &["plan", "-e", "prod", "--detailed-exitcode"],
        0,
    );
}

/// The `rotation` tag the password flows into, read back from moto.
pub(crate) async fn rotation_tag(moto: &MotoServer) -> Option<String> {
    let tags = moto
        .s3("us-west-2")
        .get_bucket_tagging()
        .bucket("shop-prod-backups-us-west-2")
        .send()
        .await
        .expect("tags");
    tags.tag_set()
        .iter()
        .find(|t| t.key() == "rotation")
        .map(|t| t.value().to_string())
}

/// The project of [`project`] with `db_password` taken out of prod.hcl, and `extra`
/// appended to it.
pub(crate) fn project_without_password(extra: &str) -> tempfile::TempDir {
    let dir = project();
    let env_file = dir.path().join("environments/prod.hcl");
    let text = std::fs::read_to_string(&env_file).expect("read prod.hcl");
    let line = format!("  db_password   = \"{OLD}\"\n");
    assert!(text.contains(&line), "{text}");
    std::fs::write(&env_file, text.replace(&line, "") + extra).expect("write prod.hcl");
    dir
}

const SECRET_ACCESS_KEY: &str = "drplan-trace-test-secret-key-9f3a";

/// The debug log (`DRPLAN_LOG`, issue 16) shows the requests — and never the secret
/// a plan and an apply carry, at the most verbose level, nor the AWS secret key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trace_log_shows_requests_and_no_secret() {
    let dir = project();
    let root = dir.path();
    let (moto, _clusters) = world().await;
    for args in [
        &["plan", "-e", "prod", "-v"][..],
        &["apply", "-e", "prod", "--auto-approve"][..],
    ] {
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("drplan"))
            .envs(moto.env_for_cli())
            .env("NO_COLOR", "1")
            .env("DRPLAN_LOG", "trace")
            // moto takes any key; a distinctive one to look for.
            .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
            .arg("-C")
            .arg(root)
            .args(args)
            .output()
            .expect("run drplan");
        assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
        assert_no_password(&format!("{args:?} with DRPLAN_LOG=trace"), &out);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("rpc.method=\"GetCallerIdentity\""),
            "the log shows the requests: {}",
            &err[..err.len().min(2000)]
        );
        if let Some(at) = err.find(SECRET_ACCESS_KEY) {
            let from = err[..at]
                .char_indices()
                .rev()
                .nth(300)
                .map(|(i, _)| i)
                .unwrap_or(0);
            panic!(
                "{args:?}: the AWS secret key is in the log: ...{}...",
                &err[from..(at + 100).min(err.len())]
            );
        }
        if args[0] == "plan" {
            assert!(
                err.contains("Caller: arn:aws:sts::123456789012:user/moto (account 123456789012); default region us-east-1; endpoint http://127.0.0.1:"),
                "-v names the caller: {}",
                &err[..err.len().min(2000)]
            );
        }
    }
}
