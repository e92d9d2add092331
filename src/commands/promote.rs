//! `drplan promote --from A --to B [--write] [--force]`: show (and with --write make)
//! the change that carries A's promotable values into environments/B.hcl.
//!
//! Only a validated source is promoted: A must meet its objectives and its live cloud
//! must match its spec (a plan of A with no changes), else the command refuses unless
//! `--force`.
//!
//! With `--write`, the target's plan follows the file diff on stdout.
//!
//! Exit codes: 0 nothing to promote or written; 2 changes shown, not written;
//! 3 refused because A breaches an objective; 1 refused because A has drift, or A's
//! live cloud could not be read, or any other error.

use super::output::{print_stdout, runtime};
use super::plan::print_plan;
use super::{exit, validate};
use crate::aws::AwsContext;
use crate::cli::PromoteArgs;
use crate::planning::{make_plan, PlanRequest};
use anyhow::{anyhow, bail, Context};
use drplan_core::model::Project;
use drplan_core::objectives;
use drplan_core::plan::Action;
use drplan_core::promote;
use std::io::Write;
use std::path::Path;

pub fn run(root: &Path, args: PromoteArgs) -> anyhow::Result<i32> {
    if args.from == args.to {
        bail!(
            "--from and --to are both `{}`: promote carries values between two environments",
            args.from
        );
    }
    let Some(from) = validate::load_or_report(root, &args.from) else {
        return Ok(exit::ERROR);
    };
    let Some(to) = validate::load_or_report(root, &args.to) else {
        return Ok(exit::ERROR);
    };

    let report = objectives::for_project(&from);
    if report.has_failures() {
        eprint!("{}", objectives::text::render(&report, args.force));
        if !args.force {
            eprintln!(
                "Refusing to promote from {}: it breaches its recovery objectives (above). \
                 Fix them, or pass --force to promote anyway.",
                args.from
            );
            return Ok(exit::OBJECTIVE_BREACH);
        }
        eprintln!("Promoting despite the breached objectives (--force).");
    }
    if args.force {
        eprintln!("Not checking {} for drift (--force).", args.from);
    } else {
        let drifted = drifted_addresses(&from).with_context(|| {
            format!(
                "cannot check {} for drift: promote reads its live cloud first (pass --force to promote without the check)",
                args.from
            )
        })?;
        if !drifted.is_empty() {
            eprintln!(
                "{} has drift: its live cloud differs from its spec at",
                args.from
            );
            for line in &drifted {
                eprintln!("  {line}");
            }
            eprintln!(
                "Refusing to promote from {from}: only what runs as specified is promoted. See `drplan drift -e {from}`, \
                 converge with `drplan apply -e {from}` (or fix the spec), or pass --force to promote anyway.",
                from = args.from
            );
            return Ok(exit::ERROR);
        }
        eprintln!("{} is in sync with its spec.", args.from);
    }

    let file = promote::target_file(&args.to);
    let path = root.join(&file);
    let before =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let p = promote::prepare(&from, &to, &before)?;
    for name in &p.skipped_sensitive {
        eprintln!(
            "note: variable {name} is sensitive and is never promoted; set it in {file} by hand"
        );
    }
    if p.changes.is_empty() {
        eprintln!(
            "Nothing to promote: every promotable value of {} already matches {}.",
            args.to, args.from
        );
        return Ok(exit::OK);
    }

    print_stdout(&p.diff)?;
    let names: Vec<&str> = p.changes.iter().map(|c| c.name.as_str()).collect();
    if !args.write {
        eprintln!(
            "{} value(s) to promote ({}). Run again with --write to change {file}.",
            names.len(),
            names.join(", ")
        );
        return Ok(exit::CHANGES);
    }

    write_atomically(&path, &p.rewritten)?;
    if let Err(diags) = drplan_core::spec::load_project(root, &args.to) {
        // Never leave a target that no longer validates.
        write_atomically(&path, &before)?;
        validate::print_diagnostics(&diags);
        bail!("{file} did not validate after the rewrite (above), so it was restored");
    }
    eprintln!("Wrote {file}: {}.", names.join(", "));
    print_target_plan(root, &args.to);
    Ok(exit::OK)
}

/// After a write, what the promoted values change in the target's cloud: its plan, on
/// stdout after the file diff. The promotion itself is done by then, so a cloud that
/// cannot be read is a note, not a failure.
fn print_target_plan(root: &Path, to: &str) {
    let planned = drplan_core::spec::load_project(root, to)
        .map_err(|_| anyhow!("{to} did not load"))
        .and_then(|project| {
            runtime()?.block_on(async {
                let aws = AwsContext::for_project(&project).await;
                make_plan(
                    project,
                    &aws,
                    &PlanRequest {
                        allow_destroy: &[],
                        targets: &[],
                        replace: &[],
                        verbose: false,
                        evidence: true,
                    },
                )
                .await
            })
        });
    match planned {
        Ok(planned) => {
            eprintln!("The plan of {to} with the promoted values:");
            let printed = print_stdout("\n").and_then(|()| print_plan(&planned.plan, &planned.objectives, false, false));
            if let Err(e) = printed {
                eprintln!("note: could not print the plan of {to}: {e:#}");
            }
        }
        Err(e) => eprintln!("note: could not plan {to} ({e:#}); run `drplan plan -e {to}` to see what the promotion changes."),
    }
}

/// Plans the source environment against its live cloud (the path `drplan drift`
/// takes) and returns its changes as `~ address` lines, empty when in sync. A live read
/// that failed is an error: an unread kind could hide drift.
fn drifted_addresses(project: &Project) -> anyhow::Result<Vec<String>> {
    runtime()?.block_on(async {
        let aws = AwsContext::for_project(project).await;
        let req = PlanRequest {
            allow_destroy: &[],
            targets: &[],
            replace: &[],
            verbose: false,
            evidence: true,
        };
        let planned = make_plan(project.clone(), &aws, &req).await?;
        if !planned.live.read_errors.is_empty() {
            bail!(
                "reading the live state failed: {}",
                planned
                    .live
                    .read_errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
        Ok(planned
            .plan
            .changes
            .iter()
            .filter_map(|c| {
                let symbol = match c.action {
                    Action::NoOp => return None,
                    Action::Create => "+",
                    Action::Update => "~",
                    Action::Replace => "-/+",
                    Action::Delete => "-",
                    Action::Forget => ".",
                };
                Some(format!("{symbol} {}", c.address))
            })
            .collect())
    })
}

/// Writes beside the target and renames over it, so an interrupted write never leaves
/// half a file.
fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("writing in {}", dir.display()))?;
    tmp.write_all(text.as_bytes())?;
    tmp.persist(path)
        .map_err(|e| anyhow!("replacing {}: {}", path.display(), e.error))?;
    Ok(())
}
