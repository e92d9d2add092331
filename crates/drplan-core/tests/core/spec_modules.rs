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
