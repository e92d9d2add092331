//! Issue 21, "Secrets": `live_fingerprints` was an unsalted SHA-256 over live objects,
//! Secret data included, so a saved plan was an offline oracle for guessing it.

use crate::plan_fixture::{attrs, ctx, live, owned};
use drplan_core::address::Address;
use drplan_core::plan::diff::diff;
use drplan_core::resource::{Kind, Resource};
use serde_json::json;

fn secret(data: &str) -> Resource {
    Resource {
        ignore_changes: Vec::new(),
        address: Address::new("kubernetes.app.Secret.lanka.db"),
        kind: Kind::K8sObject,
        site: Some("primary".into()),
        region: Some("us-west-2".into()),
        attrs: attrs(
            json!({"cluster": "cluster.primary", "api_version": "v1", "kind": "Secret", "namespace": "lanka", "name": "db",
            "manifest": {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "lanka"}, "data": {"PASSWORD": data}}}),
        ),
        sensitive: vec!["manifest.data".into(), "manifest.stringData".into()],
        depends_on: Vec::new(),
        protect: false,
        source: None,
    }
}

fn bucket(tag: &str) -> Resource {
    Resource {
        ignore_changes: Vec::new(),
        address: Address::new("bucket.backups"),
        kind: Kind::Bucket,
        site: Some("primary".into()),
        region: Some("us-west-2".into()),
        attrs: attrs(
            json!({"name": "lanka-backups", "versioning": true, "tags": {"team": "ops", "hint": tag}}),
        ),
        sensitive: vec!["tags.hint".into()],
        depends_on: Vec::new(),
        protect: false,
        source: None,
    }
}

/// The fingerprint a plan records for `live`, planned against `desired`.
fn fingerprint(desired: &Resource, live_version: &Resource) -> String {
    let plan = diff(
        std::slice::from_ref(desired),
        &live(vec![owned(live_version)]),
        &ctx(),
    );
    plan.live_fingerprints
        .values()
        .next()
        .cloned()
        .expect("one fingerprint")
}

#[test]
fn a_saved_plan_is_no_oracle_for_secret_data() {
    let desired = secret("ZGVzaXJlZA==");
    // An attacker holding the plan tries guesses: every guess gives the same digest,
    // so the file tells none of them apart.
    let guesses = ["aHVudGVyMg==", "cGFzc3dvcmQ=", "bGV0bWVpbg=="];
    let prints: Vec<String> = guesses
        .iter()
        .map(|g| fingerprint(&desired, &secret(g)))
        .collect();
    assert!(prints.windows(2).all(|w| w[0] == w[1]), "{prints:?}");
    // Orphaned Secrets (no spec to declare them) too.
    let orphans: Vec<String> = guesses
        .iter()
        .map(|g| {
            diff(&[], &live(vec![owned(&secret(g))]), &ctx())
                .live_fingerprints
                .values()
                .next()
                .cloned()
                .unwrap_or_default()
        })
        .collect();
    assert!(orphans.windows(2).all(|w| w[0] == w[1]), "{orphans:?}");
}

#[test]
fn a_saved_plan_is_no_oracle_for_attributes_made_from_a_secret() {
    let desired = bucket("pw:desired");
    assert_eq!(
        fingerprint(&desired, &bucket("pw:guess-1")),
        fingerprint(&desired, &bucket("pw:guess-2"))
    );
    // What is not secret is still covered.
    let mut other = bucket("pw:guess-1");
    other.attrs.insert("versioning".into(), json!(false));
    assert_ne!(
        fingerprint(&desired, &bucket("pw:guess-1")),
        fingerprint(&desired, &other)
    );
}

#[test]
fn a_secret_that_comes_to_match_or_stops_matching_the_spec_is_still_stale() {
    let desired = secret("ZGVzaXJlZA==");
    let differs = fingerprint(&desired, &secret("b2xk"));
    let matches = fingerprint(&desired, &secret("ZGVzaXJlZA=="));
    assert_ne!(differs, matches);
}
