//! `drplan import -e ENV --from-terraform-state FILE [--generate-config-out FILE]`:
//! a Terraform-managed setup brought over in one reviewed step. The conversion is
//! `drplan_core::adopt::tfstate` (no cloud access); this writes its results: the
//! import blocks to stdout, the spec blocks and manifests to new files, and what it
//! did not convert to stderr, each with its reason.

use super::exit;
use super::output::print_stdout;
use super::validate::load_or_report;
use crate::cli::ImportArgs;
use drplan_core::adopt::{import_blocks, tfstate};
use std::collections::BTreeMap;
use std::path::Path;

pub fn run(root: &Path, args: &ImportArgs) -> anyhow::Result<i32> {
    let Some(state_path) = &args.from_terraform_state else {
        eprintln!(
            "Error: drplan import needs --from-terraform-state FILE; writing spec blocks from \
             the live objects of `import` blocks (--generate-config-out alone) is not built yet"
        );
        return Ok(exit::ERROR);
    };
    let Some(project) = load_or_report(root, &args.env.env) else {
        return Ok(exit::ERROR);
    };
    // Each object goes to the site of its region.
    let mut sites: BTreeMap<String, String> = BTreeMap::new();
    for site in project.topology.sites.values() {
        sites
            .entry(site.region.clone())
            .or_insert_with(|| site.name.clone());
    }
    // Relative to the project, as every path drplan takes (`-C` works like git's).
    let state_path = root.join(state_path);
    let state = match std::fs::read_to_string(&state_path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("Error: cannot read {}: {e}", state_path.display());
            return Ok(exit::ERROR);
        }
    };
    let conversion = match tfstate::convert(&state, &sites) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("Error: {}: {e}", state_path.display());
            return Ok(exit::ERROR);
        }
    };
    if let Some(out) = &args.generate_config_out {
        let mut files = vec![(root.join(out), conversion.config.clone())];
        files.extend(
            conversion
                .manifests
                .iter()
                .map(|(path, yaml)| (root.join(path), yaml.clone())),
        );
        if let Some((taken, _)) = files.iter().find(|(path, _)| path.exists()) {
            eprintln!(
                "Error: {} already exists; drplan import never overwrites a file (choose another --generate-config-out, or move it)",
                taken.display()
            );
            return Ok(exit::ERROR);
        }
        for (path, text) in &files {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(path, text)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            eprintln!("Wrote {}.", path.display());
        }
    }
    for u in &conversion.uncovered {
        eprintln!("not converted: {}: {}", u.source, u.reason);
    }
    eprintln!(
        "{} import block(s) for {} Terraform resource(s); {} not converted.",
        conversion.adoptions.len(),
        conversion
            .adoptions
            .iter()
            .map(|a| a.source.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        conversion.uncovered.len()
    );
    print_stdout(&import_blocks(&conversion.adoptions))?;
    Ok(exit::OK)
}
