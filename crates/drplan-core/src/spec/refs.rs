//! Which names an expression refers to: the edges of the block dependency graph and
//! the entries each evaluation context needs.

use hcl_edit::expr::{Expression, ForExpr, Traversal, TraversalOperator};
use hcl_edit::visit::{visit_expr, visit_for_expr, visit_traversal_operator, Visit};
use hcl_edit::Span;
use std::collections::BTreeSet;
use std::ops::Range;

/// `root.label.attr` as written; `label` is `None` for a bare root (`var`) or a
/// computed index (`site[var.x]`), which refers to every entry of the root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    pub root: String,
    pub label: Option<String>,
    pub attr: Option<String>,
    pub span: Range<usize>,
}

pub fn collect(expr: &Expression) -> Vec<Reference> {
    let mut c = Collector { refs: Vec::new(), bound: BTreeSet::new() };
    c.visit_expr(expr);
    c.refs
}

struct Collector {
    refs: Vec<Reference>,
    /// Names bound by enclosing `for` expressions; these are not references.
    bound: BTreeSet<String>,
}

impl Visit for Collector {
    fn visit_expr(&mut self, expr: &Expression) {
        match expr {
            Expression::Variable(v) => {
                if !self.bound.contains(v.as_str()) {
                    self.refs.push(Reference {
                        root: v.as_str().to_string(),
                        label: None,
                        attr: None,
                        span: v.span().unwrap_or(0..0),
                    });
                }
            }
            Expression::Traversal(t) => self.traversal(t),
            _ => visit_expr(self, expr),
        }
    }

    fn visit_for_expr(&mut self, node: &ForExpr) {
        let mut added = Vec::new();
        for var in node.intro.key_var.iter().chain(std::iter::once(&node.intro.value_var)) {
            if self.bound.insert(var.as_str().to_string()) {
                added.push(var.as_str().to_string());
            }
        }
        visit_for_expr(self, node);
        for name in added {
            self.bound.remove(&name);
        }
    }
}

impl Collector {
    fn traversal(&mut self, t: &Traversal) {
        match &t.expr {
            Expression::Variable(v) if !self.bound.contains(v.as_str()) => {
                let name = |i: usize| match t.operators.get(i).map(|o| o.value()) {
                    Some(TraversalOperator::GetAttr(id)) => Some(id.as_str().to_string()),
                    Some(TraversalOperator::Index(Expression::String(s))) => Some(s.as_str().to_string()),
                    _ => None,
                };
                let label = name(0);
                let attr = if label.is_some() { name(1) } else { None };
                let start = v.span().map(|s| s.start).unwrap_or(0);
                let end = t
                    .operators
                    .iter()
                    .take(if attr.is_some() { 2 } else { 1 })
                    .filter_map(|o| o.span())
                    .map(|s| s.end)
                    .max()
                    .unwrap_or_else(|| v.span().map(|s| s.end).unwrap_or(start));
                self.refs.push(Reference { root: v.as_str().to_string(), label, attr, span: start..end });
            }
            other => self.visit_expr(other),
        }
        for op in &t.operators {
            visit_traversal_operator(self, op);
        }
    }
}
