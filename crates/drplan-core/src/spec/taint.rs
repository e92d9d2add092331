//! Sensitivity follows the value, as Terraform's sensitive marks do: an expression
//! that refers to a sensitive variable, or to a local or block attribute computed from
//! one, is sensitive itself. [`shape_of`] computes that mark for one expression while
//! the loader evaluates it, from the marks of the names it refers to; an object
//! constructor keeps a mark per key, so `tags = { team = "x", pw = var.pw }` marks
//! `tags.pw` only.
//!
//! What happens to a marked value after evaluation — decoding into the model, the
//! lowering into resource attributes, Kubernetes manifests and the CronJobs backup
//! policies compile to — is Rust code, not expressions. `spec::sensitivity` follows
//! marks through it by evaluating the project a second time with every marked value
//! replaced by [`perturb`]ed stand-ins: whatever differs between the two evaluations
//! came from a marked value.

use super::refs::{self, Reference};
use super::scope::Scope;
use hcl::{Map, Number, Value};
use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use std::collections::BTreeMap;

/// The sensitivity mark of a value: none, all of it, or some fields of an object.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Taint {
    #[default]
    Clean,
    Whole,
    Fields(BTreeMap<String, Taint>),
}

impl Taint {
    pub fn is_clean(&self) -> bool {
        matches!(self, Taint::Clean)
    }

    /// The mark of one field of a value with this mark.
    pub fn field(&self, name: &str) -> Taint {
        match self {
            Taint::Clean => Taint::Clean,
            Taint::Whole => Taint::Whole,
            Taint::Fields(fields) => fields.get(name).cloned().unwrap_or_default(),
        }
    }

    /// A mark on the value as a whole: anything marked inside makes all of it marked
    /// (for values that are transformed, where fields cannot be told apart).
    pub fn flattened(&self) -> Taint {
        if self.is_clean() {
            Taint::Clean
        } else {
            Taint::Whole
        }
    }

    /// An object's mark from its fields' marks (clean when none is marked).
    pub fn from_fields(fields: BTreeMap<String, Taint>) -> Taint {
        let fields: BTreeMap<String, Taint> =
            fields.into_iter().filter(|(_, t)| !t.is_clean()).collect();
        if fields.is_empty() {
            Taint::Clean
        } else {
            Taint::Fields(fields)
        }
    }
}

/// The mark of `expr`'s value, given the marks `scope` holds for `var`, `local` and
/// the blocks evaluated so far. Conservative: an operator, function call, template,
/// condition or `for` expression over anything marked is marked as a whole.
pub fn shape_of(expr: &Expression, scope: &Scope) -> Taint {
    if !scope.has_taint() {
        return Taint::Clean;
    }
    shape(expr, scope)
}

fn shape(expr: &Expression, scope: &Scope) -> Taint {
    match expr {
        Expression::Parenthesis(p) => shape(p.inner(), scope),
        Expression::Object(object) => {
            let mut fields = BTreeMap::new();
            for (key, value) in object.iter() {
                let name = match key {
                    ObjectKey::Ident(id) => id.as_str().to_string(),
                    ObjectKey::Expression(Expression::String(s)) => s.as_str().to_string(),
                    ObjectKey::Expression(e) => {
                        // A computed key: marked keys or values mark the whole object.
                        if !shape(e, scope).is_clean() || !shape(value.expr(), scope).is_clean() {
                            return Taint::Whole;
                        }
                        continue;
                    }
                };
                fields.insert(name, shape(value.expr(), scope));
            }
            Taint::from_fields(fields)
        }
        Expression::Traversal(t) => {
            let Expression::Variable(root) = &t.expr else {
                return by_references(expr, scope);
            };
            let mut names = Vec::new();
            for op in &t.operators {
                match op.value() {
                    TraversalOperator::GetAttr(id) => names.push(id.as_str().to_string()),
                    TraversalOperator::Index(Expression::String(s)) => {
                        names.push(s.as_str().to_string())
                    }
                    _ => return by_references(expr, scope),
                }
            }
            let Some((label, rest)) = names.split_first() else {
                return scope.root_taint(root.as_str());
            };
            rest.iter()
                .fold(scope.taint_of(root.as_str(), label), |t, name| {
                    t.field(name)
                })
        }
        _ => by_references(expr, scope),
    }
}

fn by_references(expr: &Expression, scope: &Scope) -> Taint {
    if refs::collect(expr).iter().any(|r| is_marked(r, scope)) {
        Taint::Whole
    } else {
        Taint::Clean
    }
}

fn is_marked(r: &Reference, scope: &Scope) -> bool {
    match (&r.label, &r.attr) {
        (None, _) => !scope.root_taint(&r.root).is_clean(),
        (Some(label), None) => !scope.taint_of(&r.root, label).is_clean(),
        (Some(label), Some(attr)) => !scope.taint_of(&r.root, label).field(attr).is_clean(),
    }
}

/// `value` with every marked part replaced by a stand-in of the same type that
/// differs from it everywhere: each letter and digit shifted by one within its class
/// and one character added (so length, prefixes and character classes all differ),
/// numbers plus one, bools negated. Object keys stay, so references into a marked
/// object still resolve.
pub fn perturb(value: &Value, taint: &Taint) -> Value {
    match (taint, value) {
        (Taint::Clean, _) => value.clone(),
        (Taint::Whole, _) => perturb_all(value),
        (Taint::Fields(fields), Value::Object(map)) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        perturb(v, fields.get(k).unwrap_or(&Taint::Clean)),
                    )
                })
                .collect::<Map<String, Value>>(),
        ),
        (Taint::Fields(_), _) => perturb_all(value),
    }
}

fn perturb_all(value: &Value) -> Value {
    match value {
        Value::Null => Value::Null,
        Value::Bool(b) => Value::Bool(!b),
        Value::Number(n) => Value::Number(perturb_number(n)),
        Value::String(s) => Value::String(perturb_str(s)),
        Value::Array(items) => Value::Array(items.iter().map(perturb_all).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), perturb_all(v)))
                .collect(),
        ),
    }
}

fn perturb_number(n: &Number) -> Number {
    if let Some(i) = n.as_i64() {
        return Number::from(i.checked_add(1).unwrap_or(i - 1));
    }
    n.as_f64()
        .and_then(|f| Number::from_f64(f + 1.0))
        .unwrap_or_else(|| Number::from(0))
}

fn perturb_str(s: &str) -> String {
    let shift = |c: char, first: char, last: char| {
        if c == last {
            first
        } else {
            char::from_u32(c as u32 + 1).unwrap_or(first)
        }
    };
    let mut out: String = s
        .chars()
        .map(|c| match c {
            'a'..='z' => shift(c, 'a', 'z'),
            'A'..='Z' => shift(c, 'A', 'Z'),
            '0'..='9' => shift(c, '0', '9'),
            other => other,
        })
        .collect();
    out.push(match s.chars().last() {
        Some(c) if c.is_ascii_uppercase() => 'X',
        Some(c) if c.is_ascii_digit() => '7',
        _ => 'x',
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stand_ins_differ_in_every_character_and_in_length() {
        assert_eq!(perturb_str("hunter2Z"), "ivoufs3AX");
        assert_eq!(perturb_str(""), "x");
        assert_eq!(perturb_str("a-9"), "b-07");
    }

    #[test]
    fn only_marked_fields_are_perturbed() {
        let mut map = Map::new();
        map.insert("team".to_string(), Value::from("ops"));
        map.insert("pw".to_string(), Value::from("s3"));
        let taint = Taint::Fields(BTreeMap::from([("pw".to_string(), Taint::Whole)]));
        let out = perturb(&Value::Object(map), &taint);
        assert_eq!(
            out.as_object().and_then(|m| m.get("team")),
            Some(&Value::from("ops"))
        );
        assert_eq!(
            out.as_object().and_then(|m| m.get("pw")),
            Some(&Value::from("t47"))
        );
    }
}
