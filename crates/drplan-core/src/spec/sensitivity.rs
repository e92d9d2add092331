//! Which resource attributes derive from sensitive values: the loader evaluates the
//! project a second time with every marked value (`spec::taint`) replaced by a
//! stand-in that differs from it everywhere, and [`mark`] compares the two sets of
//! resources. An attribute — or a path inside one, such as a field of a Kubernetes
//! manifest — that differs came from a sensitive value, through whatever expressions,
//! decoding, lowering, manifest interpolation or backup compilation lay between, and
//! joins `Resource::sensitive`, so the plan redacts it.
//!
//! The comparison is exact where the code between is injective (copying, joining,
//! encoding); a step that maps the stand-in and the real value to the same result
//! (a comparison) is caught one level up, because every expression that mentions a
//! marked value is marked as a whole before it is decoded.

use super::diagnostic::{Diagnostics, SpecDiagnostic};
use crate::resource::Resource;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Adds to each resource's `sensitive` paths the attributes that differ in
/// `stand_ins`. A resource the stand-in evaluation lacks is sensitive as a whole; one
/// whose address itself changed (a manifest's name made from a secret) is an error,
/// since addresses are printed everywhere.
pub fn mark(resources: &mut [Resource], stand_ins: &[Resource], diags: &mut Diagnostics) {
    let by_address: HashMap<&str, &Resource> =
        stand_ins.iter().map(|r| (r.address.as_str(), r)).collect();
    for r in resources.iter_mut() {
        let mut paths = Vec::new();
        match by_address.get(r.address.as_str()) {
            Some(other) if other.kind == r.kind => {
                for (key, value) in &r.attrs {
                    match other.attrs.get(key) {
                        Some(o) => differing(value, o, key, &mut paths),
                        None => paths.push(key.clone()),
                    }
                }
            }
            _ => {
                if address_derives_from_secret(r, stand_ins) {
                    let at = r
                        .source
                        .as_ref()
                        .map(|s| format!("{}:{}: ", s.file, s.line))
                        .unwrap_or_default();
                    diags.push(
                        SpecDiagnostic::new(
                            "drplan::sensitive_name",
                            format!("{at}the name of a {} derives from a sensitive value, and names are shown in every plan", r.kind),
                        )
                        .help("name the object with a value that is not sensitive"),
                    );
                }
                paths.extend(r.attrs.keys().cloned());
            }
        }
        for p in paths {
            if !r.sensitive.contains(&p) {
                r.sensitive.push(p);
            }
        }
    }
}

/// The stand-in evaluation made an object from the same place in the spec under
/// another address.
fn address_derives_from_secret(r: &Resource, stand_ins: &[Resource]) -> bool {
    let Some(source) = &r.source else {
        return false;
    };
    stand_ins
        .iter()
        .any(|o| o.kind == r.kind && o.source.as_ref() == Some(source) && o.address != r.address)
}

/// Dotted paths (list indices left out, as `Resource::sensitive` writes them) where
/// `real` and `stand_in` differ. A map key holding a dot cannot be written in a path:
/// its parent is taken whole.
fn differing(real: &Value, stand_in: &Value, path: &str, out: &mut Vec<String>) {
    match (real, stand_in) {
        (Value::Object(a), Value::Object(b)) => differing_fields(a, b, path, out),
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            a.iter()
                .zip(b)
                .for_each(|(x, y)| differing(x, y, path, out));
        }
        _ if real != stand_in => push(out, path),
        _ => {}
    }
}

fn differing_fields(
    a: &Map<String, Value>,
    b: &Map<String, Value>,
    path: &str,
    out: &mut Vec<String>,
) {
    for (key, value) in a {
        let other = b.get(key);
        if key.contains('.') {
            if other != Some(value) {
                push(out, path);
            }
            continue;
        }
        let child = format!("{path}.{key}");
        match other {
            Some(o) => differing(value, o, &child, out),
            None => push(out, &child),
        }
    }
}

fn push(out: &mut Vec<String>, path: &str) {
    if !out.iter().any(|p| p == path) {
        out.push(path.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_that_differ_are_collected_without_list_indices() {
        let real = json!({"data": {"url": "pg://u:hunter2@db", "host": "db"}, "env": [{"name": "A", "value": "x"}, {"name": "B", "value": "HUNTER2"}], "labels": {"a.b/c": "hunter2"}});
        let stand = json!({"data": {"url": "pg://u:ivoufs3x@db", "host": "db"}, "env": [{"name": "A", "value": "x"}, {"name": "B", "value": "IVOUFS3X"}], "labels": {"a.b/c": "ivoufs3x"}});
        let mut out = Vec::new();
        differing(&real, &stand, "manifest", &mut out);
        assert_eq!(
            out,
            ["manifest.data.url", "manifest.env.value", "manifest.labels"]
        );
    }
}
