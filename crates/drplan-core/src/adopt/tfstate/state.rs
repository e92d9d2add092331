//! The Terraform state file, version 4 (Terraform 0.12 and later): the parts the
//! conversion reads, and one resource instance with its sensitive values removed.

use serde::Deserialize;
use serde_json::{Map, Value};

/// The top level of a state file.
#[derive(Deserialize)]
pub(super) struct State {
    #[serde(default)]
    pub resources: Vec<StateResource>,
}

/// One `resources[]` entry: a resource block, with its instances.
#[derive(Deserialize)]
pub(super) struct StateResource {
    #[serde(default)]
    pub module: Option<String>,
    pub mode: String,
    #[serde(rename = "type")]
    pub type_name: String,
    pub name: String,
    #[serde(default)]
    pub instances: Vec<StateInstance>,
}

/// One `instances[]` entry.
#[derive(Deserialize)]
pub(super) struct StateInstance {
    /// `count` (a number) or `for_each` (a string) key.
    #[serde(default)]
    pub index_key: Option<Value>,
    #[serde(default)]
    pub attributes: Option<Map<String, Value>>,
    /// Paths (lists of `{type: get_attr|index, value}` steps) Terraform holds secret.
    #[serde(default)]
    pub sensitive_attributes: Vec<Value>,
}

impl StateResource {
    /// The resource's address without an instance key (`module.net.aws_vpc.main`).
    pub fn address(&self) -> String {
        let prefix = if self.mode == "data" { "data." } else { "" };
        match &self.module {
            Some(m) => format!("{m}.{prefix}{}.{}", self.type_name, self.name),
            None => format!("{prefix}{}.{}", self.type_name, self.name),
        }
    }
}

/// One managed resource instance, as the mappers read it.
pub(super) struct Instance {
    /// The Terraform address (`aws_subnet.private["a"]`).
    pub source: String,
    /// The name a label is made from: module path, name and instance key.
    pub name: String,
    /// The attributes, without what Terraform marks sensitive.
    pub attrs: Map<String, Value>,
    /// The sensitive attribute paths that held a value (dotted), removed from `attrs`.
    pub withheld: Vec<String>,
}

impl Instance {
    pub fn new(r: &StateResource, i: &StateInstance) -> Instance {
        let key = i.index_key.as_ref().and_then(|k| match k {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
        let (source, name) = {
            let base = r.address();
            let module = r
                .module
                .as_deref()
                .map(|m| {
                    m.split('.')
                        .filter(|p| *p != "module")
                        .collect::<Vec<_>>()
                        .join("_")
                })
                .filter(|m| !m.is_empty());
            let name = [module, Some(r.name.clone()), key.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("_");
            match (&i.index_key, &key) {
                (Some(Value::String(_)), Some(k)) => (format!("{base}[{k:?}]"), name),
                (Some(_), Some(k)) => (format!("{base}[{k}]"), name),
                _ => (base, name),
            }
        };
        let mut attrs = i.attributes.clone().unwrap_or_default();
        let mut withheld = Vec::new();
        for path in sensitive_paths(&i.sensitive_attributes) {
            if remove_path(&mut attrs, &path) {
                withheld.push(dotted(&path));
            }
        }
        Instance {
            source,
            name,
            attrs,
            withheld,
        }
    }

    /// A non-null value.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.attrs.get(key).filter(|v| !v.is_null())
    }

    /// A non-empty string.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    pub fn int(&self, key: &str) -> Option<i64> {
        self.get(key).and_then(Value::as_i64)
    }

    pub fn bool(&self, key: &str) -> Option<bool> {
        self.get(key).and_then(Value::as_bool)
    }

    /// A list attribute (a nested block list, a set), empty when absent.
    pub fn list(&self, key: &str) -> &[Value] {
        self.get(key)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The only (first) element of a nested block list (`vpc_config[0]`).
    pub fn first(&self, key: &str) -> Option<&Map<String, Value>> {
        self.list(key).first().and_then(Value::as_object)
    }

    /// The strings of a list attribute.
    pub fn strings(&self, key: &str) -> Vec<String> {
        strings(self.list(key))
    }

    /// The object's tags as the cloud holds them: `tags_all` (with the provider's
    /// `default_tags`), else `tags`; drplan's own `drplan:` keys left out.
    pub fn tags(&self) -> Vec<(String, String)> {
        let map = self
            .get("tags_all")
            .and_then(Value::as_object)
            .or_else(|| self.get("tags").and_then(Value::as_object));
        map.map(string_pairs).unwrap_or_default()
    }

    /// The region: the `region` attribute (AWS provider 6, S3 buckets), else the
    /// region field of the ARN, else the availability zone's region.
    pub fn region(&self) -> Option<String> {
        if let Some(r) = self.str("region") {
            return Some(r.to_string());
        }
        if let Some(r) = self
            .str("arn")
            .and_then(|a| a.split(':').nth(3))
            .filter(|r| !r.is_empty())
        {
            return Some(r.to_string());
        }
        self.str("availability_zone")
            .filter(|az| az.len() > 1)
            .map(|az| {
                az.trim_end_matches(|c: char| c.is_ascii_lowercase())
                    .to_string()
            })
    }
}

/// String values of a map, in key order, without `drplan:` keys.
pub(super) fn string_pairs(m: &Map<String, Value>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = m
        .iter()
        .filter(|(k, _)| !k.starts_with("drplan:"))
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect();
    out.sort();
    out
}

/// The strings of a JSON list.
pub(super) fn strings(list: &[Value]) -> Vec<String> {
    list.iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// One step of a sensitive path.
#[derive(Debug, PartialEq)]
enum Step {
    Attr(String),
    Index(Value),
}

/// The paths of `sensitive_attributes`: each a list of steps (Terraform up to
/// 1.9), or a single step object.
fn sensitive_paths(raw: &[Value]) -> Vec<Vec<Step>> {
    let step = |v: &Value| -> Option<Step> {
        let o = v.as_object()?;
        match o.get("type")?.as_str()? {
            "get_attr" => Some(Step::Attr(o.get("value")?.as_str()?.to_string())),
            "index" => Some(Step::Index(
                o.get("value")
                    .map(|v| v.get("value").unwrap_or(v).clone())?,
            )),
            _ => None,
        }
    };
    raw.iter()
        .filter_map(|p| match p {
            Value::Array(steps) => steps.iter().map(step).collect::<Option<Vec<_>>>(),
            other => step(other).map(|s| vec![s]),
        })
        .filter(|p| matches!(p.first(), Some(Step::Attr(_))))
        .collect()
}

/// Removes the value at `path`; true when there was a non-null one. A path that
/// cannot be followed removes the nearest value it reaches, so nothing under a
/// sensitive path survives.
fn remove_path(attrs: &mut Map<String, Value>, path: &[Step]) -> bool {
    let Some((Step::Attr(first), rest)) = path.split_first() else {
        return false;
    };
    if rest.is_empty() {
        return attrs.remove(first).is_some_and(|v| !v.is_null());
    }
    let Some(v) = attrs.get_mut(first) else {
        return false;
    };
    if remove_in(v, rest) {
        return true;
    }
    false
}

fn remove_in(v: &mut Value, path: &[Step]) -> bool {
    let Some((step, rest)) = path.split_first() else {
        return false;
    };
    let child = match (step, &mut *v) {
        (Step::Attr(k), Value::Object(o)) | (Step::Index(Value::String(k)), Value::Object(o)) => {
            if rest.is_empty() {
                return o.remove(k).is_some_and(|v| !v.is_null());
            }
            o.get_mut(k)
        }
        (Step::Index(Value::Number(n)), Value::Array(a)) => {
            let i = n.as_u64().and_then(|i| usize::try_from(i).ok());
            match i {
                Some(i) if i < a.len() && rest.is_empty() => {
                    let was = !a[i].is_null();
                    a[i] = Value::Null;
                    return was;
                }
                Some(i) => a.get_mut(i),
                None => None,
            }
        }
        _ => {
            // A step that does not fit the value: drop the whole value.
            let was = !v.is_null();
            *v = Value::Null;
            return was;
        }
    };
    match child {
        Some(c) => remove_in(c, rest),
        None => false,
    }
}

fn dotted(path: &[Step]) -> String {
    let mut s = String::new();
    for step in path {
        match step {
            Step::Attr(a) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(a);
            }
            Step::Index(Value::String(k)) => s.push_str(&format!("[{k:?}]")),
            Step::Index(v) => s.push_str(&format!("[{v}]")),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sensitive_paths_are_removed_in_both_encodings() {
        let r: StateResource = serde_json::from_value(json!({
            "mode": "managed", "type": "kubernetes_manifest", "name": "s",
            "instances": [{
                "index_key": "a",
                "attributes": {"manifest": {"value": {"data": {"k": "v"}, "kind": "Secret"}}, "password": "p"},
                "sensitive_attributes": [
                    [{"type": "get_attr", "value": "manifest"}, {"type": "get_attr", "value": "value"},
                     {"type": "get_attr", "value": "data"}],
                    {"type": "get_attr", "value": "password"}
                ]
            }]
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let i = Instance::new(&r, &r.instances[0]);
        assert_eq!(i.source, "kubernetes_manifest.s[\"a\"]");
        assert_eq!(i.name, "s_a");
        assert_eq!(i.withheld, vec!["manifest.value.data", "password"]);
        assert_eq!(
            i.attrs,
            *json!({"manifest": {"value": {"kind": "Secret"}}})
                .as_object()
                .unwrap_or(&Map::new())
        );
    }
}
