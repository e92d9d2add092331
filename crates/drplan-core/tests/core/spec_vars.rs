//! Variable values from outside the environment file (issue 18): `--var-file`,
//! `--var` and `DRPLAN_VAR_<name>`, with Terraform's precedence, and diagnostics that
//! point into the source that gave the value without quoting a secret.

use crate::spec_support::*;
use drplan_core::model::environment::{VarFile, VarInputs};
use drplan_core::model::Project;
use drplan_core::spec;

const SPEC: &str = r#"
variable "replicas" {
  type    = number
  default = 1
}
variable "image" {
  type = string
}
variable "zones" {
  type    = list(string)
  default = []
}
variable "db_password" {
  type      = string
  sensitive = true
  default   = "from-default"
}
"#;

const ENV_FILE: &str = r#"stack = "test"
variables {
  image    = "registry/app:1.0"
  replicas = 2
}
"#;

fn project_dir() -> tempfile::TempDir {
    let text = format!("{BASE}{SPEC}");
    write(&[
        ("specs/main.hcl", &text),
        ("environments/test.hcl", ENV_FILE),
    ])
}

fn load_with(dir: &tempfile::TempDir, vars: &VarInputs) -> Result<Project, String> {
    spec::load_project_with(dir.path(), "test", vars).map_err(|d| d.render(false, 120))
}

fn var(p: &Project, name: &str) -> serde_json::Value {
    p.topology.variables[name].value.clone()
}

fn var_file(dir: &tempfile::TempDir, name: &str, text: &str) -> VarFile {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write var file");
    VarFile {
        shown: name.to_string(),
        path,
    }
}

#[test]
fn precedence_is_process_then_environment_file_then_var_files_then_var_flags() {
    let dir = project_dir();
    let vars = VarInputs {
        process: vec![
            ("replicas".into(), "9".into()),
            ("db_password".into(), "from-process".into()),
        ],
        ..VarInputs::default()
    };
    let p = load_with(&dir, &vars).expect("loads");
    // The environment file sets replicas: it wins over DRPLAN_VAR_.
    assert_eq!(var(&p, "replicas"), serde_json::json!(2));
    // It does not set db_password: DRPLAN_VAR_ wins over the spec's default.
    assert_eq!(var(&p, "db_password"), serde_json::json!("from-process"));

    let vars = VarInputs {
        files: vec![
            var_file(
                &dir,
                "a.tfvars",
                "replicas = 3\nimage = \"registry/app:2.0\"\n",
            ),
            var_file(&dir, "b.tfvars", "replicas = 4\n"),
        ],
        flags: vec!["replicas=5".into()],
        process: vec![("replicas".into(), "9".into())],
        secrets: Vec::new(),
    };
    let p = load_with(&dir, &vars).expect("loads");
    assert_eq!(var(&p, "replicas"), serde_json::json!(5), "--var wins");
    assert_eq!(
        var(&p, "image"),
        serde_json::json!("registry/app:2.0"),
        "a later var file wins over the environment file"
    );
    let vars = VarInputs {
        flags: Vec::new(),
        ..vars
    };
    let p = load_with(&dir, &vars).expect("loads");
    assert_eq!(
        var(&p, "replicas"),
        serde_json::json!(4),
        "the later var file wins"
    );
}

#[test]
fn a_var_flag_is_text_for_a_string_and_hcl_for_a_list() {
    let dir = project_dir();
    let vars = VarInputs {
        flags: vec![
            "image=registry/${not_a_ref}:\"3\"".into(),
            r#"zones=["us-east-1a", "us-east-1b"]"#.into(),
        ],
        ..VarInputs::default()
    };
    let p = load_with(&dir, &vars).expect("loads");
    assert_eq!(
        var(&p, "image"),
        serde_json::json!("registry/${not_a_ref}:\"3\"")
    );
    assert_eq!(
        var(&p, "zones"),
        serde_json::json!(["us-east-1a", "us-east-1b"])
    );
}

#[test]
fn a_misspelled_var_flag_is_an_error_naming_the_flag_with_a_suggestion() {
    let dir = project_dir();
    let vars = VarInputs {
        flags: vec!["replicsa=3".into(), "no-equals-sign".into()],
        ..VarInputs::default()
    };
    let err = load_with(&dir, &vars).expect_err("refused");
    assert!(
        err.contains("environment sets `replicsa`") || err.contains("`replicsa`"),
        "{err}"
    );
    assert!(err.contains("--var replicsa"), "{err}");
    assert!(err.contains("replicas"), "did you mean: {err}");
    assert!(
        err.contains("`--var no-equals-sign` is not name=value"),
        "{err}"
    );
}

#[test]
fn a_wrong_type_in_a_var_file_points_at_its_line() {
    let dir = project_dir();
    let vars = VarInputs {
        files: vec![var_file(&dir, "prod.tfvars", "\nreplicas = \"many\"\n")],
        ..VarInputs::default()
    };
    let err = load_with(&dir, &vars).expect_err("refused");
    assert!(
        err.contains("variable \"replicas\": expected a number"),
        "{err}"
    );
    assert!(err.contains("prod.tfvars:2"), "{err}");
}

#[test]
fn a_secret_given_by_the_process_or_a_flag_is_never_quoted_in_a_diagnostic() {
    let dir = project_dir();
    // As TF_VAR_: a DRPLAN_VAR_ the spec does not declare is not this project's.
    let vars = VarInputs {
        process: vec![("db_pasword".into(), "hunter2-process".into())],
        ..VarInputs::default()
    };
    let p = load_with(&dir, &vars).expect("an undeclared DRPLAN_VAR_ is ignored");
    assert!(
        !format!("{p:?}").contains("hunter2"),
        "Debug of a project shows no value given outside files"
    );
    {
        let vars = VarInputs {
            flags: vec![
                "db_pasword=hunter2-flag".into(),
                "db_password=hunter2-flag-sensitive".into(),
            ],
            ..VarInputs::default()
        };
        let err = load_with(&dir, &vars).expect_err("refused");
        assert!(!err.contains("hunter2"), "{err}");
        assert!(!format!("{vars:?}").contains("hunter2"), "{vars:?}");
        assert!(err.contains("db_pasword"), "{err}");
        assert!(
            err.contains("--var db_pasword") || err.contains("DRPLAN_VAR_db_pasword"),
            "{err}"
        );
    }
}

#[test]
fn a_missing_var_file_is_an_error_naming_it() {
    let dir = project_dir();
    let vars = VarInputs {
        files: vec![VarFile {
            shown: "nope.tfvars".into(),
            path: dir.path().join("nope.tfvars"),
        }],
        ..VarInputs::default()
    };
    let err = load_with(&dir, &vars).expect_err("refused");
    assert!(err.contains("cannot read --var-file nope.tfvars"), "{err}");
}

#[test]
fn the_second_evaluation_for_the_rto_keeps_the_command_line_values() {
    let dir = project_dir();
    let vars = VarInputs {
        flags: vec!["replicas=7".into()],
        ..VarInputs::default()
    };
    let p = load_with(&dir, &vars).expect("loads");
    let again = spec::reload_with_active_site(&p, "dr").expect("reloads");
    assert_eq!(var(&again, "replicas"), serde_json::json!(7));
}

fn load_env_text(env: &str, vars: &VarInputs) -> Result<Project, String> {
    let text = format!("{BASE}{SPEC}");
    let dir = write(&[("specs/main.hcl", &text), ("environments/test.hcl", env)]);
    spec::load_project_with(dir.path(), "test", vars).map_err(|d| d.render(false, 120))
}

#[test]
fn a_secret_block_takes_the_value_read_for_it_and_a_stand_in_offline() {
    let env = format!(
        "{ENV_FILE}\nsecret \"db_password\" {{\n  ssm_parameter = \"/shop/db\"\n  region        = \"us-east-1\"\n}}\n"
    );
    let offline = load_env_text(&env, &VarInputs::default()).expect("loads offline");
    assert_eq!(
        var(&offline, "db_password"),
        serde_json::json!("(not read: SSM parameter /shop/db in us-east-1)")
    );
    let read = VarInputs {
        secrets: vec![("db_password".into(), "hunter2-store".into())],
        ..VarInputs::default()
    };
    let p = load_env_text(&env, &read).expect("loads");
    assert_eq!(var(&p, "db_password"), serde_json::json!("hunter2-store"));
    assert!(!format!("{:?}", p.vars).contains("hunter2"));
    let dir = write(&[
        ("specs/main.hcl", &format!("{BASE}{SPEC}")),
        ("environments/test.hcl", &env),
    ]);
    let refs = spec::secret_references(dir.path(), "test");
    assert_eq!(refs.len(), 1);
    assert_eq!(refs[0].to_string(), "SSM parameter /shop/db in us-east-1");
}

#[test]
fn secret_blocks_that_cannot_be_read_are_errors_with_spans() {
    let env = format!(
        "{ENV_FILE}
secret \"db_password\" {{
  ssm_parameter   = \"/a\"
  secrets_manager = \"b\"
  region          = \"us-east-1\"
}}
secret \"image\" {{
  secrets_manager = \"shop/image\"
  region          = \"us-east-1\"
}}
secret \"replicas\" {{
  ssm_parameter = \"/r\"
  json_key      = \"x\"
  region        = \"us-east-1\"
}}
"
    );
    let err = load_env_text(&env, &VarInputs::default()).expect_err("refused");
    assert!(err.contains("a secret comes from one store"), "{err}");
    assert!(
        err.contains("json_key applies to Secrets Manager secrets"),
        "{err}"
    );
    assert!(
        err.contains("variable `image` is set in `variables` and by a `secret` block"),
        "{err}"
    );
    assert!(err.contains("environments/test.hcl:"), "{err}");
}

#[test]
fn a_variable_read_from_a_secret_store_must_be_declared_sensitive() {
    let env = "stack = \"test\"\nvariables {\n  replicas = 2\n}\nsecret \"image\" {\n  secrets_manager = \"shop/image\"\n  region          = \"us-east-1\"\n}\n";
    let read = VarInputs {
        secrets: vec![("image".into(), "hunter2-image".into())],
        ..VarInputs::default()
    };
    let err = load_env_text(env, &read).expect_err("refused");
    assert!(
        err.contains("variable `image` is read from a secret store but is not declared sensitive"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
}
