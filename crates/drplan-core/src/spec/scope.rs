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

/// Where the names written in a module instance live among the project's
/// (`spec::modules`). Blocks are published under their flattened label
/// (`network.main` in module `app` is `network.app_main`), variables and locals
/// under the module's path (`var.x` in module `app` is entry `module.app.x` of
/// `var`); sites, `env` and `each` are the project's. The project's own namespace
/// has empty prefixes, so its names are their own.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Namespace {
    /// Put in front of a block's label: `app_` (nested: `app_db_`).
    pub label_prefix: String,
    /// Put in front of a variable's or local's name: `module.app.`.
    pub name_prefix: String,
}

impl Namespace {
    /// The project's name for `root.label` as written in this namespace.
    pub fn global(&self, root: &str, label: &str) -> String {
        match root {
            "var" | "local" => format!("{}{label}", self.name_prefix),
            "site" | "env" | EACH => label.to_string(),
            _ => format!("{}{label}", self.label_prefix),
        }
    }

    /// The label as written in this namespace, for a project's name visible from it
    /// (its own names and those of the modules it calls; for variables and locals,
    /// its own only).
    fn local<'s>(&self, root: &str, global: &'s str) -> Option<&'s str> {
        match root {
            "var" | "local" => global
                .strip_prefix(self.name_prefix.as_str())
                .filter(|rest| !rest.contains('.')),
            "site" | "env" | EACH => Some(global),
            _ => global.strip_prefix(self.label_prefix.as_str()),
        }
    }
}

pub struct Scope {
    base: Context<'static>,
    declared: BTreeMap<String, BTreeSet<String>>,
    published: BTreeMap<String, Map<String, Value>>,
    /// Sensitivity marks of published values (`spec::taint`), by root and label.
    taints: BTreeMap<String, BTreeMap<String, Taint>>,
    /// The second evaluation `spec::sensitivity` makes: marked values are replaced by
    /// stand-ins as they are evaluated.
    stand_ins: bool,
    /// Where the names of the expressions being evaluated resolve.
    namespace: Namespace,
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
            namespace: Namespace::default(),
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

    /// Names written from now on resolve in `ns` (a module instance's, or the
    /// project's with `Namespace::default()`); returns the one in force before.
    pub fn enter(&mut self, ns: Namespace) -> Namespace {
        std::mem::replace(&mut self.namespace, ns)
    }

    pub fn namespace(&self) -> &Namespace {
        &self.namespace
    }

    /// The project's name for `root.label` as written in the current namespace.
    pub fn global(&self, root: &str, label: &str) -> String {
        self.namespace.global(root, label)
    }

    /// Whether `root.label`, as written in the current namespace, is declared.
    pub fn resolves(&self, root: &str, label: &str) -> bool {
        self.is_declared(root, &self.global(root, label))
    }

    /// Records the sensitivity mark of a published value (nothing when clean), under
    /// its project's name.
    pub fn mark(&mut self, root: &str, label: &str, taint: Taint) {
        if !taint.is_clean() {
            self.taints
                .entry(root.to_string())
                .or_default()
                .insert(label.to_string(), taint);
        }
    }

    /// The mark of `root.label` as written in the current namespace.
    pub fn taint_of(&self, root: &str, label: &str) -> Taint {
        self.taints
            .get(root)
            .and_then(|m| m.get(&self.global(root, label)))
            .cloned()
            .unwrap_or_default()
    }

    /// The mark of a whole root (`var` used as a map): marked if any entry is.
    pub fn root_taint(&self, root: &str) -> Taint {
        let visible =
            |m: &BTreeMap<String, Taint>| m.keys().any(|k| self.namespace.local(root, k).is_some());
        if self.taints.get(root).is_some_and(visible) {
            Taint::Whole
        } else {
            Taint::Clean
        }
    }

    /// Whether any value is marked sensitive.
    pub fn has_taint(&self) -> bool {
        !self.taints.is_empty()
    }

    /// Declares `root.label` under its project's name (see [`Namespace`]).
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
    /// interpolation outside HCL (Kubernetes manifests): the project's own, not its
    /// modules'.
    pub fn published_json(&self, roots: &[&str]) -> serde_json::Map<String, serde_json::Value> {
        let project = Namespace::default();
        roots
            .iter()
            .map(|root| {
                let values: Map<String, Value> = self
                    .published
                    .get(*root)
                    .into_iter()
                    .flatten()
                    .filter(|(k, _)| project.local(root, k).is_some())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let json = serde_json::to_value(Value::Object(values)).unwrap_or_default();
                (root.to_string(), json)
            })
            .collect()
    }

    /// Removes every value under `root` (`each`, once a `for_each` instance is decoded).
    pub fn unpublish(&mut self, root: &str) {
        self.published.remove(root);
    }

    /// The value published under the project's name `root.label`.
    pub fn published(&self, root: &str, label: &str) -> Option<&Value> {
        self.published.get(root)?.get(label)
    }

    /// Whether the project's name `root.label` is declared.
    pub fn is_declared(&self, root: &str, label: &str) -> bool {
        self.declared.get(root).is_some_and(|s| s.contains(label))
    }

    /// The labels of `root` visible from the current namespace, as written there.
    pub fn labels<'s>(&'s self, root: &str) -> impl Iterator<Item = &'s str> + 's {
        let root = root.to_string();
        self.declared
            .get(&root)
            .into_iter()
            .flatten()
            .filter_map(move |l| self.namespace.local(&root, l))
    }

    /// The values of `root` visible from the current namespace, by their labels as
    /// written there.
    fn visible(&self, root: &str) -> Map<String, Value> {
        self.published
            .get(root)
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((self.namespace.local(root, k)?.to_string(), v.clone())))
            .collect()
    }

    /// A context with only the functions: variable defaults and environment files.
    pub fn functions_only(&self) -> Context<'static> {
        self.base.clone()
    }

    /// A context holding `var`, `env` and the entries `refs` name (as written in the
    /// current namespace).
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
                    let global = self.global(&r.root, label);
                    if let Some(v) = all.and_then(|a| a.get(&global)) {
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
                None => self.visible(root),
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
        if r.root == "module" {
            diags.push(
                SpecDiagnostic::new(
                    "drplan::unresolved_reference",
                    "a module has no outputs to refer to",
                )
                .at(file, r.span.clone(), "module.<name>.<output>")
                .help(
                    "refer to a module's block by its label, prefixed with the module's name: \
                     network.<module>_<label> (docs/spec-reference.md \"Modules\")",
                ),
            );
            return false;
        }
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
        if !self.resolves(&r.root, label) {
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
        let Some(value) = self.published(&r.root, &self.global(&r.root, label)) else {
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
