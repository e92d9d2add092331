//! `as=Table` responses, which `kubectl get` asks for to print columns. Every
//! type gets NAME and AGE (namespaces also STATUS), like a CRD without printer
//! columns; the per-type columns of a real server are not reproduced.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::catalog::ResourceType;

pub fn wants_table(accept: &str) -> bool {
    accept.split(',').any(|entry| entry.contains("as=Table"))
}

/// Renders a list or a single object as a meta.k8s.io/v1 Table.
pub fn render(ty: &ResourceType, body: &Value, now: &str) -> Value {
    let objects: Vec<&Value> = match body.get("items").and_then(Value::as_array) {
        Some(items) => items.iter().collect(),
        None => vec![body],
    };
    let now = DateTime::parse_from_rfc3339(now)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|_| Utc::now());
    let mut columns = vec![column(
        "Name",
        "name",
        "Name must be unique within a namespace.",
    )];
    if ty.is_namespace() {
        columns.push(column("Status", "", "The status of the namespace"));
    }
    columns.push(column("Age", "", "CreationTimestamp is a timestamp representing the server time when this object was created."));
    let rows: Vec<Value> = objects
        .into_iter()
        .map(|object| {
            let mut cells = vec![json!(object
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default())];
            if ty.is_namespace() {
                cells.push(json!(object
                    .pointer("/status/phase")
                    .and_then(Value::as_str)
                    .unwrap_or("Active")));
            }
            cells.push(json!(age(object, now)));
            json!({"cells": cells, "object": object})
        })
        .collect();
    let resource_version = body
        .pointer("/metadata/resourceVersion")
        .cloned()
        .unwrap_or_else(|| json!(""));
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": columns,
        "rows": rows,
    })
}

fn column(name: &str, format: &str, description: &str) -> Value {
    json!({"name": name, "type": "string", "format": format, "description": description, "priority": 0})
}

/// kubectl's short duration style: `45s`, `12m`, `3h`, `9d`.
fn age(object: &Value, now: DateTime<Utc>) -> String {
    let Some(created) = object
        .pointer("/metadata/creationTimestamp")
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
    else {
        return "<unknown>".into();
    };
    let secs = (now - created.with_timezone(&Utc)).num_seconds().max(0);
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}
