//! Reading the normalized attributes of a planned change, with errors that name the
//! resource and attribute instead of panicking on a malformed plan.

use anyhow::{anyhow, Result};
use drplan_core::address::Address;
use drplan_core::marks;
use drplan_core::plan::ResourceChange;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

pub struct Attrs<'a> {
    pub address: &'a Address,
    pub map: &'a Map<String, Value>,
}

impl<'a> Attrs<'a> {
    /// The desired attributes of a create/update.
    pub fn after(change: &'a ResourceChange) -> Result<Self> {
        let map = change
            .after
            .as_deref()
            .ok_or_else(|| anyhow!("{}: the plan has no desired attributes", change.address))?;
        Ok(Attrs {
            address: &change.address,
            map,
        })
    }

    /// The live attributes of an update/delete.
    pub fn before(change: &'a ResourceChange) -> Result<Self> {
        let map = change
            .before
            .as_deref()
            .ok_or_else(|| anyhow!("{}: the plan has no live attributes", change.address))?;
        Ok(Attrs {
            address: &change.address,
            map,
        })
    }

    /// The whole map as its kind's typed attribute struct (`drplan_core::kinds`), the
    /// form lowering and reader share.
    pub fn typed<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_value(Value::Object(self.map.clone())).map_err(|e| {
            anyhow::anyhow!(
                "{}: attributes not in the normalized form: {e}",
                self.address
            )
        })
    }

    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    pub fn str(&self, key: &str) -> Result<&'a str> {
        self.get(key)
            .and_then(Value::as_str)
            .ok_or_else(|| self.missing(key, "a string"))
    }

    pub fn opt_str(&self, key: &str) -> Option<&'a str> {
        self.get(key).and_then(Value::as_str)
    }

    pub fn bool(&self, key: &str) -> bool {
        self.get(key).and_then(Value::as_bool).unwrap_or(false)
    }

    pub fn int(&self, key: &str) -> Result<i64> {
        self.get(key)
            .and_then(Value::as_i64)
            .ok_or_else(|| self.missing(key, "an integer"))
    }

    pub fn opt_int(&self, key: &str) -> Option<i64> {
        self.get(key).and_then(Value::as_i64)
    }

    pub fn str_list(&self, key: &str) -> Vec<String> {
        match self.get(key) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    }

    pub fn str_map(&self, key: &str) -> BTreeMap<String, String> {
        str_map(self.get(key))
    }

    fn missing(&self, key: &str, what: &str) -> anyhow::Error {
        anyhow!("{}: attribute `{key}` must be {what}", self.address)
    }
}

pub fn str_map(v: Option<&Value>) -> BTreeMap<String, String> {
    match v {
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string()),
                )
            })
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// Attribute names whose value differs between live and desired: an update touches
/// only these.
pub fn changed_keys(change: &ResourceChange) -> BTreeSet<String> {
    let empty = Map::new();
    let before = change.before.as_deref().unwrap_or(&empty);
    let after = change.after.as_deref().unwrap_or(&empty);
    before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k).unwrap_or(&Value::Null) != after.get(*k).unwrap_or(&Value::Null))
        .cloned()
        .collect()
}

/// The user's tags plus the ownership marks, which always win.
pub fn tags_with_marks(
    stack: &str,
    address: &Address,
    user: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut tags = user.clone();
    tags.insert(marks::STACK_KEY.to_string(), stack.to_string());
    tags.insert(marks::ADDRESS_KEY.to_string(), address.to_string());
    tags
}

/// Tag keys to remove on update: dropped from the spec, never the marks.
pub fn removed_tag_keys(
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) -> Vec<String> {
    before
        .keys()
        .filter(|k| {
            !after.contains_key(*k)
                && k.as_str() != marks::STACK_KEY
                && k.as_str() != marks::ADDRESS_KEY
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tag_removal_never_drops_marks() {
        let before: BTreeMap<String, String> =
            [("team", "a"), ("old", "x"), (marks::STACK_KEY, "s")]
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect();
        let after: BTreeMap<String, String> = [("team", "b")]
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        assert_eq!(removed_tag_keys(&before, &after), ["old"]);
        let marked = tags_with_marks("lanka", &Address::new("network.main"), &after);
        assert_eq!(
            marked.get(marks::ADDRESS_KEY).map(String::as_str),
            Some("network.main")
        );
    }

    #[test]
    fn missing_attributes_are_errors_naming_the_resource() {
        let map = json!({"cidr_block": 10})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let address = Address::new("network.main");
        let a = Attrs {
            address: &address,
            map: &map,
        };
        assert_eq!(
            a.str("cidr_block").map_err(|e| e.to_string()).err(),
            Some("network.main: attribute `cidr_block` must be a string".to_string())
        );
    }
}
