//! The drift report (`drplan drift`): the same plan, grouped by why the cloud and the
//! spec disagree rather than by what apply would do.
//!
//! - drifted: an attribute changed out-of-band (the plan updates or replaces)
//! - missing: in the spec, not in the cloud (the plan creates)
//! - orphaned: marked as ours, gone from the spec (the plan deletes)
//! - conflicts: what the plan cannot resolve (its errors)

use super::attrdiff::Change;
use super::redact::{without_indices, SENSITIVE_MARKER};
use super::{Action, Plan, PlanError, ResourceChange};
use crate::address::Address;
use crate::live::Unreachable;
use crate::resource::Kind;
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    Drifted,
    Missing,
    Orphaned,
    Conflict,
}

impl Cause {
    pub const ALL: [Cause; 4] = [
        Cause::Drifted,
        Cause::Missing,
        Cause::Orphaned,
        Cause::Conflict,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Cause::Drifted => "drifted",
            Cause::Missing => "missing",
            Cause::Orphaned => "orphaned",
            Cause::Conflict => "conflicts",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Cause::Drifted => "changed outside drplan",
            Cause::Missing => "in the spec, not in the cloud",
            Cause::Orphaned => "marked as this stack's, gone from the spec",
            Cause::Conflict => "cannot be planned safely",
        }
    }
}

/// One object out of sync.
#[derive(Clone, Debug, PartialEq)]
pub struct DriftItem {
    pub address: Address,
    pub kind: Kind,
    pub site: Option<String>,
    pub region: Option<String>,
    /// What `apply` would do about it.
    pub action: Action,
    pub live_id: Option<String>,
    /// For drifted objects: what differs (live → spec). Empty otherwise.
    pub differences: Vec<AttributeDrift>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AttributeDrift {
    /// Path from the attribute name through map keys and list elements
    /// (`lifecycle_rules[0].expiration_days`), so the leaf that changed is named.
    pub path: String,
    /// Live value (`None`: not set). Sensitive values are the redaction marker.
    pub live: Option<Value>,
    /// Value the spec wants (`None`: not set).
    pub desired: Option<Value>,
    pub sensitive: bool,
    pub forces_replacement: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DriftReport {
    pub stack: String,
    pub environment: String,
    pub drifted: Vec<DriftItem>,
    pub missing: Vec<DriftItem>,
    pub orphaned: Vec<DriftItem>,
    pub conflicts: Vec<PlanError>,
    /// Places that did not answer: nothing there was compared (docs/outage.md).
    pub unreachable: Vec<Unreachable>,
    /// How many objects of the spec live there.
    pub not_read: usize,
    /// `drift --unmanaged`: objects no drplan stack marks (information, not drift);
    /// `None` when not asked for.
    pub unmanaged: Option<Vec<crate::live::Unmanaged>>,
}

impl DriftReport {
    pub fn from_plan(plan: &Plan) -> Self {
        let mut report = DriftReport {
            stack: plan.stack.clone(),
            environment: plan.environment.clone(),
            drifted: Vec::new(),
            missing: Vec::new(),
            orphaned: Vec::new(),
            conflicts: plan.errors.clone(),
            unreachable: plan.unreachable.clone(),
            not_read: plan.deferred.len(),
            unmanaged: None,
        };
        for change in &plan.changes {
            match change.action {
                // Kept on purpose by a `removed` block: not drift.
                Action::NoOp | Action::Forget => {}
                Action::Create => report.missing.push(item(change, Vec::new())),
                Action::Delete => report.orphaned.push(item(change, Vec::new())),
                Action::Update | Action::Replace => {
                    report.drifted.push(item(change, differences(change)))
                }
            }
        }
        report
    }

    /// Nothing differs, and everything could be read.
    pub fn in_sync(&self) -> bool {
        self.unreachable.is_empty() && Cause::ALL.iter().all(|&c| self.count(c) == 0)
    }

    pub fn count(&self, cause: Cause) -> usize {
        match cause {
            Cause::Drifted => self.drifted.len(),
            Cause::Missing => self.missing.len(),
            Cause::Orphaned => self.orphaned.len(),
            Cause::Conflict => self.conflicts.len(),
        }
    }

    /// The object items of a cause (conflicts are plan errors, see `conflicts`).
    pub fn items(&self, cause: Cause) -> &[DriftItem] {
        match cause {
            Cause::Drifted => &self.drifted,
            Cause::Missing => &self.missing,
            Cause::Orphaned => &self.orphaned,
            Cause::Conflict => &[],
        }
    }
}

fn item(change: &ResourceChange, differences: Vec<AttributeDrift>) -> DriftItem {
    DriftItem {
        address: change.address.clone(),
        kind: change.kind,
        site: change.site.clone(),
        region: change.region.clone(),
        action: change.action,
        live_id: change.live_id.clone(),
        differences,
    }
}

/// The leaves of an update's or replace's attribute diff ([`super::attrdiff`]), the
/// tree the text plan prints. Drift lists what differs now, one row per leaf:
/// values known only after apply are not drift and are left out. Redacted values
/// compare equal, so a changed secret is a row of its own after the other leaves,
/// named by its path in the spec's form (no element index); then the region an
/// object moved to, then a renamed block's mark.
pub fn differences(change: &ResourceChange) -> Vec<AttributeDrift> {
    let Some(diff) = change.attr_changes() else {
        return Vec::new();
    };
    let mut out: Vec<AttributeDrift> = Vec::new();
    // Changed secrets: (path, forces replacement).
    let mut secrets: Vec<(String, bool)> = Vec::new();
    let mut region = None;
    for node in diff.nodes() {
        let row = |live: Option<&Value>, desired: Option<&Value>| AttributeDrift {
            path: node.path.clone(),
            live: live.cloned(),
            desired: desired.cloned(),
            sensitive: node.sensitive,
            forces_replacement: node.forces_replacement,
        };
        match &node.change {
            Change::Added(v) => out.push(row(None, Some(v))),
            Change::Removed(v) => out.push(row(Some(v), None)),
            Change::Modified { before, after } => out.push(row(Some(before), Some(after))),
            Change::Sensitive { before, after } => out.push(row(before.as_ref(), after.as_ref())),
            Change::SecretChanged => {
                secrets.push((without_indices(&node.path), node.forces_replacement))
            }
            Change::List {
                secrets_changed, ..
            } => secrets.extend(
                secrets_changed
                    .iter()
                    .map(|p| (p.clone(), node.forces_replacement)),
            ),
            Change::Region { to } => {
                region = Some(AttributeDrift {
                    path: node.path.clone(),
                    live: None,
                    desired: to.clone().map(Value::String),
                    sensitive: false,
                    forces_replacement: true,
                })
            }
            Change::Map { .. } | Change::Unknown { .. } => {}
        }
    }
    secrets.extend(diff.secrets_changed.iter().map(|p| {
        let top = p.split('.').next().unwrap_or(p);
        (p.clone(), change.replace_because.iter().any(|a| a == top))
    }));
    // In the order the diff found them changed.
    let rank = |p: &str| change.sensitive_changed.iter().position(|s| s == p);
    secrets.sort_by_key(|(p, _)| rank(p));
    secrets.dedup();
    for (path, forces_replacement) in secrets {
        if !out.iter().any(|d| without_indices(&d.path) == path) {
            let marker = Some(Value::String(SENSITIVE_MARKER.to_string()));
            out.push(AttributeDrift {
                forces_replacement,
                path,
                live: marker.clone(),
                desired: marker,
                sensitive: true,
            });
        }
    }
    out.extend(region);
    if let Some(mark) = &diff.mark {
        out.push(AttributeDrift {
            path: MARK_PATH.into(),
            live: Some(Value::String(mark.from.to_string())),
            desired: Some(Value::String(mark.to.to_string())),
            sensitive: false,
            forces_replacement: false,
        });
    }
    out
}

/// The path under which a renamed block's mark change is listed: the ownership mark
/// is not an attribute, but it is what apply changes.
pub const MARK_PATH: &str = "drplan:address";

impl AttributeDrift {
    /// One line for a report: `path: live → spec`, with secrets and long text
    /// summarised rather than printed.
    pub fn summary(&self) -> String {
        let path = &self.path;
        let note = if self.forces_replacement {
            " (forces replacement)"
        } else {
            ""
        };
        if self.sensitive {
            return format!("{path}: (sensitive value) changed{note}");
        }
        if let (Some(Value::String(live)), Some(Value::String(desired))) =
            (&self.live, &self.desired)
        {
            if live.contains('\n') || desired.contains('\n') {
                let diff = similar::TextDiff::from_lines(live.as_str(), desired.as_str());
                let (mut added, mut removed) = (0, 0);
                for change in diff.iter_all_changes() {
                    match change.tag() {
                        similar::ChangeTag::Insert => added += 1,
                        similar::ChangeTag::Delete => removed += 1,
                        similar::ChangeTag::Equal => {}
                    }
                }
                return format!("{path}: text changed (+{added} -{removed} lines){note}");
            }
        }
        format!(
            "{path}: {} → {}{note}",
            compact(self.live.as_ref()),
            compact(self.desired.as_ref())
        )
    }
}

fn compact(value: Option<&Value>) -> String {
    let Some(value) = value else {
        return "(not set)".to_string();
    };
    let text = value.to_string();
    if text.chars().count() > 60 {
        let cut: String = text.chars().take(57).collect();
        format!("{cut}...")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn update(before: Value, after: Value, sensitive: &[&str]) -> ResourceChange {
        ResourceChange {
            address: Address::new("bucket.backups"),
            kind: Kind::Bucket,
            site: None,
            region: Some("us-east-1".into()),
            action: Action::Update,
            before: before.as_object().cloned().map(Into::into),
            after: after.as_object().cloned().map(Into::into),
            replace_because: Vec::new(),
            unknown_after: Vec::new(),
            sensitive: sensitive.iter().map(|s| s.to_string()).collect(),
            sensitive_changed: Vec::new(),
            live_id: Some("shop-prod-backups".into()),
            depends_on: Vec::new(),
            protect: false,
            moved_from: None,
            wait_for: Vec::new(),
            adopt: false,
            import_id: None,
            attr_diff: Default::default(),
        }
    }

    /// A long rule printed whole and cut for display read the same on both sides; the
    /// leaf inside the list must be named instead.
    #[test]
    fn a_change_inside_a_list_names_its_leaf() {
        let rule = |days: u32| {
            json!({"id": "expire-old-orders-db-backups", "prefix": "orders_db/", "expiration_days": days,
                   "noncurrent_version_expiration_days": 7, "enabled": true})
        };
        let change = update(
            json!({"lifecycle_rules": [rule(45), rule(90)]}),
            json!({"lifecycle_rules": [rule(30), rule(90)]}),
            &[],
        );
        let summaries: Vec<String> = differences(&change)
            .iter()
            .map(AttributeDrift::summary)
            .collect();
        assert_eq!(summaries, ["lifecycle_rules[0].expiration_days: 45 → 30"]);
    }

    #[test]
    fn a_secret_inside_a_list_stays_sensitive() {
        let change = update(
            json!({"manifest": {"env": [{"name": "TOKEN", "value": "old"}]}}),
            json!({"manifest": {"env": [{"name": "TOKEN", "value": "new"}]}}),
            &["manifest.env.value"],
        );
        let summaries: Vec<String> = differences(&change)
            .iter()
            .map(AttributeDrift::summary)
            .collect();
        assert_eq!(
            summaries,
            ["manifest.env[0].value: (sensitive value) changed"]
        );
    }
}
