//! One test per validation rule: the smallest spec that breaks it.

use crate::spec_support::*;

fn has(spec: &str, code: &str) {
    let codes = codes(spec);
    assert!(codes.contains(&code), "expected {code}, got {codes:?}");
}

const NET: &str = r#"
network "main" {
  site = site.primary
  cidr = "10.0.0.0/16"
  subnet "a" {
    availability_zone = "us-west-2a"
    cidr              = "10.0.0.0/20"
  }
}
"#;

const CLUSTER: &str = r#"
cluster "main" {
  site     = site.primary
  version  = "1.29"
  network  = network.main
  role_arn = "arn:aws:iam::123456789012:role/eks"
  node_group "g" {
    instance_types = ["m5.large"]
    min_size       = MIN
    desired_size   = DESIRED
    max_size       = 3
    node_role_arn  = "arn:aws:iam::123456789012:role/node"
  }
}
"#;

#[test]
fn a_clean_spec_has_no_diagnostics() {
    assert_eq!(
        codes(&format!(
            "{NET}{}",
            CLUSTER.replace("MIN", "1").replace("DESIRED", "2")
        )),
        Vec::<&str>::new()
    );
}

#[test]
fn unknown_block_and_attribute() {
    has("sit \"x\" {}", "drplan::unknown_block");
    has(
        &NET.replace(
            "cidr = \"10.0.0.0/16\"",
            "cidr = \"10.0.0.0/16\"\n  cdir = 1",
        ),
        "drplan::unknown_attribute",
    );
}

#[test]
fn duplicate_labels() {
    has(
        "zone \"z\" { name = \"a.com\" }\nzone \"z\" { name = \"b.com\" }",
        "drplan::duplicate_label",
    );
}

#[test]
fn wrong_types() {
    has(
        &NET.replace("cidr = \"10.0.0.0/16\"", "cidr = [1]"),
        "drplan::wrong_type",
    );
}

#[test]
fn unresolved_and_wrong_kind_references() {
    has(
        &NET.replace("site.primary", "site.primry"),
        "drplan::unresolved_reference",
    );
    has(
        &NET.replace("site = site.primary", "site = \"nowhere\""),
        "drplan::unresolved_reference",
    );
    has(
        &format!(
            "zone \"z\" {{ name = \"a.com\" }}\n{}",
            NET.replace("site.primary", "zone.z")
        ),
        "drplan::wrong_kind",
    );
}

#[test]
fn cycles_name_the_whole_cycle() {
    let spec = r#"
bucket "a" {
  site = site.primary
  name = "x-${bucket.b.name}"
}
bucket "b" {
  site = site.dr
  name = "y-${bucket.a.name}"
}
"#;
    let text = format!("{BASE}{spec}");
    let d = load(&[("specs/main.hcl", &text), ("environments/test.hcl", ENV)]).expect_err("errors");
    let msg: Vec<String> = d
        .iter()
        .filter(|d| d.code == "drplan::cycle")
        .map(|d| d.message.clone())
        .collect();
    assert_eq!(msg, ["reference cycle: bucket.a -> bucket.b -> bucket.a"]);
}

#[test]
fn cidr_rules() {
    has(
        &NET.replace("\"10.0.0.0/16\"", "\"10.0.0.0/33\""),
        "drplan::invalid_cidr",
    );
    has(
        &NET.replace(
            "cidr              = \"10.0.0.0/20\"",
            "cidr              = \"10.1.0.0/20\"",
        ),
        "drplan::subnet_outside_network",
    );
    let overlapping = NET.replace(
        "  subnet \"a\" {",
        "  subnet \"b\" {\n    availability_zone = \"us-west-2b\"\n    cidr = \"10.0.8.0/24\"\n  }\n  subnet \"a\" {",
    );
    has(&overlapping, "drplan::cidr_overlap");
    let two = format!(
        "{NET}{}",
        NET.replace("network \"main\"", "network \"other\"")
    );
    has(&two, "drplan::cidr_overlap");
    has(
        &NET.replace("us-west-2a", "us-east-1a"),
        "drplan::availability_zone",
    );
}

#[test]
fn node_group_sizes() {
    has(
        &format!(
            "{NET}{}",
            CLUSTER.replace("MIN", "3").replace("DESIRED", "2")
        ),
        "drplan::node_group_size",
    );
    has(
        &format!(
            "{NET}{}",
            CLUSTER.replace("MIN", "0").replace("DESIRED", "5")
        ),
        "drplan::node_group_size",
    );
    has(
        &format!(
            "{NET}{}",
            CLUSTER.replace("MIN", "-1").replace("DESIRED", "0")
        ),
        "drplan::node_group_size",
    );
}

#[test]
fn bucket_rules() {
    for bad in ["ab", "Upper", "192.168.1.1", "a..b", "-x-"] {
        has(
            &format!("bucket \"b\" {{\n  site = site.primary\n  name = \"{bad}\"\n}}"),
            "drplan::bucket_name",
        );
    }
    let same_site = r#"
bucket "a" {
  site = site.primary
  name = "drplan-a"
  replication {
    role_arn    = "arn:aws:iam::123456789012:role/r"
    destination = bucket.b
  }
}
bucket "b" {
  site = site.primary
  name = "drplan-b"
}
"#;
    has(same_site, "drplan::replication");
    let unversioned = same_site.replace(
        "  site = site.primary\n  name = \"drplan-b\"",
        "  site = site.dr\n  name = \"drplan-b\"\n  versioning = false",
    );
    has(&unversioned, "drplan::replication");
    has("bucket \"a\" {\n  site = site.primary\n  name = \"drplan-a\"\n  lifecycle_rule \"r\" { expire_after = \"36h\" }\n}", "drplan::retention");
    has("bucket \"a\" {\n  site = site.primary\n  name = \"drplan-a\"\n  lifecycle_rule \"r\" { expire_after = \"soon\" }\n}", "drplan::duration");
}

#[test]
fn schedules() {
    let backup = |cron: &str| {
        format!(
            "{NET}{}\nbucket \"bk\" {{\n  site = site.primary\n  name = \"drplan-bk\"\n}}\nbackup \"db\" {{\n  engine = \"postgres\"\n  namespace = \"db\"\n  full {{ schedule = \"{cron}\" }}\n  placement \"primary\" {{\n    cluster = cluster.main\n    bucket = bucket.bk\n  }}\n}}",
            CLUSTER.replace("MIN", "1").replace("DESIRED", "1")
        )
    };
    assert_eq!(codes(&backup("0 2 * * *")), Vec::<&str>::new());
    has(&backup("0 2 * *"), "drplan::schedule");
    has(&backup("61 * * * *"), "drplan::schedule");
}

#[test]
fn exactly_one_primary_site() {
    let two = "site \"other\" {\n  region = \"eu-west-1\"\n  role = \"primary\"\n}";
    has(two, "drplan::primary_site");
    let none = load(&[
        (
            "specs/main.hcl",
            "site \"a\" {\n  region = \"us-west-2\"\n}\n",
        ),
        ("environments/test.hcl", ENV),
    ]);
    let codes: Vec<&str> = none
        .err()
        .map(|d| d.iter().map(|d| d.code).collect())
        .unwrap_or_default();
    assert!(codes.contains(&"drplan::primary_site"), "{codes:?}");
}

#[test]
fn variables_and_environments() {
    let spec = "variable \"size\" {\n  type = number\n  validation {\n    condition     = var.size > 2\n    error_message = \"size must be above 2\"\n  }\n}\n";
    let run = |env: &str| {
        let text = format!("{BASE}{spec}");
        match load(&[("specs/main.hcl", &text), ("environments/test.hcl", env)]) {
            Ok(_) => Vec::new(),
            Err(d) => d
                .iter()
                .map(|d| (d.code, d.message.clone()))
                .collect::<Vec<_>>(),
        }
    };
    assert_eq!(
        run("stack = \"t\"\nvariables {\n  size = 3\n}\n"),
        Vec::new()
    );
    assert_eq!(
        run("stack = \"t\"\nvariables {\n  size = 1\n}\n"),
        vec![(
            "drplan::variable_validation",
            "size must be above 2".to_string()
        )]
    );
    assert_eq!(run("stack = \"t\"\n")[0].0, "drplan::required_variable");
    let unknown = run("stack = \"t\"\nvariables {\n  size = 3\n  sise = 4\n}\n");
    assert_eq!(unknown[0].0, "drplan::unknown_variable");
    assert_eq!(
        run("stack = \"t\"\nvariables {\n  size = \"big\"\n}\n")[0].0,
        "drplan::wrong_type"
    );
    assert_eq!(
        run("stack = \"t\"\nactive_site = \"dx\"\nvariables {\n  size = 3\n}\n")[0].0,
        "drplan::unresolved_reference"
    );
}

#[test]
fn functions_evaluate() {
    let spec = r#"
locals {
  f = format("%s-%02d", "a", 3)
  m = merge({a = 1}, {b = 2})
  l = length(concat(["a"], ["b"]))
  c = coalesce("", "b")
  k = join(",", keys({x = 1, y = 2}))
  n = tonumber("3") + 1
  r = replace(lower("A.B"), ".", "-")
  ok = can(regex("^1\\.[0-9]+$", "1.29")) && !can(regex("^x$", "y"))
}
zone "z" {
  name    = "example.com"
  comment = "${local.f} ${local.m.b} ${local.l} ${local.c} ${local.k} ${local.n} ${local.r} ${local.ok} ${cidrsubnet("10.0.0.0/16", 8, 2)} ${lookup({a = 1}, "b", 0)} ${upper(tostring(contains(["a"], "a")))}"
}
"#;
    let text = format!("{BASE}{spec}");
    let p = load(&[("specs/main.hcl", &text), ("environments/test.hcl", ENV)])
        .unwrap_or_else(|d| panic!("{}", d.render(false, 100)));
    assert_eq!(
        p.topology.zones["z"].comment.as_deref(),
        Some("a-03 2 2 b x,y 4 a-b true 10.0.2.0/24 0 TRUE")
    );
}
