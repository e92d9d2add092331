//! `drplan apply -e ENV` (plan, confirm, apply) and `drplan apply FILE` (plan again and
//! apply that plan when the file approves exactly it, refusing a stale or edited one).

use super::exit;
use super::output::{print_stdout, runtime};
use super::plan::print_plan;
use super::validate::load_or_report;
use super::{interrupt, locked};
use crate::apply::kubernetes::Clusters;
use crate::apply::{apply_with_clusters, ApplyOptions};
use crate::aws::AwsContext;
use crate::cli::ApplyArgs;
use crate::planning::{make_plan, PlanRequest, Planned};
use crate::stop::Stop;
use anyhow::bail;
use drplan_core::address::Address;
use drplan_core::model::Project;
use drplan_core::objectives::Gate;
use drplan_core::plan::{file, Plan};
use std::collections::BTreeSet;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

mod saved_plan;

pub fn run(root: &Path, args: &ApplyArgs, verbose: bool) -> anyhow::Result<i32> {
    let saved = match &args.plan_file {
        Some(path) => Some(file::load(path)?),
        None => None,
    };
    let env = match (&saved, &args.env) {
        (Some(plan), _) => plan.environment.clone(),
        (None, Some(env)) => env.clone(),
        (None, None) => {
            bail!("say what to apply: `drplan apply -e ENV` or `drplan apply PLANFILE`")
        }
    };
    if saved.is_none() && !args.auto_approve && !std::io::stdin().is_terminal() {
        bail!("refusing to ask for confirmation without a terminal; review the plan and pass --auto-approve, or apply a saved plan file");
    }
    let Some(project) = load_or_report(root, &env) else {
        return Ok(exit::ERROR);
    };
    if let Some(plan) = &saved {
        if plan.spec_digest != project.digest {
            bail!(
                "the saved plan is stale: the spec or environment files (or the --var/--var-file \
                 inputs) changed since it was made \
                 (digest {} -> {}); run `drplan plan -e {env} --out FILE` again",
                short(&plan.spec_digest),
                short(&project.digest)
            );
        }
    }
    let guard = locked::Guard::for_project(&project, &env);
    runtime()?.block_on(async {
        let aws = AwsContext::for_project(&project).await;
        let stop = Stop::new();
        let _signals = interrupt::watch(&stop)?;
        let work = plan_and_apply(project, &aws, args, saved, verbose, &stop);
        locked::run(&aws, &guard, args.lock_timeout, &stop, work).await
    })
}

async fn plan_and_apply(
    project: Project,
    aws: &AwsContext,
    args: &ApplyArgs,
    saved: Option<Plan>,
    verbose: bool,
    stop: &Stop,
) -> anyhow::Result<i32> {
    let allow_destroy = &args.allow_destroy;
    // A saved plan is made again as it was made: with its targets (they only narrow
    // it). A replacement destroys, so it is never taken from a file: the command line
    // must ask for the same ones.
    let targets: Vec<String> = match &saved {
        Some(plan) => {
            let mut asked: Vec<&str> = args.replace.iter().map(String::as_str).collect();
            let mut saved_replace: Vec<&str> = plan.replace.iter().map(|a| a.as_str()).collect();
            asked.sort_unstable();
            saved_replace.sort_unstable();
            if asked != saved_replace {
                bail!(
                    "the saved plan replaces [{}] but this command asks to replace [{}]: pass the same --replace flags to apply it",
                    saved_replace.join(", "),
                    asked.join(", ")
                );
            }
            plan.targets.iter().map(|a| a.to_string()).collect()
        }
        None => args.target.clone(),
    };
    let req = PlanRequest {
        allow_destroy,
        targets: &targets,
        replace: &args.replace,
        verbose,
        evidence: true,
    };
    let Planned {
        project,
        plan: fresh,
        objectives,
        spec_objectives,
        ..
    } = make_plan(project, aws, &req).await?;
    let mut plan = match saved {
        Some(saved) => {
            check_same_reach(&saved, &fresh)?;
            let stale = stale_objects(&saved, &fresh);
            if !stale.is_empty() {
                bail!(
                    "the saved plan is stale: live objects changed since it was made: {}; run `drplan plan -e {} --out FILE` again",
                    stale.join(", "),
                    saved.environment
                );
            }
            saved_plan::approved(saved, fresh)?
        }
        None => {
            print_plan(&fresh, &objectives, false, args.allow_objective_breach)?;
            fresh
        }
    };
    // The spec's verdicts, not the live evidence: this apply makes live match the spec.
    if spec_objectives.gate(args.allow_objective_breach) == Gate::Breached {
        eprintln!("Error: the spec breaches its recovery objectives; fix them or pass --allow-objective-breach.");
        return Ok(exit::OBJECTIVE_BREACH);
    }
    if !plan.errors.is_empty() {
        for e in &plan.errors {
            eprintln!("Error: {e}");
            if let Some(help) = &e.help {
                eprintln!("  help: {help}");
            }
        }
        // A protected object the plan would destroy holds its own change only.
        if drplan_core::plan::held::held(&plan).is_none() {
            return Ok(exit::ERROR);
        }
        eprintln!("Holding the change(s) above and what depends on them; applying the rest.");
    }
    if !plan.has_changes() {
        eprintln!("No changes. Your infrastructure matches the spec.");
        return Ok(exit::OK);
    }
    if args.plan_file.is_none() && !args.auto_approve && !confirm().await? {
        eprintln!("Apply cancelled.");
        return Ok(exit::ERROR);
    }
    restore_secrets(&mut plan, &project);
    let clusters = Clusters::new(&project.topology, &project.environment, aws);
    let options = ApplyOptions {
        parallelism: args.parallelism.max(1),
        allow_destroy: allow_destroy
            .iter()
            .map(|a| Address::new(a.as_str()))
            .collect(),
        stop: stop.clone(),
        inflight: project.environment.lock.clone(),
        ..ApplyOptions::default()
    };
    let started = chrono::Utc::now();
    let report = apply_with_clusters(&plan, aws, Some(&clusters), &options).await?;
    eprint!("{}", report.render_details());
    print_stdout(&format!("{}\n", report.summary()))?;
    record_activation(&project, &report, started, aws).await;
    Ok(if report.succeeded() {
        exit::OK
    } else {
        exit::ERROR
    })
}

/// A DR activation is the real event a drill rehearses: its record (what it did, how
/// long, the recovery time to the DNS flip) goes beside the drill records. Failing to
/// write it is a warning: the apply itself is done.
async fn record_activation(
    project: &Project,
    report: &crate::apply::report::ApplyReport,
    started: chrono::DateTime<chrono::Utc>,
    aws: &AwsContext,
) {
    let Some(rec) = crate::drill::activation::record(project, report, started, super::drill::who())
    else {
        return;
    };
    let Some(lock) = &project.environment.lock else {
        return;
    };
    match crate::drill::record::write(&aws.s3(&lock.region), &lock.bucket, &rec).await {
        Ok(at) => {
            let flip = rec
                .recovery_seconds
                .map(|s| format!(", {s:.1}s from the start to the DNS flip"))
                .unwrap_or_default();
            eprintln!(
                "Recorded the DR activation ({}{flip}) at {at}.",
                rec.outcome
            );
        }
        Err(e) => eprintln!("Warning: could not record the DR activation: {e:#}"),
    }
}

/// Plans (and plan files) carry secrets redacted; the values to apply come from the
/// spec the plan was just made from.
fn restore_secrets(plan: &mut Plan, project: &Project) {
    for change in &mut plan.changes {
        if change.sensitive.is_empty() || change.after.is_none() {
            continue;
        }
        if let Some(desired) = project
            .resources
            .iter()
            .find(|r| r.address == change.address)
        {
            change.after = Some(desired.attrs.clone());
        }
    }
}

/// A saved plan is only good while the same places answer as when it was made: a
/// site that came back holds work the plan deferred, one that went away holds work
/// the plan means to do (docs/outage.md).
fn check_same_reach(saved: &Plan, fresh: &Plan) -> anyhow::Result<()> {
    let places = |p: &Plan| {
        p.unreachable
            .iter()
            .map(|u| u.place())
            .collect::<BTreeSet<String>>()
    };
    let (then, now) = (places(saved), places(fresh));
    if then == now {
        return Ok(());
    }
    let list = |s: &BTreeSet<String>| {
        if s.is_empty() {
            "none".to_string()
        } else {
            s.iter().cloned().collect::<Vec<_>>().join(", ")
        }
    };
    bail!(
        "the saved plan is stale: it was made while these did not answer: {}; now these do not: {}; \
         run `drplan plan -e {} --out FILE` again",
        list(&then),
        list(&now),
        saved.environment
    )
}

/// Identity keys whose live object is new, gone or different since the plan was made.
fn stale_objects(saved: &Plan, fresh: &Plan) -> Vec<String> {
    let keys: BTreeSet<&String> = saved
        .live_fingerprints
        .keys()
        .chain(fresh.live_fingerprints.keys())
        .collect();
    keys.into_iter()
        .filter_map(|k| {
            match (
                saved.live_fingerprints.get(k),
                fresh.live_fingerprints.get(k),
            ) {
                (Some(a), Some(b)) if a == b => None,
                (Some(_), Some(_)) => Some(format!("{k} (changed)")),
                (Some(_), None) => Some(format!("{k} (gone)")),
                (None, _) => Some(format!("{k} (appeared)")),
            }
        })
        .collect()
}

/// Reads the answer on a thread of its own, so a signal at the prompt is handled
/// (the run ends, the lock is released) while the read still waits.
async fn confirm() -> anyhow::Result<bool> {
    eprint!("\nDo you want to perform these actions? Only 'yes' will be accepted: ");
    std::io::stderr().flush()?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let read = std::io::stdin().lock().read_line(&mut line).map(|_| line);
        let _ = tx.send(read);
    });
    let line = rx
        .await
        .map_err(|_| anyhow::anyhow!("the prompt's reader stopped"))??;
    Ok(line.trim() == "yes")
}

fn short(digest: &str) -> &str {
    digest.get(..12).unwrap_or(digest)
}
