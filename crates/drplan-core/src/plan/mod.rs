//! The plan: an inert value saying what apply will do. `diff` builds it from desired
//! resources and live state; renderers display it; apply executes it.
//!
//! **Architecture invariant:** display-only fields never influence apply.

pub mod approve;
pub mod attrdiff;
pub mod compare;
pub mod diff;
pub mod drift;
pub mod failback;
pub mod file;
pub mod held;
pub mod ignore;
pub mod links;
pub mod reason;
pub mod redact;
pub mod target;

use crate::address::Address;
use crate::kinds::MarkPlace;
use crate::live::Unreachable;
use crate::marks::K8S_ADDRESS_ANNOTATION;
use crate::resource::{AttrMap, Kind};
use attrdiff::{AttrDiff, StoredDiff};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Bumped on any incompatible change to the saved/JSON form (`docs/plan-json.md`).
pub const FORMAT_VERSION: &str = "1.0";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    NoOp,
    Create,
    Update,
    /// Delete then create (the replaced object's identity cannot change in place).
    Replace,
    Delete,
    /// No longer managed: drplan's marks are removed and the object is kept (a
    /// `removed { lifecycle { destroy = false } }` block).
    Forget,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceChange {
    pub address: Address,
    pub kind: Kind,
    pub site: Option<String>,
    pub region: Option<String>,
    pub action: Action,
    /// Live attributes (None for create). Sensitive values are already redacted.
    pub before: Option<AttrMap>,
    /// Desired attributes (None for delete). Sensitive values are already redacted.
    pub after: Option<AttrMap>,
    /// Attribute names whose change forces replacement.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replace_because: Vec<String>,
    /// Attribute names whose value is only known after apply.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown_after: Vec<String>,
    /// Attribute names whose values are secret (rendered as `(sensitive)`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive: Vec<String>,
    /// The entries of `sensitive` whose value differs between live and desired. Both
    /// sides are redacted, so without this a changed secret would look unchanged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive_changed: Vec<String>,
    /// Cloud id of the live object acted on (update/replace/delete).
    pub live_id: Option<String>,
    pub depends_on: Vec<Address>,
    /// Changes this one starts after, besides what it depends on: ordering the plan
    /// adds across the whole change set (a failback's DNS flip waits for the primary's
    /// workloads; DR's scale-down waits for the flip; `plan::failback`). Unlike
    /// `depends_on`, it holds for every action: a delete listing a change here starts
    /// once that change has been applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wait_for: Vec<Address>,
    pub protect: bool,
    /// The address the live object is marked with, when the spec now gives it another
    /// one (a renamed block). Apply rewrites the mark, so the object keeps being found
    /// at its new address once an identifying attribute changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_from: Option<Address>,
    /// The live object carries no marks yet: an earlier apply of this stack created it
    /// and stopped before marking it (its write-ahead record says so). Apply writes
    /// the marks first, then makes the other changes.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub adopt: bool,
    /// Adopted because an `import` block names it with this cloud id (`adopt` is set
    /// too): apply writes the marks first, then makes the other changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import_id: Option<String>,
    /// What differs, attribute by attribute (an update or replace; `None` otherwise):
    /// computed once when the plan is made and when a saved plan is loaded (not in the
    /// file), read by every renderer. Read it through [`ResourceChange::attr_changes`].
    #[serde(skip)]
    pub attr_diff: StoredDiff,
}

impl ResourceChange {
    /// The attribute diff of an update or replace: the one the plan computed, or
    /// computed now for a change built by hand.
    pub fn attr_changes(&self) -> Option<Cow<'_, AttrDiff>> {
        match &self.attr_diff.0 {
            Some(d) => Some(Cow::Borrowed(d)),
            None => AttrDiff::of(self).map(Cow::Owned),
        }
    }

    /// Computes the attribute diff from the change's fields (after they changed).
    pub fn refresh_attr_diff(&mut self) {
        self.attr_diff = StoredDiff(AttrDiff::of(self).map(Box::new));
    }

    /// An update whose only effect is rewriting drplan's address mark: the attributes
    /// already match the spec.
    pub fn only_mark_changes(&self) -> bool {
        if self.adopt && self.action == Action::Update && self.moved_from.is_none() {
            let (before, after) = (
                self.before.clone().unwrap_or_default(),
                self.after.clone().unwrap_or_default(),
            );
            return compare::changed_attrs(&before, &after).is_empty()
                && self.sensitive_changed.is_empty();
        }
        let (Some(from), Action::Update) = (&self.moved_from, self.action) else {
            return false;
        };
        let mut before = self.before.clone().unwrap_or_default();
        // A Kubernetes object's mark is an annotation inside its manifest.
        if self.kind.info().mark == MarkPlace::Annotation {
            let annotations = before
                .get_mut("manifest")
                .and_then(|m| m.pointer_mut("/metadata/annotations"))
                .and_then(Value::as_object_mut);
            if let Some(a) = annotations {
                if a.get(K8S_ADDRESS_ANNOTATION).and_then(Value::as_str) == Some(from.as_str()) {
                    a.insert(
                        K8S_ADDRESS_ANNOTATION.into(),
                        Value::from(self.address.as_str()),
                    );
                }
            }
        }
        let after = self.after.clone().unwrap_or_default();
        compare::changed_attrs(&before, &after).is_empty() && self.sensitive_changed.is_empty()
    }
}

/// A problem found while planning that makes the plan unsafe to apply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanError {
    pub address: Address,
    pub message: String,
    pub help: Option<String>,
}

/// `address: message`, or the message alone for an error that belongs to no address
/// (a cloud that could not be read).
impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.address.as_str().is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.address, self.message)
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: String,
    pub stack: String,
    pub environment: String,
    /// Digest of the spec files the plan was made from.
    pub spec_digest: String,
    /// Every managed object, including no-ops (renderers hide those).
    pub changes: Vec<ResourceChange>,
    /// Fingerprint of every live object read, by identity key. `apply FILE` re-reads
    /// and refuses if any differ.
    pub live_fingerprints: BTreeMap<String, String>,
    pub errors: Vec<PlanError>,
    /// The objectives evaluated with this plan (display only: apply never reads it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objectives: Option<crate::objectives::ObjectivesReport>,
    /// Places that did not answer when the plan was made (docs/outage.md). `apply
    /// FILE` refuses the plan if the set differs when it re-reads the cloud.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreachable: Vec<Unreachable>,
    /// Objects of the spec in those places: not read, so not planned; apply leaves
    /// them alone until a plan can read them again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deferred: Vec<Deferred>,
    /// `--target ADDRESS`: the plan covers only these (and what they depend on);
    /// `left_out` are the changes it leaves for a later, full plan (`plan::target`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<Address>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<Address>,
    /// `--replace ADDRESS`: what the plan was asked to replace.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replace: Vec<Address>,
}

/// An object of the spec that lives where the readers could not reach: whether it
/// exists, and what it would take to match the spec, is unknown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Deferred {
    pub address: Address,
    pub kind: Kind,
    pub site: Option<String>,
    pub region: Option<String>,
    /// Which place did not answer, and how (`Unreachable::reason`).
    pub reason: String,
}

impl Plan {
    /// The sites that did not answer, by name (a region no site covers by region,
    /// a cluster by its address), in order.
    pub fn unreachable_sites(&self) -> Vec<String> {
        let mut sites: Vec<String> = self
            .unreachable
            .iter()
            .map(|u| {
                u.site
                    .clone()
                    .or_else(|| u.region.clone())
                    .unwrap_or_else(|| u.place())
            })
            .collect();
        sites.sort();
        sites.dedup();
        sites
    }

    /// Computes every change's attribute diff (a fresh or a loaded plan).
    pub fn refresh_attr_diffs(&mut self) {
        self.changes
            .iter_mut()
            .for_each(ResourceChange::refresh_attr_diff);
    }

    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(|c| c.action != Action::NoOp)
    }

    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in &self.changes {
            match c.action {
                Action::Create => s.add += 1,
                Action::Update => s.change += 1,
                Action::Delete => s.destroy += 1,
                Action::Forget => s.forget += 1,
                Action::Replace => {
                    s.add += 1;
                    s.destroy += 1
                }
                Action::NoOp => {}
            }
        }
        s
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
    /// Objects a `removed` block stops managing (kept in the cloud).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub forget: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}
