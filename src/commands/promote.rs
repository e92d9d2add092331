//! `drplan promote --from A --to B [--write] [--force]`: show (and with --write make)
//! the change that carries A's promotable values into environments/B.hcl.
//!
//! Exit codes: 0 nothing to promote or written; 2 changes shown, not written;
//! 3 refused because A breaches an objective; 1 errors.

use super::{exit, validate};
use crate::cli::PromoteArgs;
use anyhow::{anyhow, bail, Context};
use drplan_core::objectives;
use drplan_core::promote;
use std::io::Write;
use std::path::Path;

pub fn run(root: &Path, args: PromoteArgs) -> anyhow::Result<i32> {
    if args.from == args.to {
        bail!("--from and --to are both `{}`: promote carries values between two environments", args.from);
    }
    let Some(from) = validate::load_or_report(root, &args.from) else { return Ok(exit::ERROR) };
    let Some(to) = validate::load_or_report(root, &args.to) else { return Ok(exit::ERROR) };

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
    // Drift is a live read; promote stays offline until `drift` can be called here.
    eprintln!("note: {} is not checked for drift by promote; run `drplan drift -e {}` first", args.from, args.from);

    let file = promote::target_file(&args.to);
    let path = root.join(&file);
    let before = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let p = promote::prepare(&from, &to, &before)?;
    for name in &p.skipped_sensitive {
        eprintln!("note: variable {name} is sensitive and is never promoted; set it in {file} by hand");
    }
    if p.changes.is_empty() {
        eprintln!("Nothing to promote: every promotable value of {} already matches {}.", args.to, args.from);
        return Ok(exit::OK);
    }

    let mut stdout = std::io::stdout().lock();
    stdout.write_all(p.diff.as_bytes())?;
    stdout.flush()?;
    let names: Vec<&str> = p.changes.iter().map(|c| c.name.as_str()).collect();
    if !args.write {
        eprintln!("{} value(s) to promote ({}). Run again with --write to change {file}.", names.len(), names.join(", "));
        return Ok(exit::CHANGES);
    }

    write_atomically(&path, &p.rewritten)?;
    if let Err(diags) = drplan_core::spec::load_project(root, &args.to) {
        // Never leave a target that no longer validates.
        write_atomically(&path, &before)?;
        validate::print_diagnostics(&diags);
        bail!("{file} did not validate after the rewrite (above), so it was restored");
    }
    eprintln!("Wrote {file}: {}. Run `drplan plan -e {}` to see what it changes.", names.join(", "), args.to);
    Ok(exit::OK)
}

/// Writes beside the target and renames over it, so an interrupted write never leaves
/// half a file.
fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).with_context(|| format!("writing in {}", dir.display()))?;
    tmp.write_all(text.as_bytes())?;
    tmp.persist(path).map_err(|e| anyhow!("replacing {}: {}", path.display(), e.error))?;
    Ok(())
}
