//! Issue 17, Route53 alias records: a `dns` target with an `alias` block lowers to an
//! alias record (no TTL, no values), and the ways to write one wrong are errors with
//! their place.

use crate::spec_support::*;
use drplan_core::resource::Kind;
use serde_json::json;

const APEX: &str = r#"
zone "public" {
  name = "linkapp.com"
}

dns "web" {
  zone = zone.public
  name = "@"
  type = "A"
  TTL

  target "primary" {
    site = site.primary
    alias {
      name    = "Primary-LB-1a2b.elb.us-west-2.amazonaws.com."
      zone_id = "Z18D5FSROUN65G"
    }
  }

  target "dr" {
    site = site.dr
    RECORDS
  }
}
"#;

fn apex(ttl: &str, records: &str) -> String {
    format!(
        "{BASE}{}",
        APEX.replace("TTL", ttl).replace("RECORDS", records)
    )
}

fn load_spec(text: &str) -> Result<drplan_core::model::Project, String> {
    load(&[("specs/main.hcl", text), ("environments/test.hcl", ENV)])
        .map_err(|d| d.render(false, 120))
}

#[test]
fn an_alias_target_lowers_to_an_alias_record_without_ttl_or_values() {
    let p = load_spec(&apex(
        "",
        r#"alias {
      name                   = "www.linkapp.com"
      evaluate_target_health = false
    }"#,
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let record = |address: &str| {
        p.resources
            .iter()
            .find(|r| r.kind == Kind::DnsRecord && r.address.as_str() == address)
            .unwrap_or_else(|| panic!("{address}"))
    };
    let primary = record("dns.web.target.primary");
    assert_eq!(primary.attrs["name"], json!("linkapp.com."));
    assert_eq!(primary.attrs["ttl"], json!(null));
    assert_eq!(primary.attrs["records"], json!([]));
    assert_eq!(primary.attrs["failover"], json!("PRIMARY"));
    assert_eq!(
        primary.attrs["alias"],
        json!({
            "name": "primary-lb-1a2b.elb.us-west-2.amazonaws.com.",
            "zone_id": "Z18D5FSROUN65G",
            "evaluate_target_health": true,
        })
    );
    // No zone id: a record of the alias's own zone.
    assert_eq!(
        record("dns.web.target.dr").attrs["alias"],
        json!({"name": "www.linkapp.com.", "zone_id": null, "evaluate_target_health": false})
    );
}

#[test]
fn a_ttl_on_an_alias_or_an_alias_beside_records_is_an_error_with_its_place() {
    let err = load_spec(&apex(
        "ttl = 60",
        r#"alias {
      name = "dr-lb.elb.us-east-1.amazonaws.com"
    }"#,
    ))
    .expect_err("refused");
    assert!(
        err.contains("an alias record takes its TTL from its target"),
        "{err}"
    );
    assert!(err.contains("specs/main.hcl:"), "{err}");
    let err = load_spec(&apex(
        "",
        r#"records = ["198.51.100.10"]
    alias {
      name = "dr-lb.elb.us-east-1.amazonaws.com"
    }"#,
    ))
    .expect_err("refused");
    assert!(
        err.contains("target \"dr\" has both records and an alias"),
        "{err}"
    );
    // A pair mixing an alias with values keeps the values' ttl.
    let mixed = load_spec(&apex("ttl = 120", r#"records = ["198.51.100.10"]"#))
        .unwrap_or_else(|e| panic!("{e}"));
    let ttl = |address: &str| {
        mixed
            .resources
            .iter()
            .find(|r| r.address.as_str() == address)
            .map(|r| r.attrs["ttl"].clone())
    };
    assert_eq!(ttl("dns.web.target.primary"), Some(json!(null)));
    assert_eq!(ttl("dns.web.target.dr"), Some(json!(120)));
}

#[test]
fn an_alias_of_a_cname_or_two_alias_blocks_are_errors() {
    let text =
        apex("", r#"records = ["198.51.100.10"]"#).replace("type = \"A\"", "type = \"CNAME\"");
    let err = load_spec(&text).expect_err("refused");
    assert!(
        err.contains("an alias record is A or AAAA, not CNAME"),
        "{err}"
    );

    let twice = apex(
        "",
        r#"alias {
      name = "a.elb.us-east-1.amazonaws.com"
    }
    alias {
      name = "b.elb.us-east-1.amazonaws.com"
    }"#,
    );
    let err = load_spec(&twice).expect_err("refused");
    assert!(err.contains("has two `alias` blocks"), "{err}");
}
