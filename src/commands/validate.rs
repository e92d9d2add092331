//! `drplan validate [-e ENV]`: load the spec with one environment (or every one) and
//! report every problem, without touching the cloud.

use super::exit;
use super::output::print_stdout;
use crate::cli::ValidateArgs;
use drplan_core::model::Project;
use drplan_core::objectives::{self, Gate};
use drplan_core::spec::{self, Diagnostics};
use std::io::IsTerminal;
use std::path::Path;

pub fn run(root: &Path, args: &ValidateArgs) -> anyhow::Result<i32> {
    let results: Vec<(String, Result<Project, Diagnostics>)> = match &args.env {
        Some(env) => vec![(
            env.clone(),
            spec::load_project_with(root, env, &super::vars::get()),
        )],
        None => match spec::load_all_with(root, &super::vars::get()) {
            Ok(all) => all,
            Err(diags) => {
                if args.json {
                    print_stdout(&json_document(&[], &diags, &Diagnostics::default()))?;
                } else {
                    print_diagnostics(&diags);
                }
                return Ok(exit::ERROR);
            }
        },
    };
    if args.env.is_none() {
        let loaded: Vec<(&str, &Project)> = results
            .iter()
            .filter_map(|(env, r)| Some((env.as_str(), r.as_ref().ok()?)))
            .collect();
        for warning in drplan_core::promote::unlinked_differences(&loaded) {
            eprintln!("Warning: {warning}");
        }
    }
    // Warnings (mirrors that drifted apart, docs/spec-reference.md "Mirrors and
    // parity") do not fail the run; like errors, each is reported once.
    let mut warnings = Diagnostics::default();
    for p in results.iter().filter_map(|(_, r)| r.as_ref().ok()) {
        warnings.extend(p.warnings.clone());
    }
    warnings.sort();
    if !args.json && !warnings.is_empty() {
        print_diagnostics(&warnings);
    }
    let mut all = Diagnostics::default();
    let mut breached = Vec::new();
    let mut loaded = Vec::new();
    for (env, result) in &results {
        match result {
            Ok(p) => {
                // The spec-only objectives (docs/objectives.md): the checks plan and
                // drift make before any live evidence.
                let report = objectives::for_project(p);
                if report.gate(args.allow_objective_breach) == Gate::Breached {
                    breached.push(env.as_str());
                }
                if args.json {
                    loaded.push(serde_json::json!({
                        "name": env,
                        "valid": true,
                        "resources": p.resources.len(),
                        "sites": p.topology.sites.len(),
                        "objectives": objectives::json_value(&report, args.allow_objective_breach),
                    }));
                    continue;
                }
                print_stdout(&format!(
                    "Success! {env}: {} resources in {} sites.\n\n{}\n",
                    p.resources.len(),
                    p.topology.sites.len(),
                    indent_heading(
                        &objectives::text::render(&report, args.allow_objective_breach),
                        env
                    )
                ))?
            }
            Err(d) => {
                loaded.push(serde_json::json!({"name": env, "valid": false}));
                all.extend(d.clone())
            }
        }
    }
    if args.json {
        all.sort();
        print_stdout(&json_document(&loaded, &all, &warnings))?;
    }
    if all.is_empty() {
        if !breached.is_empty() {
            eprintln!(
                "Error: objectives breached ({}); see the Objectives sections above, or pass --allow-objective-breach.",
                breached.join(", ")
            );
        }
        return Ok(exit::outcome(false, !breached.is_empty(), false));
    }
    // The same spec mistake shows up once per environment; report it once.
    all.sort();
    if !args.json {
        print_diagnostics(&all);
    }
    let failed: Vec<&str> = results
        .iter()
        .filter(|(_, r)| r.is_err())
        .map(|(e, _)| e.as_str())
        .collect();
    eprintln!(
        "Error: {} problem(s) found ({}).",
        all.len(),
        failed.join(", ")
    );
    Ok(exit::ERROR)
}

/// `validate --json` (docs/spec-reference.md, "validate --json"): every environment
/// loaded, with its objectives, and every diagnostic as data (warnings after errors).
fn json_document(
    environments: &[serde_json::Value],
    diags: &Diagnostics,
    warnings: &Diagnostics,
) -> String {
    let doc = serde_json::json!({
        "format_version": "1",
        "valid": diags.is_empty(),
        "environments": environments,
        "diagnostics": diags.iter().chain(warnings.iter()).map(|d| d.to_json()).collect::<Vec<_>>(),
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

/// Renders diagnostics on stderr: colour only on a terminal without NO_COLOR.
pub fn print_diagnostics(diags: &Diagnostics) {
    let stderr = std::io::stderr();
    let tty = stderr.is_terminal();
    let color = tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let width = if tty {
        std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(100)
    } else {
        100
    };
    eprint!("{}", diags.render(color, width));
}

/// Loads one environment for commands that need a valid project, printing the
/// diagnostics when it is not.
pub fn load_or_report(root: &Path, env: &str) -> Option<Project> {
    load_with_or_report(root, env, spec::load_project_from)
}

/// [`load_or_report`] for `drplan import --generate-config-out`: import blocks
/// without a spec block are kept (`Project::unwritten_imports`), not errors.
pub fn load_generating_or_report(root: &Path, env: &str) -> Option<Project> {
    load_with_or_report(root, env, spec::load_project_generating)
}

type Load = fn(
    &std::sync::Arc<spec::files::Sources>,
    &str,
    &drplan_core::model::environment::VarInputs,
) -> Result<Project, spec::Diagnostics>;

fn load_with_or_report(root: &Path, env: &str, load: Load) -> Option<Project> {
    // One read of the project's files for the whole run (`spec::files::Sources`).
    let sources = spec::files::Sources::new(root);
    let vars = match super::vars::for_environment(&sources, env) {
        Ok(vars) => vars,
        Err(e) => {
            eprintln!("Error: {e:#}");
            return None;
        }
    };
    match load(&sources, env, &vars) {
        Ok(p) => {
            if !p.warnings.is_empty() {
                print_diagnostics(&p.warnings);
            }
            Some(p)
        }
        Err(d) => {
            print_diagnostics(&d);
            eprintln!(
                "Error: {} problem(s) in the spec; run `drplan validate -e {env}`.",
                d.len()
            );
            None
        }
    }
}

/// "Objectives (...):" as "Objectives of <env> (...):" when several environments print.
fn indent_heading(section: &str, env: &str) -> String {
    match section.strip_prefix("Objectives") {
        Some(rest) => format!("Objectives of {env}{rest}"),
        None => section.to_string(),
    }
}
