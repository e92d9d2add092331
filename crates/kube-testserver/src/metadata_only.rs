//! `as=PartialObjectMetadata[List]` responses: metadata without spec or data,
//! which `kube`'s `get_metadata`/`list_metadata`/`watch_metadata` ask for.

use serde_json::{json, Value};

pub fn wants_metadata(accept: &str) -> bool {
    accept
        .split(',')
        .any(|entry| entry.contains("as=PartialObjectMetadata"))
}

pub fn partial(object: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": object.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

/// Converts a list or a single object.
pub fn render(body: &Value) -> Value {
    match body.get("items").and_then(Value::as_array) {
        Some(items) => json!({
            "kind": "PartialObjectMetadataList",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": body.get("metadata").cloned().unwrap_or_else(|| json!({})),
            "items": items.iter().map(partial).collect::<Vec<_>>(),
        }),
        None => partial(body),
    }
}
