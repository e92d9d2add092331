//! Making a plan: load the project, read the live cloud and clusters, diff, evaluate
//! the objectives. Shared by `plan`, `drift`, `apply` and `promote`.

use crate::aws::{AwsContext, Service};
use crate::k8s::client::ClientError;
use crate::k8s::clusters::{self, Connection};
use crate::live::{read_live, ReadScope};
use drplan_core::address::Address;
use drplan_core::live::{LiveState, Unreachable};
use drplan_core::model::{Project, SiteRole, Topology};
use drplan_core::objectives::{self, ObjectivesReport};
use drplan_core::plan::diff::DiffContext;
use drplan_core::plan::failback;
use drplan_core::plan::Plan;
use drplan_core::resource::Kind;
use std::collections::BTreeSet;
use std::time::Instant;

pub struct Planned {
    pub project: Project,
    pub plan: Plan,
    /// The objectives with what the plan read live folded in (`objectives::evidence`):
    /// what plan and drift show and gate on.
    pub objectives: ObjectivesReport,
    /// The objectives of the spec alone: what apply gates on, since applying makes the
    /// live backup machinery match the spec (a breach it repairs must not block it).
    pub spec_objectives: ObjectivesReport,
    pub live: LiveState,
}

pub struct PlanRequest<'a> {
    pub allow_destroy: &'a [String],
    /// `--target`: only these addresses and what they depend on (`plan::target`).
    pub targets: &'a [String],
    /// `--replace`: destroy and create these again.
    pub replace: &'a [String],
    pub verbose: bool,
    /// Read the evidence for the objectives (recovery points, drill records, DR
    /// readiness); without it they rest on the spec and the plan's own diff.
    pub evidence: bool,
}

/// Reads everything the project manages and diffs it. Progress goes to stderr.
pub async fn make_plan(
    project: Project,
    aws: &AwsContext,
    req: &PlanRequest<'_>,
) -> anyhow::Result<Planned> {
    let started = Instant::now();
    let env = &project.environment;
    let caller = aws.check_account(env.account_id.as_deref()).await?;
    if req.verbose {
        // Debugging an AWS error starts with: who, where, against what.
        let caller = match caller {
            Some(c) => Ok(c),
            None => aws.caller_identity().await,
        };
        eprintln!(
            "Caller: {}; default region {}; endpoint {}.",
            caller
                .map(|c| c.to_string())
                .unwrap_or_else(|e| format!("unknown ({e})")),
            aws.default_region().unwrap_or("(none)"),
            aws.endpoint_override().unwrap_or("AWS")
        );
    }

    // The other evaluation (normal operation or DR activation), loaded once: the RTO
    // and DR-readiness checks compare the two.
    let loaded = objectives::Loaded::load(&project);
    let (normal, activated) = loaded.pair(&project);
    let readiness_items = if req.evidence {
        objectives::readiness::items(normal, activated)
    } else {
        Vec::new()
    };
    let mut scope = ReadScope::from_resources(&env.stack, &project.resources)
        .with_imports(&project.imports, &project.resources);
    // Every site's region, even one whose last block left the spec: what is marked
    // for the stack there is an orphan to plan (or a removed block's to forget).
    scope
        .regions
        .extend(project.topology.sites.values().map(|s| s.region.clone()));
    eprintln!(
        "Reading live state: {} regions, {} managed objects in the spec...",
        scope.regions.len(),
        project.resources.len()
    );
    // Clusters are read after AWS: a cluster that does not exist yet has no API to
    // read, and its objects plan as creates.
    let (mut live, inflight) = tokio::join!(read_live(aws, &scope), read_inflight(&project, aws));
    live.inflight = inflight;
    live.resolve_imported_ids(&project.imports);
    // Beside the clusters: the recovery points the backup Jobs recorded (one request
    // per policy, bucket and kind), the restores recent drills measured, and what a
    // failover needs that drplan does not manage (keys, roles, instance types).
    let (k8s_live, recovery_points, measured, readiness) = tokio::join!(
        read_clusters(&project, aws, &live),
        async {
            if req.evidence {
                crate::live::recovery_points::read(&project, aws, &live.unreachable).await
            } else {
                Vec::new()
            }
        },
        async {
            if req.evidence {
                measured_durations(&project, aws, &live).await
            } else {
                Default::default()
            }
        },
        crate::live::readiness::read(
            &readiness_items,
            aws,
            env.account_id.as_deref(),
            &live.unreachable
        )
    );
    let k8s_calls = k8s_live.api_calls;
    live.merge(k8s_live);
    // Read in the desired form now: what equals the spec shares its attributes
    // instead of holding a second copy (BENCHMARKS.md, section 10).
    let converged = live.share_converged(&scope.desired);
    name_sites(&project.topology, &mut live.unreachable);
    for u in &live.unreachable {
        eprintln!("Unreachable: {}", u.reason());
    }

    if req.verbose {
        let by_service = aws
            .api_calls_by_service()
            .into_iter()
            .map(|(s, n)| format!("{s}={n}"))
            .collect::<Vec<_>>()
            .join(" ");
        eprintln!(
            "Read {} live objects with {} API calls ({by_service}, kubernetes={}) in {:.2}s; {converged} as the spec has them.",
            live.objects.len(),
            live.api_calls,
            k8s_calls,
            started.elapsed().as_secs_f64()
        );
    }

    let ctx = DiffContext {
        stack: env.stack.clone(),
        environment: project.env_name.clone(),
        spec_digest: project.digest.clone(),
        allow_destroy: req
            .allow_destroy
            .iter()
            .map(|a| Address::new(a.as_str()))
            .collect(),
        activated_site: project
            .topology
            .sites
            .get(&env.active_site)
            .filter(|s| s.role == SiteRole::Dr)
            .map(|s| s.name.clone()),
        imports: project.imports.clone(),
        removed: project.removed.clone(),
        site_regions: project
            .topology
            .sites
            .values()
            .map(|s| (s.region.clone(), s.name.clone()))
            .collect(),
        replace: req
            .replace
            .iter()
            .map(|a| Address::new(a.as_str()))
            .collect(),
    };
    // A failback (DR still active in live) is ordered: `plan::failback`.
    let mut plan = failback::diff_project(&project, &live, &ctx);
    for (address, message) in drplan_core::plan::target::replace_problems(&plan, &ctx.replace) {
        plan.errors.push(drplan_core::plan::PlanError {
            address,
            message,
            help: Some("--replace names an object of the spec that exists: see `drplan plan` for the addresses".into()),
        });
    }
    let targets: Vec<Address> = req
        .targets
        .iter()
        .map(|a| Address::new(a.as_str()))
        .collect();
    drplan_core::plan::target::restrict(&mut plan, &targets).map_err(anyhow::Error::msg)?;
    let spec_objectives = objectives::for_project_loaded(&project, &loaded, measured);
    // What the plan read bears on the verdicts: the backup CronJobs, the copy path.
    let mut objectives = spec_objectives.clone();
    objectives::evidence::apply(&mut objectives, &project, &plan, &live);
    if req.evidence {
        objectives::recovery_points::apply(
            &mut objectives,
            &project,
            &recovery_points,
            chrono::Utc::now(),
        );
        objectives::readiness::apply(
            &mut objectives,
            normal,
            activated,
            &readiness_items,
            &readiness,
            &live,
        );
    }
    Ok(Planned {
        project,
        plan,
        objectives,
        spec_objectives,
        live,
    })
}

/// The restores and node-group scale-ups recent drills and DR activations measured,
/// read from the records beside the lock: they replace the estimates on the RTO path.
async fn measured_durations(
    project: &Project,
    aws: &AwsContext,
    live: &LiveState,
) -> objectives::MeasuredDurations {
    let Some(lock) = &project.environment.lock else {
        return Default::default();
    };
    if !objectives::rto::wanted(&project.topology)
        || live
            .unreachable
            .iter()
            .any(|u| u.service == "s3" && u.region.as_deref() == Some(lock.region.as_str()))
    {
        return Default::default();
    }
    let t = &project.topology;
    let dr_clusters: Vec<String> = t
        .clusters
        .values()
        .filter(|c| t.sites.get(&c.site).is_some_and(|s| s.role == SiteRole::Dr))
        .map(|c| c.name.clone())
        .collect();
    crate::drill::record::measured(
        &aws.s3(&lock.region),
        &lock.bucket,
        &project.environment.stack,
        &dr_clusters,
        chrono::Utc::now(),
    )
    .await
}

/// The write-ahead records of creates an interrupted apply left (`crate::inflight`).
/// Unreadable records only cost adoption: an unmarked object is then refused, as it
/// would be without them, so this warns and plans on.
async fn read_inflight(
    project: &Project,
    aws: &AwsContext,
) -> Vec<drplan_core::live::InflightCreate> {
    let Some(lock) = &project.environment.lock else {
        return Vec::new();
    };
    match crate::inflight::read(
        &aws.s3(&lock.region),
        &lock.bucket,
        &project.environment.stack,
    )
    .await
    {
        Ok(records) => records,
        Err(e) => {
            eprintln!(
                "Warning: could not read the records of creates in flight in s3://{}: {e:#}",
                lock.bucket
            );
            Vec::new()
        }
    }
}

/// Reads the Kubernetes objects of every cluster the spec puts objects in. A cluster
/// that does not exist yet contributes nothing: its objects plan as creates.
async fn read_clusters(project: &Project, aws: &AwsContext, aws_live: &LiveState) -> LiveState {
    let (connected, mut state) = connect_clusters(project, aws, aws_live).await;
    let read = clusters::read_all(&connected, &project.environment.stack, &project.resources).await;
    state.merge(read);
    state
}

/// A connection to every cluster of the topology whose EKS cluster exists in
/// `aws_live`; the clusters that could not be reached are in the returned state.
pub async fn connect_clusters(
    project: &Project,
    aws: &AwsContext,
    aws_live: &LiveState,
) -> (Vec<clusters::Connected>, LiveState) {
    let existing: BTreeSet<String> = aws_live
        .objects
        .iter()
        .filter(|o| o.kind == Kind::EksCluster)
        .filter_map(|o| {
            o.attrs
                .get("name")
                .and_then(|v| v.as_str())
                .map(str::to_string)
        })
        .collect();
    // Every cluster of the topology, not only those with desired objects: a cluster
    // whose objects all left the spec (DR deactivated) still holds orphans to prune.
    let labels: BTreeSet<String> = project.topology.clusters.keys().cloned().collect();
    let mut connected = Vec::new();
    let mut state = LiveState::default();
    for label in labels {
        let region = project
            .topology
            .clusters
            .get(&label)
            .and_then(|c| project.topology.sites.get(&c.site))
            .map(|s| s.region.clone());
        // Its region's EKS did not answer: whether the cluster exists is unknown, and
        // so is everything in it.
        let eks_lost = aws_live.unreachable.iter().find(|u| {
            u.cluster.is_none() && u.service == Service::Eks.name() && u.region == region
        });
        if let Some(lost) = eks_lost {
            state.unreachable.push(Unreachable {
                site: None,
                region: region.clone(),
                service: "kubernetes".into(),
                cluster: Some(Address::block("cluster", &label)),
                cause: lost.cause,
                detail: format!("not tried: {} did not answer", lost.place()),
            });
            continue;
        }
        let exists = project
            .topology
            .clusters
            .get(&label)
            .is_some_and(|c| existing.contains(&c.name));
        if !exists {
            continue;
        }
        let eks = region.as_deref().map(|r| aws.eks(r));
        let conn = clusters::connect(
            &project.topology,
            &project.environment,
            &label,
            eks.as_ref()
                .zip(region.as_deref())
                .map(|(c, r)| (c, aws.sdk_config_for(r))),
        )
        .await;
        match conn {
            Ok(Connection::Ready(c)) => connected.push(c),
            Ok(Connection::Absent) => {}
            Err(ClientError::Unreachable { cause, detail, .. }) => {
                state.unreachable.push(Unreachable {
                    site: None,
                    region: region.clone(),
                    service: "kubernetes".into(),
                    cluster: Some(Address::block("cluster", &label)),
                    cause,
                    detail,
                })
            }
            Err(e) => state.read_errors.push(drplan_core::live::ReadError::new(
                format!("cluster.{label}"),
                e.to_string(),
            )),
        }
    }
    (connected, state)
}

/// Names the spec site of each place that did not answer: a cluster's site, else the
/// site in that region.
fn name_sites(topology: &Topology, unreachable: &mut Vec<Unreachable>) {
    for u in unreachable.iter_mut() {
        let by_cluster = u.cluster.as_ref().and_then(|c| {
            let label = c.as_str().strip_prefix("cluster.")?;
            topology.clusters.get(label).map(|c| c.site.clone())
        });
        let by_region = || {
            topology
                .sites
                .values()
                .find(|s| Some(s.region.as_str()) == u.region.as_deref())
                .map(|s| s.name.clone())
        };
        u.site = by_cluster.or_else(by_region);
    }
    unreachable.sort();
    unreachable.dedup();
}
