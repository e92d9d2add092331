//! Issue 21, "Secrets": a sensitive value stays hidden wherever it flows — a bucket
//! tag, a local made from it (`upper(var.db_password)`) interpolated into a ConfigMap,
//! a backup attribute that becomes a CronJob's env — in every rendering and the saved
//! plan, while the loaded resources keep the real values for apply.

use crate::spec_support::write;
use drplan_core::live::{LiveObject, LiveState};
use drplan_core::model::Project;
use drplan_core::plan::diff::{diff, DiffContext};
use drplan_core::plan::drift::DriftReport;
use drplan_core::plan::{file, Plan};
use drplan_core::render::{json, markdown, text};
use drplan_core::resource::Resource;
use drplan_core::spec;
use serde_json::Value;

const PASSWORD: &str = "hunter2-Sekret";
const OLD_PASSWORD: &str = "old-Pass-42";

const SPEC: &str = r#"
site "primary" {
  region = "us-west-2"
}
site "dr" {
  region = "us-east-1"
}

variable "db_password" {
  type      = string
  sensitive = true
}

locals {
  shouted = upper(var.db_password)
  common  = { team = "ops", hint = var.db_password }
}

network "primary" {
  site = site.primary
  cidr = "10.0.0.0/16"
  subnet "a" {
    availability_zone = "us-west-2a"
    cidr              = "10.0.0.0/20"
  }
}

cluster "primary" {
  site     = site.primary
  version  = "1.29"
  network  = network.primary
  role_arn = "arn:aws:iam::123456789012:role/eks-cluster"
}

bucket "backups" {
  site = site.primary
  name = "lanka-test-backups"
  tags = { team = "ops", secret_hint = "pw:${var.db_password}" }
}

bucket "logs" {
  site = site.primary
  name = "lanka-test-logs"
  tags = local.common
}

kubernetes "app" {
  cluster   = cluster.primary
  manifests = ["k8s/config.yaml"]
}

backup "pg" {
  engine    = "postgres"
  namespace = "data"
  host      = "pg-${lower(var.db_password)}.data.svc"
  full { schedule = "0 2 * * *" }
  placement "primary" {
    cluster = cluster.primary
    bucket  = bucket.backups
  }
}
"#;

const CONFIG: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\n  namespace: default\ndata:\n  plain: hello\n  password: \"${local.shouted}\"\n  url: \"postgres://app:${var.db_password}@db:5432/app\"\n";

fn env(password: &str) -> String {
    format!("stack = \"lanka-test\"\n\nvariables {{\n  db_password = \"{password}\"\n}}\n")
}

fn project() -> (tempfile::TempDir, Project) {
    let env = env(PASSWORD);
    let dir = write(&[
        ("specs/main.hcl", SPEC),
        ("environments/test.hcl", &env),
        ("k8s/config.yaml", CONFIG),
    ]);
    let project = match spec::load_project(dir.path(), "test") {
        Ok(p) => p,
        Err(d) => panic!("{}", d.render(false, 100)),
    };
    (dir, project)
}

fn resource<'a>(p: &'a Project, address: &str) -> &'a Resource {
    p.resources
        .iter()
        .find(|r| r.address.as_str() == address)
        .unwrap_or_else(|| panic!("no {address}"))
}

fn ctx() -> DiffContext {
    DiffContext {
        stack: "lanka-test".into(),
        environment: "test".into(),
        spec_digest: "d".into(),
        allow_destroy: Vec::new(),
        activated_site: None,
        imports: Vec::new(),
        replace: Vec::new(),
        removed: Vec::new(),
        site_regions: Default::default(),
    }
}

/// The live side as apply left it with the old password: every value made from the
/// password holds the old one's derivation.
fn live_with_old_password(p: &Project) -> LiveState {
    let objects = p
        .resources
        .iter()
        .map(|r| {
            let attrs = serde_json::to_string(&r.attrs)
                .unwrap_or_default()
                .replace(PASSWORD, OLD_PASSWORD)
                .replace(&PASSWORD.to_uppercase(), &OLD_PASSWORD.to_uppercase())
                .replace(&PASSWORD.to_lowercase(), &OLD_PASSWORD.to_lowercase());
            LiveObject {
                kind: r.kind,
                id: format!("live-{}", r.address),
                region: r.region.clone(),
                address: Some(r.address.clone()),
                stack: Some("lanka-test".into()),
                attrs: serde_json::from_str(&attrs).unwrap_or_default(),
            }
        })
        .collect();
    LiveState {
        objects,
        ..LiveState::default()
    }
}

/// Every form a leaked password could take in the outputs.
fn assert_no_secret(what: &str, output: &str) {
    for secret in [PASSWORD, OLD_PASSWORD] {
        for form in [
            secret.to_string(),
            secret.to_uppercase(),
            secret.to_lowercase(),
        ] {
            assert!(!output.contains(&form), "{what} shows `{form}`:\n{output}");
        }
    }
}

fn all_outputs(plan: &Plan) -> Vec<(&'static str, String)> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("plan.json");
    file::save(plan, &path).expect("save");
    let saved = std::fs::read_to_string(&path).expect("read");
    let reloaded = file::load(&path).expect("load");
    let report = DriftReport::from_plan(plan);
    let plain = text::TextOptions { color: false };
    vec![
        ("plan text", text::plan(plan, &plain)),
        ("plan json", json::plan(plan)),
        ("saved plan", saved),
        ("show", text::plan(&reloaded, &plain)),
        ("show --json", json::plan(&reloaded)),
        ("drift text", text::drift(&report, &plain)),
        ("drift json", json::drift(&report)),
        ("drift markdown", markdown::drift(&report)),
    ]
}

#[test]
fn a_sensitive_value_in_a_bucket_tag_a_configmap_and_a_cronjob_env_is_never_printed() {
    let (_dir, p) = project();
    // Creates: everything is new.
    let created = diff(&p.resources, &LiveState::default(), &ctx());
    // Updates: the live side holds the old password's derivations.
    let updated = diff(&p.resources, &live_with_old_password(&p), &ctx());
    assert!(
        updated.has_changes(),
        "the password change must show as a change"
    );
    for plan in [&created, &updated] {
        for (what, output) in all_outputs(plan) {
            assert_no_secret(what, &output);
        }
    }
}

#[test]
fn only_the_fields_made_from_the_secret_are_marked() {
    let (_dir, p) = project();
    let bucket = resource(&p, "bucket.backups");
    assert_eq!(bucket.sensitive, ["tags.secret_hint"]);
    let logs = resource(&p, "bucket.logs");
    assert_eq!(logs.sensitive, ["tags.hint"]);
    let config = resource(&p, "kubernetes.app.ConfigMap.default.app-config");
    assert_eq!(
        config.sensitive,
        ["manifest.data.password", "manifest.data.url"]
    );
    let cron = resource(&p, "backup.pg.placement.primary.cronjob.full");
    assert!(
        cron.sensitive
            .iter()
            .any(|s| s.ends_with("Containers.env.value") || s.ends_with(".containers.env.value")),
        "the HOST env of the backup container comes from the password: {:?}",
        cron.sensitive
    );
    // Nothing else: the cluster, the network and the ConfigMap's other fields show.
    for clean in [
        "cluster.primary",
        "network.primary",
        "network.primary.subnet.a",
    ] {
        assert!(resource(&p, clean).sensitive.is_empty(), "{clean}");
    }
}

#[test]
fn apply_still_gets_the_real_values() {
    let (_dir, p) = project();
    let bucket = resource(&p, "bucket.backups");
    assert_eq!(
        bucket.attrs["tags"]["secret_hint"],
        Value::from(format!("pw:{PASSWORD}"))
    );
    let config = resource(&p, "kubernetes.app.ConfigMap.default.app-config");
    assert_eq!(
        config.attrs["manifest"]["data"]["password"],
        Value::from(PASSWORD.to_uppercase())
    );
    assert_eq!(
        config.attrs["manifest"]["data"]["plain"],
        Value::from("hello")
    );
}

#[test]
fn an_object_named_after_a_secret_is_refused() {
    let named = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"cm-${local.shouted}\"\n  namespace: default\ndata:\n  a: b\n";
    let env = env("abc");
    let dir = write(&[
        ("specs/main.hcl", SPEC),
        ("environments/test.hcl", &env),
        ("k8s/config.yaml", named),
    ]);
    let Err(diags) = spec::load_project(dir.path(), "test") else {
        panic!("an object named after a secret must be refused")
    };
    let rendered = diags.render(false, 100);
    assert!(
        rendered.contains("derives from a sensitive value"),
        "{rendered}"
    );
    assert!(!rendered.contains("ABC"), "{rendered}");
}
