//! `drplan plan -e ENV`: what apply would do, with the objectives checked.

use super::exit;
use super::output::{print_stdout, runtime, stdout_text_options};
use super::validate::load_or_report;
use crate::aws::AwsContext;
use crate::cli::PlanArgs;
use crate::planning::{make_plan, PlanRequest};
use drplan_core::objectives::{self, Gate, ObjectivesReport};
use drplan_core::plan::{file, Plan};
use drplan_core::render;
use std::path::Path;

pub fn run(root: &Path, args: &PlanArgs, verbose: bool) -> anyhow::Result<i32> {
    let Some(project) = load_or_report(root, &args.env.env) else {
        return Ok(exit::ERROR);
    };
    runtime()?.block_on(async {
        let aws = AwsContext::for_project(&project).await;
        let req = PlanRequest {
            allow_destroy: &args.allow_destroy,
            targets: &args.target,
            replace: &args.replace,
            verbose,
            evidence: !args.skip_evidence,
        };
        let planned = make_plan(project, &aws, &req).await?;
        let mut plan = planned.plan;
        plan.objectives = Some(planned.objectives.clone());
        if args.terraform_json {
            print_stdout(&render::terraform::render(&plan))?;
        } else {
            print_plan(
                &plan,
                &planned.objectives,
                args.json,
                args.allow_objective_breach,
            )?;
        }
        if let Some(out) = &args.out {
            file::save(&plan, out)?;
            eprintln!(
                "Saved the plan to {}. To apply exactly this plan: drplan apply {}",
                out.display(),
                out.display()
            );
        }
        Ok(plan_exit_code(
            &plan,
            &planned.objectives,
            args.allow_objective_breach,
            args.detailed_exitcode,
        ))
    })
}

pub fn print_plan(
    plan: &Plan,
    report: &ObjectivesReport,
    json: bool,
    allow_breach: bool,
) -> anyhow::Result<()> {
    if json {
        print_stdout(&render::json::plan_with_objectives(
            plan,
            report,
            allow_breach,
        ))
    } else {
        let text = render::text::plan(plan, &stdout_text_options());
        print_stdout(&format!(
            "{text}\n{}{}",
            objectives::text::render(report, allow_breach),
            render::outage::objectives_note(plan)
        ))
    }
}

/// 1 when the plan cannot be applied, 3 on an objective breach, 2 for changes with
/// `--detailed-exitcode`, else 0.
pub fn plan_exit_code(
    plan: &Plan,
    report: &ObjectivesReport,
    allow_breach: bool,
    detailed: bool,
) -> i32 {
    exit::outcome(
        !plan.errors.is_empty(),
        report.gate(allow_breach) == Gate::Breached,
        detailed && plan.has_changes(),
    )
}
