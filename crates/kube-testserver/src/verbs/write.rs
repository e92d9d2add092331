//! Writes: create, replace, patch, delete, and the scale subresource.

use serde_json::{json, Value};

use super::apply::apply;
use super::checks::{check_namespace_exists, expect_object, place_in_namespace, validate};
use super::stamp::{
    finish_update, generated_name, persist, resource_version, set_meta, settle_write,
};
use super::{list, Target, WriteOptions};
use crate::patch::{json_patch, merge_patch, strategic_merge_patch, PatchFormat};
use crate::scale;
use crate::selectors::{FieldSelector, LabelSelector};
use crate::ssa;
use crate::status::ApiError;
use crate::store::{ObjectKey, Store};

/// Namespaces a real cluster refuses to delete.
const PROTECTED_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public"];

pub fn create(
    store: &mut Store,
    target: &Target,
    body: Value,
    opts: &WriteOptions,
) -> Result<Value, ApiError> {
    if target.name.is_some() {
        return Err(ApiError::method_not_allowed(
            "POST is not allowed on a named resource; use PUT or PATCH",
        ));
    }
    if target.ty.namespaced && target.namespace.is_none() {
        return Err(ApiError::method_not_allowed(format!(
            "{} are namespaced: POST to /namespaces/<namespace>/{}",
            target.ty.plural, target.ty.plural
        )));
    }
    let mut object = expect_object(body, target.ty)?;
    let name = match object.pointer("/metadata/name").and_then(Value::as_str) {
        Some(name) if !name.is_empty() => name.to_string(),
        _ => generated_name(&object, store)?,
    };
    set_meta(&mut object, "name", json!(name));
    place_in_namespace(&mut object, target)?;
    let target = Target {
        name: Some(name.clone()),
        ..target.clone()
    };
    check_namespace_exists(store, &target)?;
    validate(&object, &target, &name)?;
    let key = target.key(&name);
    if store.contains(&key) {
        return Err(ApiError::already_exists(
            &target.ty.group,
            &target.ty.plural,
            &name,
        ));
    }
    for field in [
        "uid",
        "resourceVersion",
        "creationTimestamp",
        "generation",
        "managedFields",
        "deletionTimestamp",
    ] {
        if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove(field);
        }
    }
    if target.ty.is_namespace() {
        object["spec"] = json!({"finalizers": ["kubernetes"]});
        object["status"] = json!({"phase": "Active"});
    }
    ssa::record_update(
        None,
        &mut object,
        opts.manager(),
        &target.ty.api_version(),
        &opts.now,
        None,
    );
    Ok(persist(store, target.ty, key, None, object, opts))
}

pub fn replace(
    store: &mut Store,
    target: &Target,
    body: Value,
    opts: &WriteOptions,
) -> Result<Value, ApiError> {
    let name = target.name()?.to_string();
    if target.subresource.as_deref() == Some("scale") {
        if body.get("kind").and_then(Value::as_str) != Some("Scale") {
            return Err(ApiError::bad_request(
                "the body of a /scale write must be an autoscaling/v1 Scale",
            ));
        }
        return write_scale(store, target, target.key(&name), |_| Ok(body), opts);
    }
    let mut object = expect_object(body, target.ty)?;
    let body_name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if body_name != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    place_in_namespace(&mut object, target)?;
    let key = target.key(&name);
    let old = store
        .get(&key)
        .cloned()
        .ok_or_else(|| target.not_found(&name))?;
    match object
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
    {
        Some(rv) if !rv.is_empty() && Some(rv) != resource_version(&old) => {
            return Err(ApiError::stale(&target.ty.group, &target.ty.plural, &name));
        }
        _ => {}
    }
    let new = settle_write(&old, object, target);
    validate(&new, target, &name)?;
    finish_update(store, target, key, old, new, opts)
}

/// Returns the resulting object and whether it was created (apply on a missing
/// object creates it).
pub fn patch(
    store: &mut Store,
    target: &Target,
    format: PatchFormat,
    body: &[u8],
    opts: &WriteOptions,
) -> Result<(Value, bool), ApiError> {
    let name = target.name()?.to_string();
    let key = target.key(&name);
    if format == PatchFormat::Apply {
        return apply(store, target, &name, key, body, opts);
    }
    let patch: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the patch is not valid JSON: {e}")))?;
    let apply_patch = |doc: &mut Value| -> Result<(), ApiError> {
        match format {
            PatchFormat::Json => json_patch(doc, &patch)
                .map_err(|e| ApiError::invalid(&target.ty.group, &target.ty.plural, &name, e)),
            PatchFormat::Strategic => {
                strategic_merge_patch(doc, &patch);
                Ok(())
            }
            _ => {
                merge_patch(doc, &patch);
                Ok(())
            }
        }
    };
    if target.subresource.as_deref() == Some("scale") {
        let scaled = write_scale(
            store,
            target,
            key,
            |mut scale| apply_patch(&mut scale).map(|()| scale),
            opts,
        )?;
        return Ok((scaled, false));
    }
    let old = store
        .get(&key)
        .cloned()
        .ok_or_else(|| target.not_found(&name))?;
    let mut patched = old.clone();
    apply_patch(&mut patched)?;
    if let Some(rv) = patch
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
    {
        if Some(rv) != resource_version(&old) {
            return Err(ApiError::stale(&target.ty.group, &target.ty.plural, &name));
        }
    }
    let new = settle_write(&old, patched, target);
    validate(&new, target, &name)?;
    Ok((finish_update(store, target, key, old, new, opts)?, false))
}

/// Writes `spec.replicas` through the Scale view; `edit` turns the current Scale
/// into the requested one.
fn write_scale(
    store: &mut Store,
    target: &Target,
    key: ObjectKey,
    edit: impl FnOnce(Value) -> Result<Value, ApiError>,
    opts: &WriteOptions,
) -> Result<Value, ApiError> {
    let ty = target.ty;
    let name = key.name.clone();
    let old = store
        .get(&key)
        .cloned()
        .ok_or_else(|| target.not_found(&name))?;
    let current = scale::to_scale(&old);
    let wanted = edit(current.clone())?;
    let rv = wanted
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .filter(|rv| !rv.is_empty());
    if rv.is_some_and(|rv| Some(rv) != resource_version(&old)) {
        return Err(ApiError::stale(&ty.group, &ty.plural, &name));
    }
    let replicas = scale::replicas(&wanted)
        .map_err(|e| ApiError::invalid("autoscaling", "scales", &name, e))?;
    let mut new = old.clone();
    if !new.get("spec").is_some_and(Value::is_object) {
        new["spec"] = json!({});
    }
    new["spec"]["replicas"] = json!(replicas);
    let written = finish_update(store, target, key, old, new, opts)?;
    Ok(scale::to_scale(&written))
}

pub fn delete(
    store: &mut Store,
    target: &Target,
    options: &Value,
    opts: &WriteOptions,
) -> Result<Value, ApiError> {
    let name = target.name()?.to_string();
    if target.subresource.is_some() {
        return Err(ApiError::method_not_allowed(
            "DELETE is not allowed on a subresource",
        ));
    }
    let key = target.key(&name);
    let old = store
        .get(&key)
        .cloned()
        .ok_or_else(|| target.not_found(&name))?;
    let ty = target.ty;
    if ty.is_namespace() && PROTECTED_NAMESPACES.contains(&name.as_str()) {
        return Err(ApiError::forbidden(
            &ty.group,
            &ty.plural,
            &name,
            "this namespace may not be deleted",
        ));
    }
    let precondition = |field: &str, pointer: &str, label: &str| -> Result<(), ApiError> {
        let Some(wanted) = options
            .pointer(&format!("/preconditions/{field}"))
            .and_then(Value::as_str)
        else {
            return Ok(());
        };
        let actual = old
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default();
        if wanted == actual {
            return Ok(());
        }
        Err(ApiError::precondition_failed(
            &ty.group,
            &ty.plural,
            &name,
            &format!("Precondition failed: {label} in precondition: {wanted}, {label} in object meta: {actual}"),
        ))
    };
    precondition("uid", "/metadata/uid", "UID")?;
    precondition(
        "resourceVersion",
        "/metadata/resourceVersion",
        "ResourceVersion",
    )?;
    let gone = old;
    if opts.dry_run {
        return Ok(gone);
    }
    let mut gone = store.delete(&key).unwrap_or(gone);
    if ty.is_namespace() {
        // The real namespace controller empties it asynchronously; tests want the
        // end state, so contents go at once.
        store.delete_namespace_contents(&name);
        set_meta(&mut gone, "deletionTimestamp", json!(opts.now));
        gone["status"] = json!({"phase": "Terminating"});
    }
    Ok(gone)
}

/// DELETE on a collection: removes every matching object and returns them as a list.
pub fn delete_collection(
    store: &mut Store,
    target: &Target,
    labels: &LabelSelector,
    fields: &FieldSelector,
    opts: &WriteOptions,
) -> Result<Value, ApiError> {
    let listed = list(store, target, labels, fields);
    let names: Vec<(Option<String>, String)> = listed["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|o| {
                    let ns = o
                        .pointer("/metadata/namespace")
                        .and_then(Value::as_str)
                        .map(str::to_string);
                    Some((ns, o.pointer("/metadata/name")?.as_str()?.to_string()))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut deleted = Vec::new();
    for (namespace, name) in names {
        let one = Target {
            namespace,
            name: Some(name),
            ..target.clone()
        };
        match delete(store, &one, &Value::Null, opts) {
            Ok(object) => deleted.push(object),
            Err(e) if e.code == 403 => {}
            Err(e) => return Err(e),
        }
    }
    let mut result = listed;
    result["items"] = Value::Array(deleted);
    result["metadata"]["resourceVersion"] = json!(store.revision().to_string());
    Ok(result)
}
