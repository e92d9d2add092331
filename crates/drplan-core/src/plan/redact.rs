//! Secret values never leave the diff: `plan::diff` compares real values, then
//! replaces every sensitive one with [`SENSITIVE_MARKER`] before the value enters a
//! [`super::ResourceChange`]. Renderers and saved plans therefore cannot leak a secret,
//! whatever they print.
//!
//! A sensitive path is an attribute name or a dotted path through map keys
//! (`manifest.data`). A list met on the way applies the rest of the path to every
//! element (`manifest.spec.containers.env` covers each container's `env`).

use crate::resource::{AttrMap, Kind};
use serde_json::{Map, Value};

/// What a redacted value becomes, in plans, saved plans and every rendering.
pub const SENSITIVE_MARKER: &str = "(sensitive)";

/// The paths to redact for one object: those the spec declared plus those secret by
/// nature, so an orphaned Kubernetes Secret (which no spec declares any more) is
/// redacted too.
pub fn sensitive_paths(kind: Kind, attrs: &Map<String, Value>, declared: &[String]) -> Vec<String> {
    let mut paths: Vec<String> = Vec::new();
    let is_secret =
        kind == Kind::K8sObject && attrs.get("kind").and_then(Value::as_str) == Some("Secret");
    let natural: &[&str] = if is_secret {
        &["manifest.data", "manifest.stringData"]
    } else {
        &[]
    };
    for path in declared
        .iter()
        .map(String::as_str)
        .chain(natural.iter().copied())
    {
        if !paths.iter().any(|p| p == path) {
            paths.push(path.to_string());
        }
    }
    paths
}

/// Replaces the value at every sensitive path with [`SENSITIVE_MARKER`]. A `null` or
/// absent value stays as it is: there is no secret in "not set".
pub fn redact(attrs: &mut Map<String, Value>, paths: &[String]) {
    for path in paths {
        let segments: Vec<&str> = path.split('.').collect();
        redact_in_map(attrs, &segments);
    }
}

/// [`redact`] on shared attributes: they are copied only when there is something to
/// redact.
pub fn redact_shared(attrs: &mut AttrMap, paths: &[String]) {
    if !paths.is_empty() {
        redact(attrs, paths);
    }
}

fn redact_in_map(map: &mut Map<String, Value>, segments: &[&str]) {
    let Some((first, rest)) = segments.split_first() else {
        return;
    };
    let Some(value) = map.get_mut(*first) else {
        return;
    };
    if rest.is_empty() {
        if !value.is_null() {
            *value = Value::String(SENSITIVE_MARKER.to_string());
        }
    } else {
        redact_in_value(value, rest);
    }
}

fn redact_in_value(value: &mut Value, segments: &[&str]) {
    match value {
        Value::Object(map) => redact_in_map(map, segments),
        Value::Array(items) => items.iter_mut().for_each(|v| redact_in_value(v, segments)),
        _ => {}
    }
}

/// Every value found at `path` (several when the path crosses a list).
pub fn values_at<'a>(attrs: &'a Map<String, Value>, path: &str) -> Vec<&'a Value> {
    let mut current: Vec<&Value> = Vec::new();
    let mut segments = path.split('.');
    let Some(first) = segments.next() else {
        return current;
    };
    current.extend(attrs.get(first));
    for segment in segments {
        current = current.into_iter().flat_map(|v| step(v, segment)).collect();
    }
    current
}

fn step<'a>(value: &'a Value, segment: &str) -> Vec<&'a Value> {
    match value {
        Value::Object(map) => map.get(segment).into_iter().collect(),
        Value::Array(items) => items.iter().flat_map(|v| step(v, segment)).collect(),
        _ => Vec::new(),
    }
}

/// The sensitive paths whose value differs between `before` and `after`, compared
/// before redaction. Only paths under attributes the desired side sets count, like
/// every other comparison in the diff.
pub fn changed_paths(
    before: &Map<String, Value>,
    after: &Map<String, Value>,
    paths: &[String],
) -> Vec<String> {
    paths
        .iter()
        .filter(|path| {
            let top = path.split('.').next().unwrap_or("");
            if !after.contains_key(top) {
                return false;
            }
            let b = values_at(before, path);
            let a = values_at(after, path);
            b.len() != a.len()
                || b.iter()
                    .zip(&a)
                    .any(|(x, y)| !super::compare::semantic_eq(x, y))
        })
        .cloned()
        .collect()
}

/// Whether a value shown at `path` (dotted through map keys; list elements share their
/// list's path, and an element index such as `env[2]` is ignored) is sensitive.
pub fn is_sensitive_path(path: &str, sensitive: &[String]) -> bool {
    let path = without_indices(path);
    sensitive.iter().any(|p| {
        path == p.as_str()
            || path
                .strip_prefix(p.as_str())
                .is_some_and(|rest| rest.starts_with('.'))
    })
}

/// A difference path with its list element indices dropped (`containers[0].env[1]` is
/// `containers.env`), the form sensitive paths are written in.
pub fn without_indices(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        match rest[open..].find(']') {
            Some(close) => rest = &rest[open + close + 1..],
            None => {
                rest = &rest[open..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The terraform-show-json sensitivity mask of a value: the same shape, with `true`
/// where a value is sensitive, and `{}` when nothing is.
pub fn sensitivity_mask(attrs: &Map<String, Value>, paths: &[String]) -> Value {
    let mut mask = Map::new();
    for path in paths {
        let segments: Vec<&str> = path.split('.').collect();
        mask_map(attrs, &segments, &mut mask);
    }
    Value::Object(mask)
}

fn mask_map(map: &Map<String, Value>, segments: &[&str], mask: &mut Map<String, Value>) {
    let Some((first, rest)) = segments.split_first() else {
        return;
    };
    let Some(value) = map.get(*first) else { return };
    if value.is_null() {
        return;
    }
    if rest.is_empty() {
        mask.insert(first.to_string(), Value::Bool(true));
        return;
    }
    let entry = mask
        .entry(first.to_string())
        .or_insert_with(|| empty_mask(value));
    mask_value(value, rest, entry);
}

fn mask_value(value: &Value, segments: &[&str], mask: &mut Value) {
    match (value, mask) {
        (Value::Object(map), Value::Object(mask)) => mask_map(map, segments, mask),
        (Value::Array(items), Value::Array(masks)) => {
            for (item, m) in items.iter().zip(masks.iter_mut()) {
                if m == &Value::Bool(false) {
                    *m = empty_mask(item);
                }
                mask_value(item, segments, m);
            }
        }
        _ => {}
    }
}

fn empty_mask(value: &Value) -> Value {
    match value {
        Value::Object(_) => Value::Object(Map::new()),
        Value::Array(items) => Value::Array(vec![Value::Bool(false); items.len()]),
        _ => Value::Bool(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn redacts_nested_paths_and_list_elements() {
        let mut attrs = map(json!({
            "password": "hunter2",
            "manifest": {"data": {"key": "c2VjcmV0"}, "kind": "Secret"},
            "containers": [{"env": "A=1"}, {"env": "B=2"}],
            "unset": null
        }));
        let paths = vec![
            "password".into(),
            "manifest.data".into(),
            "containers.env".into(),
            "unset".into(),
        ];
        redact(&mut attrs, &paths);
        assert_eq!(
            Value::Object(attrs),
            json!({
                "password": "(sensitive)",
                "manifest": {"data": "(sensitive)", "kind": "Secret"},
                "containers": [{"env": "(sensitive)"}, {"env": "(sensitive)"}],
                "unset": null
            })
        );
    }

    #[test]
    fn mask_mirrors_the_value() {
        let attrs = map(json!({"manifest": {"data": {"k": "v"}}, "list": [{"s": 1}, {"t": 2}]}));
        let mask = sensitivity_mask(&attrs, &["manifest.data".into(), "list.s".into()]);
        assert_eq!(
            mask,
            json!({"manifest": {"data": true}, "list": [{"s": true}, {}]})
        );
    }

    #[test]
    fn secrets_are_sensitive_by_nature() {
        let attrs = map(json!({"kind": "Secret"}));
        assert_eq!(
            sensitive_paths(Kind::K8sObject, &attrs, &["manifest.data".into()]),
            vec![
                "manifest.data".to_string(),
                "manifest.stringData".to_string()
            ]
        );
    }
}
