//! Splits a spec file into its top-level structures without parsing them, so the
//! loader can parse (and free) one block at a time instead of holding the whole
//! file's syntax tree (BENCHMARKS.md, section 9).
//!
//! The scan knows just enough HCL to find where a top-level structure ends: comments,
//! quoted templates with their `${ }` and `%{ }` sequences, heredocs, and bracket
//! nesting. Whatever it does not understand makes it give up (`None`); the caller then
//! parses the file whole, which reports any syntax error as before.

use std::ops::Range;

/// The file cut into consecutive slices covering it, each holding at most one
/// top-level structure with the comments and blank lines before it (the last slice
/// may hold only trailing comments). `None` when the scan is unsure.
pub fn top_level(text: &str) -> Option<Vec<Range<usize>>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    // Brackets open in the current structure.
    let mut depth: usize = 0;
    // Whether the current slice has begun a structure (anything but comments).
    let mut begun = false;
    while i < b.len() {
        match b[i] {
            b'#' => i = line_end(b, i),
            b'/' if b.get(i + 1) == Some(&b'/') => i = line_end(b, i),
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = find(b, i + 2, b"*/")? + 2;
            }
            b'\n' => {
                i += 1;
                if depth == 0 && begun {
                    out.push(start..i);
                    start = i;
                    begun = false;
                }
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'"' => {
                begun = true;
                i = quoted(b, i + 1)?;
            }
            b'<' if b.get(i + 1) == Some(&b'<') => {
                begun = true;
                i = heredoc(b, i + 2)?;
            }
            b'{' | b'[' | b'(' => {
                begun = true;
                depth += 1;
                i += 1;
            }
            b'}' | b']' | b')' => {
                depth = depth.checked_sub(1)?;
                i += 1;
            }
            _ => {
                begun = true;
                i += 1;
            }
        }
    }
    if depth != 0 {
        return None;
    }
    if start < b.len() {
        out.push(start..b.len());
    }
    Some(out)
}

/// The index of the `\n` ending the line at `i` (or the end of the input).
fn line_end(b: &[u8], i: usize) -> usize {
    memchr(b, i, b'\n').unwrap_or(b.len())
}

fn memchr(b: &[u8], from: usize, c: u8) -> Option<usize> {
    b.get(from..)?
        .iter()
        .position(|&x| x == c)
        .map(|p| from + p)
}

fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    b.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

/// Past the closing quote of a quoted template whose body starts at `i`.
fn quoted(b: &[u8], mut i: usize) -> Option<usize> {
    while i < b.len() {
        match b[i] {
            b'"' => return Some(i + 1),
            b'\\' => i += 2,
            // `$${` and `%%{` are escapes, not sequences.
            b'$' | b'%' if b.get(i + 1) == Some(&b[i]) => i += 2,
            // A quoted template cannot span lines.
            b'\n' => return None,
            b'$' | b'%' if b.get(i + 1) == Some(&b'{') => {
                i = sequence(b, i + 2)?;
            }
            _ => i += 1,
        }
    }
    None
}

/// Past the `}` closing a template sequence (`${ ... }`, `%{ ... }`) whose inside
/// starts at `i`: an expression, with its own brackets and strings.
fn sequence(b: &[u8], mut i: usize) -> Option<usize> {
    let mut depth = 0usize;
    while i < b.len() {
        match b[i] {
            b'"' => i = quoted(b, i + 1)?,
            b'<' if b.get(i + 1) == Some(&b'<') => i = heredoc(b, i + 2)?,
            b'{' | b'[' | b'(' => {
                depth += 1;
                i += 1;
            }
            b'}' if depth == 0 => return Some(i + 1),
            b'}' | b']' | b')' => {
                depth = depth.checked_sub(1)?;
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

/// Past the closing delimiter line of a heredoc whose `<<` ends at `i`
/// (`<<EOT` or `<<-EOT`).
fn heredoc(b: &[u8], mut i: usize) -> Option<usize> {
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    let id_start = i;
    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'-') {
        i += 1;
    }
    let id = &b[id_start..i];
    if id.is_empty() {
        return None;
    }
    // The rest of the opening line must be blank.
    let mut line = line_end(b, i);
    if b[i..line].iter().any(|c| !c.is_ascii_whitespace()) {
        return None;
    }
    while line < b.len() {
        let next = line + 1;
        let end = line_end(b, next);
        let content = &b[next..end];
        let trimmed = content.trim_ascii();
        if trimmed == id {
            // The structure goes on after the delimiter (`)` or `,` may follow on
            // the next line); the delimiter line's own end is the caller's.
            return Some(end);
        }
        line = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::top_level;

    fn pieces(text: &str) -> Vec<&str> {
        top_level(text)
            .expect("splits")
            .into_iter()
            .map(|r| &text[r])
            .collect()
    }

    #[test]
    fn blocks_split_with_their_leading_comments_and_cover_the_file() {
        let text = "# head\nnetwork \"a\" {\n  cidr = \"10.0.0.0/16\"\n}\n\n// two\nbucket \"b\" { name = \"x\" }\n/* tail */\n";
        let p = pieces(text);
        assert_eq!(p.concat(), text);
        assert_eq!(
            p,
            [
                "# head\nnetwork \"a\" {\n  cidr = \"10.0.0.0/16\"\n}\n",
                "\n// two\nbucket \"b\" { name = \"x\" }\n",
                "/* tail */\n",
            ]
        );
    }

    #[test]
    fn braces_inside_strings_templates_comments_and_heredocs_do_not_end_a_block() {
        let text = concat!(
            "locals {\n",
            "  a = \"}\"\n",
            "  b = \"${ {x = \"}\"}.x }\"\n",
            "  # }\n",
            "  /* } */\n",
            "  c = <<-EOT\n",
            "    }\n",
            "    EOT\n",
            "  d = [\n",
            "    1,\n",
            "  ]\n",
            "}\n",
            "site \"s\" {}\n",
        );
        let p = pieces(text);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[1].starts_with("site"));
    }

    /// Every HCL file of the repository (examples, fixtures, the root project), cut
    /// and parsed part by part, gives the structures the whole parse gives.
    #[test]
    fn every_hcl_file_in_the_repository_parses_the_same_cut_as_whole() {
        fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for e in entries.flatten() {
                let path = e.path();
                let name = e.file_name().to_string_lossy().into_owned();
                if path.is_dir() && !name.starts_with('.') && name != "target" {
                    files(&path, out);
                } else if name.ends_with(".hcl") {
                    out.push(path);
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut found = Vec::new();
        for dir in ["examples", "specs", "environments", "tests", "crates"] {
            files(&root.join(dir), &mut found);
        }
        assert!(found.len() > 40, "{found:?}");
        let mut cut = 0;
        for path in found {
            let text = std::fs::read_to_string(&path).expect("read");
            let Ok(whole) = hcl_edit::parser::parse_body(&text) else {
                continue;
            };
            let Some(ranges) = top_level(&text) else {
                panic!("{} parses whole but is not cut", path.display());
            };
            let shapes = |b: &hcl_edit::structure::Body| -> Vec<String> {
                b.iter()
                    .map(|s| match s {
                        hcl_edit::structure::Structure::Block(b) => format!(
                            "{} {:?}",
                            b.ident.as_str(),
                            b.labels
                                .iter()
                                .map(|l| l.as_str().to_string())
                                .collect::<Vec<_>>()
                        ),
                        hcl_edit::structure::Structure::Attribute(a) => a.key.as_str().to_string(),
                    })
                    .collect()
            };
            let mut parts = Vec::new();
            for r in ranges {
                let body = hcl_edit::parser::parse_body(&text[r]).expect("a part parses");
                assert!(body.len() <= 1, "{}", path.display());
                parts.extend(shapes(&body));
            }
            assert_eq!(parts, shapes(&whole), "{}", path.display());
            cut += 1;
        }
        assert!(cut > 40);
    }

    #[test]
    fn unbalanced_or_unterminated_input_is_left_to_the_parser() {
        assert_eq!(top_level("network \"a\" {\n"), None);
        assert_eq!(top_level("a = \"open\n"), None);
        assert_eq!(top_level("}\n"), None);
        assert_eq!(top_level("x = <<EOT\nno end\n"), None);
    }
}
