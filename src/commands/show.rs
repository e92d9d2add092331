//! `drplan show FILE`: render a saved plan.

use super::exit;
use super::output::stdout_text_options;
use crate::cli::ShowArgs;
use drplan_core::objectives;
use drplan_core::plan::file;
use drplan_core::render;

pub fn run(args: &ShowArgs) -> anyhow::Result<i32> {
    let plan = file::load(&args.plan_file)?;
    if args.json {
        let doc = render::json::plan(&plan);
        match &plan.objectives {
            Some(report) => print!("{}", objectives::attach_to_json(&doc, report, false)?),
            None => print!("{doc}"),
        }
    } else {
        print!("{}", render::text::plan(&plan, &stdout_text_options()));
        if let Some(report) = &plan.objectives {
            println!();
            print!("{}", objectives::text::render(report, false));
        }
    }
    Ok(exit::OK)
}
