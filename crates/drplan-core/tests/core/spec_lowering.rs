//! The resources a spec lowers to, in the normalized form the live readers produce.

use crate::spec_support::*;

fn failover(p: &drplan_core::model::Project, target: &str) -> String {
    let r = p
        .resources
        .iter()
        .find(|r| r.address.as_str() == format!("dns.api.target.{target}"))
        .expect("record");
    r.attrs["failover"].as_str().unwrap_or("").to_string()
}

#[test]
fn valid_fixture_resources() {
    let p = drplan_core::spec::load_project(&fixture("valid"), "prod")
        .unwrap_or_else(|d| panic!("{d}"));
    insta::assert_json_snapshot!(p.resources);
}

#[test]
fn dr_activation_flips_failover_and_sizes_dr_nodes() {
    let prod = drplan_core::spec::load_project(&fixture("valid"), "prod")
        .unwrap_or_else(|d| panic!("{d}"));
    let dr = drplan_core::spec::load_project(&fixture("valid"), "prod-dr")
        .unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(
        (failover(&prod, "primary"), failover(&prod, "dr")),
        ("PRIMARY".into(), "SECONDARY".into())
    );
    assert_eq!(
        (failover(&dr, "primary"), failover(&dr, "dr")),
        ("SECONDARY".into(), "PRIMARY".into())
    );
    let desired = |p: &drplan_core::model::Project| {
        p.resources
            .iter()
            .find(|r| r.address.as_str() == "cluster.dr.node_group.general")
            .map(|r| r.attrs["desired_size"].clone())
    };
    assert_eq!(desired(&prod), Some(serde_json::json!(0)));
    assert_eq!(desired(&dr), Some(serde_json::json!(4)));
    assert_eq!(dr.environment.active_site, "dr");
    assert!(dr.topology.sites["dr"].active && !dr.topology.sites["primary"].active);
    assert_ne!(
        prod.digest, dr.digest,
        "the environment file is part of the digest"
    );
}

#[test]
fn backup_policies_compile_to_bucket_rules() {
    let p = drplan_core::spec::load_project(&fixture("valid"), "prod")
        .unwrap_or_else(|d| panic!("{d}"));
    let bucket = |a: &str| {
        p.resources
            .iter()
            .find(|r| r.address.as_str() == a)
            .expect("bucket")
    };
    let primary = bucket("bucket.backups");
    let rules = primary.attrs["replication"]["rules"]
        .as_array()
        .expect("rules");
    assert_eq!(rules[0]["id"], "drplan-backup-neo4j");
    assert_eq!(rules[0]["destination_bucket"], "lanka-prod-backups-dr");
    // The destination is not an ordering edge (apply's link step waits for it:
    // buckets may replicate to each other); it is named by the rule.
    assert!(primary.depends_on.is_empty());
    let dr_rules = bucket("bucket.backups_dr").attrs["lifecycle_rules"].clone();
    assert_eq!(dr_rules[0]["expiration_days"], 90);
}

#[test]
fn depends_on_expands_to_the_resources_of_a_block() {
    let spec = format!(
        "{BASE}\nzone \"z\" {{\n  name = \"a.com\"\n  depends_on = [bucket.b]\n}}\nbucket \"b\" {{\n  site = site.primary\n  name = \"drplan-dep-b\"\n}}\n"
    );
    let p = load(&[("specs/main.hcl", &spec), ("environments/test.hcl", ENV)])
        .unwrap_or_else(|d| panic!("{d}"));
    let zone = p
        .resources
        .iter()
        .find(|r| r.address.as_str() == "zone.z")
        .expect("zone");
    assert_eq!(
        zone.depends_on,
        vec![drplan_core::address::Address::new("bucket.b")]
    );
    assert!(zone.protect, "zones are protected by default");
    let src = zone.source.as_ref().expect("source");
    assert_eq!((src.file.as_str(), src.line), ("specs/main.hcl", 10));
}
