//! Non-apply patch formats: JSON merge patch (RFC 7386), strategic merge patch
//! (merge patch plus keyed lists and `$patch` directives) and JSON patch (RFC 6902).

use serde_json::Value;

use crate::fieldpath::{find_item, item_step, key_fields};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchFormat {
    Apply,
    Merge,
    Strategic,
    Json,
}

impl PatchFormat {
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        let media = content_type.split(';').next().unwrap_or_default().trim();
        match media {
            "application/apply-patch+yaml" | "application/apply-patch+json" => {
                Some(PatchFormat::Apply)
            }
            "application/merge-patch+json" => Some(PatchFormat::Merge),
            "application/strategic-merge-patch+json" => Some(PatchFormat::Strategic),
            "application/json-patch+json" => Some(PatchFormat::Json),
            _ => None,
        }
    }
}

/// RFC 7386: maps merge recursively, `null` deletes, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Some(patch_map) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    if let Some(target_map) = target.as_object_mut() {
        for (key, value) in patch_map {
            if value.is_null() {
                target_map.remove(key);
            } else {
                merge_patch(target_map.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

/// Strategic merge patch as kubectl sends it (`kubectl apply` client-side, `set
/// image`, `label`): associative lists (containers by name...) merge item by
/// item, `$patch: delete|replace` is honoured, ordering directives are ignored.
pub fn strategic_merge_patch(target: &mut Value, patch: &Value) {
    let Some(patch_map) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if patch_map.get("$patch").and_then(Value::as_str) == Some("replace") {
        let mut replacement = patch.clone();
        strip_directives(&mut replacement);
        *target = replacement;
        return;
    }
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    let Some(target_map) = target.as_object_mut() else {
        return;
    };
    for (key, value) in patch_map {
        if key.starts_with('$') {
            continue;
        }
        if value.is_null() || value.get("$patch").and_then(Value::as_str) == Some("delete") {
            target_map.remove(key);
            continue;
        }
        match (target_map.get_mut(key), value) {
            (Some(Value::Array(live)), Value::Array(items)) => {
                let keys = key_fields(key, items).filter(|k| key_fields(key, live) == Some(*k));
                match keys {
                    Some(keys) => merge_keyed_items(live, items, keys),
                    None => {
                        let mut replacement = value.clone();
                        strip_directives(&mut replacement);
                        target_map.insert(key.clone(), replacement);
                    }
                }
            }
            (Some(existing), Value::Object(_)) => strategic_merge_patch(existing, value),
            _ => {
                let mut fresh = Value::Null;
                strategic_merge_patch(&mut fresh, value);
                if !value.is_object() {
                    fresh = value.clone();
                    strip_directives(&mut fresh);
                }
                target_map.insert(key.clone(), fresh);
            }
        }
    }
}

fn merge_keyed_items(live: &mut Vec<Value>, items: &[Value], keys: &[&str]) {
    for item in items {
        let Some(step) = item_step(keys, item) else {
            continue;
        };
        let position = find_item(live, &step);
        let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
        match (position, delete) {
            (Some(i), true) => {
                live.remove(i);
            }
            (Some(i), false) => strategic_merge_patch(&mut live[i], item),
            (None, true) => {}
            (None, false) => {
                let mut fresh = item.clone();
                strip_directives(&mut fresh);
                live.push(fresh);
            }
        }
    }
}

fn strip_directives(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|k, _| !k.starts_with('$'));
            map.values_mut().for_each(strip_directives);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_directives),
        _ => {}
    }
}

/// RFC 6902 operations add, remove, replace, move, copy and test.
pub fn json_patch(target: &mut Value, patch: &Value) -> Result<(), String> {
    let ops = patch
        .as_array()
        .ok_or("a JSON patch must be an array of operations")?;
    for op in ops {
        let name = op
            .get("op")
            .and_then(Value::as_str)
            .ok_or("JSON patch operation without \"op\"")?;
        let path = op
            .get("path")
            .and_then(Value::as_str)
            .ok_or("JSON patch operation without \"path\"")?;
        let value = || {
            op.get("value")
                .cloned()
                .ok_or(format!("JSON patch {name} at {path} without \"value\""))
        };
        let from = || {
            op.get("from")
                .and_then(Value::as_str)
                .ok_or(format!("JSON patch {name} without \"from\""))
        };
        match name {
            "add" => add(target, path, value()?)?,
            "remove" => {
                remove(target, path)?;
            }
            "replace" => {
                remove(target, path)?;
                add(target, path, value()?)?;
            }
            "move" => {
                let moved = remove(target, from()?)?;
                add(target, path, moved)?;
            }
            "copy" => {
                let copied = target
                    .pointer(from()?)
                    .cloned()
                    .ok_or(format!("no value at {path}"))?;
                add(target, path, copied)?;
            }
            "test" => {
                if target.pointer(path) != Some(&value()?) {
                    return Err(format!("test failed at {path}"));
                }
            }
            other => return Err(format!("unknown JSON patch operation {other:?}")),
        }
    }
    Ok(())
}

fn split_pointer(path: &str) -> Result<(&str, String), String> {
    let (parent, last) = path
        .rsplit_once('/')
        .ok_or(format!("invalid JSON pointer {path:?}"))?;
    Ok((parent, last.replace("~1", "/").replace("~0", "~")))
}

fn add(target: &mut Value, path: &str, value: Value) -> Result<(), String> {
    if path.is_empty() {
        *target = value;
        return Ok(());
    }
    let (parent, last) = split_pointer(path)?;
    match target.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.insert(last, value);
            Ok(())
        }
        Some(Value::Array(items)) if last == "-" => {
            items.push(value);
            Ok(())
        }
        Some(Value::Array(items)) => {
            let index: usize = last
                .parse()
                .map_err(|_| format!("invalid array index in {path:?}"))?;
            if index > items.len() {
                return Err(format!("array index out of range in {path:?}"));
            }
            items.insert(index, value);
            Ok(())
        }
        _ => Err(format!("no parent object for {path:?}")),
    }
}

fn remove(target: &mut Value, path: &str) -> Result<Value, String> {
    let (parent, last) = split_pointer(path)?;
    let removed = match target.pointer_mut(parent) {
        Some(Value::Object(map)) => map.remove(&last),
        Some(Value::Array(items)) => {
            let index: usize = last
                .parse()
                .map_err(|_| format!("invalid array index in {path:?}"))?;
            (index < items.len()).then(|| items.remove(index))
        }
        _ => None,
    };
    removed.ok_or(format!("no value at {path:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_deletes_with_null() {
        let mut doc = json!({"a": {"b": 1, "c": 2}, "l": [1, 2]});
        merge_patch(&mut doc, &json!({"a": {"b": null, "d": 3}, "l": [3]}));
        assert_eq!(doc, json!({"a": {"c": 2, "d": 3}, "l": [3]}));
    }

    #[test]
    fn strategic_merge_patch_merges_containers_by_name() {
        let mut doc = json!({"spec": {"containers": [{"name": "web", "image": "a", "ports": [{"containerPort": 80}]}, {"name": "old", "image": "o"}]}});
        let patch = json!({
            "$setElementOrder/containers": [{"name": "web"}],
            "spec": {"containers": [{"name": "web", "image": "b"}, {"name": "old", "$patch": "delete"}, {"name": "new", "image": "n"}]},
        });
        strategic_merge_patch(&mut doc, &patch);
        assert_eq!(
            doc,
            json!({"spec": {"containers": [{"name": "web", "image": "b", "ports": [{"containerPort": 80}]}, {"name": "new", "image": "n"}]}})
        );
        let mut labels = json!({"metadata": {"labels": {"a": "1", "b": "2"}}});
        strategic_merge_patch(
            &mut labels,
            &json!({"metadata": {"labels": {"a": null, "c": "3"}}}),
        );
        assert_eq!(
            labels,
            json!({"metadata": {"labels": {"b": "2", "c": "3"}}})
        );
    }

    #[test]
    fn json_patch_operations() {
        let mut doc = json!({"metadata": {"labels": {"a": "1"}}, "l": [1]});
        let ops = json!([
            {"op": "add", "path": "/metadata/labels/b", "value": "2"},
            {"op": "replace", "path": "/metadata/labels/a", "value": "9"},
            {"op": "add", "path": "/l/-", "value": 2},
            {"op": "test", "path": "/l/1", "value": 2},
        ]);
        json_patch(&mut doc, &ops).expect("patch applies");
        assert_eq!(
            doc,
            json!({"metadata": {"labels": {"a": "9", "b": "2"}}, "l": [1, 2]})
        );
        assert!(json_patch(&mut doc, &json!([{"op": "remove", "path": "/nope"}])).is_err());
    }
}
