//! A minimal OpenAPI v3 surface: enough for kubectl to learn, before `apply`,
//! that PATCH accepts `fieldValidation` (so it leaves validation to the server
//! instead of failing to download schemas). No object schemas are published, so
//! `kubectl explain` does not work.

use serde_json::{json, Map, Value};

use crate::catalog::{Catalog, ResourceType};

/// Schemas never change within one server, so one fixed hash serves as cache key.
const HASH: &str = "0000000000000000000000000000000000000000000000000000000000000001";

fn group_version_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// `/openapi/v3`: one entry per served group-version.
pub fn root(catalog: &Catalog) -> Value {
    let mut paths = Map::new();
    let mut add = |group: &str, version: &str| {
        let path = group_version_path(group, version);
        paths.insert(
            path.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{path}?hash={HASH}")}),
        );
    };
    for version in catalog.core_versions() {
        add("", &version);
    }
    for (group, versions) in catalog.groups() {
        for version in versions {
            add(&group, &version);
        }
    }
    json!({"paths": paths})
}

/// `/openapi/v3/api/v1`, `/openapi/v3/apis/<group>/<version>`.
pub fn group_version(catalog: &Catalog, group: &str, version: &str) -> Option<Value> {
    let types: Vec<&ResourceType> = catalog.in_group_version(group, version).collect();
    if types.is_empty() {
        return None;
    }
    let mut paths = Map::new();
    for ty in types {
        let prefix = format!("/{}", group_version_path(group, version));
        let item = if ty.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}/{{name}}", ty.plural)
        } else {
            format!("{prefix}/{}/{{name}}", ty.plural)
        };
        let gvk = json!({"group": ty.group, "version": ty.version, "kind": ty.kind});
        let query = |name: &str| json!({"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": true}});
        let operation = json!({
            "operationId": format!("patch{}", ty.kind),
            "parameters": [query("dryRun"), query("fieldManager"), query("fieldValidation"), query("force")],
            "responses": {"200": {"description": "OK"}, "201": {"description": "Created"}},
            "x-kubernetes-action": "patch",
            "x-kubernetes-group-version-kind": gvk,
        });
        paths.insert(item, json!({"patch": operation}));
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes (kube-testserver)", "version": "v1.32.0"},
        "paths": paths,
        "components": {"schemas": {}},
    }))
}
