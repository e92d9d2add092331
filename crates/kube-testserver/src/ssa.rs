//! Server-side apply: field ownership (`metadata.managedFields`, FieldsV1) and the
//! apply merge. Paths, list keys and the merge itself live in `fieldpath`.

use serde_json::{json, Map, Value};

use crate::fieldpath::{self, is_item, is_item_step, leaves, owned_paths, FieldPath, FieldSet};

/// Metadata the server owns: never part of anyone's field set, never merged
/// from a request body.
const SYSTEM_METADATA: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
];

/// The part of an object that field managers can own: everything but
/// apiVersion/kind, status and server-set metadata; nulls count as absent.
pub fn managed_view(object: &Value) -> Value {
    let mut view = object.clone();
    if let Some(map) = view.as_object_mut() {
        map.remove("apiVersion");
        map.remove("kind");
        map.remove("status");
        if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            for key in SYSTEM_METADATA {
                meta.remove(*key);
            }
        }
    }
    strip_nulls(&mut view);
    if let Some(map) = view.as_object_mut() {
        if map
            .get("metadata")
            .and_then(Value::as_object)
            .is_some_and(Map::is_empty)
        {
            map.remove("metadata");
        }
    }
    view
}

fn strip_nulls(value: &mut Value) {
    if let Some(map) = value.as_object_mut() {
        map.retain(|_, v| !v.is_null());
        map.values_mut().for_each(strip_nulls);
    }
}

/// Whether `owner`, as held in a field set, covers `path`: it owns the path or
/// something beneath it, or an atomic value (not a list item) above it.
fn covers(owner: &[String], path: &[String]) -> bool {
    owner.starts_with(path) || (path.starts_with(owner) && !is_item(owner))
}

/// One `metadata.managedFields` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct ManagedEntry {
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    pub api_version: String,
    pub time: String,
    pub subresource: Option<String>,
    pub fields: FieldSet,
}

pub fn read_entries(object: &Value) -> Vec<ManagedEntry> {
    let Some(list) = object
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|e| {
            let text = |k: &str| e.get(k).and_then(Value::as_str).map(str::to_string);
            Some(ManagedEntry {
                manager: text("manager")?,
                operation: text("operation")?,
                api_version: text("apiVersion").unwrap_or_default(),
                time: text("time").unwrap_or_default(),
                subresource: text("subresource"),
                fields: e.get("fieldsV1").map(from_fields_v1).unwrap_or_default(),
            })
        })
        .collect()
}

pub fn write_entries(object: &mut Value, entries: &[ManagedEntry]) {
    let list: Vec<Value> = entries
        .iter()
        .filter(|e| !e.fields.is_empty())
        .map(|e| {
            let mut entry = json!({
                "manager": e.manager,
                "operation": e.operation,
                "apiVersion": e.api_version,
                "time": e.time,
                "fieldsType": "FieldsV1",
                "fieldsV1": to_fields_v1(&e.fields),
            });
            if let Some(sub) = &e.subresource {
                entry["subresource"] = json!(sub);
            }
            entry
        })
        .collect();
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        if list.is_empty() {
            meta.remove("managedFields");
        } else {
            meta.insert("managedFields".into(), Value::Array(list));
        }
    }
}

/// FieldsV1 trie: `{"f:data": {"f:key": {}}}`; `"."` marks a node that is itself
/// owned while also having owned children.
pub fn to_fields_v1(set: &FieldSet) -> Value {
    let mut root = Map::new();
    for path in set {
        let mut node = &mut root;
        for key in path {
            let step = if is_item_step(key) {
                key.clone()
            } else {
                format!("f:{key}")
            };
            let entry = node.entry(step).or_insert_with(|| json!({}));
            node = match entry.as_object_mut() {
                Some(map) => map,
                None => return Value::Object(root),
            };
        }
        if !node.is_empty() {
            node.insert(".".into(), json!({}));
        }
    }
    // A node owned before its children were added needs its "." marker too.
    mark_owned_parents(&mut root, set, &mut Vec::new());
    Value::Object(root)
}

fn mark_owned_parents(node: &mut Map<String, Value>, set: &FieldSet, prefix: &mut FieldPath) {
    for (key, child) in node.iter_mut() {
        let name = match key.strip_prefix("f:") {
            Some(name) => name,
            None if is_item_step(key) => key.as_str(),
            None => continue,
        };
        let Some(child_map) = child.as_object_mut() else {
            continue;
        };
        prefix.push(name.to_string());
        if !child_map.is_empty() && set.contains(prefix) {
            child_map.insert(".".into(), json!({}));
        }
        mark_owned_parents(child_map, set, prefix);
        prefix.pop();
    }
}

pub fn from_fields_v1(value: &Value) -> FieldSet {
    let mut set = FieldSet::new();
    if let Some(map) = value.as_object() {
        collect_fields_v1(map, &mut Vec::new(), &mut set);
    }
    set
}

fn collect_fields_v1(map: &Map<String, Value>, prefix: &mut FieldPath, out: &mut FieldSet) {
    for (key, child) in map {
        if key == "." {
            if !prefix.is_empty() {
                out.insert(prefix.clone());
            }
            continue;
        }
        // Set members (v:) and positional items (i:) are not modelled: owning one
        // counts as owning the whole list.
        let name = match key.strip_prefix("f:") {
            Some(name) => name,
            None if is_item_step(key) => key.as_str(),
            None => {
                if !prefix.is_empty() {
                    out.insert(prefix.clone());
                }
                continue;
            }
        };
        prefix.push(name.to_string());
        match child.as_object() {
            Some(grand) if !grand.is_empty() => collect_fields_v1(grand, prefix, out),
            _ => {
                out.insert(prefix.clone());
            }
        }
        prefix.pop();
    }
}

/// A field another manager owns with a different value than the one applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub manager: String,
    pub api_version: String,
    pub path: FieldPath,
}

pub struct ApplyRequest<'a> {
    pub manager: &'a str,
    pub force: bool,
    pub api_version: &'a str,
    pub now: &'a str,
}

/// Applies `applied` (the manager's full intent) over `live`, which already holds
/// apiVersion, kind, name and namespace. Returns the merged object with updated
/// managedFields, or the conflicts when `force` is false.
pub fn apply(live: &Value, applied: &Value, req: &ApplyRequest) -> Result<Value, Vec<Conflict>> {
    let applied = managed_view(applied);
    let new_set = owned_paths(&applied);
    let mut entries = read_entries(live);
    let is_mine = |e: &ManagedEntry| {
        e.manager == req.manager && e.operation == "Apply" && e.subresource.is_none()
    };
    let old_set = entries
        .iter()
        .find(|e| is_mine(e))
        .map(|e| e.fields.clone())
        .unwrap_or_default();

    // Only leaves carry values that can clash; list items are shared structure.
    let mut conflicts = Vec::new();
    for entry in entries
        .iter()
        .filter(|e| !is_mine(e) && e.subresource.is_none())
    {
        for path in leaves(&new_set).filter(|p| !fieldpath::claims_only(p, &applied)) {
            let clash = entry.fields.iter().any(|owned| covers(owned, path))
                && fieldpath::get(&applied, path) != fieldpath::get(live, path);
            let seen = conflicts
                .iter()
                .any(|c: &Conflict| c.manager == entry.manager && &c.path == path);
            if clash && !seen {
                conflicts.push(Conflict {
                    manager: entry.manager.clone(),
                    api_version: entry.api_version.clone(),
                    path: path.clone(),
                });
            }
        }
    }
    if !conflicts.is_empty() && !req.force {
        return Err(conflicts);
    }
    for entry in entries.iter_mut().filter(|e| !is_mine(e)) {
        entry
            .fields
            .retain(|owned| !conflicts.iter().any(|c| covers(owned, &c.path)));
    }

    let mut merged = live.clone();
    let others: Vec<&ManagedEntry> = entries.iter().filter(|e| !is_mine(e)).collect();
    let still_owned = |path: &[String]| {
        let mine = new_set.iter().any(|p| {
            p.starts_with(path) || (covers(p, path) && !fieldpath::claims_only(p, &applied))
        });
        mine || others
            .iter()
            .any(|e| e.fields.iter().any(|q| covers(q, path)))
    };
    for dropped in old_set.difference(&new_set) {
        if !still_owned(dropped) {
            fieldpath::remove(&mut merged, dropped, &still_owned);
        }
    }
    fieldpath::merge(&mut merged, &applied);

    match entries.iter_mut().find(|e| is_mine(e)) {
        Some(mine) if mine.fields == new_set && mine.api_version == req.api_version => {}
        Some(mine) => {
            mine.fields = new_set;
            mine.api_version = req.api_version.to_string();
            mine.time = req.now.to_string();
        }
        None => entries.push(ManagedEntry {
            manager: req.manager.to_string(),
            operation: "Apply".into(),
            api_version: req.api_version.to_string(),
            time: req.now.to_string(),
            subresource: None,
            fields: new_set,
        }),
    }
    write_entries(&mut merged, &entries);
    Ok(merged)
}

/// Records a non-apply write (create, update, patch) by `manager`: it takes the
/// fields whose values it changed, from whoever owned them, without conflicts.
pub fn record_update(
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    api_version: &str,
    now: &str,
    subresource: Option<&str>,
) {
    let mut entries = old.map(read_entries).unwrap_or_default();
    let old_view = old.map(managed_view).unwrap_or_else(|| json!({}));
    let new_view = managed_view(new);
    let (old_paths, new_paths) = (owned_paths(&old_view), owned_paths(&new_view));
    // New list items and changed leaves become the updater's.
    let changed: FieldSet = new_paths
        .iter()
        .filter(|p| {
            if is_item(p) {
                !old_paths.contains(*p)
            } else {
                fieldpath::get(&old_view, p) != fieldpath::get(&new_view, p)
            }
        })
        .cloned()
        .collect();
    let removed: FieldSet = old_paths.difference(&new_paths).cloned().collect();

    let is_mine = |e: &ManagedEntry| {
        e.manager == manager && e.operation == "Update" && e.subresource.as_deref() == subresource
    };
    for entry in entries.iter_mut() {
        entry
            .fields
            .retain(|q| !removed.iter().any(|p| q.starts_with(p)));
        if !is_mine(entry) {
            entry
                .fields
                .retain(|q| !leaves(&changed).any(|p| covers(q, p) && !is_item(q)));
        }
    }
    if !changed.is_empty() {
        match entries.iter_mut().find(|e| is_mine(e)) {
            Some(mine) => {
                mine.fields.extend(changed);
                mine.time = now.to_string();
                mine.api_version = api_version.to_string();
            }
            None => entries.push(ManagedEntry {
                manager: manager.to_string(),
                operation: "Update".into(),
                api_version: api_version.to_string(),
                time: now.to_string(),
                subresource: subresource.map(str::to_string),
                fields: changed,
            }),
        }
    }
    write_entries(new, &entries);
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::fieldpath::FieldPath;

    fn path(p: &str) -> FieldPath {
        p.split('.').map(str::to_string).collect()
    }

    fn req<'a>(manager: &'a str, force: bool) -> ApplyRequest<'a> {
        ApplyRequest {
            manager,
            force,
            api_version: "v1",
            now: "2026-01-01T00:00:00Z",
        }
    }

    fn base() -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "default"}})
    }

    #[test]
    fn fields_v1_round_trips() {
        let set: FieldSet = [
            path("data.a"),
            path("metadata.labels.app"),
            path("metadata.labels"),
        ]
        .into();
        let encoded = to_fields_v1(&set);
        assert_eq!(
            encoded,
            json!({"f:data": {"f:a": {}}, "f:metadata": {"f:labels": {".": {}, "f:app": {}}}})
        );
        assert_eq!(from_fields_v1(&encoded), set);
    }

    #[test]
    fn apply_creates_then_drops_fields_the_manager_stopped_applying() {
        let first = apply(
            &base(),
            &json!({"data": {"a": "1", "b": "2"}, "metadata": {"labels": {"x": "y"}}}),
            &req("m", false),
        )
        .expect("no conflict");
        assert_eq!(first["data"], json!({"a": "1", "b": "2"}));
        let second =
            apply(&first, &json!({"data": {"a": "1"}}), &req("m", false)).expect("no conflict");
        assert_eq!(second["data"], json!({"a": "1"}));
        assert_eq!(second["metadata"].get("labels"), None);
        let fields = &second["metadata"]["managedFields"][0];
        assert_eq!(fields["operation"], "Apply");
        assert_eq!(fields["fieldsV1"], json!({"f:data": {"f:a": {}}}));
    }

    #[test]
    fn second_manager_conflicts_on_a_different_value_and_force_takes_ownership() {
        let first = apply(
            &base(),
            &json!({"data": {"a": "1", "b": "2"}}),
            &req("one", false),
        )
        .expect("applies");
        // Same value: shared ownership, no conflict.
        let shared =
            apply(&first, &json!({"data": {"b": "2"}}), &req("two", false)).expect("shared");
        let conflicts = apply(
            &shared,
            &json!({"data": {"a": "changed"}}),
            &req("two", false),
        )
        .expect_err("conflicts");
        assert_eq!(
            conflicts,
            vec![Conflict {
                manager: "one".into(),
                api_version: "v1".into(),
                path: path("data.a")
            }]
        );

        let forced = apply(
            &shared,
            &json!({"data": {"a": "changed", "b": "2"}}),
            &req("two", true),
        )
        .expect("forced");
        assert_eq!(forced["data"]["a"], "changed");
        let entries = read_entries(&forced);
        assert_eq!(entries[0].fields, [path("data.b")].into());
        assert_eq!(entries[1].fields, [path("data.a"), path("data.b")].into());

        // "one" stops applying b, but "two" still owns it: it stays.
        let kept = apply(
            &forced,
            &json!({"metadata": {"labels": {"l": "1"}}}),
            &req("one", false),
        )
        .expect("applies");
        assert_eq!(kept["data"]["b"], "2");
    }

    #[test]
    fn managers_share_a_container_list_item_by_item() {
        let deployment =
            |containers: Value| json!({"spec": {"template": {"spec": {"containers": containers}}}});
        let live = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"}});
        let a = apply(
            &live,
            &deployment(json!([{"name": "web", "image": "web:1"}])),
            &req("drplan", false),
        )
        .expect("a");
        let b = apply(
            &a,
            &deployment(
                json!([{"name": "sidecar", "image": "proxy:1"}, {"name": "web", "tty": true}]),
            ),
            &req("mesh", false),
        )
        .expect("different items and fields do not conflict");
        assert_eq!(
            b["spec"]["template"]["spec"]["containers"],
            json!([{"name": "web", "image": "web:1", "tty": true}, {"name": "sidecar", "image": "proxy:1"}])
        );
        let conflicts = apply(
            &b,
            &deployment(json!([{"name": "web", "image": "web:2"}])),
            &req("mesh", false),
        )
        .expect_err("same field, different value");
        assert_eq!(
            render_conflict(&conflicts[0]),
            "drplan .spec.template.spec.containers[name=\"web\"].image"
        );

        // drplan drops its container: mesh still holds the item, so only drplan's field goes.
        let dropped = apply(&b, &deployment(json!([])), &req("drplan", false)).expect("drop");
        assert_eq!(
            dropped["spec"]["template"]["spec"]["containers"],
            json!([{"name": "web", "tty": true}, {"name": "sidecar", "image": "proxy:1"}])
        );
    }

    fn render_conflict(c: &Conflict) -> String {
        format!("{} {}", c.manager, crate::fieldpath::render(&c.path))
    }

    #[test]
    fn an_update_takes_fields_without_conflict_and_then_blocks_apply() {
        let applied =
            apply(&base(), &json!({"data": {"a": "1"}}), &req("drplan", false)).expect("applies");
        let mut edited = applied.clone();
        edited["data"]["a"] = json!("edited");
        record_update(Some(&applied), &mut edited, "kubectl-edit", "v1", "t", None);
        let conflicts = apply(&edited, &json!({"data": {"a": "1"}}), &req("drplan", false))
            .expect_err("conflicts");
        assert_eq!(conflicts[0].manager, "kubectl-edit");
    }
}
