//! `for_each` and mirrors (issue 18, "say it once"): a block written once per site,
//! its instances addressed by their keys, and parity warnings when mirrors drift.

use crate::spec_support::*;
use drplan_core::model::Project;
use drplan_core::spec::{self, Diagnostics};

const ROLE: &str = "arn:aws:iam::123456789012:role/eks";

fn load_spec(spec: &str) -> Result<Project, Diagnostics> {
    let text = format!("{BASE}{spec}");
    load(&[("specs/main.hcl", &text), ("environments/test.hcl", ENV)])
}

fn addresses(p: &Project) -> Vec<String> {
    p.resources.iter().map(|r| r.address.to_string()).collect()
}

/// Each diagnostic as `main.hcl:line:col: message [code]`, BASE's lines included.
fn listed(d: &Diagnostics) -> String {
    d.to_string().replace("specs/main.hcl", "main.hcl")
}

fn errors(spec: &str) -> String {
    match load_spec(spec) {
        Ok(p) => panic!("loaded: {:?}", addresses(&p)),
        Err(d) => listed(&d),
    }
}

fn warnings(spec: &str) -> String {
    match load_spec(spec) {
        Ok(p) => listed(&p.warnings),
        Err(d) => panic!("{}", d.render(false, 100)),
    }
}

/// A network and a cluster per site, written once; `version` and the node group's
/// instance types as given.
fn per_site(version: &str, instance_types: &str, meta: &str) -> String {
    format!(
        r#"
network {{
  for_each = site
  site     = each.value
  cidr     = each.key == "primary" ? "10.0.0.0/16" : "10.1.0.0/16"
  subnet "a" {{
    availability_zone = "${{each.value.region}}a"
    cidr              = cidrsubnet(each.key == "primary" ? "10.0.0.0/16" : "10.1.0.0/16", 8, 0)
  }}
}}

cluster {{
  for_each = site
  site     = each.value
  name     = "app-${{each.key}}"
  version  = {version}
  network  = network[each.key]
  role_arn = "{ROLE}"
{meta}
  node_group "general" {{
    instance_types = {instance_types}
    min_size       = 0
    desired_size   = each.value.active ? 2 : 0
    max_size       = 4
    node_role_arn  = "{ROLE}"
  }}
}}
"#
    )
}

#[test]
fn for_each_over_the_sites_makes_one_block_per_site_labelled_by_its_key() {
    let p = load_spec(&per_site("\"1.29\"", "[\"m5.large\"]", ""))
        .unwrap_or_else(|d| panic!("{}", d.render(false, 100)));
    assert_eq!(
        addresses(&p),
        [
            "cluster.dr",
            "cluster.dr.node_group.general",
            "cluster.primary",
            "cluster.primary.node_group.general",
            "network.dr",
            "network.dr.subnet.a",
            "network.primary",
            "network.primary.subnet.a",
        ]
    );
    let subnet = |a: &str| {
        p.resources
            .iter()
            .find(|r| r.address.as_str() == a)
            .map(|r| (r.region.clone(), r.attrs["availability_zone"].clone()))
    };
    assert_eq!(
        subnet("network.dr.subnet.a"),
        Some((Some("us-east-1".into()), "us-east-1a".into()))
    );
    // `network[each.key]` is the instance's own network, whose subnets it uses.
    let cluster = p
        .resources
        .iter()
        .find(|r| r.address.as_str() == "cluster.dr");
    assert_eq!(
        cluster.map(|c| c.attrs["subnets"].clone()),
        Some(serde_json::json!(["network.dr.subnet.a"]))
    );
    assert!(p.warnings.is_empty(), "{}", p.warnings);
}

#[test]
fn instances_are_referred_to_by_their_labels_from_other_blocks() {
    // `cluster.dr` is written before the block that makes it; the reference waits
    // for the for_each block, whatever the order in the files.
    let spec = r#"
zone "public" {
  name = "example.com"
}

dns "api" {
  zone = zone.public
  name = "api"
  target "primary" {
    site    = site.primary
    records = [bucket.primary.name]
  }
}

bucket {
  for_each = { primary = "us-west-2", dr = "us-east-1" }
  site     = each.key
  name     = "logs-${each.value}"
}
"#;
    let p = load_spec(spec).unwrap_or_else(|d| panic!("{}", d.render(false, 100)));
    let record = p
        .resources
        .iter()
        .find(|r| r.address.as_str() == "dns.api.target.primary")
        .expect("record");
    assert_eq!(
        record.attrs["records"],
        serde_json::json!(["logs-us-west-2"])
    );
    assert!(addresses(&p).contains(&"bucket.dr".to_string()));
}

#[test]
fn for_each_over_a_list_uses_each_string_as_key_and_value() {
    let spec = r#"
bucket {
  for_each = ["logs", "audit"]
  site     = site.primary
  name     = "acme-${each.value}-${each.key}"
}
"#;
    let p = load_spec(spec).unwrap_or_else(|d| panic!("{}", d.render(false, 100)));
    let names: Vec<(String, String)> = p
        .resources
        .iter()
        .map(|r| {
            (
                r.address.to_string(),
                r.attrs["name"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("bucket.audit".into(), "acme-audit-audit".into()),
            ("bucket.logs".into(), "acme-logs-logs".into()),
        ]
    );
}

#[test]
fn a_bucket_instance_replicates_to_the_bucket_each_names() {
    let spec = r#"
bucket {
  for_each = { primary = "dr", dr = "primary" }
  site     = each.key
  name     = "acme-backups-${each.key}"
  replication {
    role_arn    = "arn:aws:iam::123456789012:role/s3"
    destination = bucket[each.value]
  }
}
"#;
    let p = load_spec(spec).unwrap_or_else(|d| panic!("{}", d.render(false, 100)));
    let dest = |a: &str| {
        p.resources
            .iter()
            .find(|r| r.address.as_str() == a)
            .map(|r| r.attrs["replication"]["rules"][0]["destination_bucket"].clone())
    };
    assert_eq!(dest("bucket.primary"), Some("acme-backups-dr".into()));
    assert_eq!(dest("bucket.dr"), Some("acme-backups-primary".into()));
}

#[test]
fn for_each_mistakes_are_reported_at_their_place() {
    let out = errors(
        r#"
bucket {
  for_each = "logs"
  site     = site.primary
}

bucket {
  for_each = ["a", "a"]
  site     = site.primary
  name     = "acme-${each.key}"
}

bucket {
  for_each = { "10.0.0.0" = 1 }
  site     = site.primary
}

bucket "named" {
  for_each = ["x"]
  site     = site.primary
}

site {
  for_each = ["x"]
  region   = "us-east-2"
}

bucket "plain" {
  site = site.primary
  name = "plain-${each.key}"
}

bucket {
  for_each = { plain = "p" }
  site     = site.primary
  name     = each.name
}
"#,
    );
    let expected = [
        "main.hcl:11:14: for_each must be a list of strings, a map or site, not string [drplan::for_each]",
        "main.hcl:16:14: for_each has the key \"a\" twice [drplan::for_each]",
        "main.hcl:22:14: for_each key \"10.0.0.0\" cannot label a bucket [drplan::for_each]",
        "main.hcl:26:1: a `bucket` block with for_each takes no label [drplan::for_each]",
        "main.hcl:32:3: a `site` block cannot be repeated with for_each [drplan::for_each]",
        "main.hcl:38:19: `each` is only defined in a block with `for_each` [drplan::unresolved_reference]",
        "main.hcl:42:14: bucket \"plain\" is declared twice [drplan::duplicate_label]",
    ];
    for line in expected {
        assert!(out.contains(line), "missing {line:?} in:\n{out}");
    }
    assert_eq!(out.lines().count(), expected.len(), "{out}");
}

#[test]
fn each_has_key_and_value_only_and_for_each_cannot_use_each() {
    let out = errors(
        r#"
bucket {
  for_each = ["a"]
  site     = site.primary
  name     = each.name
}

bucket {
  for_each = [each.key]
  site     = site.primary
}
"#,
    );
    assert!(
        out.contains(
            "main.hcl:13:14: `each` has no attribute `name` [drplan::unresolved_reference]"
        ),
        "{out}"
    );
    assert!(
        out.contains("main.hcl:17:15: for_each cannot refer to `each` [drplan::for_each]"),
        "{out}"
    );
}

#[test]
fn a_for_each_block_cannot_read_its_own_instances_and_typos_are_not_cycles() {
    let out = errors(
        r#"
bucket {
  for_each = ["alpha", "beta"]
  site     = site.primary
  name     = "acme-${bucket.alpha.name}"
}

bucket {
  for_each = ["gamma"]
  site     = site.primary
  name     = bucket.nope.name
}
"#,
    );
    assert_eq!(
        out,
        "main.hcl:13:22: a for_each block cannot refer to its own instance bucket.alpha [drplan::for_each]\n\
         main.hcl:19:14: there is no bucket \"nope\" [drplan::unresolved_reference]\n"
    );
}

#[test]
fn values_made_from_a_sensitive_variable_stay_sensitive_in_every_instance() {
    let spec = r#"
variable "team" {
  type      = string
  default   = "secret-team"
  sensitive = true
}

bucket {
  for_each = site
  site     = each.value
  name     = "acme-${each.key}"
  tags     = { team = var.team }
}
"#;
    let p = load_spec(spec).unwrap_or_else(|d| panic!("{}", d.render(false, 100)));
    for r in &p.resources {
        assert!(
            r.sensitive.iter().any(|s| s.starts_with("tags")),
            "{}: {:?}",
            r.address,
            r.sensitive
        );
    }
}

#[test]
fn a_sensitive_for_each_is_refused() {
    let out = errors(
        r#"
variable "names" {
  type      = list(string)
  default   = ["a"]
  sensitive = true
}

bucket {
  for_each = var.names
  site     = site.primary
}
"#,
    );
    assert!(
        out.contains("main.hcl:17:14: for_each cannot use a sensitive value [drplan::for_each]"),
        "{out}"
    );
}

#[test]
fn a_moved_block_can_name_an_instance() {
    let spec = format!(
        "{}\nmoved {{\n  from = network.main\n  to   = network.dr\n}}\n",
        per_site("\"1.29\"", "[\"m5.large\"]", "")
    );
    let p = load_spec(&spec).unwrap_or_else(|d| panic!("{}", d.render(false, 100)));
    assert_eq!(p.moved.len(), 1);
    assert_eq!(p.moved[0].to.as_str(), "network.dr");
}

// The issue's parity test: only the primary's cluster version changes, and validate
// warns about the DR mirror.
#[test]
fn a_primary_upgraded_alone_warns_about_its_dr_mirror() {
    let same = warnings(&per_site("\"1.29\"", "[\"m5.large\"]", ""));
    assert_eq!(same, "");
    let out = warnings(&per_site(
        "each.key == \"primary\" ? \"1.30\" : \"1.29\"",
        "[\"m5.large\"]",
        "",
    ));
    assert_eq!(
        out,
        "main.hcl:24:14: warning: cluster.dr differs from its mirror cluster.primary in `version`: \"1.29\" here, \"1.30\" in cluster.primary [drplan::parity]\n"
    );
}

#[test]
fn parity_error_fails_the_load_and_parity_ignore_accepts_a_difference() {
    let types = "each.value.role == \"primary\" ? [\"m5.large\"] : [\"m5.xlarge\"]";
    let out = errors(&per_site("\"1.29\"", types, "  parity = \"error\"\n"));
    assert_eq!(
        out,
        "main.hcl:30:22: cluster.dr differs from its mirror cluster.primary in `node_group.general.instance_types`: [\"m5.xlarge\"] here, [\"m5.large\"] in cluster.primary [drplan::parity]\n"
    );
    let ignored = warnings(&per_site(
        "\"1.29\"",
        types,
        "  parity_ignore = [\"node_group.general.instance_types\"]\n",
    ));
    assert_eq!(ignored, "");
    let off = warnings(&per_site("\"1.30\"", types, "  parity = \"off\"\n"));
    assert_eq!(off, "");
}

const PLAIN_NETWORKS: &str = r#"
network "primary" {
  site = site.primary
  cidr = "10.0.0.0/16"
  subnet "a" {
    availability_zone = "us-west-2a"
    cidr              = "10.0.0.0/24"
  }
  subnet "b" {
    availability_zone = "us-west-2b"
    cidr              = "10.0.1.0/24"
    public            = true
  }
}

network "dr" {
  site      = site.dr
  cidr      = "10.1.0.0/16"
  mirror_of = network.primary
  subnet "a" {
    availability_zone = "us-east-1a"
    cidr              = "10.1.0.0/24"
    public            = true
  }
}
"#;

#[test]
fn mirror_of_compares_two_blocks_written_apart() {
    let out = warnings(PLAIN_NETWORKS);
    assert_eq!(
        out,
        "main.hcl:24:1: warning: network.dr lacks subnet.b, which its mirror network.primary has [drplan::parity]\n\
         main.hcl:31:25: warning: network.dr differs from its mirror network.primary in `subnet.a.public`: true here, false in network.primary [drplan::parity]\n"
    );
    // Rendered as a miette warning with both places labelled.
    let p = load_spec(PLAIN_NETWORKS).expect("loads");
    let rendered = p.warnings.render(false, 100);
    assert!(
        rendered.contains("⚠ network.dr lacks subnet.b"),
        "{rendered}"
    );
    assert!(rendered.contains("network.primary's"), "{rendered}");
    assert!(
        rendered.contains("parity_ignore = [\"subnet.a.public\"] on network.dr"),
        "{rendered}"
    );
}

#[test]
fn mirror_of_mistakes_are_errors() {
    let out = errors(
        r#"
network "primary" {
  site      = site.primary
  cidr      = "10.0.0.0/16"
  mirror_of = network.primary
}

network "dr" {
  site      = site.dr
  cidr      = "10.1.0.0/16"
  mirror_of = site.primary
  parity    = "loud"
}

network "other" {
  site          = site.dr
  cidr          = "10.2.0.0/16"
  parity_ignore = ["cidr_block"]
}
"#,
    );
    for line in [
        // A block naming itself is a reference cycle, named whole.
        "main.hcl:10:1: reference cycle: network.primary -> network.primary [drplan::cycle]",
        "main.hcl:19:15: `mirror_of` in network \"dr\" must name a network block, not site.primary [drplan::wrong_kind]",
        "main.hcl:20:15: parity `loud` is not known [drplan::invalid_value]",
        "main.hcl:26:19: `parity_ignore` applies to mirrors, and network.other mirrors nothing [drplan::parity]",
    ] {
        assert!(out.contains(line), "missing {line:?} in:\n{out}");
    }
}

#[test]
fn repetition_within_one_site_is_not_a_mirror() {
    let spec = r#"
bucket {
  for_each   = { logs = false, audit = true }
  site       = site.primary
  name       = "acme-${each.key}"
  versioning = each.value
}
"#;
    assert_eq!(warnings(spec), "");
}

// The examples say it once (issue 18): their mirrored networks and clusters are
// for_each blocks that lower to the addresses a block per site had, with no parity
// warning; changing only the primary's version warns about the DR cluster.
#[test]
fn the_examples_write_their_mirrors_once() {
    for example in ["lanka-platform", "link-app"] {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples")
            .join(example);
        for env in ["prod", "prod-dr", "staging"] {
            let p = spec::load_project(&root, env)
                .unwrap_or_else(|d| panic!("{}", d.render(false, 100)));
            assert!(p.warnings.is_empty(), "{example} {env}: {}", p.warnings);
            for block in [
                "network.primary",
                "network.dr",
                "cluster.primary",
                "cluster.dr",
            ] {
                assert!(
                    p.resources.iter().any(|r| r.address.as_str() == block),
                    "{example} {env}: {block}"
                );
            }
        }
        let specs = std::fs::read_to_string(root.join("specs/clusters.hcl")).expect("read");
        // link-app iterates the sites that serve (its vault site has no cluster).
        assert!(
            specs.contains("for_each = site") || specs.contains("for_each = local.serving_sites"),
            "{example}"
        );
        assert!(!specs.contains("cluster \"dr\""), "{example}");

        let copy = tempfile::tempdir().expect("tempdir");
        for sub in ["specs", "environments", "k8s"] {
            copy_tree(&root.join(sub), &copy.path().join(sub));
        }
        let upgraded = specs.replace(
            "version  = var.cluster_version",
            "version  = each.key == \"primary\" ? \"1.30\" : var.cluster_version",
        );
        assert_ne!(upgraded, specs, "{example}");
        std::fs::write(copy.path().join("specs/clusters.hcl"), upgraded).expect("write");
        let p = spec::load_project(copy.path(), "prod")
            .unwrap_or_else(|d| panic!("{}", d.render(false, 100)));
        let shown = p.warnings.to_string();
        assert!(
            shown.contains("warning: cluster.dr differs from its mirror cluster.primary in `version`: \"1.29\" here, \"1.30\" in cluster.primary [drplan::parity]"),
            "{example}: {shown}"
        );
        assert_eq!(p.warnings.len(), 1, "{example}: {shown}");
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
