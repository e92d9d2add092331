//! Variable values from outside the environment file, as Terraform takes them:
//! `--var-file FILE` (`name = value` attributes, like a `.tfvars` file), `--var
//! name=value` and `DRPLAN_VAR_<name>` in the process environment (`TF_VAR_`).
//!
//! Precedence, lowest first: `DRPLAN_VAR_<name>`, the environment file, each
//! `--var-file` in order, each `--var` in order. A value given as text (`--var`,
//! `DRPLAN_VAR_`) is a string for a `string`, `number` or `bool` variable, and parsed
//! as an HCL expression for a list, map or object (`--var 'zones=["a","b"]'`).
//!
//! Each source becomes a [`ParsedFile`] so that a diagnostic points into it: a
//! `--var-file` is read as it is, and a `--var` or `DRPLAN_VAR_` value is shown as a
//! one-line file named after the flag (`--var db_size`) holding `name = "value"`.
//! The binary gathers the inputs; the loader reads the files (no other IO).

use super::diagnostic::{Diagnostics, SourceFile, SpecDiagnostic};
use super::environment::{self, EnvSettings};
use super::files::{self, DigestInputs, ParsedFile, Sources};
use super::scope::Scope;
pub use crate::model::environment::{VarFile, VarInputs};

pub use crate::model::environment::VAR_PREFIX as PROCESS_PREFIX;

/// The name of the one-line source holding a value read from a secret store.
pub const SECRET_SOURCE: &str = "secret ";

/// Adds the inputs' values to `settings.variables` by precedence, and returns the
/// variable sources: the environment file first (index 0), the environments it
/// extends (`spec::extends`), then one per input, in the order of `EnvVar::file`.
pub(crate) fn apply(
    files_read: &Sources,
    inputs: &VarInputs,
    env_file: &ParsedFile,
    bases: Vec<ParsedFile>,
    settings: &mut EnvSettings,
    diags: &mut Diagnostics,
    digest: &mut DigestInputs,
) -> Vec<ParsedFile> {
    let scope = Scope::new();
    let mut sources = vec![env_file.clone()];
    sources.extend(bases);
    // `secret` blocks: at the environment file's rank. Only the reference enters the
    // digest; a value not read (validate, graph: no cloud) is a stand-in.
    let refs: Vec<_> = settings
        .secrets
        .values()
        .map(|(r, _, _)| r.clone())
        .collect();
    for r in refs {
        digest.add(&format!("(secret) {} <- {r}", r.variable), b"");
        let value = inputs
            .secrets
            .iter()
            .find(|(name, _)| *name == r.variable)
            .map(|(_, v)| v.clone());
        let shown = format!("{SECRET_SOURCE}{}", r.variable);
        let text = value.unwrap_or_else(|| format!("(not read: {r})"));
        if let Some(file) = text_value(&shown, &r.variable, &text, diags) {
            add_raw(&mut sources, file, &scope, diags, settings);
        }
    }
    for (name, value) in &inputs.process {
        if settings.variables.contains_key(name) {
            continue;
        }
        let shown = format!("{PROCESS_PREFIX}{name}");
        // Only the name: a value here is often a secret, and the digest is no place
        // for a hash of one. A changed value still changes the plan apply compares.
        digest.add(&format!("(process) {shown}"), b"");
        if let Some(file) = text_value(&shown, name, value, diags) {
            add_raw(&mut sources, file, &scope, diags, settings);
        }
    }
    for var_file in &inputs.files {
        let Some(file) = read_var_file(files_read, var_file, diags, digest) else {
            continue;
        };
        for block in file.body.blocks() {
            diags.push(
                SpecDiagnostic::new(
                    "drplan::unknown_block",
                    format!(
                        "a var file holds `name = value` attributes, not a `{}` block",
                        block.ident.as_str()
                    ),
                )
                .at(
                    &file.source,
                    super::body::block_header(block),
                    "unexpected block",
                )
                .help("write variable values as attributes at the top level: name = value"),
            );
        }
        let index = sources.len();
        environment::variable_values(
            &file,
            &file.body,
            index,
            &scope,
            diags,
            &mut settings.variables,
        );
        sources.push(file);
    }
    for flag in &inputs.flags {
        let Some((name, value)) = flag.split_once('=') else {
            diags.push(
                SpecDiagnostic::new(
                    "drplan::invalid_var",
                    format!("`--var {}` is not name=value", first_word(flag)),
                )
                .help("write --var name=value, e.g. --var api_replicas=3"),
            );
            continue;
        };
        let name = name.trim();
        digest.add(&format!("(flag) --var {name}"), b"");
        if let Some(file) = text_value(&format!("--var {name}"), name, value, diags) {
            add_raw(&mut sources, file, &scope, diags, settings);
        }
    }
    sources
}

fn add_raw(
    sources: &mut Vec<ParsedFile>,
    file: ParsedFile,
    scope: &Scope,
    diags: &mut Diagnostics,
    settings: &mut EnvSettings,
) {
    let index = sources.len();
    let mut values = std::collections::BTreeMap::new();
    environment::variable_values(&file, &file.body, index, scope, diags, &mut values);
    for (name, mut v) in values {
        v.raw = true;
        settings.variables.insert(name, v);
    }
    sources.push(file);
}

/// `name = "value"` as a one-line source named `shown`.
fn text_value(shown: &str, name: &str, value: &str, diags: &mut Diagnostics) -> Option<ParsedFile> {
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid {
        diags.push(
            SpecDiagnostic::new(
                "drplan::invalid_var",
                format!("{shown}: `{}` is not a variable name", first_word(name)),
            )
            .help("variable names are letters, digits, `_` and `-`, starting with a letter"),
        );
        return None;
    }
    let text = format!("{name} = \"{}\"\n", escape(value));
    files::parse(SourceFile::new(shown, text), diags)
}

/// `s` as the body of an HCL quoted string that evaluates back to `s`.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// For messages about a malformed flag: never the whole text (it may be a secret).
fn first_word(s: &str) -> String {
    let w: String = s
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '=')
        .take(40)
        .collect();
    if w.is_empty() {
        "(empty)".into()
    } else {
        w
    }
}

fn read_var_file(
    files_read: &Sources,
    f: &VarFile,
    diags: &mut Diagnostics,
    digest: &mut DigestInputs,
) -> Option<ParsedFile> {
    // Relative to the working directory, not the project root.
    let path = match f.path.is_absolute() {
        true => f.path.clone(),
        false => std::env::current_dir()
            .map(|d| d.join(&f.path))
            .unwrap_or_else(|_| f.path.clone()),
    };
    let bytes = match files_read.bytes(&path) {
        Ok(b) => b.to_vec(),
        Err(e) => {
            diags.push(
                SpecDiagnostic::new(
                    "drplan::file",
                    format!("cannot read --var-file {}: {e}", f.shown),
                )
                .help("check the path (relative to the working directory) and permissions"),
            );
            return None;
        }
    };
    digest.add(&format!("--var-file {}", f.shown), &bytes);
    let Ok(text) = String::from_utf8(bytes) else {
        diags.push(
            SpecDiagnostic::new(
                "drplan::syntax",
                format!("--var-file {} is not UTF-8 text", f.shown),
            )
            .help("var files are UTF-8 encoded HCL: name = value"),
        );
        return None;
    };
    let text = text
        .strip_prefix('\u{feff}')
        .map(str::to_string)
        .unwrap_or(text);
    files::parse(SourceFile::new(f.shown.clone(), text), diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_text_evaluates_back_to_itself() {
        for s in [
            "plain",
            "a \"quoted\" \\ path",
            "${not_a_ref} %{nor_a_directive}",
            "tab\there\nline",
            "$5 and 100%",
        ] {
            let text = format!("x = \"{}\"", escape(s));
            let body: hcl::Body = hcl::from_str(&text).expect("parses");
            let attr = body.attributes().next().expect("one attribute");
            let expr: hcl::Expression = attr.expr().clone();
            let v: hcl::Value = hcl::eval::Evaluate::evaluate(&expr, &hcl::eval::Context::new())
                .expect("evaluates");
            assert_eq!(v, hcl::Value::from(s), "{text}");
        }
    }

    #[test]
    fn only_prefixed_process_variables_are_taken() {
        let got = VarInputs::from_process([
            ("DRPLAN_VAR_db_password".to_string(), "s3cret".to_string()),
            ("DRPLAN_VAR_".to_string(), "x".to_string()),
            ("PATH".to_string(), "/bin".to_string()),
        ]);
        assert_eq!(got, vec![("db_password".to_string(), "s3cret".to_string())]);
    }
}
