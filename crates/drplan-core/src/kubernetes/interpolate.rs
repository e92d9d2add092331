//! `${var.x}`, `${local.x}` and `${env.x}` in manifest files: plain textual
//! substitution before the YAML is parsed, so a value lands exactly where it is
//! written (inside a quoted string, a key, a number).
//!
//! Only those three roots are ours: any other `${...}` (a shell `${HOME}` in a
//! container command) is left alone. `$${` is a literal `${`, as in HCL.

use serde_json::{Map, Value};

/// The names a manifest may refer to: one map per root (`var`, `local`, `env`).
#[derive(Clone, Debug, Default)]
pub struct Names {
    pub roots: Map<String, Value>,
}

const ROOTS: [&str; 3] = ["var", "local", "env"];

impl Names {
    fn lookup(&self, root: &str, name: &str) -> Option<&Value> {
        self.roots.get(root)?.as_object()?.get(name)
    }

    fn known(&self, root: &str) -> Vec<&str> {
        self.roots
            .get(root)
            .and_then(Value::as_object)
            .map(|m| {
                let mut keys: Vec<&str> = m.keys().map(String::as_str).collect();
                keys.sort_unstable();
                keys
            })
            .unwrap_or_default()
    }
}

/// A reference that could not be substituted: 1-based line and column in the file.
#[derive(Clone, Debug, PartialEq)]
pub struct UnknownName {
    pub line: usize,
    pub column: usize,
    pub reference: String,
    pub help: String,
}

/// Substitutes every known reference; reports every unknown one (not just the first).
pub fn interpolate(text: &str, names: &Names) -> Result<String, Vec<UnknownName>> {
    let mut out = String::with_capacity(text.len());
    let mut errors = Vec::new();
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let mut rest = line;
        while let Some(start) = rest.find("${") {
            if start > 0 && rest[..start].ends_with('$') {
                out.push_str(&rest[..start - 1]);
                out.push_str("${");
                rest = &rest[start + 2..];
                continue;
            }
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                rest = "";
                break;
            };
            let inner = after[..end].trim();
            let column = line.len() - rest.len() + start + 1;
            match substitute(inner, names) {
                Some(Ok(value)) => out.push_str(&value),
                Some(Err(help)) => {
                    errors.push(UnknownName {
                        line: index + 1,
                        column,
                        reference: format!("${{{inner}}}"),
                        help,
                    });
                }
                None => out.push_str(&rest[start..start + 2 + end + 1]),
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// `None` when the reference is not ours; `Some(Err(help))` when it is ours but
/// names nothing.
fn substitute(inner: &str, names: &Names) -> Option<Result<String, String>> {
    let (root, name) = inner.split_once('.')?;
    if !ROOTS.contains(&root)
        || name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return None;
    }
    Some(match names.lookup(root, name) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Null) => Ok(String::new()),
        Some(other) => Ok(other.to_string()),
        None => {
            let known = names.known(root);
            Err(if known.is_empty() {
                format!("no `{root}` values are defined")
            } else {
                format!("known {root} names: {}", known.join(", "))
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names() -> Names {
        let Value::Object(roots) = json!({
            "var": {"replicas": 3, "image": "nginx:1.27"},
            "local": {"prefix": "lanka-prod"},
            "env": {"name": "prod"},
        }) else {
            unreachable!()
        };
        Names { roots }
    }

    #[test]
    fn substitutes_known_names_and_leaves_foreign_ones() {
        let text = "name: ${local.prefix}-api\nreplicas: ${ var.replicas }\nimage: \"${var.image}\"\ncommand: echo ${HOME} $${var.image} ${env.name}\n";
        assert_eq!(
            interpolate(text, &names()).unwrap(),
            "name: lanka-prod-api\nreplicas: 3\nimage: \"nginx:1.27\"\ncommand: echo ${HOME} ${var.image} prod\n"
        );
    }

    #[test]
    fn unknown_names_are_reported_with_line_and_column() {
        let errors = interpolate("a: 1\nb: ${var.nope} ${local.missing}\n", &names()).unwrap_err();
        assert_eq!(errors.len(), 2);
        assert_eq!(
            (
                errors[0].line,
                errors[0].column,
                errors[0].reference.as_str()
            ),
            (2, 4, "${var.nope}")
        );
        assert_eq!(errors[0].help, "known var names: image, replicas");
        assert_eq!((errors[1].line, errors[1].column), (2, 16));
    }
}
