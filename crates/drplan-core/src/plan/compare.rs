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
    semantic_eq(
        before.unwrap_or(&Value::Null),
        after.unwrap_or(&Value::Null),
    )
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
    /// Path from the attribute name down through map keys (`.key`) and list elements
    /// (`[index]`): `lifecycle_rules[0].expiration_days`.
    pub path: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Differences between the attributes `after` sets and their live values, descending
/// into maps and lists so a one-key change in a large value reads as that key: a
/// value cut short for display would otherwise hide the change. The leaves of the
/// attribute diff's tree (`plan::attrdiff`), the walk the plan and drift use.
pub fn leaf_differences(
    before: &Map<String, Value>,
    after: &Map<String, Value>,
) -> Vec<Difference> {
    super::attrdiff::leaves(before, after)
}

/// Lists longer than this (live × desired elements) are paired by index rather than
/// aligned: the alignment table grows with the product.
const ALIGNMENT_CELLS: usize = 250_000;

/// The elements of two lists that are not common to both, as (live index, spec index)
/// pairs. Common elements are found by longest common subsequence, so one element
/// removed from the front reads as that removal, not as every later element shifted.
/// Between two common elements, changed ones pair up in order and the rest are
/// removed (`None` on the spec side) or added (`None` on the live side). Elements
/// compare by meaning (`semantic_eq`); the attribute diff (`plan::attrdiff`) aligns
/// lists with it, for every renderer.
pub fn unmatched_elements(
    before: &[Value],
    after: &[Value],
) -> Vec<(Option<usize>, Option<usize>)> {
    let (n, m) = (before.len(), after.len());
    if n.saturating_mul(m) > ALIGNMENT_CELLS {
        return (0..n.max(m))
            .map(|k| ((k < n).then_some(k), (k < m).then_some(k)))
            .collect();
    }
    // common[i][j]: length of the longest common subsequence of before[i..], after[j..].
    let mut common = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            common[i][j] = if semantic_eq(&before[i], &after[j]) {
                common[i + 1][j + 1] + 1
            } else {
                common[i + 1][j].max(common[i][j + 1])
            };
        }
    }
    let mut out = Vec::new();
    let (mut removed, mut added) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if semantic_eq(&before[i], &after[j]) && common[i][j] == common[i + 1][j + 1] + 1 {
            pair_gap(&mut removed, &mut added, &mut out);
            i += 1;
            j += 1;
        } else if common[i + 1][j] >= common[i][j + 1] {
            removed.push(i);
            i += 1;
        } else {
            added.push(j);
            j += 1;
        }
    }
    removed.extend(i..n);
    added.extend(j..m);
    pair_gap(&mut removed, &mut added, &mut out);
    out
}

fn pair_gap(
    removed: &mut Vec<usize>,
    added: &mut Vec<usize>,
    out: &mut Vec<(Option<usize>, Option<usize>)>,
) {
    let paired = removed.len().min(added.len());
    out.extend(
        removed
            .iter()
            .zip(added.iter())
            .map(|(&i, &j)| (Some(i), Some(j))),
    );
    out.extend(removed[paired..].iter().map(|&i| (Some(i), None)));
    out.extend(added[paired..].iter().map(|&j| (None, Some(j))));
    removed.clear();
    added.clear();
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
        assert!(semantic_eq(
            &json!({"a": 1, "b": 2}),
            &json!({"b": 2, "a": 1})
        ));
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

    #[test]
    fn leaf_differences_descend_into_list_elements() {
        let before =
            json!({"rules": [{"id": "a", "days": 45}, {"id": "b", "days": 7}], "ids": ["x"]});
        let after =
            json!({"rules": [{"id": "a", "days": 30}, {"id": "b", "days": 7}], "ids": ["x", "y"]});
        let diffs = leaf_differences(before.as_object().unwrap(), after.as_object().unwrap());
        assert_eq!(
            diffs,
            vec![
                Difference {
                    path: "rules[0].days".into(),
                    before: Some(json!(45)),
                    after: Some(json!(30)),
                },
                Difference {
                    path: "ids[1]".into(),
                    before: None,
                    after: Some(json!("y")),
                },
            ]
        );
    }
}

#[cfg(test)]
mod list_tests {
    use super::*;
    use serde_json::json;

    fn paths(before: Value, after: Value) -> Vec<(String, Option<Value>, Option<Value>)> {
        let (before, after) = (json!({ "l": before }), json!({ "l": after }));
        leaf_differences(before.as_object().unwrap(), after.as_object().unwrap())
            .into_iter()
            .map(|d| (d.path, d.before, d.after))
            .collect()
    }

    #[test]
    fn an_element_removed_from_the_front_reads_as_that_removal() {
        assert_eq!(
            paths(json!(["old", "kept"]), json!(["kept"])),
            [("l[0]".into(), Some(json!("old")), None)]
        );
    }

    #[test]
    fn an_element_inserted_in_the_middle_reads_as_that_insertion() {
        assert_eq!(
            paths(json!(["a", "c"]), json!(["a", "b", "c"])),
            [("l[1]".into(), None, Some(json!("b")))]
        );
    }

    #[test]
    fn equal_lists_differ_nowhere() {
        assert_eq!(paths(json!([1, {"k": 2}]), json!([1.0, {"k": 2}])), []);
    }
}
