//! Kubeconfig files pointing at a test server. Writing merges into an existing
//! file, so one kubeconfig can hold a context per test cluster (primary and DR).

use std::io;
use std::path::Path;

use serde_yaml_ng::{Mapping, Value};

/// A kubeconfig with one cluster, user and context, all named `context`.
pub fn single(server_url: &str, ca_data: Option<&str>, token: &str, context: &str) -> Value {
    let mut config = empty();
    upsert(&mut config, server_url, ca_data, token, context);
    config
}

fn empty() -> Value {
    let mut map = Mapping::new();
    map.insert("apiVersion".into(), "v1".into());
    map.insert("kind".into(), "Config".into());
    map.insert("preferences".into(), Value::Mapping(Mapping::new()));
    for list in ["clusters", "users", "contexts"] {
        map.insert(list.into(), Value::Sequence(Vec::new()));
    }
    Value::Mapping(map)
}

/// Adds or replaces the named cluster/user/context; sets current-context only
/// when the file has none, so the first server written stays the default.
pub fn upsert(
    config: &mut Value,
    server_url: &str,
    ca_data: Option<&str>,
    token: &str,
    context: &str,
) {
    let entry = |key: &str, body: Value| {
        let mut map = Mapping::new();
        map.insert("name".into(), context.into());
        map.insert(key.into(), body);
        Value::Mapping(map)
    };
    let cluster = match ca_data {
        Some(ca) => mapping(&[("server", server_url), ("certificate-authority-data", ca)]),
        None => mapping(&[("server", server_url)]),
    };
    let cluster = entry("cluster", cluster);
    let user = entry("user", mapping(&[("token", token)]));
    let ctx = entry(
        "context",
        mapping(&[
            ("cluster", context),
            ("user", context),
            ("namespace", "default"),
        ]),
    );
    for (list, value) in [("clusters", cluster), ("users", user), ("contexts", ctx)] {
        replace_named(config, list, context, value);
    }
    let has_current = config
        .get("current-context")
        .and_then(Value::as_str)
        .is_some_and(|c| !c.is_empty());
    if let (false, Some(map)) = (has_current, config.as_mapping_mut()) {
        map.insert("current-context".into(), context.into());
    }
}

fn mapping(pairs: &[(&str, &str)]) -> Value {
    Value::Mapping(
        pairs
            .iter()
            .map(|(k, v)| (Value::from(*k), Value::from(*v)))
            .collect(),
    )
}

fn replace_named(config: &mut Value, list: &str, name: &str, value: Value) {
    let Some(map) = config.as_mapping_mut() else {
        return;
    };
    let seq = map
        .entry(list.into())
        .or_insert_with(|| Value::Sequence(Vec::new()));
    if !seq.is_sequence() {
        *seq = Value::Sequence(Vec::new());
    }
    if let Some(items) = seq.as_sequence_mut() {
        items.retain(|item| item.get("name").and_then(Value::as_str) != Some(name));
        items.push(value);
    }
}

/// Writes (or merges into) the kubeconfig at `path`.
pub fn write(
    path: &Path,
    server_url: &str,
    ca_data: Option<&str>,
    token: &str,
    context: &str,
) -> io::Result<()> {
    let mut config = match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => serde_yaml_ng::from_str(&text).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} is not a kubeconfig: {e}", path.display()),
            )
        })?,
        Ok(_) => empty(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => empty(),
        Err(e) => return Err(e),
    };
    upsert(&mut config, server_url, ca_data, token, context);
    let text = serde_yaml_ng::to_string(&config).map_err(|e| io::Error::other(e.to_string()))?;
    std::fs::write(path, text)
}
