//! `drplan fmt`: canonical layout over hcl-edit's decor, so comments survive.
//! Two-space indentation, one space around `=`, the `=` of consecutive one-line
//! attributes aligned, at most one blank line between items, comments re-indented.
//! Expressions themselves are written as the user wrote them.

use hcl_edit::structure::{Body, Structure};
use hcl_edit::Decorate;

pub fn format_source(text: &str) -> Result<String, String> {
    let mut body = hcl_edit::parser::parse_body(text).map_err(|e| {
        let loc = e.location();
        format!(
            "line {}, column {}: {}",
            loc.line(),
            loc.column(),
            e.message().lines().next().unwrap_or("invalid HCL")
        )
    })?;
    format_body(&mut body, 0);
    let trailing = body
        .decor()
        .suffix()
        .map(|s| s.to_string())
        .unwrap_or_default();
    let comments = comment_lines(&trailing);
    let mut tail = String::new();
    if !comments.is_empty() {
        tail.push('\n');
        for c in comments {
            tail.push_str(&c);
            tail.push('\n');
        }
    }
    body.decor_mut().set_prefix("");
    body.decor_mut().set_suffix("");
    body.set_prefer_omit_trailing_newline(false);
    let mut out = body.to_string();
    out.push_str(&tail);
    let out = out.trim_start_matches('\n').to_string();
    Ok(if out.trim().is_empty() {
        String::new()
    } else {
        out
    })
}

/// The comments in a piece of decor, one per line, trimmed.
fn comment_lines(decor: &str) -> Vec<String> {
    decor
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Prefix decor: optional blank line, comments re-indented, then the indentation.
fn prefix(original: &str, indent: &str, first: bool) -> String {
    let mut out = String::new();
    let mut blank_pending = false;
    let mut seen_anything = false;
    // A newline at the very start ends the previous line; only further empty lines
    // are blank lines.
    let lines: Vec<&str> = original.split('\n').collect();
    let last = lines.len().saturating_sub(1);
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        if t.is_empty() {
            if i != last {
                blank_pending = true;
            }
            continue;
        }
        if blank_pending && (seen_anything || !first) {
            out.push('\n');
        }
        blank_pending = false;
        seen_anything = true;
        out.push_str(indent);
        out.push_str(t);
        out.push('\n');
    }
    if blank_pending && !first {
        out.push('\n');
    }
    out.push_str(indent);
    out
}

fn suffix(original: &str) -> String {
    let t = original.trim();
    if t.is_empty() {
        String::new()
    } else {
        format!(" {t}")
    }
}

fn format_body(body: &mut Body, depth: usize) {
    let indent = "  ".repeat(depth);
    // Alignment runs: consecutive one-line attributes not separated by a blank line
    // or a comment line.
    let mut widths = vec![0usize; body.len()];
    let mut run: Vec<usize> = Vec::new();
    let flush = |run: &mut Vec<usize>, widths: &mut Vec<usize>, keys: &[usize]| {
        let w = run.iter().map(|&i| keys[i]).max().unwrap_or(0);
        for &i in run.iter() {
            widths[i] = w;
        }
        run.clear();
    };
    let keys: Vec<usize> = body
        .iter()
        .map(|s| {
            s.as_attribute()
                .map(|a| a.key.as_str().chars().count())
                .unwrap_or(0)
        })
        .collect();
    for (i, s) in body.iter().enumerate() {
        let breaks = s
            .decor()
            .prefix()
            .map(|p| p.matches('\n').count() > 1 || !p.trim().is_empty())
            .unwrap_or(false);
        match s.as_attribute() {
            Some(a) if !a.value.to_string().contains('\n') => {
                if breaks {
                    flush(&mut run, &mut widths, &keys);
                }
                run.push(i);
            }
            _ => {
                flush(&mut run, &mut widths, &keys);
                widths[i] = keys[i];
            }
        }
    }
    flush(&mut run, &mut widths, &keys);

    #[allow(clippy::needless_range_loop)] // `get_mut` is the only access that can edit keys
    for i in 0..body.len() {
        let Some(s) = body.get_mut(i) else { continue };
        let pre = s
            .decor()
            .prefix()
            .map(|p| p.to_string())
            .unwrap_or_default();
        let suf = s
            .decor()
            .suffix()
            .map(|p| p.to_string())
            .unwrap_or_default();
        s.decor_mut().set_prefix(prefix(&pre, &indent, i == 0));
        s.decor_mut().set_suffix(suffix(&suf));
        match s {
            Structure::Attribute(a) => {
                let pad = widths[i].saturating_sub(a.key.as_str().chars().count()) + 1;
                a.key.decor_mut().set_prefix("");
                a.key.decor_mut().set_suffix(" ".repeat(pad));
                let vsuf = a
                    .value
                    .decor()
                    .suffix()
                    .map(|p| p.to_string())
                    .unwrap_or_default();
                a.value.decor_mut().set_prefix(" ");
                a.value.decor_mut().set_suffix(suffix(&vsuf));
            }
            Structure::Block(b) => {
                b.ident.decor_mut().set_prefix("");
                b.ident.decor_mut().set_suffix(" ");
                for l in b.labels.iter_mut() {
                    l.decor_mut().set_prefix("");
                    l.decor_mut().set_suffix(" ");
                }
                let oneline = b.body.prefer_oneline()
                    && b.body.len() == 1
                    && b.body.get(0).is_some_and(|s| s.is_attribute());
                if oneline {
                    if let Some(Structure::Attribute(a)) = b.body.get_mut(0) {
                        a.decor_mut().set_prefix(" ");
                        a.decor_mut().set_suffix(" ");
                        a.key.decor_mut().set_prefix("");
                        a.key.decor_mut().set_suffix(" ");
                        a.value.decor_mut().set_prefix(" ");
                        a.value.decor_mut().set_suffix("");
                    }
                    b.body.decor_mut().set_prefix("");
                    b.body.decor_mut().set_suffix("");
                } else {
                    b.body.set_prefer_oneline(false);
                    format_body(&mut b.body, depth + 1);
                    let inner = "  ".repeat(depth + 1);
                    let before_close = b
                        .body
                        .decor()
                        .suffix()
                        .map(|p| p.to_string())
                        .unwrap_or_default();
                    let mut close = String::new();
                    for c in comment_lines(&before_close) {
                        close.push_str(&inner);
                        close.push_str(&c);
                        close.push('\n');
                    }
                    close.push_str(&indent);
                    b.body.decor_mut().set_prefix("");
                    b.body.decor_mut().set_suffix(close);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::format_source;

    #[test]
    fn aligns_indents_and_keeps_comments() {
        let input = "# top\nsite \"primary\" {\nregion=\"us-west-2\" # where\n    role = \"primary\"\n\n\n\n  # nested\n  subnet \"a\" {\n  cidr = \"10.0.0.0/20\"\n  }\n}\n# end\n";
        let out = format_source(input).expect("formats");
        let expected = "# top\nsite \"primary\" {\n  region = \"us-west-2\" # where\n  role   = \"primary\"\n\n  # nested\n  subnet \"a\" {\n    cidr = \"10.0.0.0/20\"\n  }\n}\n\n# end\n";
        assert_eq!(out, expected);
        assert_eq!(
            format_source(&out).expect("formats"),
            out,
            "formatting is idempotent"
        );
    }
}
