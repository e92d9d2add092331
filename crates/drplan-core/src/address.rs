//! Resource addresses: the stable names drplan writes into ownership marks.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A dotted path naming one managed object, e.g. `bucket.backups` or
/// `cluster.app.node_group.general`. It is written verbatim into the `drplan:address`
/// tag, so it must never change for an object that keeps its place in the spec.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Address(pub String);

impl Address {
    pub fn new(s: impl Into<String>) -> Self {
        Address(s.into())
    }

    /// `block.label` for a top-level spec block.
    pub fn block(kind: &str, label: &str) -> Self {
        Address(format!("{kind}.{label}"))
    }

    /// `self.child.label`, for objects nested inside a block.
    pub fn child(&self, kind: &str, label: &str) -> Self {
        Address(format!("{}.{kind}.{label}", self.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The top-level spec block this address lives in (`cluster.app` for
    /// `cluster.app.node_group.general`).
    pub fn root_block(&self) -> Address {
        let mut parts = self.0.splitn(3, '.');
        match (parts.next(), parts.next()) {
            (Some(k), Some(l)) => Address::block(k, l),
            _ => self.clone(),
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Address {
    fn from(s: &str) -> Self {
        Address(s.to_string())
    }
}
