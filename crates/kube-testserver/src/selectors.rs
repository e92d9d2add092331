//! `labelSelector` and `fieldSelector` query parameters, parsed once per request
//! and matched against stored objects.

use std::collections::BTreeSet;

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, BTreeSet<String>),
    NotIn(String, BTreeSet<String>),
    Exists(String),
    DoesNotExist(String),
}

/// A parsed label selector; all requirements must hold (they are ANDed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

impl LabelSelector {
    pub fn parse(input: &str) -> Result<Self, String> {
        let mut requirements = Vec::new();
        for term in split_top_level(input)? {
            let term = term.trim();
            if term.is_empty() {
                continue;
            }
            requirements.push(parse_requirement(term)?);
        }
        Ok(LabelSelector { requirements })
    }

    pub fn matches(&self, object: &Value) -> bool {
        let labels = object
            .pointer("/metadata/labels")
            .and_then(Value::as_object);
        let label = |key: &str| labels.and_then(|l| l.get(key)).and_then(Value::as_str);
        self.requirements.iter().all(|req| match req {
            Requirement::Equals(k, v) => label(k) == Some(v.as_str()),
            // Like the real server, `!=` and `notin` also match objects without the label.
            Requirement::NotEquals(k, v) => label(k) != Some(v.as_str()),
            Requirement::In(k, vs) => label(k).is_some_and(|l| vs.contains(l)),
            Requirement::NotIn(k, vs) => label(k).is_none_or(|l| !vs.contains(l)),
            Requirement::Exists(k) => label(k).is_some(),
            Requirement::DoesNotExist(k) => label(k).is_none(),
        })
    }
}

/// Splits on commas that are not inside `( … )` value sets.
fn split_top_level(input: &str) -> Result<Vec<&str>, String> {
    let mut terms = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in input.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return Err(format!("unexpected ')' in selector {input:?}"));
                }
            }
            ',' if depth == 0 => {
                terms.push(&input[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err(format!("unclosed '(' in selector {input:?}"));
    }
    terms.push(&input[start..]);
    Ok(terms)
}

fn parse_requirement(term: &str) -> Result<Requirement, String> {
    if let Some(key) = term.strip_prefix('!') {
        return Ok(Requirement::DoesNotExist(valid_key(key.trim())?));
    }
    for (op, ctor) in [
        (
            "!=",
            Requirement::NotEquals as fn(String, String) -> Requirement,
        ),
        ("==", Requirement::Equals),
        ("=", Requirement::Equals),
    ] {
        if let Some((key, value)) = term.split_once(op) {
            return Ok(ctor(valid_key(key.trim())?, value.trim().to_string()));
        }
    }
    let mut words = term.splitn(2, char::is_whitespace);
    let key = words.next().unwrap_or_default();
    let rest = words.next().unwrap_or_default().trim_start();
    if rest.is_empty() {
        return Ok(Requirement::Exists(valid_key(key)?));
    }
    let (negated, values) = if let Some(v) = rest.strip_prefix("notin") {
        (true, v)
    } else if let Some(v) = rest.strip_prefix("in") {
        (false, v)
    } else {
        return Err(format!(
            "unable to parse requirement {term:?}: expected one of =, ==, !=, in, notin"
        ));
    };
    let values = values
        .trim()
        .strip_prefix('(')
        .and_then(|v| v.strip_suffix(')'))
        .ok_or_else(|| {
            format!("unable to parse requirement {term:?}: expected '(' value set ')'")
        })?;
    let set: BTreeSet<String> = values
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    if set.is_empty() {
        return Err(format!(
            "unable to parse requirement {term:?}: empty value set"
        ));
    }
    let key = valid_key(key)?;
    Ok(if negated {
        Requirement::NotIn(key, set)
    } else {
        Requirement::In(key, set)
    })
}

fn valid_key(key: &str) -> Result<String, String> {
    let ok = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    if ok {
        Ok(key.to_string())
    } else {
        Err(format!("invalid label key {key:?}"))
    }
}

/// A parsed field selector. Only `metadata.name` and `metadata.namespace` are
/// supported, which every real resource type supports too.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector {
    requirements: Vec<(String, bool, String)>,
}

impl FieldSelector {
    pub fn parse(input: &str) -> Result<Self, String> {
        let mut requirements = Vec::new();
        for term in input.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let (field, equal, value) = if let Some((f, v)) = term.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = term.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = term.split_once('=') {
                (f, true, v)
            } else {
                return Err(format!(
                    "invalid field selector term {term:?}: expected =, == or !="
                ));
            };
            let field = field.trim();
            if field != "metadata.name" && field != "metadata.namespace" {
                return Err(format!("field label not supported: {field}"));
            }
            requirements.push((field.to_string(), equal, value.trim().to_string()));
        }
        Ok(FieldSelector { requirements })
    }

    pub fn matches(&self, object: &Value) -> bool {
        self.requirements.iter().all(|(field, equal, value)| {
            let pointer = if field == "metadata.name" {
                "/metadata/name"
            } else {
                "/metadata/namespace"
            };
            let actual = object
                .pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or("");
            (actual == value) == *equal
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labelled(labels: Value) -> Value {
        json!({"metadata": {"name": "x", "namespace": "ns", "labels": labels}})
    }

    #[track_caller]
    fn check(selector: &str, labels: Value, expected: bool) {
        let parsed = LabelSelector::parse(selector).expect("selector parses");
        assert_eq!(parsed.matches(&labelled(labels)), expected, "{selector}");
    }

    #[test]
    fn label_selector_operators() {
        check("app=web", json!({"app": "web"}), true);
        check("app==web", json!({"app": "db"}), false);
        check("app!=web", json!({}), true);
        check("app!=web", json!({"app": "web"}), false);
        check("tier in (a, b),app", json!({"tier": "b", "app": "x"}), true);
        check("tier in (a,b)", json!({"tier": "c"}), false);
        check("tier notin (a,b)", json!({}), true);
        check("tier notin (a,b)", json!({"tier": "a"}), false);
        check("!gone", json!({"app": "x"}), true);
        check("!app", json!({"app": "x"}), false);
        check(
            "app.kubernetes.io/managed-by=drplan,drplan.io/stack",
            json!({"app.kubernetes.io/managed-by": "drplan"}),
            false,
        );
        check("", json!({}), true);
    }

    #[test]
    fn bad_label_selectors_are_errors() {
        assert!(LabelSelector::parse("tier in (a,b").is_err());
        assert!(LabelSelector::parse("tier within (a)").is_err());
        assert!(LabelSelector::parse("=x").is_err());
    }

    #[test]
    fn field_selectors() {
        let obj = labelled(json!({}));
        assert!(FieldSelector::parse("metadata.name=x")
            .expect("parses")
            .matches(&obj));
        assert!(!FieldSelector::parse("metadata.namespace!=ns")
            .expect("parses")
            .matches(&obj));
        assert!(FieldSelector::parse("spec.nodeName=a").is_err());
    }
}
