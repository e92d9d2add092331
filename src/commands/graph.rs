//! `drplan graph -e ENV [--format dot|mermaid]`: the dependency graph apply walks.

use super::exit;
use super::output::print_stdout;
use super::validate::load_or_report;
use crate::cli::{GraphArgs, GraphFormat};
use drplan_core::graph::ResourceGraph;
use drplan_core::render::graph as render;
use std::path::Path;

pub fn run(root: &Path, args: &GraphArgs) -> anyhow::Result<i32> {
    let Some(project) = load_or_report(root, &args.env.env) else {
        return Ok(exit::ERROR);
    };
    let graph = ResourceGraph::new(&project.resources)?;
    let out = match args.format {
        GraphFormat::Dot => render::dot(&graph),
        GraphFormat::Mermaid => render::mermaid(&graph),
    };
    print_stdout(&out)?;
    Ok(exit::OK)
}
