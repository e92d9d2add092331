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

    /// An address as a user writes it (`moved`, `removed`, `import`, `--target`):
    /// drplan's own (`network.app_main`), or Terraform's form of a block in a module,
    /// `module.app.network.main` (nested: `module.app.module.db.bucket.x`), which
    /// names the same object: a module's blocks are labelled `<module>_<label>`
    /// (docs/spec-reference.md "Modules").
    pub fn from_user(s: &str) -> Self {
        let parts: Vec<&str> = s.split('.').collect();
        let mut prefix = String::new();
        let mut i = 0;
        while parts.get(i) == Some(&"module") && i + 1 < parts.len() {
            prefix.push_str(parts[i + 1]);
            prefix.push('_');
            i += 2;
        }
        if prefix.is_empty() || parts.len() < i + 2 {
            return Address::new(s);
        }
        let mut out = format!("{}.{prefix}{}", parts[i], parts[i + 1]);
        for p in &parts[i + 2..] {
            out.push('.');
            out.push_str(p);
        }
        Address(out)
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

#[cfg(test)]
mod tests {
    use super::Address;

    #[test]
    fn terraform_module_addresses_name_the_flattened_label() {
        for (written, address) in [
            ("module.app.network.main", "network.app_main"),
            (
                "module.app.module.db.bucket.x.lifecycle.y",
                "bucket.app_db_x.lifecycle.y",
            ),
            ("network.app_main", "network.app_main"),
            ("module.app", "module.app"),
            ("module.app.network", "module.app.network"),
        ] {
            assert_eq!(Address::from_user(written).as_str(), address, "{written}");
        }
    }
}
