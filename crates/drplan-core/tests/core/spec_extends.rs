//! `extends = "<env>"` (issue 18): prod-dr is prod with the DR site active, written
//! once, so it cannot lag prod.

use crate::spec_support::*;
use drplan_core::model::Project;
use drplan_core::spec;

const SPEC: &str = r#"
variable "replicas" {
  type = number
}
variable "image" {
  type = string
}
"#;

const PROD: &str = r#"stack      = "shop"
account_id = "123456789012"

variables {
  replicas = 2
  image    = "registry/app:1.0"
}

lock {
  bucket = "shop-locks"
  region = "us-east-1"
}
"#;

fn load_env(files: &[(&str, &str)], env: &str) -> Result<Project, String> {
    let text = format!("{BASE}{SPEC}");
    let mut all = vec![("specs/main.hcl", text.as_str())];
    all.extend_from_slice(files);
    let dir = write(&all);
    spec::load_project(dir.path(), env).map_err(|d| d.render(false, 120))
}

#[test]
fn an_environment_that_extends_prod_overrides_only_what_it_writes() {
    let dr = "extends     = \"prod\"\nactive_site = \"dr\"\n\nvariables {\n  replicas = 6\n}\n";
    let p = load_env(
        &[
            ("environments/prod.hcl", PROD),
            ("environments/prod-dr.hcl", dr),
        ],
        "prod-dr",
    )
    .expect("loads");
    assert_eq!(p.environment.stack, "shop");
    assert_eq!(p.environment.account_id.as_deref(), Some("123456789012"));
    assert_eq!(p.environment.active_site, "dr");
    assert_eq!(p.topology.variables["replicas"].value, serde_json::json!(6));
    assert_eq!(
        p.topology.variables["image"].value,
        serde_json::json!("registry/app:1.0"),
        "a release promoted to prod is prod-dr's too"
    );
    assert_eq!(
        p.environment.lock.as_ref().map(|l| l.bucket.as_str()),
        Some("shop-locks")
    );
}

#[test]
fn an_inherited_cluster_access_for_no_cluster_is_reported_in_the_base_file() {
    let prod = format!("{PROD}\ncluster_access \"app\" {{\n  context = \"shop-app\"\n}}\n");
    let dr = "extends = \"prod\"\nactive_site = \"dr\"\n";
    let err = load_env(
        &[
            ("environments/prod.hcl", &prod),
            ("environments/prod-dr.hcl", dr),
        ],
        "prod-dr",
    )
    .expect_err("refused");
    assert!(
        err.contains("cluster_access \"app\" names no cluster"),
        "{err}"
    );
    assert!(err.contains("environments/prod.hcl:"), "{err}");
}

#[test]
fn a_chain_of_extends_resolves_nearest_first() {
    let staging = "extends = \"prod\"\nstack = \"shop-staging\"\nvariables {\n  replicas = 1\n}\n";
    let drill = "extends = \"staging\"\nactive_site = \"dr\"\n";
    let p = load_env(
        &[
            ("environments/prod.hcl", PROD),
            ("environments/staging.hcl", staging),
            ("environments/drill.hcl", drill),
        ],
        "drill",
    )
    .expect("loads");
    assert_eq!(p.environment.stack, "shop-staging");
    assert_eq!(p.topology.variables["replicas"].value, serde_json::json!(1));
    assert_eq!(
        p.topology.variables["image"].value,
        serde_json::json!("registry/app:1.0")
    );
}

#[test]
fn extends_in_a_cycle_is_an_error_naming_the_chain() {
    let a = "extends = \"b\"\n";
    let b = "extends = \"a\"\nstack = \"shop\"\n";
    let err = load_env(&[("environments/a.hcl", a), ("environments/b.hcl", b)], "a")
        .expect_err("refused");
    assert!(err.contains("cycle: a -> b -> a"), "{err}");
    assert!(err.contains("environments/b.hcl:1"), "{err}");
}

#[test]
fn extending_a_missing_environment_suggests_the_near_one() {
    let dr = "extends = \"prd\"\nactive_site = \"dr\"\n";
    let err = load_env(
        &[
            ("environments/prod.hcl", PROD),
            ("environments/prod-dr.hcl", dr),
        ],
        "prod-dr",
    )
    .expect_err("refused");
    assert!(
        err.contains("extends `prd`, but there is no environments/prd.hcl"),
        "{err}"
    );
    assert!(err.contains("did you mean `prod`"), "{err}");
    assert!(err.contains("environments/prod-dr.hcl:1"), "{err}");
}

#[test]
fn an_inherited_bad_value_is_reported_in_the_file_that_holds_it() {
    let prod = PROD.replace("replicas = 2", "replicas = \"two\"");
    let dr = "extends = \"prod\"\nactive_site = \"dr\"\n";
    let err = load_env(
        &[
            ("environments/prod.hcl", &prod),
            ("environments/prod-dr.hcl", dr),
        ],
        "prod-dr",
    )
    .expect_err("refused");
    assert!(err.contains("expected a number"), "{err}");
    assert!(err.contains("environments/prod.hcl:5"), "{err}");
}

#[test]
fn the_examples_prod_dr_extends_prod_and_plans_the_same_resources() {
    for example in ["lanka-platform", "link-app"] {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples")
            .join(example);
        let text = std::fs::read_to_string(root.join("environments/prod-dr.hcl")).expect("read");
        assert!(text.contains("extends"), "{example}: prod-dr extends prod");
        let p = spec::load_project(&root, "prod-dr")
            .unwrap_or_else(|d| panic!("{}", d.render(false, 100)));
        assert_eq!(p.environment.active_site, "dr", "{example}");
        // The same project as prod.hcl written out again with the DR site active,
        // which is what prod-dr.hcl was before it extended prod.
        let copy = tempfile::tempdir().expect("tempdir");
        for sub in ["specs", "environments", "k8s"] {
            copy_tree(&root.join(sub), &copy.path().join(sub));
        }
        let prod = std::fs::read_to_string(root.join("environments/prod.hcl")).expect("read");
        std::fs::write(
            copy.path().join("environments/prod-dr.hcl"),
            format!("active_site = \"dr\"\n{prod}"),
        )
        .expect("write");
        let flat = spec::load_project(copy.path(), "prod-dr")
            .unwrap_or_else(|d| panic!("{}", d.render(false, 100)));
        assert_eq!(
            serde_json::to_value(&p.resources).expect("json"),
            serde_json::to_value(&flat.resources).expect("json"),
            "{example}: same resources and attributes"
        );
    }
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(from) else {
        return;
    };
    std::fs::create_dir_all(to).expect("mkdir");
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            copy_tree(&path, &to.join(e.file_name()));
        } else {
            std::fs::copy(&path, to.join(e.file_name())).expect("copy");
        }
    }
}
