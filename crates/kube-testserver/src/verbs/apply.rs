//! Server-side apply of one object: parse, check, merge with `ssa`, store.

use serde_json::{json, Value};

use super::checks::{check_namespace_exists, place_in_namespace, require_type_meta, validate};
use super::stamp::persist;
use super::{Target, WriteOptions};
use crate::catalog::ResourceType;
use crate::fieldpath::render as render_path;
use crate::ssa::{self, ApplyRequest, Conflict};
use crate::status::{ApiError, Cause};
use crate::store::{ObjectKey, Store};

pub(super) fn apply(
    store: &mut Store,
    target: &Target,
    name: &str,
    key: ObjectKey,
    body: &[u8],
    opts: &WriteOptions,
) -> Result<(Value, bool), ApiError> {
    let ty = target.ty;
    let Some(manager) = opts.field_manager.as_deref().filter(|m| !m.is_empty()) else {
        return Err(ApiError::bad_request(
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
        ));
    };
    if target.subresource.is_some() {
        return Err(ApiError::method_not_allowed(
            "server-side apply to a subresource is not supported by kube-testserver",
        ));
    }
    let mut applied = parse_json_or_yaml(body)?;
    require_type_meta(&applied, ty)?;
    let body_name = applied.pointer("/metadata/name").and_then(Value::as_str);
    if body_name.is_some_and(|n| n != name) {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            body_name.unwrap_or_default()
        )));
    }
    place_in_namespace(&mut applied, target)?;
    let existing = store.get(&key).cloned();
    let created = existing.is_none();
    let live = match &existing {
        Some(old) => old.clone(),
        None => {
            check_namespace_exists(store, target)?;
            let mut skeleton = json!({"apiVersion": ty.api_version(), "kind": ty.kind, "metadata": {"name": name}});
            if let Some(ns) = &target.namespace {
                skeleton["metadata"]["namespace"] = json!(ns);
            }
            if ty.is_namespace() {
                skeleton["spec"] = json!({"finalizers": ["kubernetes"]});
                skeleton["status"] = json!({"phase": "Active"});
            }
            skeleton
        }
    };
    let request = ApplyRequest {
        manager,
        force: opts.force,
        api_version: &ty.api_version(),
        now: &opts.now,
    };
    let merged = ssa::apply(&live, &applied, &request).map_err(|c| conflict_error(ty, name, &c))?;
    validate(&merged, target, name)?;
    let object = match existing {
        Some(old) if old == merged => old,
        old => persist(store, ty, key, old.as_ref(), merged, opts),
    };
    Ok((object, created))
}

fn conflict_error(ty: &ResourceType, name: &str, conflicts: &[Conflict]) -> ApiError {
    let causes: Vec<Cause> = conflicts
        .iter()
        .map(|c| Cause {
            reason: "FieldManagerConflict".into(),
            message: format!("conflict with \"{}\" using {}", c.manager, c.api_version),
            field: render_path(&c.path),
        })
        .collect();
    let message = match conflicts {
        [one] => format!(
            "Apply failed with 1 conflict: conflict with \"{}\" using {}: {}",
            one.manager,
            one.api_version,
            render_path(&one.path)
        ),
        many => {
            let lines: Vec<String> = many
                .iter()
                .map(|c| format!("conflict with \"{}\": {}", c.manager, render_path(&c.path)))
                .collect();
            format!(
                "Apply failed with {} conflicts: {}",
                many.len(),
                lines.join("\n")
            )
        }
    };
    ApiError::apply_conflicts(&ty.group, &ty.plural, name, message, causes)
}

fn parse_json_or_yaml(body: &[u8]) -> Result<Value, ApiError> {
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        return Ok(value);
    }
    serde_yaml_ng::from_slice::<Value>(body)
        .map_err(|e| ApiError::bad_request(format!("error decoding YAML apply patch: {e}")))
}
