//! `drplan drill -e ENV`: a restore drill in the DR site under the stack's lock
//! (`crate::drill` runs it, `drplan_core::drill` plans it); `drill cleanup` and
//! `drill history`.

use super::exit;
use super::output::{print_stdout, runtime};
use super::validate::load_or_report;
use super::{interrupt, locked};
use crate::apply::kubernetes::Clusters;
use crate::aws::AwsContext;
use crate::cli::{DrillAction, DrillArgs, DrillFormat};
use crate::drill::record::{self, Record, Skipped};
use crate::k8s::live::api_for;
use crate::stop::Stop;
use anyhow::{anyhow, bail};
use drplan_core::drill::{self as plan, DrillPlan};
use drplan_core::kubernetes::backup_jobs::object_name;
use drplan_core::model::{Project, SiteRole};
use std::path::Path;

pub fn run(root: &Path, args: &DrillArgs) -> anyhow::Result<i32> {
    let Some(env) = args.env.clone() else {
        bail!("say which environment to drill: `drplan drill -e ENV` (the environment of normal operation, e.g. prod)");
    };
    let Some(project) = load_or_report(root, &env) else {
        return Ok(exit::ERROR);
    };
    match args.action {
        Some(DrillAction::History) => runtime()?.block_on(history(&project, args.format)),
        Some(DrillAction::Cleanup) => {
            let guard = locked::Guard::for_project(&project, &env);
            runtime()?.block_on(async {
                let aws = AwsContext::for_project(&project).await;
                let stop = Stop::new();
                let _signals = interrupt::watch(&stop)?;
                let work = cleanup(&project, &aws);
                locked::run(&aws, &guard, args.lock_timeout, &stop, work).await
            })
        }
        None => {
            let guard = locked::Guard::for_project(&project, &env);
            runtime()?.block_on(async {
                let aws = AwsContext::for_project(&project).await;
                let stop = Stop::new();
                let _signals = interrupt::watch(&stop)?;
                let work = drill(&project, &aws, args, &stop);
                locked::run(&aws, &guard, args.lock_timeout, &stop, work).await
            })
        }
    }
}

fn new_id() -> String {
    chrono::Utc::now().format("%Y%m%d-%H%M%S").to_string()
}

pub(crate) fn who() -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    format!("{user}@{host}")
}

fn size_store(project: &Project, aws: &AwsContext) -> Option<crate::drill::SizeStore> {
    let lock = project.environment.lock.as_ref()?;
    Some(crate::drill::SizeStore {
        s3: aws.s3(&lock.region),
        bucket: lock.bucket.clone(),
        stack: project.environment.stack.clone(),
    })
}

fn dr_cluster_name(project: &Project, label: &str) -> String {
    project
        .topology
        .clusters
        .get(label)
        .map(|c| c.name.clone())
        .unwrap_or_else(|| label.to_string())
}

async fn drill(
    project: &Project,
    aws: &AwsContext,
    args: &DrillArgs,
    stop: &Stop,
) -> anyhow::Result<i32> {
    let activated = match drplan_core::objectives::activation_pair(project) {
        Ok(Some((_, activated))) => activated,
        Ok(None) => bail!("the topology has no site with role = \"dr\": there is nothing to drill"),
        Err(why) => bail!("cannot evaluate DR activation: {why}"),
    };
    let id = new_id();
    let plan = plan::plan(project, &activated, &id, &args.components).map_err(|e| anyhow!(e))?;
    if plan.components.is_empty() {
        let why: Vec<String> = plan
            .skipped
            .iter()
            .map(|(p, why)| format!("backup.{p}: {why}"))
            .collect();
        bail!("nothing to drill: {}", why.join("; "));
    }
    let clusters = Clusters::new(&project.topology, &project.environment, aws);
    let kinds = clusters
        .kinds(&format!("cluster.{}", plan.cluster))
        .await
        .map_err(|e| anyhow!("the DR cluster: {e:#}"))?;
    if let Some(active) = dr_site_active(project, &plan, &kinds).await? {
        if !args.force {
            eprintln!(
                "Error: the DR site {} looks active ({active}): a failover may be running, and a drill would compete with it. Pass --force to drill anyway.",
                plan.site
            );
            return Ok(exit::ERROR);
        }
        eprintln!("Warning: the DR site looks active ({active}); drilling anyway (--force).");
    }
    // From here the drill winds down by itself (teardown) on SIGINT/SIGTERM.
    stop.commit();
    eprintln!(
        "Drill {} of {} in site {} ({}), cluster {}:",
        plan.id,
        project.env_name,
        plan.site,
        plan.region,
        dr_cluster_name(project, &plan.cluster)
    );
    let mut rec = Record {
        format: 1,
        id: plan.id.clone(),
        kind: "drill".into(),
        stack: plan.stack.clone(),
        environment: project.env_name.clone(),
        site: plan.site.clone(),
        region: plan.region.clone(),
        cluster: dr_cluster_name(project, &plan.cluster),
        started: chrono::Utc::now(),
        by: who(),
        skipped: plan
            .skipped
            .iter()
            .map(|(p, r)| Skipped {
                policy: p.clone(),
                reason: r.clone(),
            })
            .collect(),
        ..Record::default()
    };
    for s in &rec.skipped {
        eprintln!("  skip   backup.{}: {}", s.policy, s.reason);
    }
    let sizes = size_store(project, aws);
    crate::drill::run(&plan, &kinds, aws, sizes.as_ref(), stop, &mut rec).await;
    let location = match &project.environment.lock {
        Some(lock) => match record::write(&aws.s3(&lock.region), &lock.bucket, &rec).await {
            Ok(at) => Some(at),
            Err(e) => {
                eprintln!("Warning: could not write the drill record: {e:#}");
                None
            }
        },
        None => {
            eprintln!(
                "Warning: environment {} names no lock bucket: the drill record is only printed.",
                project.env_name
            );
            None
        }
    };
    let total = rec
        .finished
        .map(|f| (f - rec.started).num_milliseconds() as f64 / 1000.0)
        .unwrap_or_default();
    match args.format {
        DrillFormat::Json => print_stdout(&format!("{}\n", serde_json::to_string_pretty(&rec)?))?,
        DrillFormat::Text => print_stdout(&text(&rec))?,
    }
    eprintln!(
        "Drill {} {} in {total:.1}s{}.",
        rec.id,
        rec.outcome,
        location
            .map(|l| format!("; record: {l}"))
            .unwrap_or_default()
    );
    Ok(if rec.outcome == "passed" && rec.cleaned_up {
        exit::OK
    } else {
        exit::ERROR
    })
}

/// Why the DR site looks active: the backup CronJobs DR activation runs there exist.
async fn dr_site_active(
    project: &Project,
    plan: &DrillPlan,
    kinds: &crate::k8s::kinds::Kinds,
) -> anyhow::Result<Option<String>> {
    let served = kinds
        .resolve("batch/v1", "CronJob")
        .await
        .map_err(|e| anyhow!("{e}"))?;
    for c in &plan.components {
        let Some(b) = project.topology.backups.get(&c.policy) else {
            continue;
        };
        let api = api_for(kinds, &served, Some(&b.namespace));
        for kind in ["full", "incremental"] {
            let name = format!("{}-backup-{kind}", object_name(&b.label));
            match api.get_opt(&name).await {
                Ok(Some(_)) => {
                    return Ok(Some(format!(
                        "CronJob {}/{name} runs in its cluster",
                        b.namespace
                    )))
                }
                Ok(None) => {}
                Err(e) => bail!(
                    "reading CronJob {}/{name} in the DR cluster: {e}",
                    b.namespace
                ),
            }
        }
    }
    let active_dr = project
        .topology
        .sites
        .get(&project.environment.active_site)
        .is_some_and(|s| s.role == SiteRole::Dr);
    Ok(active_dr.then(|| "the environment activates it".to_string()))
}

fn text(rec: &Record) -> String {
    let mut out = format!(
        "Drill {} of {} in {} ({}), cluster {}: {}\n",
        rec.id, rec.environment, rec.site, rec.region, rec.cluster, rec.outcome
    );
    for s in &rec.steps {
        let who = s
            .component
            .as_deref()
            .map(|c| format!("{c}: "))
            .unwrap_or_default();
        let estimate = s
            .estimate_seconds
            .map(|e| {
                format!(
                    " (estimate {})",
                    drplan_core::objectives::human_duration(std::time::Duration::from_secs(e))
                )
            })
            .unwrap_or_default();
        out.push_str(&format!(
            "  {:<6} {:>7.1}s  {who}{}{estimate}\n",
            s.outcome, s.seconds, s.what
        ));
        if let Some(d) = &s.detail {
            out.push_str(&format!("                    {d}\n"));
        }
    }
    for s in &rec.skipped {
        out.push_str(&format!("  skipped backup.{}: {}\n", s.policy, s.reason));
    }
    out.push_str(&format!(
        "Cleaned up: {}\n",
        if rec.cleaned_up { "yes" } else { "NO" }
    ));
    out
}

async fn cleanup(project: &Project, aws: &AwsContext) -> anyhow::Result<i32> {
    let dr = project
        .topology
        .sites
        .values()
        .find(|s| s.role == SiteRole::Dr)
        .ok_or_else(|| anyhow!("the topology has no site with role = \"dr\""))?;
    let clusters = Clusters::new(&project.topology, &project.environment, aws);
    let mut total = 0;
    for c in project
        .topology
        .clusters
        .values()
        .filter(|c| c.site == dr.name)
    {
        let kinds = clusters
            .kinds(&format!("cluster.{}", c.label))
            .await
            .map_err(|e| anyhow!("cluster {}: {e:#}", c.label))?;
        let cleaned = crate::drill::cleanup(
            &kinds,
            &aws.eks(&dr.region),
            size_store(project, aws).as_ref(),
            &c.name,
            &project.environment.stack,
        )
        .await?;
        total += cleaned.namespaces.len() + cleaned.node_groups.len();
        print_stdout(&format!(
            "cluster {}: removed {} namespace(s) {:?} with {} object(s); restored {} node group size(s) {:?}\n",
            c.name,
            cleaned.namespaces.len(),
            cleaned.namespaces,
            cleaned.objects,
            cleaned.node_groups.len(),
            cleaned.node_groups
        ))?;
    }
    if total == 0 {
        eprintln!("Nothing left by a drill.");
    }
    Ok(exit::OK)
}

async fn history(project: &Project, format: DrillFormat) -> anyhow::Result<i32> {
    let Some(lock) = &project.environment.lock else {
        bail!(
            "environment {} names no lock bucket, where drill records are kept",
            project.env_name
        );
    };
    let aws = AwsContext::for_project(project).await;
    let records = record::list(
        &aws.s3(&lock.region),
        &lock.bucket,
        &project.environment.stack,
        &project.env_name,
    )
    .await?;
    match format {
        DrillFormat::Json => {
            print_stdout(&format!("{}\n", serde_json::to_string_pretty(&records)?))?
        }
        DrillFormat::Text => {
            if records.is_empty() {
                eprintln!("No drill recorded for {}.", project.env_name);
            }
            for r in &records {
                let restore: Vec<String> = r
                    .steps
                    .iter()
                    .filter(|s| s.step == "restore")
                    .map(|s| {
                        format!(
                            "{} restore {:.1}s",
                            s.component.as_deref().unwrap_or("?"),
                            s.seconds
                        )
                    })
                    .collect();
                let total = r
                    .finished
                    .map(|f| (f - r.started).num_milliseconds() as f64 / 1000.0)
                    .unwrap_or_default();
                let flip = r
                    .recovery_seconds
                    .map(|s| format!("  DNS flip after {s:.1}s"))
                    .unwrap_or_default();
                print_stdout(&format!(
                    "{}  {}  {:<10} {:<8} {:>7.1}s  by {}  {}{flip}\n",
                    r.id,
                    r.started.format("%Y-%m-%d %H:%M UTC"),
                    r.kind,
                    r.outcome,
                    total,
                    r.by,
                    restore.join(", ")
                ))?;
            }
        }
    }
    Ok(exit::OK)
}
