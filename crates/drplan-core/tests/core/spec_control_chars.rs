//! Regression (issue 21, "Diagnostics echo raw control characters (NUL) from the
//! input"): a diagnostic quoting the spec shows control characters as `\u0000`-style
//! escapes, in its message and in its source snippet, never raw.

use crate::spec_support::*;
use drplan_core::spec::diagnostic::escape_controls;
use drplan_core::spec::{Diagnostics, SourceFile, SpecDiagnostic};

/// Control characters a terminal would act on, besides newline and tab.
fn raw_controls(text: &str) -> Vec<char> {
    text.chars()
        .filter(|c| c.is_control() && *c != '\n' && *c != '\t')
        .collect()
}

fn load_err(spec: &str) -> Diagnostics {
    let text = format!("{BASE}{spec}");
    load(&[("specs/main.hcl", &text), ("environments/test.hcl", ENV)])
        .expect_err("the spec has errors")
}

#[test]
fn diagnostics_echo_no_raw_control_characters_from_the_input() {
    // A label whose HCL escapes decode to a NUL and a "clear screen" sequence (quoted by
    // the message), beside the same characters raw in a comment (quoted by the snippet).
    let diags =
        load_err("site \"p\\u0000\\u001b[2J\" { # \u{0}\u{1b}[2J\n  region = \"us-east-2\"\n}\n");
    for out in [diags.render(false, 100), diags.to_string()] {
        assert!(
            raw_controls(&out).is_empty(),
            "raw control characters {:?} in:\n{out}",
            raw_controls(&out)
        );
        assert!(
            out.contains("`p\\u0000\\u001b[2J` is not a valid"),
            "the label is not quoted escaped:\n{out}"
        );
    }
    let out = diags.render(false, 100);
    assert!(
        out.contains("# \\u0000\\u001b[2J"),
        "the snippet does not show the comment escaped:\n{out}"
    );
}

#[test]
fn a_syntax_error_on_a_nul_shows_the_snippet_escaped_and_labelled() {
    let diags = load_err("site \"x\" {\n  region = \u{0}\u{7}\n}\n");
    let out = diags.render(false, 100);
    assert!(raw_controls(&out).is_empty(), "{out:?}");
    assert!(out.contains("region = \\u0000\\u0007"), "{out}");
    assert!(out.contains("drplan::syntax"), "{out}");
}

#[test]
fn the_label_follows_the_escapes_in_the_snippet() {
    let text = "a\u{0}\u{0}b = 1\r\nbad = 2\r\n";
    let file = SourceFile::new("specs/x.hcl", text.to_string());
    let start = text.find("bad").expect("bad");
    let d =
        SpecDiagnostic::new("drplan::test", "bad thing").at(&file, start..start + 3, "this one");
    let out = Diagnostics(vec![d]).render(false, 100);
    assert!(raw_controls(&out).is_empty(), "{out:?}");
    // The label's underline sits under `bad`, on the second line: the CRLF line ends
    // were kept and the escapes on the first line did not shift it.
    let lines: Vec<&str> = out.lines().collect();
    let code = lines
        .iter()
        .position(|l| l.contains("bad = 2"))
        .expect("snippet line");
    let byte = lines[code].find("bad").expect("bad");
    let col = lines[code][..byte].chars().count();
    let marks = lines[code + 1]
        .chars()
        .skip(col)
        .take(3)
        .collect::<String>();
    assert_eq!(
        marks.chars().filter(|c| !c.is_whitespace()).count(),
        3,
        "{out}"
    );
    assert!(out.contains("a\\u0000\\u0000b = 1"), "{out}");
}

#[test]
fn escaping_keeps_newlines_and_tabs_and_borrows_clean_text() {
    assert!(matches!(
        escape_controls("plain\ttext\n"),
        std::borrow::Cow::Borrowed(_)
    ));
    assert_eq!(
        escape_controls("a\u{0}b\u{1b}c\rd\u{85}"),
        "a\\u0000b\\u001bc\\u000dd\\u0085"
    );
}
