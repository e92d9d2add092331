//! The metadata checks every real resource type gets (names, label and
//! annotation keys), so a client bug that a real cluster would reject with 422
//! is rejected here too. Type-specific schema validation is not done.

use serde_json::Value;

/// Returns every problem found, formatted like the real server's field errors.
pub fn metadata_problems(object: &Value, namespace_type: bool) -> Vec<String> {
    let mut problems = Vec::new();
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let name_ok = if namespace_type {
        is_dns_label(name)
    } else {
        is_dns_subdomain(name)
    };
    if !name_ok {
        let rule = if namespace_type {
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'"
        } else {
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'"
        };
        problems.push(format!("metadata.name: Invalid value: {name:?}: {rule}"));
    }
    if let Some(labels) = object
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
    {
        for (key, value) in labels {
            if !is_qualified_name(key) {
                problems.push(format!("metadata.labels: Invalid value: {key:?}: name part must consist of alphanumeric characters, '-', '_' or '.', with an optional DNS subdomain prefix and '/'"));
            }
            match value.as_str() {
                Some(v) if v.is_empty() || is_name_part(v) => {}
                _ => problems.push(format!("metadata.labels: Invalid value: {value}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.' (at most 63)")),
            }
        }
    }
    if let Some(annotations) = object
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
    {
        for (key, value) in annotations {
            if !is_qualified_name(key) {
                problems.push(format!("metadata.annotations: Invalid value: {key:?}: name part must consist of alphanumeric characters, '-', '_' or '.', with an optional DNS subdomain prefix and '/'"));
            }
            if !value.is_string() {
                problems.push(format!(
                    "metadata.annotations.{key}: Invalid value: annotation values must be strings"
                ));
            }
        }
    }
    problems
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns_label)
}

fn is_name_part(s: &str) -> bool {
    let alnum = |c: char| c.is_ascii_alphanumeric();
    !s.is_empty()
        && s.len() <= 63
        && s.chars().all(|c| alnum(c) || matches!(c, '-' | '_' | '.'))
        && s.starts_with(alnum)
        && s.ends_with(alnum)
}

/// `prefix/name` or `name`, as label and annotation keys must be.
fn is_qualified_name(key: &str) -> bool {
    match key.split_once('/') {
        Some((prefix, name)) => is_dns_subdomain(prefix) && is_name_part(name),
        None => is_name_part(key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rejects_what_a_real_server_rejects() {
        let ok = json!({"metadata": {"name": "web-1", "labels": {"app.kubernetes.io/managed-by": "drplan", "drplan.io/stack": ""}}});
        assert!(metadata_problems(&ok, false).is_empty());
        let bad = json!({"metadata": {"name": "Web_1", "labels": {"drplan:stack": "prod"}, "annotations": {"a": 1}}});
        assert_eq!(metadata_problems(&bad, false).len(), 3);
        assert!(!metadata_problems(&json!({"metadata": {"name": "a.b"}}), true).is_empty());
    }
}
