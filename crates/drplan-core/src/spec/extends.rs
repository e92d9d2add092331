//! `extends = "<env>"` in an environment file: this environment is that one with the
//! settings written here overriding it — `prod-dr` is `prod` with `active_site = "dr"`,
//! so a release promoted to prod cannot be forgotten in prod-dr.
//!
//! What overrides what: `stack`, `account_id`, `active_site` and the `lock` block as a
//! whole; `variables` one by one; `cluster_access` one cluster label at a time. A base
//! may extend another (up to [`MAX_DEPTH`] levels); a cycle is an error. Each base file
//! becomes a variable source (`spec::vars`), so diagnostics point into the file that
//! holds the value.

use super::diagnostic::{did_you_mean, Diagnostics, SpecDiagnostic};
use super::environment::{self, EnvSettings};
use super::files::{self, DigestInputs, ParsedFile, Sources};
use super::scope::Scope;

/// Deepest chain of `extends` followed.
pub const MAX_DEPTH: usize = 8;

/// Merges the bases `settings` (decoded from `file`, the environment `name`) extends
/// under it, and returns their files in order (the first extended first). Their
/// source indexes start at `first_index`.
pub(crate) fn resolve(
    sources: &Sources,
    name: &str,
    file: &ParsedFile,
    settings: &mut EnvSettings,
    first_index: usize,
    diags: &mut Diagnostics,
    digest: &mut DigestInputs,
) -> Vec<ParsedFile> {
    let mut bases: Vec<ParsedFile> = Vec::new();
    let mut chain = vec![name.to_string()];
    let mut current = file.clone();
    let mut next = settings.extends.clone();
    while let Some((base_name, span)) = next.take() {
        if chain.contains(&base_name) {
            diags.push(
                SpecDiagnostic::new(
                    "drplan::extends_cycle",
                    format!(
                        "environments extend each other in a cycle: {} -> {base_name}",
                        chain.join(" -> ")
                    ),
                )
                .at(
                    &current.source,
                    span,
                    "extends an environment already in the chain",
                )
                .help("one environment of the cycle must stand on its own (no `extends`)"),
            );
            break;
        }
        if chain.len() > MAX_DEPTH {
            diags.push(
                SpecDiagnostic::new(
                    "drplan::extends_depth",
                    format!(
                        "more than {MAX_DEPTH} environments extend each other: {}",
                        chain.join(" -> ")
                    ),
                )
                .at(&current.source, span, "one level too many")
                .help("flatten the chain"),
            );
            break;
        }
        let Some(base) = read(sources, &base_name, &current, span, diags, digest) else {
            break;
        };
        let index = first_index + bases.len();
        let mut base_settings = environment::decode(&base, &Scope::new(), diags);
        reindex(&mut base_settings, index);
        next = base_settings.extends.clone();
        merge_under(settings, base_settings);
        chain.push(base_name);
        current = base.clone();
        bases.push(base);
    }
    bases
}

/// The base's values now live in the source at `index`.
fn reindex(base: &mut EnvSettings, index: usize) {
    for v in base.variables.values_mut() {
        v.file = index;
    }
    base.active_site_file = index;
    for file in base.cluster_access_file.values_mut() {
        *file = index;
    }
    for (_, _, file) in base.secrets.values_mut() {
        *file = index;
    }
    for (_, _, file) in base.site_accounts.values_mut() {
        *file = index;
    }
    for label in base.cluster_access.keys() {
        base.cluster_access_file.insert(label.clone(), index);
    }
}

/// `settings` overriding `base`: what `settings` leaves unset comes from `base`.
fn merge_under(settings: &mut EnvSettings, base: EnvSettings) {
    if settings.stack.is_none() {
        settings.stack = base.stack;
    }
    if settings.account_id.is_none() {
        settings.account_id = base.account_id;
    }
    if settings.active_site.is_none() {
        settings.active_site = base.active_site;
        settings.active_site_file = base.active_site_file;
    }
    if settings.lock.is_none() {
        settings.lock = base.lock;
    }
    // A variable the child sets, by value or by secret, hides the base's either way.
    for (name, v) in base.variables {
        if !settings.secrets.contains_key(&name) {
            settings.variables.entry(name).or_insert(v);
        }
    }
    for (name, secret) in base.secrets {
        if !settings.variables.contains_key(&name) {
            settings.secrets.entry(name).or_insert(secret);
        }
    }
    for (site, account) in base.site_accounts {
        settings.site_accounts.entry(site).or_insert(account);
    }
    for (label, access) in base.cluster_access {
        if !settings.cluster_access.contains_key(&label) {
            if let Some(file) = base.cluster_access_file.get(&label) {
                settings.cluster_access_file.insert(label.clone(), *file);
            }
            settings.cluster_access.insert(label, access);
        }
    }
}

fn read(
    sources: &Sources,
    name: &str,
    from: &ParsedFile,
    span: std::ops::Range<usize>,
    diags: &mut Diagnostics,
    digest: &mut DigestInputs,
) -> Option<ParsedFile> {
    let root = sources.root();
    let valid = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    let rel = format!("environments/{name}.hcl");
    if !valid || !root.join(&rel).is_file() {
        let existing = super::load::environment_names(root);
        diags.push(
            SpecDiagnostic::new(
                "drplan::missing_environment",
                format!("extends `{name}`, but there is no {rel}"),
            )
            .at(&from.source, span, "no such environment")
            .help(
                did_you_mean(name, existing.iter().map(String::as_str))
                    .unwrap_or_else(|| format!("environments here: {}", existing.join(", "))),
            ),
        );
        return None;
    }
    let source = files::read_text(sources, &rel, diags, digest)?;
    files::parse(source, diags)
}
