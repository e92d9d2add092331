//! Properties of `diff` over generated specs:
//! - live state made from the desired resources (owned, read back in another JSON
//!   spelling) plans to nothing but no-ops;
//! - whatever the live state, no rendering and no saved plan contains a secret.

use crate::plan_fixture::{ctx, owned, sample, STACK};
use drplan_core::address::Address;
use drplan_core::live::{LiveObject, LiveState};
use drplan_core::plan::diff::diff;
use drplan_core::plan::drift::DriftReport;
use drplan_core::plan::Action;
use drplan_core::render::{json, markdown, text};
use drplan_core::resource::{Kind, Resource};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

const SECRET_PREFIX: &str = "SECRET-";

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::Bool),
        (-1000i64..1000).prop_map(|n| json!(n)),
        "[a-z ]{0,12}".prop_map(Value::String),
        prop::collection::vec("[a-z ]{0,10}", 1..5)
            .prop_map(|lines| Value::String(lines.join("\n"))),
        Just(Value::Null),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn secret() -> impl Strategy<Value = String> {
    "[a-z0-9]{6,12}".prop_map(|s| format!("{SECRET_PREFIX}{s}"))
}

/// A resource of some kind with unique identity, random extra attributes, and secrets
/// at a top-level, a nested and a list-element path.
fn resource(index: usize) -> impl Strategy<Value = Resource> {
    (
        prop::sample::select(Kind::ALL.to_vec()),
        prop::collection::btree_map("x_[a-z]{1,5}", value(), 0..4),
        secret(),
        secret(),
        secret(),
    )
        .prop_map(move |(kind, extra, token, password, env)| {
            let mut r = sample(kind);
            r.address = Address::new(format!("{}.n{index}", r.address));
            r.attrs.insert("name".into(), json!(format!("n{index}")));
            r.attrs.extend(extra);
            r.attrs.insert("token".into(), json!(token));
            r.attrs.insert(
                "creds".into(),
                json!({"user": "probe", "password": password}),
            );
            r.attrs.insert(
                "containers".into(),
                json!([{"image": "neo4j", "env": env}, {"image": "sidecar"}]),
            );
            r.sensitive = vec![
                "token".into(),
                "creds.password".into(),
                "containers.env".into(),
            ];
            r
        })
}

fn resources() -> impl Strategy<Value = Vec<Resource>> {
    (0usize..8).prop_flat_map(|n| (0..n).map(resource).collect::<Vec<_>>())
}

/// The same value as a reader might spell it: integers as floats, map keys in another
/// order, unset map entries as explicit nulls dropped.
fn respell(value: &Value) -> Value {
    match value {
        Value::Number(n) => n
            .as_i64()
            .map(|i| json!(i as f64))
            .unwrap_or_else(|| value.clone()),
        Value::Array(items) => Value::Array(items.iter().map(respell).collect()),
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map.iter().rev() {
                if !v.is_null() {
                    out.insert(k.clone(), respell(v));
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

#[derive(Clone, Debug)]
enum LiveCase {
    Missing,
    Same,
    Changed(Value, String),
    OtherStack,
    Unmarked,
}

fn live_case() -> impl Strategy<Value = LiveCase> {
    prop_oneof![
        Just(LiveCase::Missing),
        Just(LiveCase::Same),
        (value(), secret()).prop_map(|(v, s)| LiveCase::Changed(v, s)),
        Just(LiveCase::OtherStack),
        Just(LiveCase::Unmarked),
    ]
}

fn orphan_secret(index: usize, secret: String) -> LiveObject {
    LiveObject {
        kind: Kind::K8sObject,
        id: format!("v1/Secret/lanka/orphan{index}"),
        region: Some("us-west-2".into()),
        address: Some(Address::new(format!("kubernetes.old.secret.s{index}"))),
        stack: Some(STACK.into()),
        attrs: crate::plan_fixture::attrs(
            json!({"cluster": "cluster.primary", "api_version": "v1", "kind": "Secret",
            "namespace": "lanka", "name": format!("orphan{index}"),
            "manifest": {"kind": "Secret", "data": {"KEY": secret}, "stringData": {"K2": format!("{SECRET_PREFIX}plain")}}}),
        ),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn live_made_from_desired_is_all_noop(desired in resources()) {
        let objects: Vec<LiveObject> = desired
            .iter()
            .map(|r| {
                let mut o = owned(r);
                o.attrs = match respell(&Value::Object(o.attrs.clone().into())) {
                    Value::Object(m) => m.into(),
                    _ => Default::default(),
                };
                o
            })
            .collect();
        let plan = diff(&desired, &crate::plan_fixture::live(objects), &ctx());
        prop_assert!(plan.errors.is_empty(), "errors: {:?}", plan.errors);
        prop_assert_eq!(plan.changes.len(), desired.len());
        prop_assert!(plan.changes.iter().all(|c| c.action == Action::NoOp), "{:#?}", plan.changes);
        prop_assert!(!plan.has_changes());
        prop_assert_eq!(plan.live_fingerprints.len(), desired.len());
    }

    #[test]
    fn no_rendering_ever_contains_a_secret(
        desired in resources(),
        cases in prop::collection::vec(live_case(), 8),
        orphans in prop::collection::vec(secret(), 0..3),
    ) {
        let mut objects = Vec::new();
        for (r, case) in desired.iter().zip(cases.iter().cycle()) {
            let mut o = owned(r);
            match case {
                LiveCase::Missing => continue,
                LiveCase::Same => {}
                LiveCase::Changed(v, s) => {
                    o.attrs.insert("x_changed".into(), v.clone());
                    o.attrs.insert("token".into(), json!(s));
                    o.attrs.insert("creds".into(), json!({"password": s}));
                    o.attrs.insert("containers".into(), json!([{"env": s}]));
                }
                LiveCase::OtherStack => o.stack = Some("someone-else".into()),
                LiveCase::Unmarked => {
                    o.stack = None;
                    o.address = None;
                }
            }
            objects.push(o);
        }
        for (i, s) in orphans.into_iter().enumerate() {
            objects.push(orphan_secret(i, s));
        }
        let plan = diff(&desired, &LiveState { objects, ..LiveState::default() }, &ctx());
        let report = DriftReport::from_plan(&plan);
        let outputs = [
            text::plan(&plan, &text::TextOptions { color: false }),
            text::plan(&plan, &text::TextOptions { color: true }),
            json::plan(&plan),
            text::drift(&report, &text::TextOptions { color: false }),
            json::drift(&report),
            markdown::drift(&report),
            serde_json::to_string(&plan).unwrap_or_default(),
        ];
        for output in &outputs {
            prop_assert!(!output.contains(SECRET_PREFIX), "secret leaked in:\n{}", output);
        }
    }
}
