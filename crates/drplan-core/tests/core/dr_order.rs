//! The order of DR activation and of failback, as the plan states it: the DR backup
//! CronJobs depend on the restore Job of their policy; a failback plan restores DR's
//! data into the primary first, flips DNS back once the primary is ready and scales
//! DR down only after the flip. The live cloud is simulated as what an apply of the
//! other environment left (every desired object, marked with the stack).

use drplan_core::address::Address;
use drplan_core::graph::ResourceGraph;
use drplan_core::live::{LiveObject, LiveState};
use drplan_core::model::Project;
use drplan_core::plan::diff::{diff_with_moves, DiffContext};
use drplan_core::plan::failback::diff_project;
use drplan_core::plan::{Action, Plan, ResourceChange};
use drplan_core::resource::{Kind, Resource};
use std::path::PathBuf;

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

fn load(project: &str, env: &str) -> Project {
    drplan_core::spec::load_project(&repo(project), env)
        .unwrap_or_else(|d| panic!("{}", d.render(false, 100)))
}

/// What an apply of `applied` leaves in the cloud: each of its resources, marked.
fn live_after(applied: &Project) -> LiveState {
    let objects = applied.resources.iter().map(live_object).collect();
    LiveState {
        objects,
        ..LiveState::default()
    }
}

fn live_object(r: &Resource) -> LiveObject {
    LiveObject {
        kind: r.kind,
        id: r.address.to_string(),
        region: r.region.clone(),
        address: Some(r.address.clone()),
        stack: Some("shop".into()),
        attrs: r.attrs.clone(),
    }
}

fn ctx(project: &Project) -> DiffContext {
    DiffContext {
        stack: project.environment.stack.clone(),
        environment: project.env_name.clone(),
        ..DiffContext::default()
    }
}

fn stacked(mut live: LiveState, stack: &str) -> LiveState {
    for o in &mut live.objects {
        o.stack = Some(stack.to_string());
    }
    live
}

fn change<'a>(plan: &'a Plan, address: &str) -> &'a ResourceChange {
    plan.changes
        .iter()
        .find(|c| c.address.as_str() == address)
        .unwrap_or_else(|| panic!("no change for {address}"))
}

fn addresses(list: &[Address]) -> Vec<&str> {
    list.iter().map(Address::as_str).collect()
}

const PROJECTS: [(&str, &str); 3] = [
    (".", "shop"),
    ("examples/lanka-platform", "lanka-platform"),
    ("examples/link-app", "link-app"),
];

#[test]
fn dr_backup_cronjobs_depend_on_the_restore_job_of_their_policy() {
    for (project, _) in PROJECTS {
        let dr = load(project, "prod-dr");
        let restores: Vec<&Resource> = dr
            .resources
            .iter()
            .filter(|r| r.address.as_str().ends_with(".job.restore"))
            .collect();
        assert!(
            !restores.is_empty(),
            "{project}: DR activation restores nothing"
        );
        let graph = ResourceGraph::new(&dr.resources).expect("the activation graph is acyclic");
        for restore in restores {
            let placement = restore.address.as_str().trim_end_matches(".job.restore");
            let cronjobs: Vec<&Resource> = dr
                .resources
                .iter()
                .filter(|r| {
                    r.address
                        .as_str()
                        .starts_with(&format!("{placement}.cronjob."))
                })
                .collect();
            assert!(
                !cronjobs.is_empty(),
                "{project}: {placement} has no CronJob"
            );
            for c in cronjobs {
                assert!(
                    c.depends_on.contains(&restore.address),
                    "{project}: {} does not wait for {}",
                    c.address,
                    restore.address
                );
                let dependents: Vec<&str> = graph
                    .dependents(&restore.address)
                    .iter()
                    .map(|r| r.address.as_str())
                    .collect();
                assert!(
                    dependents.contains(&c.address.as_str()),
                    "{project}: graph edge {} -> {} missing",
                    restore.address,
                    c.address
                );
            }
        }
        // In normal operation there is no restore to wait for.
        let prod = load(project, "prod");
        for c in prod
            .resources
            .iter()
            .filter(|r| r.address.as_str().contains(".cronjob."))
        {
            assert!(
                !c.depends_on.iter().any(|d| d.as_str().contains(".job.")),
                "{project}: {} waits for a Job in prod",
                c.address
            );
        }
    }
}

#[test]
fn a_plan_that_is_no_failback_is_the_plain_diff() {
    for (project, stack) in PROJECTS {
        let prod = load(project, "prod");
        let dr = load(project, "prod-dr");
        // Converged prod; DR activation from prod; prod from an empty cloud.
        for (planned, live) in [
            (&prod, live_after(&prod)),
            (&dr, live_after(&prod)),
            (&prod, LiveState::default()),
        ] {
            let live = stacked(live, stack);
            let plain = diff_with_moves(&planned.resources, &live, &ctx(planned), &planned.moved);
            let plan = diff_project(planned, &live, &ctx(planned));
            assert_eq!(plan, plain, "{project} -e {}", planned.env_name);
            assert!(plan.changes.iter().all(|c| c.wait_for.is_empty()));
        }
    }
}

/// The failback of lanka-platform: prod planned over what prod-dr left.
fn lanka_failback() -> (Project, LiveState, Plan) {
    let prod = load("examples/lanka-platform", "prod");
    let live = stacked(
        live_after(&load("examples/lanka-platform", "prod-dr")),
        "lanka-platform",
    );
    let plan = diff_project(&prod, &live, &ctx(&prod));
    (prod, live, plan)
}

#[test]
fn a_failback_restores_the_data_dr_wrote_into_the_primary_first() {
    let (prod, _, plan) = lanka_failback();
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    let restore = change(&plan, "backup.neo4j.placement.primary.job.failback");
    assert_eq!(restore.action, Action::Create);
    let after = restore.after.as_ref().expect("created");
    assert_eq!(after["cluster"], "cluster.primary");
    assert_eq!(after["kind"], "Job");
    assert_eq!(after["name"], "neo4j-failback-restore");
    // It reads the newest full backup from the bucket DR's CronJobs wrote to.
    let dr_bucket = &prod.topology.buckets["backups_dr"];
    let fetch =
        after["manifest"]["spec"]["template"]["spec"]["initContainers"][0]["env"].to_string();
    assert!(
        fetch.contains(&format!("s3://{}/neo4j/full/", dr_bucket.name)),
        "{fetch}"
    );
    assert!(fetch.contains("us-east-1"), "{fetch}");
    // Redis was never restored in DR, so nothing comes back for it.
    assert!(!plan
        .changes
        .iter()
        .any(|c| c.address.as_str() == "backup.redis.placement.primary.job.failback"));

    // The primary's backups and the API wait for it: a backup of the stale graph must
    // not become the newest, and the API must not serve it.
    for cronjob in [
        "backup.neo4j.placement.primary.cronjob.full",
        "backup.neo4j.placement.primary.cronjob.incremental",
    ] {
        let c = change(&plan, cronjob);
        assert_eq!(c.action, Action::Create, "{cronjob}");
        assert!(
            c.depends_on.contains(&restore.address),
            "{cronjob}: {:?}",
            c.depends_on
        );
    }
    let api = plan
        .changes
        .iter()
        .find(|c| {
            c.address
                .as_str()
                .starts_with("kubernetes.primary_apps.Deployment.")
        })
        .expect("the API returns");
    assert_eq!(api.action, Action::Create);
    assert!(
        api.depends_on.contains(&restore.address),
        "{:?}",
        api.depends_on
    );
    assert!(api.depends_on.contains(&Address::new(
        "backup.app_config.placement.primary.job.failback"
    )));
}

#[test]
fn a_failback_flips_dns_after_the_primary_is_ready_and_scales_dr_down_after_the_flip() {
    let (_, _, plan) = lanka_failback();
    let flips: Vec<&ResourceChange> = plan
        .changes
        .iter()
        .filter(|c| c.kind == Kind::DnsRecord && c.action == Action::Update)
        .collect();
    assert_eq!(flips.len(), 2, "both failover records change role");
    let flip_addresses: Vec<Address> = flips.iter().map(|c| c.address.clone()).collect();
    let primary_ready: Vec<&str> = plan
        .changes
        .iter()
        .filter(|c| {
            c.site.as_deref() == Some("primary")
                && matches!(c.action, Action::Create | Action::Update | Action::Replace)
        })
        .map(|c| c.address.as_str())
        .collect();
    assert!(primary_ready.contains(&"backup.neo4j.placement.primary.job.failback"));
    assert!(primary_ready
        .iter()
        .any(|a| a.starts_with("kubernetes.primary_apps.Deployment.")));
    for flip in &flips {
        assert_eq!(addresses(&flip.wait_for), primary_ready, "{}", flip.address);
    }
    // DR's scale-down: node groups back to pilot-light size, DR-only objects deleted.
    let scale_down: Vec<&ResourceChange> = plan
        .changes
        .iter()
        .filter(|c| {
            c.site.as_deref() == Some("dr") && matches!(c.action, Action::Update | Action::Delete)
        })
        .collect();
    for expected in [
        "cluster.dr.node_group.general",
        "backup.neo4j.placement.dr.job.restore",
        "backup.neo4j.placement.dr.cronjob.full",
    ] {
        assert!(
            scale_down.iter().any(|c| c.address.as_str() == expected),
            "{expected} is not scaled down"
        );
    }
    assert!(scale_down.iter().any(
        |c| c.address.as_str().starts_with("kubernetes.dr_apps.") && c.action == Action::Delete
    ));
    for c in &scale_down {
        assert_eq!(
            c.wait_for, flip_addresses,
            "{} must wait for the DNS flip",
            c.address
        );
    }
    // Nothing else is ordered by the failback.
    for c in &plan.changes {
        if !flips.iter().any(|f| f.address == c.address)
            && !scale_down.iter().any(|s| s.address == c.address)
        {
            assert!(
                c.wait_for.is_empty(),
                "{} waits for {:?}",
                c.address,
                c.wait_for
            );
        }
    }
}

#[test]
fn the_failback_chain_runs_restore_then_workloads_then_dns_then_dr_scale_down() {
    let (_, _, plan) = lanka_failback();
    // Every edge the apply walk follows, as (before, after).
    let active: Vec<&ResourceChange> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .collect();
    let edges = |c: &ResourceChange| -> Vec<Address> {
        c.depends_on
            .iter()
            .chain(&c.wait_for)
            .filter(|d| active.iter().any(|a| a.address == **d))
            .cloned()
            .collect()
    };
    let after = |a: &str, b: &str| -> bool {
        // b is reachable from a through the plan's edges (b waits, transitively, on a).
        let mut stack = vec![Address::new(b)];
        let mut seen = std::collections::BTreeSet::new();
        while let Some(x) = stack.pop() {
            if x.as_str() == a {
                return true;
            }
            if seen.insert(x.clone()) {
                if let Some(c) = active.iter().find(|c| c.address == x) {
                    stack.extend(edges(c));
                }
            }
        }
        false
    };
    let api = plan
        .changes
        .iter()
        .find(|c| {
            c.address
                .as_str()
                .starts_with("kubernetes.primary_apps.Deployment.")
        })
        .expect("api");
    let chain = [
        "backup.neo4j.placement.primary.job.failback",
        api.address.as_str(),
        "dns.api.target.primary",
        "cluster.dr.node_group.general",
    ];
    for pair in chain.windows(2) {
        assert!(
            after(pair[0], pair[1]),
            "{} does not wait for {}",
            pair[1],
            pair[0]
        );
        assert!(
            !after(pair[1], pair[0]),
            "{} waits for {}",
            pair[0],
            pair[1]
        );
    }
    assert!(after(
        "dns.api.target.dr",
        "backup.neo4j.placement.dr.job.restore"
    ));
}

#[test]
fn after_a_failback_the_plan_is_empty_and_the_next_failback_restores_again() {
    let (prod, live, plan) = lanka_failback();
    let restore = change(&plan, "backup.neo4j.placement.primary.job.failback");
    // What the failback apply leaves: prod, plus the failback restore Jobs it ran.
    let record: Vec<LiveObject> = plan
        .changes
        .iter()
        .filter(|c| c.address.as_str().ends_with(".job.failback"))
        .map(|c| LiveObject {
            kind: c.kind,
            id: c.address.to_string(),
            region: c.region.clone(),
            address: Some(c.address.clone()),
            stack: Some("lanka-platform".into()),
            attrs: c.after.clone().expect("created"),
        })
        .collect();
    assert_eq!(record.len(), 2, "neo4j and app_config");
    let mut after_failback = stacked(live_after(&prod), "lanka-platform");
    after_failback.objects.extend(record.iter().cloned());
    let converged = diff_project(&prod, &after_failback, &ctx(&prod));
    let pending: Vec<String> = converged
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| format!("{:?} {}", c.action, c.address))
        .collect();
    assert!(
        pending.is_empty(),
        "the failback record is no drift: {pending:?}"
    );
    assert!(converged.errors.is_empty(), "{:?}", converged.errors);

    // Activating DR again keeps the record (no delete planned for it)...
    let dr = load("examples/lanka-platform", "prod-dr");
    let activation = diff_project(&dr, &after_failback, &ctx(&dr));
    assert!(!activation
        .changes
        .iter()
        .any(|c| c.address == restore.address));
    // ...and the next failback runs its restore again.
    let mut second = live.clone();
    second.objects.extend(record);
    let again = diff_project(&prod, &second, &ctx(&prod));
    assert_eq!(
        change(&again, restore.address.as_str()).action,
        Action::Replace
    );
}
