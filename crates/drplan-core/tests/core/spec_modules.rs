//! Modules (issue 18): a folder of blocks instantiated with inputs, its blocks
//! addressed `<kind>.<module>_<label>`, its instances mirrors of each other.

use crate::plan_fixture::{ctx, live, owned};
use crate::spec_support::*;
use drplan_core::address::Address;
use drplan_core::model::Project;
use drplan_core::plan::diff::diff_with_moves;
use drplan_core::plan::Action;
use drplan_core::spec::Diagnostics;

const ROLE: &str = "arn:aws:iam::123456789012:role/eks";

/// One site's network, cluster and backup bucket: the DR mirror written once.
fn regional(version_default: &str) -> String {
    format!(
        r#"variable "site" {{
  type = any
}}

variable "cidr" {{
  type = string
}}

variable "cluster_version" {{
  type    = string
  default = {version_default}
}}

locals {{
  name = "app-${{var.site.name}}"
}}

network "main" {{
  site = var.site
  cidr = var.cidr
  subnet "a" {{
    availability_zone = "${{var.site.region}}a"
    cidr              = cidrsubnet(var.cidr, 8, 0)
  }}
}}

cluster "main" {{
  site     = var.site
  name     = local.name
  version  = var.cluster_version
  network  = network.main
  role_arn = "{ROLE}"
  node_group "general" {{
    instance_types = ["m5.large"]
    min_size       = 0
    desired_size   = var.site.active ? 2 : 0
    max_size       = 4
    node_role_arn  = "{ROLE}"
  }}
}}

bucket "backups" {{
  site       = var.site
  name       = "${{local.name}}-backups"
  versioning = true
}}
"#
    )
}

const PER_SITE: &str = r#"
locals {
  cidr = { primary = "10.0.0.0/16", dr = "10.1.0.0/16" }
}

module {
  for_each = site
  source   = "./modules/regional"
  site     = each.value
  cidr     = local.cidr[each.key]
}
"#;

fn project(main: &str, module_files: &[(&str, &str)]) -> Result<Project, Diagnostics> {
    let main = format!("{BASE}{main}");
    let mut files: Vec<(&str, &str)> =
        vec![("specs/main.hcl", &main), ("environments/test.hcl", ENV)];
    files.extend_from_slice(module_files);
    load(&files)
}

fn loaded(main: &str, module_files: &[(&str, &str)]) -> Project {
    project(main, module_files).unwrap_or_else(|d| panic!("{}", d.render(false, 100)))
}

fn addresses(p: &Project) -> Vec<String> {
    p.resources.iter().map(|r| r.address.to_string()).collect()
}

fn errors(main: &str, module_files: &[(&str, &str)]) -> String {
    match project(main, module_files) {
        Ok(p) => panic!("loaded: {:?}", addresses(&p)),
        Err(d) => d.to_string(),
    }
}

fn attr(p: &Project, address: &str, name: &str) -> serde_json::Value {
    p.resources
        .iter()
        .find(|r| r.address.as_str() == address)
        .unwrap_or_else(|| panic!("no {address} in {:?}", addresses(p)))
        .attrs
        .get(name)
        .cloned()
        .unwrap_or_else(|| panic!("{address} has no {name}"))
}

#[test]
fn a_module_per_site_makes_its_blocks_once_per_site_under_flattened_labels() {
    let module = regional("\"1.29\"");
    let p = loaded(PER_SITE, &[("specs/modules/regional/main.hcl", &module)]);
    assert_eq!(
        addresses(&p),
        [
            "bucket.dr_backups",
            "bucket.primary_backups",
            "cluster.dr_main",
            "cluster.dr_main.node_group.general",
            "cluster.primary_main",
            "cluster.primary_main.node_group.general",
            "network.dr_main",
            "network.dr_main.subnet.a",
            "network.primary_main",
            "network.primary_main.subnet.a",
        ]
    );
    // Inputs evaluated where the module is called, locals and references inside it.
    assert_eq!(attr(&p, "network.dr_main", "cidr_block"), "10.1.0.0/16");
    assert_eq!(
        attr(&p, "network.dr_main.subnet.a", "availability_zone"),
        "us-east-1a"
    );
    assert_eq!(attr(&p, "cluster.dr_main", "name"), "app-dr");
    assert_eq!(attr(&p, "cluster.primary_main", "version"), "1.29");
    assert_eq!(
        attr(&p, "bucket.primary_backups", "name"),
        "app-primary-backups"
    );
    let cluster = p
        .resources
        .iter()
        .find(|r| r.address.as_str() == "cluster.dr_main")
        .expect("cluster");
    assert_eq!(cluster.site.as_deref(), Some("dr"));
    assert!(
        serde_json::to_string(&cluster.attrs)
            .expect("json")
            .contains("network.dr_main.subnet.a"),
        "the module's cluster uses the module's network: {:?}",
        cluster.attrs
    );
    assert!(p.warnings.is_empty(), "{}", p.warnings);
}

/// A labelled module at the project root, calling a nested module; the root refers
/// to their blocks by their flattened labels.
#[test]
fn nested_modules_prefix_each_level_and_the_root_can_name_their_blocks() {
    let main = r#"
locals {
  name = "root-local"
}

module "app" {
  source = "../modules/app"
  site   = site.primary
}

bucket "logs" {
  site       = site.primary
  name       = "logs-${bucket.app_data_store.name}"
  depends_on = [bucket.app_data_store]
}
"#;
    let app = r#"
variable "site" {
  type = any
}

locals {
  name = "app-${var.site.name}"
}

module "data" {
  source = "./data"
  site   = var.site
  prefix = local.name
}
"#;
    let data = r#"
variable "site" {
  type = any
}

variable "prefix" {
  type = string
  validation {
    condition     = length(var.prefix) > 2
    error_message = "prefix too short"
  }
}

bucket "store" {
  site = var.site
  name = "${var.prefix}-store"
}
"#;
    let files = [
        ("modules/app/main.hcl", app),
        ("modules/app/data/main.hcl", data),
    ];
    let p = loaded(main, &files);
    assert_eq!(addresses(&p), ["bucket.app_data_store", "bucket.logs"]);
    assert_eq!(
        attr(&p, "bucket.app_data_store", "name"),
        "app-primary-store"
    );
    assert_eq!(attr(&p, "bucket.logs", "name"), "logs-app-primary-store");
    // Module variables are not the project's.
    assert!(p.topology.variables.is_empty());
    // Terraform's outputs are not there: the blocks are named directly.
    let outputs = main.replace("bucket.app_data_store.name", "module.app.store_name");
    assert_eq!(
        errors(&outputs, &files),
        "specs/main.hcl:21:24: a module has no outputs to refer to [drplan::unresolved_reference]\n"
    );
    // A validation of a nested module's input, at the value given.
    let short = app.replace("prefix = local.name", "prefix = \"ab\"");
    assert_eq!(
        errors(main, &[("modules/app/main.hcl", &short), files[1]]),
        "modules/app/main.hcl:13:12: prefix too short [drplan::variable_validation]\n"
    );
}

#[test]
fn a_module_sees_its_inputs_locals_and_blocks_and_not_the_callers() {
    let main = r#"
locals {
  secret_sauce = "x"
}

bucket "shared" {
  site = site.primary
  name = "shared-bucket"
}

module "app" {
  source = "./modules/app"
}
"#;
    let app = r#"bucket "own" {
  site = site.dr
  name = "${local.secret_sauce}-${bucket.shared.name}"
}
"#;
    assert_eq!(
        errors(main, &[("specs/modules/app/main.hcl", app)]),
        "specs/modules/app/main.hcl:3:13: there is no local value \"secret_sauce\" [drplan::unresolved_reference]\n\
         specs/modules/app/main.hcl:3:35: there is no bucket \"shared\" [drplan::unresolved_reference]\n"
    );
}

#[test]
fn module_problems_point_at_the_module_block_or_its_folder() {
    let module = regional("\"1.29\"");
    let files = [("specs/modules/regional/main.hcl", module.as_str())];
    // Missing folder, not a local path, outside the project, computed source.
    let out = errors(
        r#"
module "a" {
  source = "./modules/nope"
}
module "b" {
  source = "modules/regional"
}
module "c" {
  source = "../../elsewhere"
}
module "d" {
  source = "./modules/${local.x}"
}
module "e" {
}
"#,
        &files,
    );
    assert_eq!(
        out,
        "specs/main.hcl:11:12: module folder `specs/modules/nope` does not exist [drplan::module]\n\
         specs/main.hcl:14:12: module source `modules/regional` is not a local folder [drplan::module]\n\
         specs/main.hcl:17:12: module source `../../elsewhere` is outside the project [drplan::module]\n\
         specs/main.hcl:20:12: a module's `source` must be a literal string [drplan::module]\n\
         specs/main.hcl:22:1: `module` needs `source` [drplan::missing_attribute]\n"
    );
    // A required input missing, an unknown one (with a suggestion), a wrong type, a
    // module name repeated.
    let out = errors(
        r#"
module "a" {
  source = "./modules/regional"
  site   = site.primary
  cidrr  = "10.0.0.0/16"
}
module "b" {
  source          = "./modules/regional"
  site            = site.dr
  cidr            = "10.1.0.0/16"
  cluster_version = [1]
}
module "b" {
  source = "./modules/regional"
  site   = site.dr
  cidr   = "10.2.0.0/16"
}
"#,
        &files,
    );
    assert_eq!(
        out,
        "specs/main.hcl:10:1: the module needs input `cidr`: variable \"cidr\" has no default [drplan::required_variable]\n\
         specs/main.hcl:13:3: module `specs/modules/regional` has no input `cidrr` [drplan::unknown_attribute]\n\
         specs/main.hcl:19:21: input `cluster_version` of module.b: expected a string, got list [drplan::wrong_type]\n\
         specs/main.hcl:21:1: module.b is declared twice [drplan::duplicate_label]\n"
    );
}

#[test]
fn a_module_that_contains_itself_is_a_cycle_and_sites_stay_in_the_project() {
    let a = "module \"b\" {\n  source = \"../b\"\n}\n";
    let b =
        "module \"a\" {\n  source = \"../a\"\n}\n\nsite \"third\" {\n  region = \"eu-west-1\"\n}\n";
    let out = errors(
        "module \"a\" {\n  source = \"./modules/a\"\n}\n",
        &[
            ("specs/modules/a/main.hcl", a),
            ("specs/modules/b/main.hcl", b),
        ],
    );
    assert_eq!(
        out,
        "specs/modules/b/main.hcl:2:12: module cycle: specs/modules/a -> specs/modules/b -> specs/modules/a [drplan::cycle]\n\
         specs/modules/b/main.hcl:5:1: a module cannot hold `site` blocks [drplan::module]\n"
    );
}

#[test]
fn a_module_block_collides_with_a_project_block_of_its_flattened_label() {
    let module = regional("\"1.29\"");
    let out = errors(
        r#"
module "primary" {
  source = "./modules/regional"
  site   = site.primary
  cidr   = "10.0.0.0/16"
}

bucket "primary_backups" {
  site = site.primary
  name = "other"
}
"#,
        &[("specs/modules/regional/main.hcl", &module)],
    );
    assert!(
        out.contains("bucket \"primary_backups\" (bucket \"backups\" of module.primary) is declared twice [drplan::duplicate_label]"),
        "{out}"
    );
}

// The issue's parity test, through a module: the primary's instance upgraded alone.
#[test]
fn instances_of_a_module_per_site_are_mirrors() {
    let module = regional("\"1.29\"");
    let upgraded = PER_SITE.replace(
        "  cidr     = local.cidr[each.key]\n",
        "  cidr     = local.cidr[each.key]\n  cluster_version = each.value.role == \"primary\" ? \"1.30\" : \"1.29\"\n",
    );
    let p = loaded(&upgraded, &[("specs/modules/regional/main.hcl", &module)]);
    assert_eq!(
        p.warnings.to_string(),
        "specs/modules/regional/main.hcl:30:14: warning: cluster.dr_main differs from its mirror cluster.primary_main in `version`: \"1.29\" here, \"1.30\" in cluster.primary_main [drplan::parity]\n"
    );
    // Two labelled instances in one site are no mirrors.
    let same_site = r#"
module "a" {
  source = "./modules/regional"
  site   = site.primary
  cidr   = "10.0.0.0/16"
}
"#;
    let p = loaded(same_site, &[("specs/modules/regional/main.hcl", &module)]);
    assert!(p.warnings.is_empty());
}

/// Moving a block into a module: `moved` in Terraform's form (or drplan's) keeps the
/// network, found by its mark alone, instead of replacing it.
#[test]
fn moved_carries_a_block_into_a_module() {
    let before = loaded(
        r#"
network "primary" {
  site = site.primary
  cidr = "10.0.0.0/16"
  subnet "a" {
    availability_zone = "us-west-2a"
    cidr              = "10.0.0.0/24"
  }
}
"#,
        &[],
    );
    let module = r#"variable "site" {
  type = any
}

network "main" {
  site = var.site
  cidr = "10.0.0.0/16"
  subnet "a" {
    availability_zone = "${var.site.region}a"
    cidr              = "10.0.0.0/24"
  }
}
"#;
    for to in ["module.primary.network.main", "network.primary_main"] {
        let after = loaded(
            &format!(
                "module \"primary\" {{\n  source = \"./modules/net\"\n  site   = site.primary\n}}\n\nmoved {{\n  from = network.primary\n  to   = {to}\n}}\n"
            ),
            &[("specs/modules/net/main.hcl", module)],
        );
        assert_eq!(after.moved.len(), 1);
        assert_eq!(after.moved[0].to.as_str(), "network.primary_main");
        let state = live(before.resources.iter().map(owned).collect());
        let plan = diff_with_moves(&after.resources, &state, &ctx(), &after.moved);
        let moved: Vec<(String, Option<String>, Action)> = plan
            .changes
            .iter()
            .map(|c| {
                (
                    c.address.to_string(),
                    c.moved_from.as_ref().map(|a| a.to_string()),
                    c.action,
                )
            })
            .collect();
        assert_eq!(
            moved,
            [
                (
                    "network.primary_main".to_string(),
                    Some("network.primary".to_string()),
                    Action::Update
                ),
                (
                    "network.primary_main.subnet.a".to_string(),
                    Some("network.primary.subnet.a".to_string()),
                    Action::Update
                ),
            ],
            "{to}"
        );
    }
}

#[test]
fn a_changed_module_file_changes_the_spec_digest() {
    let dir = write(&[
        ("specs/main.hcl", &format!("{BASE}{PER_SITE}")),
        ("environments/test.hcl", ENV),
        ("specs/modules/regional/main.hcl", &regional("\"1.29\"")),
    ]);
    let first = drplan_core::spec::load_project(dir.path(), "test").expect("loads");
    std::fs::write(
        dir.path().join("specs/modules/regional/main.hcl"),
        regional("\"1.30\""),
    )
    .expect("write");
    let second = drplan_core::spec::load_project(dir.path(), "test").expect("loads");
    assert_ne!(first.digest, second.digest);
    assert_eq!(attr(&second, "cluster.dr_main", "version"), "1.30");
}

#[test]
fn a_module_input_made_from_a_sensitive_variable_stays_sensitive() {
    let main = r#"
variable "token" {
  type      = string
  sensitive = true
  default   = "s3cret"
}

module "app" {
  source = "./modules/app"
  tag    = var.token
}
"#;
    let app = r#"variable "tag" {
  type = string
}

bucket "b" {
  site = site.primary
  name = "plain-bucket"
  tags = { token = var.tag }
}
"#;
    let p = loaded(main, &[("specs/modules/app/main.hcl", app)]);
    let b = p
        .resources
        .iter()
        .find(|r| r.address.as_str() == "bucket.app_b")
        .expect("bucket");
    assert!(
        b.sensitive.iter().any(|s| s.starts_with("tags")),
        "{:?}",
        b.sensitive
    );
}

#[test]
fn a_target_in_terraform_form_names_the_flattened_address() {
    let p = loaded(
        PER_SITE,
        &[("specs/modules/regional/main.hcl", &regional("\"1.29\""))],
    );
    let mut plan = diff_with_moves(&p.resources, &live(Vec::new()), &ctx(), &[]);
    drplan_core::plan::target::restrict(&mut plan, &[Address::new("module.dr.bucket.backups")])
        .expect("restricts");
    let kept: Vec<String> = plan.changes.iter().map(|c| c.address.to_string()).collect();
    assert_eq!(kept, ["bucket.dr_backups"]);
}

#[test]
fn a_repeated_module_needs_its_keys_up_front_and_no_label() {
    let module = regional("\"1.29\"");
    let out = errors(
        r#"
locals {
  keys = ["a"]
}
module {
  for_each = local.keys
  source   = "./modules/regional"
  site     = site.primary
  cidr     = "10.0.0.0/16"
}
module "named" {
  for_each = site
  source   = "./modules/regional"
  site     = each.value
  cidr     = "10.0.0.0/16"
}
"#,
        &[("specs/modules/regional/main.hcl", &module)],
    );
    assert_eq!(
        out,
        "specs/main.hcl:14:14: a module's for_each must be known before the spec is evaluated [drplan::for_each]\n\
         specs/main.hcl:19:1: a `module` block with for_each takes no label [drplan::for_each]\n"
    );
}

#[test]
fn import_and_removed_take_terraform_module_addresses() {
    let main = r#"
module "app" {
  source = "./modules/app"
}

import {
  to = module.app.bucket.b
  id = "existing-bucket"
}

removed {
  from = module.app.bucket.gone
  lifecycle {
    destroy = false
  }
}
"#;
    let app = "bucket \"b\" {\n  site = site.primary\n  name = \"existing-bucket\"\n}\n";
    let p = loaded(main, &[("specs/modules/app/main.hcl", app)]);
    assert_eq!(p.imports[0].to.as_str(), "bucket.app_b");
    assert_eq!(p.removed[0].from.as_str(), "bucket.app_gone");
}

#[test]
fn for_each_inside_a_module_prefixes_its_keys_and_the_callers_each_stays_outside() {
    let main = r#"
module {
  for_each = ["app"]
  source   = "./modules/buckets"
  names    = ["a", "b"]
}
"#;
    let buckets = r#"variable "names" {
  type = list(string)
}

bucket {
  for_each = var.names
  site     = site.primary
  name     = "bucket-${each.key}"
}
"#;
    let p = loaded(main, &[("specs/modules/buckets/main.hcl", buckets)]);
    assert_eq!(addresses(&p), ["bucket.app_a", "bucket.app_b"]);
    assert_eq!(attr(&p, "bucket.app_b", "name"), "bucket-b");
    let leaky = "bucket \"x\" {\n  site = site.primary\n  name = \"x-${each.key}\"\n}\n";
    let out = errors(main, &[("specs/modules/buckets/main.hcl", leaky)]);
    assert!(
        out.contains("specs/modules/buckets/main.hcl:3:15: `each` is only defined in a block with `for_each`"),
        "{out}"
    );
}
