//! The attribute diff of one change (issue 15): a tree of what differs between the live
//! and desired attributes of an update or a replace, computed once when the plan is
//! made (and again when a saved plan is loaded: the tree is not in the file) and
//! printed by every renderer. The text plan and the drift report read the same tree,
//! so they cannot disagree about what changed.
//!
//! The rules are [`super::compare`]'s: values compare by meaning (`3` is `3.0`, a
//! `null` map entry is an absent one), only the attributes the spec sets are compared
//! at the top level, maps descend key by key (both sides' keys below the top), and
//! lists align by longest common subsequence (`compare::unmatched_elements`), a pair
//! of changed elements descending as one node. Each node carries the flags OpenTofu's
//! plan JSON spreads over `before_sensitive`, `replace_paths` and `after_unknown`;
//! the tree's root carries the change's `action_reason`.
//!
//! Secrets: both sides are redacted before the tree is built, so a changed secret
//! reads as equal markers. Where the diff saw one change (`sensitive_changed`), the
//! tree holds a [`Change::SecretChanged`] node, or names it on the list it sits in
//! when no element shows it.

use super::compare::{attr_eq, unmatched_elements, Difference};
use super::reason::ActionReason;
use super::redact::is_sensitive_path;
use super::{Action, ResourceChange};
use crate::address::Address;
use crate::kinds::MarkPlace;
use crate::marks::K8S_ADDRESS_ANNOTATION;
use serde_json::{Map, Value};

/// The attribute diff of an update or replace.
#[derive(Clone, Debug, PartialEq)]
pub struct AttrDiff {
    /// Why the change has its action beyond the attributes (OpenTofu's `action_reason`).
    pub reason: Option<ActionReason>,
    /// The attributes that differ, in the spec's order; then the region an object
    /// moved from ([`Change::Region`]); then the attributes known only after apply.
    pub attrs: Vec<AttrChange>,
    /// Attributes the spec sets whose live values match (shown as a count).
    pub unchanged: usize,
    /// The ownership mark apply rewrites (a renamed block), when no attribute shows it.
    pub mark: Option<MarkMove>,
    /// Changed secrets no node could be placed at (a shape the walk does not reach).
    pub secrets_changed: Vec<String>,
}

/// A change's attribute diff as it is kept on the change. It is derived from the
/// change's other fields, so it takes no part in comparing changes: a plan read back
/// from its file (which does not hold the tree) equals the plan saved.
#[derive(Clone, Debug, Default)]
pub struct StoredDiff(pub Option<Box<AttrDiff>>);

impl PartialEq for StoredDiff {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// A renamed block's mark: apply rewrites it from the old address to the new one.
#[derive(Clone, Debug, PartialEq)]
pub struct MarkMove {
    pub from: Address,
    pub to: Address,
}

/// One node of the tree: an attribute, a map entry or a list element that differs.
#[derive(Clone, Debug, PartialEq)]
pub struct AttrChange {
    pub step: Step,
    /// From the attribute name through map keys (`.key`) and list elements
    /// (`[index]`: a removed element by its live index, any other by the spec's):
    /// `lifecycle_rules[0].expiration_days`.
    pub path: String,
    pub change: Change,
    /// The value is secret: redacted on both sides, printed as `(sensitive value)`.
    pub sensitive: bool,
    /// The attribute this node is under forces replacement when it changes.
    pub forces_replacement: bool,
}

/// Where a node sits in its parent.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// An attribute or a map key.
    Key(String),
    /// A list element.
    Element,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// Set by the spec, not set live.
    Added(Value),
    /// Set live, not by the spec.
    Removed(Value),
    /// Different values that do not descend: scalars, values whose type changed,
    /// multi-line text.
    Modified { before: Value, after: Value },
    /// A map whose entries differ; `unchanged` counts the spec's entries that match.
    Map {
        children: Vec<AttrChange>,
        unchanged: usize,
    },
    /// A list whose elements differ; `unchanged` counts the live elements kept.
    /// `secrets_changed`: secret paths under the list whose values changed in an
    /// element no child shows (redacted elements look alike).
    List {
        children: Vec<AttrChange>,
        unchanged: usize,
        secrets_changed: Vec<String>,
    },
    /// A secret set or unset: the redacted values, `None` where not set.
    Sensitive {
        before: Option<Value>,
        after: Option<Value>,
    },
    /// A secret whose value changed (both sides redacted alike).
    SecretChanged,
    /// Known only after apply (a replaced object's id); the live value if any.
    Unknown { before: Option<Value> },
    /// The object moves to another region (a block matched by its mark): the new one.
    Region { to: Option<String> },
}

impl AttrDiff {
    /// The tree of an update or replace; `None` for any other action.
    pub fn of(change: &ResourceChange) -> Option<AttrDiff> {
        if !matches!(change.action, Action::Update | Action::Replace) {
            return None;
        }
        let empty = Map::new();
        let before = change.before.as_deref().unwrap_or(&empty);
        let after = change.after.as_deref().unwrap_or(&empty);
        let walk = Walk {
            sensitive: &change.sensitive,
            sensitive_changed: &change.sensitive_changed,
        };
        let mut attrs = Vec::new();
        let mut shown: Vec<&str> = Vec::new();
        for (key, value) in after {
            let secret_inside = change
                .sensitive_changed
                .iter()
                .any(|s| s.split('.').next() == Some(key.as_str()));
            if attr_eq(before.get(key), Some(value)) && !secret_inside {
                continue;
            }
            shown.push(key);
            let forces = change.replace_because.iter().any(|a| a == key);
            attrs.extend(walk.node(
                Step::Key(key.clone()),
                key.clone(),
                key,
                before.get(key),
                Some(value),
                forces,
            ));
        }
        let unchanged = after.len().saturating_sub(shown.len());
        let moved =
            change.replace_because.iter().any(|a| a == "region") && !after.contains_key("region");
        if moved {
            attrs.push(AttrChange {
                step: Step::Key("region".into()),
                path: "region".into(),
                change: Change::Region {
                    to: change.region.clone(),
                },
                sensitive: false,
                forces_replacement: true,
            });
        }
        let listed = |k: &str| shown.contains(&k) || (moved && k == "region");
        for key in change.unknown_after.iter().filter(|k| !listed(k)) {
            let old = before.get(key).cloned().or_else(|| {
                (key == "id")
                    .then(|| change.live_id.clone().map(Value::String))
                    .flatten()
            });
            attrs.push(AttrChange {
                step: Step::Key(key.clone()),
                path: key.clone(),
                change: Change::Unknown { before: old },
                sensitive: false,
                forces_replacement: false,
            });
        }
        // A Kubernetes object's mark is in its manifest: a node there already shows it.
        let mark_shown =
            change.kind.info().mark == MarkPlace::Annotation && attrs.iter().any(mentions_mark);
        let mark = match (&change.moved_from, mark_shown) {
            (Some(from), false) => Some(MarkMove {
                from: from.clone(),
                to: change.address.clone(),
            }),
            _ => None,
        };
        let mut secrets_changed = Vec::new();
        if !change.sensitive_changed.is_empty() {
            let mut placed = Vec::new();
            for a in &attrs {
                secrets_placed(a, &mut placed);
            }
            secrets_changed = change
                .sensitive_changed
                .iter()
                .filter(|s| !placed.iter().any(|p| without_index(p) == **s))
                .cloned()
                .collect();
        }
        Some(AttrDiff {
            reason: ActionReason::of(change),
            attrs,
            unchanged,
            mark,
            secrets_changed,
        })
    }

    /// Every node, depth first, parents before children.
    pub fn nodes(&self) -> Vec<&AttrChange> {
        let mut out = Vec::new();
        for a in &self.attrs {
            a.visit(&mut out);
        }
        out
    }
}

impl AttrChange {
    fn visit<'a>(&'a self, out: &mut Vec<&'a AttrChange>) {
        out.push(self);
        if let Change::Map { children, .. } | Change::List { children, .. } = &self.change {
            for c in children {
                c.visit(out);
            }
        }
    }

    /// The attribute or map key this node is at (`None` for a list element).
    pub fn key(&self) -> Option<&str> {
        match &self.step {
            Step::Key(k) => Some(k),
            Step::Element => None,
        }
    }
}

fn mentions_mark(node: &AttrChange) -> bool {
    match &node.change {
        Change::Map { children, .. } | Change::List { children, .. } => {
            children.iter().any(mentions_mark)
        }
        _ => node.path.contains(K8S_ADDRESS_ANNOTATION),
    }
}

/// The changed secrets the tree shows: at their own node, or named by their list.
fn secrets_placed<'a>(node: &'a AttrChange, out: &mut Vec<&'a str>) {
    match &node.change {
        Change::SecretChanged => out.push(node.path.as_str()),
        Change::Map { children, .. } => children.iter().for_each(|c| secrets_placed(c, out)),
        Change::List {
            children,
            secrets_changed,
            ..
        } => {
            out.extend(secrets_changed.iter().map(String::as_str));
            children.iter().for_each(|c| secrets_placed(c, out));
        }
        _ => {}
    }
}

/// The differing leaves between the attributes `after` sets and their values in
/// `before`, by the tree's rules, nothing taken as secret (`compare::leaf_differences`).
pub fn leaves(before: &Map<String, Value>, after: &Map<String, Value>) -> Vec<Difference> {
    let walk = Walk {
        sensitive: &[],
        sensitive_changed: &[],
    };
    let mut out = Vec::new();
    for (key, value) in after {
        if attr_eq(before.get(key), Some(value)) {
            continue;
        }
        let node = walk.node(
            Step::Key(key.clone()),
            key.clone(),
            key,
            before.get(key),
            Some(value),
            false,
        );
        if let Some(node) = node {
            let mut nodes = Vec::new();
            node.visit(&mut nodes);
            out.extend(nodes.into_iter().filter_map(AttrChange::leaf));
        }
    }
    out
}

impl AttrChange {
    /// The node as a leaf (its path and both values), when it holds values.
    fn leaf(&self) -> Option<Difference> {
        let (before, after) = match &self.change {
            Change::Added(a) => (None, Some(a.clone())),
            Change::Removed(b) => (Some(b.clone()), None),
            Change::Modified { before, after } => (Some(before.clone()), Some(after.clone())),
            Change::Sensitive { before, after } => (before.clone(), after.clone()),
            _ => return None,
        };
        Some(Difference {
            path: self.path.clone(),
            before,
            after,
        })
    }
}

struct Walk<'a> {
    sensitive: &'a [String],
    sensitive_changed: &'a [String],
}

impl Walk<'_> {
    /// `plain` is `path` without element indices: the form sensitive paths use.
    fn node(
        &self,
        step: Step,
        path: String,
        plain: &str,
        before: Option<&Value>,
        after: Option<&Value>,
        forces: bool,
    ) -> Option<AttrChange> {
        let before = before.filter(|v| !v.is_null());
        let after = after.filter(|v| !v.is_null());
        let sensitive = !self.sensitive.is_empty() && is_sensitive_path(plain, self.sensitive);
        let change = if sensitive
            && (before.is_some_and(Value::is_string) || after.is_some_and(Value::is_string))
        {
            if attr_eq(before, after) {
                Change::SecretChanged
            } else {
                Change::Sensitive {
                    before: before.cloned(),
                    after: after.cloned(),
                }
            }
        } else {
            match (before, after) {
                (None, None) => return None,
                (None, Some(a)) => Change::Added(a.clone()),
                (Some(b), None) => Change::Removed(b.clone()),
                (Some(Value::Object(b)), Some(Value::Object(a))) => {
                    self.map(&path, plain, b, a, forces)
                }
                (Some(Value::Array(b)), Some(Value::Array(a))) => {
                    self.list(&path, plain, b, a, forces)
                }
                (Some(b), Some(a)) => Change::Modified {
                    before: b.clone(),
                    after: a.clone(),
                },
            }
        };
        Some(AttrChange {
            step,
            path,
            change,
            sensitive,
            forces_replacement: forces,
        })
    }

    fn map(
        &self,
        path: &str,
        plain: &str,
        b: &Map<String, Value>,
        a: &Map<String, Value>,
        forces: bool,
    ) -> Change {
        let mut children = Vec::new();
        let mut unchanged = 0;
        let only_live = b.iter().filter(|(k, _)| !a.contains_key(*k));
        for (key, value) in a.iter().chain(only_live) {
            // Paths are built only along what differs: most entries match.
            let secret_under = || {
                !self.sensitive_changed.is_empty()
                    && self.secret_changed_under(&format!("{plain}.{key}"))
            };
            if attr_eq(b.get(key), a.get(key)) && !secret_under() {
                if a.contains_key(key) {
                    unchanged += 1;
                }
                continue;
            }
            let child_plain = format!("{plain}.{key}");
            let (old, new) = match a.get(key) {
                Some(_) => (b.get(key), Some(value)),
                None => (Some(value), None),
            };
            children.extend(self.node(
                Step::Key(key.clone()),
                format!("{path}.{key}"),
                &child_plain,
                old,
                new,
                forces,
            ));
        }
        Change::Map {
            children,
            unchanged,
        }
    }

    fn list(&self, path: &str, plain: &str, b: &[Value], a: &[Value], forces: bool) -> Change {
        let unmatched = unmatched_elements(b, a);
        let unchanged = b
            .len()
            .saturating_sub(unmatched.iter().filter(|(o, _)| o.is_some()).count());
        let children: Vec<AttrChange> = unmatched
            .into_iter()
            .filter_map(|(old, new)| {
                let index = new.or(old).unwrap_or_default();
                self.node(
                    Step::Element,
                    format!("{path}[{index}]"),
                    plain,
                    old.and_then(|i| b.get(i)),
                    new.and_then(|j| a.get(j)),
                    forces,
                )
            })
            .collect();
        let mut secrets_changed = Vec::new();
        if self.sensitive_changed.iter().any(|s| under(s, plain)) {
            let mut placed = Vec::new();
            for c in &children {
                secrets_placed(c, &mut placed);
            }
            secrets_changed = self
                .sensitive_changed
                .iter()
                .filter(|s| under(s, plain) && !placed.iter().any(|p| without_index(p) == **s))
                .cloned()
                .collect();
        }
        Change::List {
            children,
            unchanged,
            secrets_changed,
        }
    }

    fn secret_changed_under(&self, plain: &str) -> bool {
        self.sensitive_changed
            .iter()
            .any(|s| s == plain || under(s, plain))
    }
}

/// `path` lies strictly under `prefix` (dotted).
fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.starts_with('.'))
}

fn without_index(path: &str) -> String {
    super::redact::without_indices(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::Kind;
    use serde_json::json;

    fn update(before: Value, after: Value) -> ResourceChange {
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
            sensitive: Vec::new(),
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

    fn paths(diff: &AttrDiff) -> Vec<&str> {
        diff.nodes().iter().map(|n| n.path.as_str()).collect()
    }

    #[test]
    fn equal_by_meaning_is_no_node() {
        let c = update(
            json!({"size": 3, "labels": {"a": 1, "b": null}, "extra": 1}),
            json!({"size": 3.0, "labels": {"a": 1}}),
        );
        let diff = AttrDiff::of(&c).expect("an update has a tree");
        assert!(diff.attrs.is_empty());
        assert_eq!(diff.unchanged, 2);
    }

    #[test]
    fn lists_align_by_meaning_and_name_elements_by_index() {
        let c = update(
            json!({"rules": [{"id": "a", "days": 45}, {"id": "b", "days": 7}], "ids": ["old", "x"]}),
            json!({"rules": [{"id": "a", "days": 30}, {"id": "b", "days": 7.0}], "ids": ["x"]}),
        );
        let diff = AttrDiff::of(&c).expect("tree");
        assert_eq!(
            paths(&diff),
            ["rules", "rules[0]", "rules[0].days", "ids", "ids[0]"]
        );
        assert_eq!(
            diff.nodes()[4].change,
            Change::Removed(json!("old")),
            "the front element's removal, not every element shifted"
        );
    }

    #[test]
    fn a_changed_secret_is_a_node_though_both_sides_are_redacted() {
        let mut c = update(
            json!({"auth": {"token": "(sensitive)", "user": "a"}}),
            json!({"auth": {"token": "(sensitive)", "user": "a"}}),
        );
        c.sensitive = vec!["auth.token".into()];
        c.sensitive_changed = vec!["auth.token".into()];
        let diff = AttrDiff::of(&c).expect("tree");
        let token = diff.nodes()[1].clone();
        assert_eq!(token.path, "auth.token");
        assert_eq!(token.change, Change::SecretChanged);
        assert!(token.sensitive);
        assert!(diff.secrets_changed.is_empty());
    }

    #[test]
    fn forces_replacement_marks_everything_under_the_attribute() {
        let mut c = update(json!({"cfg": {"a": 1}}), json!({"cfg": {"a": 2}}));
        c.action = Action::Replace;
        c.replace_because = vec!["cfg".into()];
        let diff = AttrDiff::of(&c).expect("tree");
        assert!(diff.nodes().iter().all(|n| n.forces_replacement));
        assert_eq!(diff.reason, Some(ActionReason::ReplaceBecauseCannotUpdate));
    }

    #[test]
    fn creates_and_deletes_have_no_tree() {
        let mut c = update(json!({}), json!({"a": 1}));
        c.action = Action::Create;
        assert_eq!(AttrDiff::of(&c), None);
    }
}
