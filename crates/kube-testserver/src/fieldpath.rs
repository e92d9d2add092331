//! Field paths into objects, as server-side apply sees them: map fields, and
//! items of associative lists (containers by `name`, ...) addressed by key, so
//! two managers can own different items or different fields of one item.
//! Other lists are atomic: owned and replaced as a whole.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// Steps from the object root. A map field is its name; a list item is
/// `k:{"name":"web"}` (the FieldsV1 spelling of its key).
pub type FieldPath = Vec<String>;
pub type FieldSet = BTreeSet<FieldPath>;

const ITEM_PREFIX: &str = "k:";

/// Key fields of the associative lists the real server merges by key (from the
/// Kubernetes schemas' `x-kubernetes-list-map-keys`), by list field name.
pub fn key_fields(list_name: &str, items: &[Value]) -> Option<&'static [&'static str]> {
    let keys: &'static [&'static str] = match list_name {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets" => &["name"],
        "volumeMounts" => &["mountPath"],
        "ownerReferences" => &["uid"],
        "ports" if items.iter().all(|i| i.get("containerPort").is_some()) => &["containerPort"],
        "ports" => &["port"],
        _ => return None,
    };
    // Items without their key, or with duplicate keys, make the list atomic.
    let mut seen = BTreeSet::new();
    for item in items {
        let step = item_step(keys, item)?;
        if !seen.insert(step) {
            return None;
        }
    }
    Some(keys)
}

pub fn item_step(keys: &[&str], item: &Value) -> Option<String> {
    let map = item.as_object()?;
    let mut key = Map::new();
    let mut sorted: Vec<&&str> = keys.iter().collect();
    sorted.sort();
    for k in sorted {
        let value = map
            .get(*k)
            .filter(|v| !v.is_object() && !v.is_array() && !v.is_null())?;
        key.insert(k.to_string(), value.clone());
    }
    Some(format!("{ITEM_PREFIX}{}", Value::Object(key)))
}

/// Whether the path ends at a list item (owned as `.` in FieldsV1).
pub fn is_item(path: &[String]) -> bool {
    path.last().is_some_and(|s| s.starts_with(ITEM_PREFIX))
}

pub fn is_item_step(step: &str) -> bool {
    step.starts_with(ITEM_PREFIX)
}

/// Every leaf path (scalars, atomic lists, empty maps) plus every list-item path.
pub fn owned_paths(view: &Value) -> FieldSet {
    let mut set = FieldSet::new();
    if let Some(map) = view.as_object() {
        walk_map(map, &mut Vec::new(), &mut set);
    }
    set
}

/// Only the leaves: the paths whose values can conflict.
pub fn leaves(set: &FieldSet) -> impl Iterator<Item = &FieldPath> {
    set.iter().filter(|p| !is_item(p))
}

/// An applied empty map, or empty associative list, claims the field without
/// setting a value, so it never conflicts with what others own beneath it.
pub fn claims_only(path: &[String], applied: &Value) -> bool {
    match get(applied, path) {
        Some(Value::Object(map)) => map.is_empty(),
        Some(Value::Array(items)) => {
            items.is_empty()
                && path
                    .last()
                    .is_some_and(|name| key_fields(name, items).is_some())
        }
        _ => false,
    }
}

fn walk_map(map: &Map<String, Value>, prefix: &mut FieldPath, out: &mut FieldSet) {
    for (key, value) in map {
        prefix.push(key.clone());
        walk_value(key, value, prefix, out);
        prefix.pop();
    }
}

fn walk_value(name: &str, value: &Value, prefix: &mut FieldPath, out: &mut FieldSet) {
    match value {
        Value::Object(child) if !child.is_empty() => walk_map(child, prefix, out),
        Value::Array(items) if !items.is_empty() => match key_fields(name, items) {
            Some(keys) => {
                for item in items {
                    let Some(step) = item_step(keys, item) else {
                        continue;
                    };
                    prefix.push(step);
                    out.insert(prefix.clone());
                    if let Some(fields) = item.as_object() {
                        walk_map(fields, prefix, out);
                    }
                    prefix.pop();
                }
            }
            None => {
                out.insert(prefix.clone());
            }
        },
        _ => {
            out.insert(prefix.clone());
        }
    }
}

pub fn find_item(items: &[Value], step: &str) -> Option<usize> {
    let key: Map<String, Value> = serde_json::from_str(step.strip_prefix(ITEM_PREFIX)?).ok()?;
    items
        .iter()
        .position(|item| key.iter().all(|(k, v)| item.get(k) == Some(v)))
}

pub fn get<'a>(value: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, step| match v {
        Value::Array(items) if is_item_step(step) => find_item(items, step).map(|i| &items[i]),
        Value::Object(map) => map.get(step),
        _ => None,
    })
}

fn get_mut<'a>(value: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    path.iter().try_fold(value, |v, step| match v {
        Value::Array(items) if is_item_step(step) => {
            let index = find_item(items, step)?;
            items.get_mut(index)
        }
        Value::Object(map) => map.get_mut(step),
        _ => None,
    })
}

/// Removes the field or list item at `path`, then any map left empty by that
/// removal unless `keep` says it is still wanted.
pub fn remove(value: &mut Value, path: &[String], keep: &dyn Fn(&[String]) -> bool) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let Some(parent) = get_mut(value, parents) else {
        return;
    };
    match parent {
        Value::Object(map) => {
            map.remove(last);
            let emptied = map.is_empty();
            if emptied && !parents.is_empty() && !is_item(parents) && !keep(parents) {
                remove(value, parents, keep);
            }
        }
        Value::Array(items) => {
            if let Some(index) = find_item(items, last) {
                items.remove(index);
            }
        }
        _ => {}
    }
}

/// Deep merge: maps key by key, associative lists item by item (new items
/// appended); anything else in `patch` replaces what `base` had.
pub fn merge(base: &mut Value, patch: &Value) {
    match (base.as_object_mut(), patch.as_object()) {
        (Some(base_map), Some(patch_map)) => {
            for (key, value) in patch_map {
                match base_map.get_mut(key) {
                    Some(existing) => merge_field(key, existing, value),
                    None => {
                        base_map.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        _ => *base = patch.clone(),
    }
}

fn merge_field(name: &str, existing: &mut Value, value: &Value) {
    match (existing, value) {
        (existing @ Value::Object(_), Value::Object(_)) => merge(existing, value),
        (Value::Array(live), Value::Array(applied)) => {
            let keys = key_fields(name, applied).filter(|k| key_fields(name, live) == Some(*k));
            match keys {
                Some(keys) => {
                    for item in applied {
                        let position =
                            item_step(keys, item).and_then(|step| find_item(live, &step));
                        match position {
                            Some(i) => merge(&mut live[i], item),
                            None => live.push(item.clone()),
                        }
                    }
                }
                None => *live = applied.clone(),
            }
        }
        (existing, value) => *existing = value.clone(),
    }
}

/// `.spec.containers[name="web"].image`, the form conflict messages use.
pub fn render(path: &[String]) -> String {
    let mut out = String::new();
    for step in path {
        match step
            .strip_prefix(ITEM_PREFIX)
            .and_then(|k| serde_json::from_str::<Map<String, Value>>(k).ok())
        {
            Some(key) => {
                let parts: Vec<String> = key.iter().map(|(k, v)| format!("{k}={v}")).collect();
                out.push_str(&format!("[{}]", parts.join(",")));
            }
            None => {
                out.push('.');
                out.push_str(step);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod_spec(containers: Value) -> Value {
        json!({"spec": {"containers": containers}})
    }

    #[test]
    fn containers_are_keyed_by_name() {
        let view =
            pod_spec(json!([{"name": "web", "image": "a"}, {"name": "side", "args": ["x"]}]));
        let paths: Vec<String> = owned_paths(&view).iter().map(|p| render(p)).collect();
        assert_eq!(
            paths,
            vec![
                ".spec.containers[name=\"side\"]",
                ".spec.containers[name=\"side\"].args",
                ".spec.containers[name=\"side\"].name",
                ".spec.containers[name=\"web\"]",
                ".spec.containers[name=\"web\"].image",
                ".spec.containers[name=\"web\"].name",
            ]
        );
        let web: FieldPath = vec![
            "spec".into(),
            "containers".into(),
            r#"k:{"name":"web"}"#.into(),
            "image".into(),
        ];
        assert_eq!(get(&view, &web), Some(&json!("a")));
    }

    #[test]
    fn merge_and_remove_items_by_key() {
        let mut live = pod_spec(json!([{"name": "web", "image": "a", "tty": true}]));
        merge(
            &mut live,
            &pod_spec(json!([{"name": "web", "image": "b"}, {"name": "new", "image": "c"}])),
        );
        assert_eq!(
            live,
            pod_spec(
                json!([{"name": "web", "image": "b", "tty": true}, {"name": "new", "image": "c"}])
            )
        );
        let item: FieldPath = vec![
            "spec".into(),
            "containers".into(),
            r#"k:{"name":"web"}"#.into(),
        ];
        remove(&mut live, &item, &|_| false);
        assert_eq!(live, pod_spec(json!([{"name": "new", "image": "c"}])));
    }

    #[test]
    fn lists_without_keys_are_atomic() {
        let view = json!({"spec": {"args": ["a", "b"], "containers": [{"image": "no-name"}]}});
        let paths: Vec<String> = owned_paths(&view).iter().map(|p| render(p)).collect();
        assert_eq!(paths, vec![".spec.args", ".spec.containers"]);
    }
}
