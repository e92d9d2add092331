//! Issue 17, access logging: `logging { target prefix }` on a bucket lowers to the
//! bucket's `logging` and the target's `log_delivery` (the policy statement the S3
//! logging service needs); what S3 refuses of a log target is an error at `target`.

use crate::spec_support::*;
use drplan_core::resource::Kind;
use serde_json::json;

fn bucket(label: &str, site: &str, extra: &str) -> String {
    format!("\nbucket \"{label}\" {{\n  site = site.{site}\n  name = \"t-{label}\"\n{extra}}}\n")
}

const LOGGING: &str = "  logging {\n    target = bucket.logs\n    prefix = \"s3/\"\n  }\n";

fn errors(spec: &str) -> String {
    let text = format!("{BASE}{spec}");
    match load(&[("specs/main.hcl", &text), ("environments/test.hcl", ENV)]) {
        Ok(_) => String::new(),
        Err(d) => d.render(false, 140),
    }
}

#[test]
fn a_logging_block_lowers_to_the_source_and_the_targets_delivery() {
    let text = format!(
        "{BASE}{}{}{}",
        bucket("logs", "primary", ""),
        bucket("a", "primary", LOGGING),
        bucket("b", "primary", LOGGING),
    );
    let p = load(&[("specs/main.hcl", &text), ("environments/test.hcl", ENV)])
        .unwrap_or_else(|d| panic!("{}", d.render(false, 120)));
    let of = |label: &str| {
        p.resources
            .iter()
            .find(|r| r.kind == Kind::Bucket && r.address.as_str() == format!("bucket.{label}"))
            .expect("bucket")
    };
    assert_eq!(
        of("a").attrs["logging"],
        json!({"target_bucket": "t-logs", "prefix": "s3/"})
    );
    assert_eq!(of("logs").attrs["log_delivery"], json!(["t-a", "t-b"]));
    assert!(!of("logs").attrs.contains_key("logging"));
    assert!(!of("a").attrs.contains_key("log_delivery"));
}

#[test]
fn a_log_target_s3_refuses_is_an_error_at_the_target() {
    let err = errors(&format!(
        "{}{}",
        bucket("logs", "dr", ""),
        bucket("a", "primary", LOGGING)
    ));
    assert!(
        err.contains("bucket \"a\" in site \"primary\" logs into bucket \"logs\" in site \"dr\""),
        "{err}"
    );
    assert!(err.contains("specs/main.hcl:"), "{err}");

    let err = errors(&bucket(
        "logs",
        "primary",
        "  logging {\n    target = bucket.logs\n  }\n",
    ));
    assert!(err.contains("bucket \"logs\" logs into itself"), "{err}");

    let err = errors(&format!(
        "{}{}",
        bucket(
            "logs",
            "primary",
            "  encryption {\n    algorithm  = \"aws:kms\"\n    kms_key_id = \"alias/logs\"\n  }\n  object_lock {\n    mode      = \"GOVERNANCE\"\n    retention = \"30d\"\n  }\n"
        ),
        bucket("a", "primary", LOGGING)
    ));
    assert!(
        err.contains("receives access logs but has an Object Lock default retention"),
        "{err}"
    );
    assert!(
        err.contains("receives access logs but is encrypted with aws:kms"),
        "{err}"
    );
}

#[test]
fn a_second_logging_block_is_an_error_not_the_last_one() {
    let err = errors(&format!(
        "{}{}",
        bucket("logs", "primary", ""),
        bucket("a", "primary", &format!("{LOGGING}{LOGGING}"))
    ));
    assert!(err.contains("has two `logging` blocks"), "{err}");
}
