//! The names in scope while evaluating (docs/spec-reference.md "Expressions and
//! references"): which labels are declared, and the objects of the blocks evaluated so
//! far. Each block gets a context holding only what it refers to, which keeps
//! evaluation linear in the size of the spec.

use super::diagnostic::{did_you_mean, Diagnostics, SourceFile, SpecDiagnostic};
use super::functions;
use super::refs::{self, Reference};
use super::taint::Taint;
use hcl::eval::Context;
use hcl::{Map, Value};
use hcl_edit::expr::Expression;
use std::collections::{BTreeMap, BTreeSet};

const OTHER_ROOTS: &[&str] = &["var", "local", "env"];

/// The name of the current `for_each` instance: `each.key`, `each.value`.
pub const EACH: &str = "each";

pub struct Scope {
    base: Context<'static>,
    declared: BTreeMap<String, BTreeSet<String>>,
    published: BTreeMap<String, Map<String, Value>>,
    /// Sensitivity marks of published values (`spec::taint`), by root and label.
    taints: BTreeMap<String, BTreeMap<String, Taint>>,
    /// The second evaluation `spec::sensitivity` makes: marked values are replaced by
    /// stand-ins as they are evaluated.
    stand_ins: bool,
}

impl Default for Scope {
    fn default() -> Self {
        Scope::new()
    }
}

impl Scope {
    pub fn new() -> Self {
        let mut base = Context::new();
        functions::declare_all(&mut base);
        Scope {
            base,
            declared: BTreeMap::new(),
            published: BTreeMap::new(),
            taints: BTreeMap::new(),
            stand_ins: false,
        }
    }

    /// A scope for the evaluation that replaces marked values by stand-ins.
    pub fn with_stand_ins() -> Self {
        Scope {
            stand_ins: true,
            ..Scope::new()
        }
    }

    pub fn stand_ins(&self) -> bool {
        self.stand_ins
    }

    /// Records the sensitivity mark of a published value (nothing when clean).
    pub fn mark(&mut self, root: &str, label: &str, taint: Taint) {
        if !taint.is_clean() {
            self.taints
                .entry(root.to_string())
                .or_default()
                .insert(label.to_string(), taint);
        }
    }

    pub fn taint_of(&self, root: &str, label: &str) -> Taint {
        self.taints
            .get(root)
            .and_then(|m| m.get(label))
            .cloned()
            .unwrap_or_default()
    }

    /// The mark of a whole root (`var` used as a map): marked if any entry is.
    pub fn root_taint(&self, root: &str) -> Taint {
        if self.taints.get(root).is_some_and(|m| !m.is_empty()) {
            Taint::Whole
        } else {
            Taint::Clean
        }
    }

    /// Whether any value is marked sensitive.
    pub fn has_taint(&self) -> bool {
        !self.taints.is_empty()
    }

    pub fn declare(&mut self, root: &str, label: &str) {
        self.declared
            .entry(root.to_string())
            .or_default()
            .insert(label.to_string());
    }

    pub fn publish(&mut self, root: &str, label: &str, value: Value) {
        self.published
            .entry(root.to_string())
            .or_default()
            .insert(label.to_string(), value);
    }

    /// Every published value under `roots` (e.g. `var`, `local`) as JSON, for
    /// interpolation outside HCL (Kubernetes manifests).
    pub fn published_json(&self, roots: &[&str]) -> serde_json::Map<String, serde_json::Value> {
        roots
            .iter()
            .map(|root| {
                let values = self.published.get(*root).cloned().unwrap_or_default();
                let json = serde_json::to_value(Value::Object(values)).unwrap_or_default();
                (root.to_string(), json)
            })
            .collect()
    }

    /// Removes every value under `root` (`each`, once a `for_each` instance is decoded).
    pub fn unpublish(&mut self, root: &str) {
        self.published.remove(root);
    }

    pub fn published(&self, root: &str, label: &str) -> Option<&Value> {
        self.published.get(root)?.get(label)
    }

    pub fn is_declared(&self, root: &str, label: &str) -> bool {
        self.declared.get(root).is_some_and(|s| s.contains(label))
    }

    pub fn labels(&self, root: &str) -> impl Iterator<Item = &str> {
        self.declared
            .get(root)
            .into_iter()
            .flatten()
            .map(String::as_str)
    }

    /// A context with only the functions: variable defaults and environment files.
    pub fn functions_only(&self) -> Context<'static> {
        self.base.clone()
    }

    /// A context holding `var`, `env` and the entries `refs` name.
    pub fn context_for(&self, refs: &[Reference]) -> Context<'static> {
        let mut ctx = self.base.clone();
        let mut roots: BTreeMap<&str, Option<Map<String, Value>>> = BTreeMap::new();
        for r in refs {
            let all = self.published.get(&r.root);
            let entry = roots
                .entry(r.root.as_str())
                .or_insert_with(|| Some(Map::new()));
            match (&r.label, entry.as_mut()) {
                (Some(label), Some(map)) => {
                    if let Some(v) = all.and_then(|a| a.get(label)) {
                        map.insert(label.clone(), v.clone());
                    }
                }
                (None, _) => *entry = None,
                _ => {}
            }
        }
        for (root, selected) in roots {
            let value = match selected {
                Some(map) => map,
                None => self.published.get(root).cloned().unwrap_or_default(),
            };
            ctx.declare_var(root.to_string(), Value::Object(value));
        }
        ctx
    }

    /// Reports references to names that do not exist. Returns false when the
    /// expression cannot be evaluated: a reference is unknown (reported) or names a
    /// block that failed to evaluate (already reported there).
    pub fn check_references(
        &self,
        file: &SourceFile,
        expr: &Expression,
        diags: &mut Diagnostics,
    ) -> bool {
        let mut ok = true;
        for r in refs::collect(expr) {
            ok &= self.check_reference(file, &r, diags);
        }
        ok
    }

    /// `each.key` and `each.value` exist while a `for_each` instance is decoded.
    fn check_each(&self, file: &SourceFile, r: &Reference, diags: &mut Diagnostics) -> bool {
        if !self.published.contains_key(EACH) {
            diags.push(
                SpecDiagnostic::new(
                    "drplan::unresolved_reference",
                    "`each` is only defined in a block with `for_each`",
                )
                .at(file, r.span.clone(), "no for_each here")
                .help(
                    "each.key and each.value name the current instance of a top-level block \
                     that sets for_each = <list, map or site>",
                ),
            );
            return false;
        }
        match r.label.as_deref() {
            None | Some("key") | Some("value") => true,
            Some(other) => {
                diags.push(
                    SpecDiagnostic::new(
                        "drplan::unresolved_reference",
                        format!("`each` has no attribute `{other}`"),
                    )
                    .at(file, r.span.clone(), "unknown attribute")
                    .help("each has two attributes: each.key and each.value"),
                );
                false
            }
        }
    }

    fn check_reference(&self, file: &SourceFile, r: &Reference, diags: &mut Diagnostics) -> bool {
        if r.root == EACH {
            return self.check_each(file, r, diags);
        }
        let block_attrs = super::blocks::referable()
            .find(|(k, _)| *k == r.root)
            .map(|(_, a)| a);
        if block_attrs.is_none() && !OTHER_ROOTS.contains(&r.root.as_str()) {
            let roots = super::blocks::referable()
                .map(|(k, _)| k)
                .chain(OTHER_ROOTS.iter().copied());
            diags.push(
                SpecDiagnostic::new("drplan::unresolved_reference", format!("unknown name `{}`", r.root))
                    .at(file, r.span.clone(), "not defined")
                    .help(did_you_mean(&r.root, roots).unwrap_or_else(|| {
                        "names in scope: var, local, env, site, network, cluster, bucket, zone, dns, backup".into()
                    })),
            );
            return false;
        }
        let Some(label) = &r.label else {
            return true;
        };
        if r.root == "env" {
            return true;
        }
        if !self.is_declared(&r.root, label) {
            let what = match r.root.as_str() {
                "var" => format!("there is no variable \"{label}\""),
                "local" => format!("there is no local value \"{label}\""),
                k => format!("there is no {k} \"{label}\""),
            };
            let help = did_you_mean(label, self.labels(&r.root))
                .map(|h| h.replacen('`', &format!("`{}.", r.root), 1))
                .unwrap_or_else(|| match r.root.as_str() {
                    "var" => format!("declare it: variable \"{label}\" {{ type = string }}"),
                    "local" => format!("define it in a locals block: {label} = ..."),
                    k => format!("declare a `{k} \"{label}\"` block"),
                });
            diags.push(
                SpecDiagnostic::new("drplan::unresolved_reference", what)
                    .at(file, r.span.clone(), "unresolved reference")
                    .help(help),
            );
            return false;
        }
        let Some(value) = self.published(&r.root, label) else {
            // Declared but not evaluated: it failed, and that was reported there.
            return false;
        };
        if let (Some(attrs), Some(attr)) = (block_attrs, &r.attr) {
            let has = value.as_object().is_some_and(|o| o.contains_key(attr));
            if !has {
                diags.push(
                    SpecDiagnostic::new(
                        "drplan::unresolved_reference",
                        format!("{}.{label} has no attribute `{attr}`", r.root),
                    )
                    .at(file, r.span.clone(), "unknown attribute")
                    .help(
                        did_you_mean(attr, attrs.iter().copied())
                            .unwrap_or_else(|| format!("available: {}", attrs.join(", "))),
                    ),
                );
                return false;
            }
        }
        true
    }
}
