//! `drplan import -e ENV --from-terraform-state FILE [--generate-config-out FILE]`:
//! a Terraform-managed setup brought over in one reviewed step. The conversion is
//! `drplan_core::adopt::tfstate` (no cloud access); this writes its results: the
//! import blocks to stdout, the spec blocks and manifests to new files, and what it
//! did not convert to stderr, each with its reason.

use super::exit;
use super::output::print_stdout;
use super::validate::load_generating_or_report;
use super::validate::load_or_report;
use crate::aws::AwsContext;
use crate::cli::ImportArgs;
use crate::live::{read_live, ReadScope};
use drplan_core::adopt::{import_blocks, live, tfstate};
use drplan_core::model::Project;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub fn run(root: &Path, args: &ImportArgs) -> anyhow::Result<i32> {
    let Some(state_path) = &args.from_terraform_state else {
        return from_live(root, args);
    };
    let Some(project) = load_or_report(root, &args.env.env) else {
        return Ok(exit::ERROR);
    };
    let sites = sites_by_region(&project);
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
        let mut files = vec![(out.clone(), conversion.config.clone())];
        files.extend(
            conversion
                .manifests
                .iter()
                .map(|(path, yaml)| (path.into(), yaml.clone())),
        );
        if !write_new_files(root, &files)? {
            return Ok(exit::ERROR);
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

/// Region -> the site there: each object goes to the site of its region.
fn sites_by_region(project: &Project) -> BTreeMap<String, String> {
    let mut sites = BTreeMap::new();
    for site in project.topology.sites.values() {
        sites
            .entry(site.region.clone())
            .or_insert_with(|| site.name.clone());
    }
    sites
}

/// Writes `files` (paths relative to the project) unless one exists already: then
/// nothing is written and the answer is false.
fn write_new_files(root: &Path, files: &[(PathBuf, String)]) -> anyhow::Result<bool> {
    if let Some((taken, _)) = files.iter().find(|(path, _)| root.join(path).exists()) {
        eprintln!(
            "Error: {} already exists; drplan import never overwrites a file (choose another --generate-config-out, or move it)",
            taken.display()
        );
        return Ok(false);
    }
    for (path, text) in files {
        let path = root.join(path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, text)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        eprintln!("Wrote {}.", path.display());
    }
    Ok(true)
}

/// `--generate-config-out` alone: the spec blocks of the import blocks that no spec
/// block makes yet, written from the live objects they name (`adopt::live`).
fn from_live(root: &Path, args: &ImportArgs) -> anyhow::Result<i32> {
    let Some(out) = &args.generate_config_out else {
        eprintln!(
            "Error: drplan import needs --from-terraform-state FILE, or --generate-config-out FILE to write the spec blocks of import blocks that have none"
        );
        return Ok(exit::ERROR);
    };
    let Some(project) = load_generating_or_report(root, &args.env.env) else {
        return Ok(exit::ERROR);
    };
    if project.unwritten_imports.is_empty() {
        eprintln!("Every import block has its spec block: nothing to write.");
        return Ok(exit::OK);
    }
    let sites = sites_by_region(&project);
    let mut scope = ReadScope::from_resources(&project.environment.stack, &project.resources);
    scope.regions.extend(sites.keys().cloned());
    let regions: Vec<String> = sites.keys().cloned().collect();
    for i in &project.unwritten_imports {
        if let Some(kind) = live::kind_of(&i.to) {
            scope.add_unwritten_import(kind, &i.id, &regions);
        }
    }
    let state = super::output::runtime()?.block_on(async {
        let aws = AwsContext::for_project(&project).await;
        eprintln!(
            "Reading the live objects of {} import block(s)...",
            project.unwritten_imports.len()
        );
        read_live(&aws, &scope).await
    });
    if !state.read_errors.is_empty() || !state.unreachable.is_empty() {
        for e in &state.read_errors {
            eprintln!("Error: could not read live state: {e}");
        }
        for u in &state.unreachable {
            eprintln!("Error: not read: {}", u.reason());
        }
        return Ok(exit::ERROR);
    }
    let (document, mut unwritten) = live::state_of(&project.unwritten_imports, &state.objects);
    let conversion = match tfstate::convert(&document, &sites) {
        Ok(c) => c,
        Err(e) => anyhow::bail!("converting the live objects: {e}"),
    };
    unwritten.extend(conversion.uncovered);
    let written: std::collections::BTreeSet<&str> =
        conversion.adoptions.iter().map(|a| a.to.as_str()).collect();
    for i in &project.unwritten_imports {
        if !written.contains(i.to.as_str()) && !unwritten.iter().any(|u| u.source == i.to.as_str())
        {
            unwritten.push(tfstate::Uncovered {
                source: i.to.to_string(),
                reason: "its block is written under another address (see the file): change the import's `to` to match".into(),
            });
        }
    }
    if !conversion.adoptions.is_empty()
        && !write_new_files(root, &[(out.clone(), conversion.config.clone())])?
    {
        return Ok(exit::ERROR);
    }
    for u in &unwritten {
        eprintln!("not written: {}: {}", u.source, u.reason);
    }
    eprintln!(
        "{} of {} import block(s) without a spec block written; review the file, then plan.",
        written.len(),
        project.unwritten_imports.len()
    );
    Ok(if written.is_empty() {
        exit::ERROR
    } else {
        exit::OK
    })
}
