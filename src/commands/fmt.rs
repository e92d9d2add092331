//! `drplan fmt [--check]`: canonical layout of specs/*.hcl and environments/*.hcl.

use super::exit;
use super::output::print_stdout;
use crate::cli::FmtArgs;
use drplan_core::spec::format;
use std::path::Path;

pub fn run(root: &Path, args: &FmtArgs) -> anyhow::Result<i32> {
    let mut paths = drplan_core::spec::files::hcl_files_in(root, "specs");
    paths.extend(drplan_core::spec::files::hcl_files_in(root, "environments"));
    let mut unformatted = Vec::new();
    let mut failed = false;
    for rel in &paths {
        let path = root.join(rel);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| anyhow::anyhow!("cannot read {rel}: {e}"))?;
        let formatted = match format::format_source(&text) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("Error: {rel}: {e}");
                failed = true;
                continue;
            }
        };
        if formatted != text {
            unformatted.push(rel.clone());
            if !args.check {
                std::fs::write(&path, formatted)
                    .map_err(|e| anyhow::anyhow!("cannot write {rel}: {e}"))?;
            }
        }
    }
    for rel in &unformatted {
        print_stdout(&format!("{rel}\n"))?;
    }
    if failed || (args.check && !unformatted.is_empty()) {
        return Ok(exit::ERROR);
    }
    Ok(exit::OK)
}
