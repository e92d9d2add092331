//! `drplan show FILE`: render a saved plan.

use super::exit;
use super::output::{print_stdout, stdout_text_options};
use crate::cli::ShowArgs;
use drplan_core::objectives;
use drplan_core::plan::file;
use drplan_core::render;

pub fn run(args: &ShowArgs) -> anyhow::Result<i32> {
    let plan = file::load(&args.plan_file)?;
    let out = if args.json {
        match &plan.objectives {
            Some(report) => render::json::plan_with_objectives(&plan, report, false),
            None => render::json::plan(&plan),
        }
    } else {
        let mut text = render::text::plan(&plan, &stdout_text_options());
        if let Some(report) = &plan.objectives {
            text.push('\n');
            text.push_str(&objectives::text::render(report, false));
        }
        text
    };
    print_stdout(&out)?;
    Ok(exit::OK)
}
