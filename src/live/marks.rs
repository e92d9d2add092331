//! Splitting AWS tags into the ownership mark and the user's tags.

use drplan_core::address::Address;
use drplan_core::marks::{ADDRESS_KEY, STACK_KEY};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub(crate) struct Marked {
    /// The user's tags, `drplan:*` keys removed, keys sorted.
    pub tags: Value,
    pub address: Option<Address>,
    pub stack: Option<String>,
}

impl Marked {
    pub fn from_tags<K, V>(tags: impl IntoIterator<Item = (K, V)>) -> Marked
    where
        K: Into<String>,
        V: Into<String>,
    {
        let mut address = None;
        let mut stack = None;
        let mut user = BTreeMap::new();
        for (k, v) in tags {
            let (k, v) = (k.into(), v.into());
            match k.as_str() {
                STACK_KEY => stack = Some(v),
                ADDRESS_KEY => address = Some(Address::new(v)),
                // Other reserved keys are drplan's, never the user's.
                key if key.starts_with("drplan:") => {}
                _ => {
                    user.insert(k, v);
                }
            }
        }
        let tags: Map<String, Value> = user
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        Marked {
            tags: Value::Object(tags),
            address,
            stack,
        }
    }

    pub fn is_for(&self, stack: &str) -> bool {
        self.stack.as_deref() == Some(stack)
    }
}

/// A JSON list of strings, sorted (for attributes documented as sorted lists).
pub(crate) fn sorted_strings<S: AsRef<str>>(items: &[S]) -> Value {
    let mut v: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    v.sort_unstable();
    Value::Array(
        v.into_iter()
            .map(|s| Value::String(s.to_string()))
            .collect(),
    )
}
