//! `drplan runbook -e ENV [--check FILE]`: the failover runbook generated from the
//! spec (`drplan_core::runbook`), no cloud access. `--check` is for CI: exit 1 with a
//! unified diff and the changed steps when the committed copy is stale.

use super::exit;
use super::output::print_stdout;
use super::validate::load_or_report;
use crate::cli::RunbookArgs;
use drplan_core::{promote, runbook};
use std::path::Path;

pub fn run(root: &Path, args: &RunbookArgs) -> anyhow::Result<i32> {
    let Some(project) = load_or_report(root, &args.env.env) else {
        return Ok(exit::ERROR);
    };
    let text = match runbook::markdown(&project, args.failback_env.as_deref()) {
        Ok(text) => text,
        Err(why) => {
            eprintln!("Error: cannot write a runbook for {}: {why}", args.env.env);
            return Ok(exit::ERROR);
        }
    };
    let Some(path) = &args.check else {
        print_stdout(&text)?;
        return Ok(exit::OK);
    };
    let committed = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    if committed == text {
        eprintln!("{} is up to date.", path.display());
        return Ok(exit::OK);
    }
    let shown = path.display().to_string();
    print_stdout(&promote::unified_diff(&shown, &committed, &text))?;
    let steps = runbook::changed_steps(&committed, &text);
    eprintln!(
        "Error: {shown} is stale{}; regenerate it with `drplan runbook -e {} > {shown}`.",
        if steps.is_empty() {
            String::new()
        } else {
            format!(" (changed steps: {})", steps.join(", "))
        },
        args.env.env
    );
    Ok(exit::ERROR)
}
