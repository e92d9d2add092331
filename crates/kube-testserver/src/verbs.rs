//! The API verbs over the store: get, list, create, replace, patch (apply, merge,
//! JSON) and delete. Pure functions of (store, request); no HTTP here.

use serde_json::{json, Map, Value};

use crate::catalog::ResourceType;
use crate::fieldpath::render as render_path;
use crate::patch::{json_patch, merge_patch, strategic_merge_patch, PatchFormat};
use crate::rollouts;
use crate::scale;
use crate::selectors::{FieldSelector, LabelSelector};
use crate::ssa::{self, ApplyRequest, Conflict};
use crate::status::{ApiError, Cause};
use crate::store::{ObjectKey, Store};
use crate::validation::metadata_problems;

/// Namespaces a real cluster refuses to delete.
const PROTECTED_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public"];

/// What a request addresses once its URL is parsed.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    pub ty: &'a ResourceType,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

impl Target<'_> {
    fn name(&self) -> Result<&str, ApiError> {
        self.name
            .as_deref()
            .ok_or_else(|| ApiError::method_not_allowed("a resource name is required"))
    }

    fn key(&self, name: &str) -> ObjectKey {
        ObjectKey::new(self.ty, self.namespace.as_deref(), name)
    }

    fn not_found(&self, name: &str) -> ApiError {
        ApiError::not_found(&self.ty.group, &self.ty.plural, name)
    }
}

/// Write settings from the query string (and User-Agent for the default manager).
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    pub field_manager: Option<String>,
    pub default_manager: String,
    pub force: bool,
    pub dry_run: bool,
    /// RFC 3339, seconds precision: creationTimestamp and managedFields times.
    pub now: String,
    /// Mixed into generated uids so two servers never hand out the same one.
    pub uid_salt: u64,
    /// Give workloads their finished status on every write (see `rollouts`).
    pub simulate_rollouts: bool,
}

impl WriteOptions {
    fn manager(&self) -> &str {
        self.field_manager
            .as_deref()
            .unwrap_or(&self.default_manager)
    }
}

pub fn get(store: &Store, target: &Target) -> Result<Value, ApiError> {
    let name = target.name()?;
    let object = store
        .get(&target.key(name))
        .ok_or_else(|| target.not_found(name))?;
    if target.subresource.as_deref() == Some("scale") {
        return Ok(scale::to_scale(object));
    }
    Ok(object.clone())
}

pub fn list(
    store: &Store,
    target: &Target,
    labels: &LabelSelector,
    fields: &FieldSelector,
) -> Value {
    let items: Vec<Value> = store
        .list(target.ty, target.namespace.as_deref())
        .into_iter()
        .filter(|o| labels.matches(o) && fields.matches(o))
        .cloned()
        .collect();
    json!({
        "kind": format!("{}List", target.ty.kind),
        "apiVersion": target.ty.api_version(),
        "metadata": {"resourceVersion": store.revision().to_string()},
        "items": items,
    })
}

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

fn apply(
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
    serde_yaml::from_slice::<Value>(body)
        .map_err(|e| ApiError::bad_request(format!("error decoding YAML apply patch: {e}")))
}

fn require_type_meta(object: &Value, ty: &ResourceType) -> Result<(), ApiError> {
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

fn expect_object(body: Value, ty: &ResourceType) -> Result<Value, ApiError> {
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
fn place_in_namespace(object: &mut Value, target: &Target) -> Result<(), ApiError> {
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

fn check_namespace_exists(store: &Store, target: &Target) -> Result<(), ApiError> {
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

fn validate(object: &Value, target: &Target, name: &str) -> Result<(), ApiError> {
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

fn generated_name(object: &Value, store: &mut Store) -> Result<String, ApiError> {
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

fn set_meta(object: &mut Value, field: &str, value: Value) {
    if !object.get("metadata").is_some_and(Value::is_object) {
        object["metadata"] = Value::Object(Map::new());
    }
    object["metadata"][field] = value;
}

fn resource_version(object: &Value) -> Option<&str> {
    object
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
}

/// Carries over what a client cannot change with PUT/PATCH: server metadata, and
/// status on the main resource (or everything but status on `/status`).
fn settle_write(old: &Value, sent: Value, target: &Target) -> Value {
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

fn finish_update(
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
fn persist(
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
