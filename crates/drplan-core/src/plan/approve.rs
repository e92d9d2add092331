//! Approving a saved plan. `apply FILE` plans again and executes that fresh plan; the
//! file only approves it. Whatever the file says that the fresh plan does not say the
//! same way — an edited replica count, an added delete, a protection turned off — is
//! a [`Difference`], and apply refuses the file.
//!
//! The comparison runs over the plan as drplan reads it back (every field of every
//! change, and every plan-level field but those with their own check or no effect:
//! `format_version`, `spec_digest`, `live_fingerprints`, `errors`, `objectives`), so a
//! field added to [`Plan`] or [`ResourceChange`] is compared without changes here.
//!
//! **Architecture invariant:** nothing read from a plan file is executed; protection,
//! attributes and actions always come from the spec and the live state.

use super::{Action, Plan, ResourceChange};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

/// Plan-level fields compared elsewhere (or display-only).
const NOT_COMPARED: &[&str] = &[
    "format_version",
    "spec_digest",
    "live_fingerprints",
    "errors",
    "objectives",
    "changes",
];

/// Longest value shown in a [`Difference`]; longer ones are cut with `…`.
const SHOWN_VALUE_CHARS: usize = 80;

/// One way a saved plan differs from the plan made now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// The change's address; empty for a plan-level field.
    pub address: String,
    pub what: What,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum What {
    /// The file has a change at this address that the fresh plan does not.
    OnlyInFile { action: Action },
    /// The fresh plan has a change at this address that the file does not.
    OnlyNow { action: Action },
    /// A field of the change (or of the plan) has another value: `path` is
    /// `attribute.nested[0].key`, values are compact JSON (`None`: absent).
    Field {
        path: String,
        in_file: Option<String>,
        now: Option<String>,
    },
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let address = if self.address.is_empty() {
            "the plan"
        } else {
            &self.address
        };
        match &self.what {
            What::OnlyInFile { action } => write!(
                f,
                "{address}: the file has a {} that the spec and live state do not produce now",
                action_name(*action)
            ),
            What::OnlyNow { action } => write!(
                f,
                "{address}: the spec and live state now produce a {} that the file does not have",
                action_name(*action)
            ),
            What::Field { path, in_file, now } => write!(
                f,
                "{address}: {path} is {} in the file, {} now",
                in_file.as_deref().unwrap_or("absent"),
                now.as_deref().unwrap_or("absent")
            ),
        }
    }
}

fn action_name(action: Action) -> &'static str {
    match action {
        Action::NoOp => "no-op",
        Action::Create => "create",
        Action::Update => "update",
        Action::Replace => "replace",
        Action::Delete => "delete",
        Action::Forget => "forget",
    }
}

/// Every difference between the saved plan and the fresh one, plan-level fields first,
/// then changes by address. Empty when the file approves exactly the fresh plan.
pub fn differences(saved: &Plan, fresh: &Plan) -> Vec<Difference> {
    let mut out = Vec::new();
    let (saved_top, fresh_top) = (top_level(saved), top_level(fresh));
    let mut fields = Vec::new();
    compare(
        &mut String::new(),
        Some(&saved_top),
        Some(&fresh_top),
        &mut fields,
    );
    out.extend(fields.into_iter().map(|what| Difference {
        address: String::new(),
        what,
    }));

    let (saved_by, fresh_by) = (by_address(&saved.changes), by_address(&fresh.changes));
    let mut addresses: Vec<&str> = saved_by.keys().chain(fresh_by.keys()).copied().collect();
    addresses.sort_unstable();
    addresses.dedup();
    for address in addresses {
        let in_file = saved_by.get(address).map(Vec::as_slice).unwrap_or_default();
        let now = fresh_by.get(address).map(Vec::as_slice).unwrap_or_default();
        for i in 0..in_file.len().max(now.len()) {
            let what = match (in_file.get(i), now.get(i)) {
                (Some(a), Some(b)) => {
                    let mut fields = Vec::new();
                    compare(
                        &mut String::new(),
                        Some(&as_value(a)),
                        Some(&as_value(b)),
                        &mut fields,
                    );
                    fields
                }
                (Some(a), None) => vec![What::OnlyInFile { action: a.action }],
                (None, Some(b)) => vec![What::OnlyNow { action: b.action }],
                (None, None) => Vec::new(),
            };
            out.extend(what.into_iter().map(|what| Difference {
                address: address.to_string(),
                what,
            }));
        }
    }
    out
}

fn top_level(plan: &Plan) -> Value {
    let mut value = serde_json::to_value(plan).unwrap_or(Value::Null);
    if let Some(map) = value.as_object_mut() {
        for key in NOT_COMPARED {
            map.remove(*key);
        }
    }
    value
}

fn as_value(change: &ResourceChange) -> Value {
    serde_json::to_value(change).unwrap_or(Value::Null)
}

/// Changes by address, in plan order (a well-formed plan has one per address).
fn by_address(changes: &[ResourceChange]) -> BTreeMap<&str, Vec<&ResourceChange>> {
    let mut by: BTreeMap<&str, Vec<&ResourceChange>> = BTreeMap::new();
    for c in changes {
        by.entry(c.address.as_str()).or_default().push(c);
    }
    by
}

/// Field-by-field comparison. Objects are compared key by key; arrays of the same
/// length element by element; anything else (and arrays of another length) as a
/// whole value.
fn compare(path: &mut String, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<What>) {
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort_unstable();
            keys.dedup();
            for key in keys {
                let len = path.len();
                push_key(path, key);
                compare(path, x.get(key), y.get(key), out);
                path.truncate(len);
            }
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                compare(path, Some(p), Some(q), out);
                path.truncate(len);
            }
        }
        (a, b) if a != b => out.push(What::Field {
            path: if path.is_empty() {
                "(the whole value)".into()
            } else {
                path.clone()
            },
            in_file: a.map(shown),
            now: b.map(shown),
        }),
        _ => {}
    }
}

/// `a.b` for plain keys, `a["drplan.io/address"]` for keys a dot would make ambiguous.
fn push_key(path: &mut String, key: &str) {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
    } else {
        path.push_str(&format!("[{}]", Value::from(key)));
    }
}

/// Compact JSON (control characters escaped by JSON itself), cut to a readable length.
fn shown(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() <= SHOWN_VALUE_CHARS {
        text
    } else {
        let cut: String = text.chars().take(SHOWN_VALUE_CHARS).collect();
        format!("{cut}…")
    }
}
