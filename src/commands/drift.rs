//! `drplan drift -e ENV`: read-only drift report for CI. Never takes the apply lock.

use super::exit;
use super::output::{print_stdout, runtime, stdout_text_options};
use super::validate::load_or_report;
use crate::aws::AwsContext;
use crate::cli::{DriftArgs, ReportFormat};
use crate::planning::{make_plan, PlanRequest};
use drplan_core::objectives::{self, Gate};
use drplan_core::plan::drift::DriftReport;
use drplan_core::render;
use std::path::Path;

pub fn run(root: &Path, args: &DriftArgs, verbose: bool) -> anyhow::Result<i32> {
    let Some(project) = load_or_report(root, &args.env.env) else {
        return Ok(exit::ERROR);
    };
    runtime()?.block_on(async {
        let aws = AwsContext::for_project(&project).await;
        // Drift reports what differs; it never refuses, so every destroy is "allowed".
        let req = PlanRequest {
            allow_destroy: &[],
            targets: &[],
            replace: &[],
            verbose,
            evidence: !args.skip_evidence,
        };
        let planned = make_plan(project, &aws, &req).await?;
        let mut report = DriftReport::from_plan(&planned.plan);
        let mut unmanaged_errors = Vec::new();
        if args.unmanaged {
            let regions = planned
                .project
                .topology
                .sites
                .values()
                .map(|s| s.region.clone())
                .collect();
            eprintln!("Listing unmanaged objects...");
            let own = planned
                .project
                .environment
                .lock
                .iter()
                .map(|l| l.bucket.clone())
                .collect();
            let (mut found, mut errors) =
                crate::live::unmanaged::read(&aws, &regions, &own, &planned.live).await;
            let (connected, unreached) =
                crate::planning::connect_clusters(&planned.project, &aws, &planned.live).await;
            errors.extend(unreached.read_errors);
            for c in &connected {
                let (objects, problems) =
                    crate::k8s::live::unmanaged(&c.kinds, &c.cluster, &planned.project.resources)
                        .await;
                found.extend(objects);
                errors.extend(problems);
            }
            found.sort();
            for e in &errors {
                eprintln!("error: could not list unmanaged objects: {e}");
            }
            unmanaged_errors = errors;
            report.unmanaged = Some(found);
        }
        let allow = args.allow_objective_breach;
        let out = match args.format {
            ReportFormat::Text => format!(
                "{}\n{}",
                render::text::drift(&report, &stdout_text_options()),
                objectives::text::render(&planned.objectives, allow)
            ),
            ReportFormat::Json => {
                render::json::drift_with_objectives(&report, &planned.objectives, allow)
            }
            ReportFormat::Markdown => format!(
                "{}\n{}",
                render::markdown::drift(&report),
                objectives::text::markdown(&planned.objectives, allow)
            ),
        };
        print_stdout(&out)?;
        // A breach outranks drift (exit 3, as plan): CI can gate on 3 alone.
        Ok(exit::outcome(
            !planned.live.read_errors.is_empty()
                || !planned.live.unreachable.is_empty()
                || !unmanaged_errors.is_empty(),
            planned.objectives.gate(allow) == Gate::Breached,
            !report.in_sync(),
        ))
    })
}
