//! Request checks every write shares: type meta, namespace placement and
//! existence, metadata validation.

use serde_json::{json, Value};

use super::stamp::set_meta;
use super::Target;
use crate::catalog::ResourceType;
use crate::status::ApiError;
use crate::store::{ObjectKey, Store};
use crate::validation::metadata_problems;

pub(super) fn require_type_meta(object: &Value, ty: &ResourceType) -> Result<(), ApiError> {
    let api_version = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let kind = object
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if api_version.is_empty() || kind.is_empty() {
        return Err(ApiError::bad_request(
            "Object 'apiVersion' and 'Kind' must be set in the request body",
        ));
    }
    if api_version != ty.api_version() || kind != ty.kind {
        return Err(ApiError::bad_request(format!(
            "the object ({api_version}, Kind={kind}) does not match the resource ({}, Kind={})",
            ty.api_version(),
            ty.kind
        )));
    }
    Ok(())
}

pub(super) fn expect_object(body: Value, ty: &ResourceType) -> Result<Value, ApiError> {
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    }
    require_type_meta(&body, ty)?;
    Ok(body)
}

/// Sets or checks `metadata.namespace` against the URL; cluster-scoped objects
/// lose any namespace they were sent with, as on a real server.
pub(super) fn place_in_namespace(object: &mut Value, target: &Target) -> Result<(), ApiError> {
    match (&target.namespace, target.ty.namespaced) {
        (Some(ns), true) => {
            let sent = object
                .pointer("/metadata/namespace")
                .and_then(Value::as_str);
            if sent.is_some_and(|s| !s.is_empty() && s != ns) {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            set_meta(object, "namespace", json!(ns));
        }
        _ => {
            if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("namespace");
            }
        }
    }
    Ok(())
}

pub(super) fn check_namespace_exists(store: &Store, target: &Target) -> Result<(), ApiError> {
    let Some(ns) = target.namespace.as_deref().filter(|_| target.ty.namespaced) else {
        return Ok(());
    };
    let key = ObjectKey {
        group: String::new(),
        plural: "namespaces".into(),
        namespace: String::new(),
        name: ns.into(),
    };
    if store.contains(&key) {
        Ok(())
    } else {
        Err(ApiError::not_found("", "namespaces", ns))
    }
}

pub(super) fn validate(object: &Value, target: &Target, name: &str) -> Result<(), ApiError> {
    let problems = metadata_problems(object, target.ty.is_namespace());
    if problems.is_empty() {
        return Ok(());
    }
    let ty = target.ty;
    Err(ApiError::invalid(
        &ty.group,
        &ty.plural,
        name,
        format!("{} \"{name}\" is invalid: {}", ty.kind, problems.join(", ")),
    ))
}
