//! Variable values from outside the environment file (issue 18), through the real
//! binary: the root project with `db_password` removed from its environment file, the
//! password given as `DRPLAN_VAR_db_password` (and rotated with `--var`), a size from
//! a `--var-file`. The password reaches the bucket tag it flows into (read back from
//! moto) and appears in no output.

use crate::secrets_e2e::{
    assert_no_password, project_without_password, rotation_tag, world, NEW, OLD,
};
use crate::support::cli::{explain, stdout};
use crate::support::moto::MotoServer;
use assert_cmd::Command;
use std::path::Path;
use std::process::Output;

fn run(moto: &MotoServer, root: &Path, env: &[(&str, &str)], args: &[&str], code: i32) -> Output {
    let mut cmd = Command::cargo_bin("drplan").expect("drplan binary");
    cmd.envs(moto.env_for_cli())
        .env("NO_COLOR", "1")
        .env_remove("DRPLAN_VAR_db_password");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .current_dir(root)
        .args(args)
        .output()
        .expect("run drplan");
    let what = args.join(" ");
    assert_eq!(out.status.code(), Some(code), "{what}: {}", explain(&out));
    assert_no_password(&what, &out);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_from_drplan_var_and_var_flags_is_applied_and_shown_nowhere() {
    let dir = project_without_password("");
    let root = dir.path();
    let (moto, _clusters) = world().await;

    let missing = run(&moto, root, &[], &["plan", "-e", "prod"], 1);
    assert!(
        explain(&missing).contains("variable \"db_password\" has no default"),
        "{}",
        explain(&missing)
    );

    let from_process = [("DRPLAN_VAR_db_password", OLD)];
    run(
        &moto,
        root,
        &from_process,
        &["apply", "-e", "prod", "--auto-approve"],
        0,
    );
    assert_eq!(rotation_tag(&moto).await, Some(format!("pw-{OLD}")));
    run(
        &moto,
        root,
        &from_process,
        &["plan", "-e", "prod", "--detailed-exitcode"],
        0,
    );

    // --var wins over DRPLAN_VAR_; a --var-file (relative to the working directory)
    // sets a size.
    std::fs::write(root.join("bigger.tfvars"), "api_replicas = 5\n").expect("write var file");
    let var = format!("db_password={NEW}");
    let args = [
        "plan",
        "-e",
        "prod",
        "--detailed-exitcode",
        "--var",
        &var,
        "--var-file",
        "bigger.tfvars",
    ];
    let plan = stdout(&run(&moto, root, &from_process, &args, 2));
    assert!(
        plan.contains("~ bucket.backups (aws_s3_bucket) will be updated in place"),
        "{plan}"
    );
    assert!(plan.contains("(sensitive value)"), "{plan}");
    assert!(
        plan.contains("kubernetes.primary.Deployment.shop.shop-api"),
        "the var file's replicas reach the Deployment:\n{plan}"
    );
    let saved = root.join("rotate.plan").display().to_string();
    let mut with_out = args.to_vec();
    with_out.extend(["--out", &saved]);
    run(&moto, root, &from_process, &with_out, 2);
    let file = std::fs::read_to_string(&saved).expect("read the saved plan");
    assert!(
        !file.contains(NEW) && !file.contains(OLD),
        "the saved plan holds a password"
    );

    // Applying the file without the same inputs is refused as stale, naming them.
    let stale = run(&moto, root, &from_process, &["apply", &saved], 1);
    assert!(
        explain(&stale).contains("--var/--var-file"),
        "{}",
        explain(&stale)
    );
    run(
        &moto,
        root,
        &from_process,
        &[
            "apply",
            &saved,
            "--var",
            &var,
            "--var-file",
            "bigger.tfvars",
        ],
        0,
    );
    assert_eq!(rotation_tag(&moto).await, Some(format!("pw-{NEW}")));
    run(
        &moto,
        root,
        &[("DRPLAN_VAR_db_password", NEW)],
        &[
            "plan",
            "-e",
            "prod",
            "--detailed-exitcode",
            "--var-file",
            "bigger.tfvars",
        ],
        0,
    );
}

/// Issue 18: a sensitive variable read from SSM Parameter Store and one from Secrets
/// Manager (a JSON key), by reference in the environment file. The values reach the
/// cloud (the bucket tag, read back from moto) and appear in no output or plan file;
/// a missing secret is an error naming the reference.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_from_ssm_and_secrets_manager_are_applied_and_shown_nowhere() {
    let dir = project_without_password(
        "\nsecret \"db_password\" {\n  ssm_parameter = \"/shop/prod/db-password\"\n  region        = \"us-east-1\"\n}\n",
    );
    let root = dir.path();
    let env_file = root.join("environments/prod.hcl");
    let (moto, _clusters) = world().await;

    // Not there yet: the plan stops, naming the reference.
    let missing = run(&moto, root, &[], &["plan", "-e", "prod"], 1);
    let err = explain(&missing);
    assert!(
        err.contains("variable `db_password` from SSM parameter /shop/prod/db-password in us-east-1: not found"),
        "{err}"
    );
    // validate reads no cloud: a stand-in stands for the value.
    run(&moto, root, &[], &["validate", "-e", "prod"], 0);

    let ssm = aws_sdk_ssm::Client::new(&moto.sdk_config("us-east-1"));
    ssm.put_parameter()
        .name("/shop/prod/db-password")
        .value(OLD)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .expect("PutParameter");
    run(
        &moto,
        root,
        &[],
        &["apply", "-e", "prod", "--auto-approve"],
        0,
    );
    assert_eq!(rotation_tag(&moto).await, Some(format!("pw-{OLD}")));
    let saved = root.join("ssm.plan").display().to_string();
    run(
        &moto,
        root,
        &[],
        &["plan", "-e", "prod", "--detailed-exitcode", "--out", &saved],
        0,
    );
    let file = std::fs::read_to_string(&saved).expect("read the saved plan");
    assert!(!file.contains(OLD), "the saved plan holds the password");
    assert!(file.contains("/shop/prod/db-password") || !file.is_empty());

    // Rotated in Secrets Manager, as JSON: the same variable now read from there.
    let sm = aws_sdk_secretsmanager::Client::new(&moto.sdk_config("us-east-1"));
    sm.create_secret()
        .name("shop/prod/db")
        .secret_string(format!("{{\"username\":\"shop\",\"password\":\"{NEW}\"}}"))
        .send()
        .await
        .expect("CreateSecret");
    let text = std::fs::read_to_string(&env_file).expect("read prod.hcl");
    std::fs::write(
        &env_file,
        text.replace(
            "ssm_parameter = \"/shop/prod/db-password\"",
            "secrets_manager = \"shop/prod/db\"\n  json_key        = \"password\"",
        ),
    )
    .expect("write prod.hcl");
    let plan = stdout(&run(
        &moto,
        root,
        &[],
        &["plan", "-e", "prod", "--detailed-exitcode"],
        2,
    ));
    assert!(
        plan.contains("~ bucket.backups (aws_s3_bucket) will be updated in place"),
        "{plan}"
    );
    run(
        &moto,
        root,
        &[],
        &["apply", "-e", "prod", "--auto-approve"],
        0,
    );
    assert_eq!(rotation_tag(&moto).await, Some(format!("pw-{NEW}")));
    run(
        &moto,
        root,
        &[],
        &["plan", "-e", "prod", "--detailed-exitcode"],
        0,
    );
    for format in ["text", "json", "markdown"] {
        run(
            &moto,
            root,
            &[],
            &["drift", "-e", "prod", "--format", format],
            0,
        );
    }
}
