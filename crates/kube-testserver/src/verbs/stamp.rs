//! Server-owned metadata: what a write may not change, and the stamping of uid,
//! creationTimestamp, generation and resourceVersion when an object is stored.

use serde_json::{json, Map, Value};

use super::{Target, WriteOptions};
use crate::catalog::ResourceType;
use crate::rollouts;
use crate::ssa;
use crate::status::ApiError;
use crate::store::{ObjectKey, Store};

pub(super) fn generated_name(object: &Value, store: &mut Store) -> Result<String, ApiError> {
    let prefix = object
        .pointer("/metadata/generateName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if prefix.is_empty() {
        return Err(ApiError::bad_request(
            "metadata.name: Required value: name or generateName is required",
        ));
    }
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut n = store.next_revision().wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let suffix: String = (0..5)
        .map(|_| {
            let c = ALPHABET[(n % ALPHABET.len() as u64) as usize] as char;
            n /= ALPHABET.len() as u64;
            c
        })
        .collect();
    Ok(format!("{prefix}{suffix}"))
}

pub(super) fn set_meta(object: &mut Value, field: &str, value: Value) {
    if !object.get("metadata").is_some_and(Value::is_object) {
        object["metadata"] = Value::Object(Map::new());
    }
    object["metadata"][field] = value;
}

pub(super) fn resource_version(object: &Value) -> Option<&str> {
    object
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
}

/// Carries over what a client cannot change with PUT/PATCH: server metadata, and
/// status on the main resource (or everything but status on `/status`).
pub(super) fn settle_write(old: &Value, sent: Value, target: &Target) -> Value {
    let mut new = if target.subresource.as_deref() == Some("status") {
        let mut new = old.clone();
        match sent.get("status") {
            Some(status) => new["status"] = status.clone(),
            None => {
                if let Some(map) = new.as_object_mut() {
                    map.remove("status");
                }
            }
        }
        new
    } else {
        let mut new = sent;
        match old.get("status") {
            Some(status) => new["status"] = status.clone(),
            None => {
                if let Some(map) = new.as_object_mut() {
                    map.remove("status");
                }
            }
        }
        new
    };
    for field in [
        "name",
        "namespace",
        "uid",
        "creationTimestamp",
        "generation",
        "managedFields",
        "deletionTimestamp",
    ] {
        match old.pointer(&format!("/metadata/{field}")) {
            Some(value) => set_meta(&mut new, field, value.clone()),
            None => {
                if let Some(meta) = new.get_mut("metadata").and_then(Value::as_object_mut) {
                    meta.remove(field);
                }
            }
        }
    }
    if let Some(rv) = old.pointer("/metadata/resourceVersion") {
        set_meta(&mut new, "resourceVersion", rv.clone());
    }
    new["apiVersion"] = json!(target.ty.api_version());
    new["kind"] = json!(target.ty.kind);
    new
}

pub(super) fn finish_update(
    store: &mut Store,
    target: &Target,
    key: ObjectKey,
    old: Value,
    mut new: Value,
    opts: &WriteOptions,
) -> Result<Value, ApiError> {
    let manager = opts.manager();
    ssa::record_update(
        Some(&old),
        &mut new,
        manager,
        &target.ty.api_version(),
        &opts.now,
        target.subresource.as_deref(),
    );
    if new == old {
        return Ok(old);
    }
    // A client writing status itself overrides the simulated controller.
    let opts = WriteOptions {
        simulate_rollouts: opts.simulate_rollouts
            && target.subresource.as_deref() != Some("status"),
        ..opts.clone()
    };
    Ok(persist(store, target.ty, key, Some(&old), new, &opts))
}

/// Stamps server metadata (uid, creationTimestamp, generation, resourceVersion)
/// and stores the object unless this is a dry run.
pub(super) fn persist(
    store: &mut Store,
    ty: &ResourceType,
    key: ObjectKey,
    old: Option<&Value>,
    mut object: Value,
    opts: &WriteOptions,
) -> Value {
    match old {
        Some(old) => {
            if ty.tracks_generation() {
                let generation = old
                    .pointer("/metadata/generation")
                    .and_then(Value::as_i64)
                    .unwrap_or(1);
                let bumped = if desired_state(old) != desired_state(&object) {
                    generation + 1
                } else {
                    generation
                };
                set_meta(&mut object, "generation", json!(bumped));
            }
        }
        None => {
            set_meta(&mut object, "uid", json!(store.next_uid(opts.uid_salt)));
            set_meta(&mut object, "creationTimestamp", json!(opts.now));
            if ty.tracks_generation() {
                set_meta(&mut object, "generation", json!(1));
            }
        }
    }
    if ty.is_namespace() {
        // Real servers label every namespace with its own name, unowned by any manager.
        let name = object
            .pointer("/metadata/name")
            .cloned()
            .unwrap_or_default();
        if !object
            .pointer("/metadata/labels")
            .is_some_and(Value::is_object)
        {
            set_meta(&mut object, "labels", json!({}));
        }
        object["metadata"]["labels"]["kubernetes.io/metadata.name"] = name;
    }
    if opts.simulate_rollouts && !terminating(&object) {
        if let Some(status) = rollouts::settled_status(ty, &object, &opts.now) {
            object["status"] = status;
        }
    }
    if opts.dry_run {
        return object;
    }
    set_meta(
        &mut object,
        "resourceVersion",
        json!(store.next_revision().to_string()),
    );
    store.put(key, object.clone());
    object
}

fn terminating(object: &Value) -> bool {
    object.pointer("/metadata/deletionTimestamp").is_some()
}

/// Everything outside metadata and status: a change here bumps generation.
fn desired_state(object: &Value) -> Value {
    let mut rest = object.clone();
    if let Some(map) = rest.as_object_mut() {
        map.remove("metadata");
        map.remove("status");
    }
    rest
}
