//! Semantic equality of normalized attribute values, and the leaf-level differences
//! between two attribute maps.
//!
//! Readers and the spec lowerer agree on a normalized form, but JSON leaves room for
//! spurious differences the user never wrote: `3` from one side and `3.0` from the
//! other, or a map key present as `null` on one side and absent on the other. Those
//! compare equal here. Lists compare in order: where order does not matter, the
//! normalized form already sorts them.

use serde_json::{Map, Value};

/// Equality as a user reads the values: numbers by value, maps by their non-null
/// entries regardless of order, lists element by element.
pub fn semantic_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
                x == y
            } else if let (Some(x), Some(y)) = (x.as_u64(), y.as_u64()) {
                x == y
            } else {
                x.as_f64() == y.as_f64()
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            let present = |m: &Map<String, Value>| m.iter().filter(|(_, v)| !v.is_null()).count();
            present(x) == present(y)
                && x.iter()
                    .filter(|(_, v)| !v.is_null())
                    .all(|(k, v)| y.get(k).is_some_and(|w| semantic_eq(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| semantic_eq(v, w))
        }
        _ => a == b,
    }
}

/// An absent attribute and a `null` one mean the same: "not set".
pub fn attr_eq(before: Option<&Value>, after: Option<&Value>) -> bool {
    semantic_eq(before.unwrap_or(&Value::Null), after.unwrap_or(&Value::Null))
}

/// The top-level attributes of `after` whose value differs in `before`, in `after`'s
/// order. Only the attributes the desired side sets are compared: live objects report
/// more than the spec manages.
pub fn changed_attrs(before: &Map<String, Value>, after: &Map<String, Value>) -> Vec<String> {
    after
        .iter()
        .filter(|(k, v)| !attr_eq(before.get(k.as_str()), Some(v)))
        .map(|(k, _)| k.clone())
        .collect()
}

/// One differing leaf: a scalar, a list, or a map entry present on one side only.
#[derive(Clone, Debug, PartialEq)]
pub struct Difference {
    /// Dotted path from the attribute name down through map keys.
    pub path: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Differences between the attributes `after` sets and their live values, descending
/// into maps so a one-key change in a large map reads as that key. Lists are compared
/// whole: an element index is rarely what a reader wants named.
pub fn leaf_differences(before: &Map<String, Value>, after: &Map<String, Value>) -> Vec<Difference> {
    let mut out = Vec::new();
    for (key, value) in after {
        collect(key.clone(), before.get(key), Some(value), &mut out);
    }
    out
}

fn collect(path: String, before: Option<&Value>, after: Option<&Value>, out: &mut Vec<Difference>) {
    if attr_eq(before, after) {
        return;
    }
    if let (Some(Value::Object(b)), Some(Value::Object(a))) = (before, after) {
        for (key, value) in a {
            collect(format!("{path}.{key}"), b.get(key), Some(value), out);
        }
        for (key, value) in b {
            if !a.contains_key(key) {
                collect(format!("{path}.{key}"), Some(value), None, out);
            }
        }
        return;
    }
    let present = |v: Option<&Value>| v.filter(|v| !v.is_null()).cloned();
    out.push(Difference {
        path,
        before: present(before),
        after: present(after),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_compare_by_value() {
        assert!(semantic_eq(&json!(3), &json!(3.0)));
        assert!(!semantic_eq(&json!(3), &json!(3.5)));
        assert!(!semantic_eq(&json!(3), &json!("3")));
    }

    #[test]
    fn maps_ignore_order_and_null_entries() {
        assert!(semantic_eq(&json!({"a": 1, "b": 2}), &json!({"b": 2, "a": 1})));
        assert!(semantic_eq(&json!({"a": 1, "c": null}), &json!({"a": 1})));
        assert!(!semantic_eq(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
    }

    #[test]
    fn lists_keep_their_order() {
        assert!(!semantic_eq(&json!(["a", "b"]), &json!(["b", "a"])));
    }

    #[test]
    fn leaf_differences_descend_into_maps() {
        let before = json!({"labels": {"tier": "a", "team": "x"}, "size": 3, "extra": 1});
        let after = json!({"labels": {"tier": "b", "team": "x"}, "size": 3.0});
        let diffs = leaf_differences(before.as_object().unwrap(), after.as_object().unwrap());
        assert_eq!(
            diffs,
            vec![Difference {
                path: "labels.tier".into(),
                before: Some(json!("a")),
                after: Some(json!("b")),
            }]
        );
    }
}
