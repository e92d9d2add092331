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
        let doc = render::json::plan(&plan);
        match &plan.objectives {
            Some(report) => objectives::attach_to_json(&doc, report, false)?.to_string(),
            None => doc.to_string(),
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
