//! Issue 17, a third site role: `role = "vault"`, a backup-only site. It holds copies
//! (an object-locked bucket replicated into), never serves and is never activated;
//! what a user can write wrong about it is an error with its place.

use crate::spec_support::*;
use drplan_core::model::SiteRole;
use drplan_core::objectives::{self, CheckName, Verdict};

const VAULT: &str = "\nsite \"vault\" {\n  region = \"us-east-2\"\n  role   = \"vault\"\n}\n";

const BUCKETS: &str = r#"
bucket "backups" {
  site       = site.primary
  name       = "test-backups"
  versioning = true
  replication {
    role_arn    = "arn:aws:iam::123456789012:role/s3-replication"
    destination = bucket.vault
    prefix      = "db/"
  }
}

bucket "vault" {
  site       = site.vault
  name       = "test-vault"
  versioning = true
  object_lock {
    mode      = "COMPLIANCE"
    retention = "7y"
  }
}

backup "db" {
  engine    = "postgres"
  namespace = "data"
  host      = "db.data.svc"
  prefix    = "db/"
  full { schedule = "0 3 * * *" }
  retention {
    local        = "7d"
    cross_region = "7y"
  }
  placement "primary" {
    cluster = cluster.main
    bucket  = bucket.backups
  }
}
"#;

const CLUSTER: &str = r#"
network "main" {
  site = site.primary
  cidr = "10.0.0.0/16"
  subnet "a" {
    availability_zone = "us-west-2a"
    cidr              = "10.0.0.0/24"
  }
  subnet "b" {
    availability_zone = "us-west-2b"
    cidr              = "10.0.1.0/24"
  }
}

cluster "main" {
  site     = site.primary
  version  = "1.29"
  network  = network.main
  subnets  = ["a", "b"]
  role_arn = "arn:aws:iam::123456789012:role/eks"
}
"#;

fn spec(extra: &str) -> String {
    format!("{BASE}{VAULT}{CLUSTER}{extra}")
}

#[test]
fn a_vault_site_holds_a_locked_copy_that_counts_as_the_cross_region_copy() {
    let text = spec(BUCKETS);
    let p = load(&[("specs/main.hcl", &text), ("environments/test.hcl", ENV)])
        .unwrap_or_else(|d| panic!("{}", d.render(false, 120)));
    assert_eq!(p.topology.sites["vault"].role, SiteRole::Vault);
    assert!(!p.topology.sites["vault"].active);
    let report = objectives::for_project(&p);
    let copy = report
        .checks
        .iter()
        .find(|c| c.name == CheckName::CrossRegionCopy)
        .expect("a cross-region copy check");
    assert_eq!(copy.verdict, Verdict::Pass, "{copy:?}");
    assert_eq!(
        copy.details,
        vec!["bucket.backups -> bucket.vault in vault site vault (replication rule drplan-replication, prefix db/), immutable 2555d (Object Lock COMPLIANCE)"]
    );
}

#[test]
fn a_cluster_or_a_dns_target_in_a_vault_is_an_error_at_its_site() {
    let text = spec(
        r#"
cluster "vaulted" {
  site     = site.vault
  version  = "1.29"
  network  = network.main
  subnets  = ["a"]
  role_arn = "arn:aws:iam::123456789012:role/eks"
}

dns "api" {
  zone = "example.com"
  name = "api"
  type = "CNAME"
  ttl  = 60
  target "primary" {
    site    = site.primary
    records = ["a.example.com"]
  }
  target "vault" {
    site    = site.vault
    records = ["b.example.com"]
  }
}
"#,
    );
    let err = load(&[("specs/main.hcl", &text), ("environments/test.hcl", ENV)])
        .map(|_| ())
        .expect_err("refused")
        .render(false, 120);
    assert!(
        err.contains("cluster \"vaulted\" is in site \"vault\", a vault"),
        "{err}"
    );
    assert!(
        err.contains("dns \"api\" target \"vault\" serves from site \"vault\", a vault"),
        "{err}"
    );
    assert!(err.contains("specs/main.hcl:"), "{err}");
    assert!(err.contains("holds backup copies only"), "{err}");
}

#[test]
fn activating_a_vault_is_an_error_in_the_environment_file() {
    let text = spec(BUCKETS);
    let env = format!("{ENV}active_site = \"vault\"\n");
    let err = load(&[("specs/main.hcl", &text), ("environments/test.hcl", &env)])
        .map(|_| ())
        .expect_err("refused")
        .render(false, 120);
    assert!(
        err.contains(
            "active_site `vault` is a vault: it holds backup copies only and is never activated"
        ),
        "{err}"
    );
    assert!(err.contains("environments/test.hcl:2"), "{err}");
}

#[test]
fn an_unknown_site_role_names_the_three_roles() {
    let text =
        format!("{BASE}\nsite \"cold\" {{\n  region = \"us-east-2\"\n  role   = \"backup\"\n}}\n");
    let err = load(&[("specs/main.hcl", &text), ("environments/test.hcl", ENV)])
        .map(|_| ())
        .expect_err("refused")
        .render(false, 120);
    assert!(err.contains("site role `backup` is not known"), "{err}");
    assert!(err.contains("\"primary\", \"dr\" or \"vault\""), "{err}");
}
