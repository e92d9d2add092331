//! The seed examples against the objectives their runbooks promised (Lanka: Neo4j
//! 1h/1h, overall 2h/1h; Link: 4h/1h, databases 90m/1h).

use drplan_core::objectives::{self, Check, CheckName, ObjectivesReport, Verdict};
use std::path::Path;

fn report(example: &str, env: &str) -> ObjectivesReport {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(example);
    let p = drplan_core::spec::load_project(&root, env)
        .unwrap_or_else(|d| panic!("{example} {env} does not load:\n{}", d.render(false, 100)));
    objectives::for_project(&p)
}

fn check<'a>(r: &'a ObjectivesReport, name: CheckName, component: Option<&str>) -> &'a Check {
    r.checks
        .iter()
        .find(|c| c.name == name && c.component.as_deref() == component)
        .unwrap_or_else(|| {
            panic!(
                "no {name:?} check for {component:?}:\n{}",
                objectives::text::render(r, false)
            )
        })
}

#[test]
fn link_app_meets_its_objectives_in_every_environment() {
    for env in ["staging", "prod", "prod-dr"] {
        let r = report("link-app", env);
        assert!(
            !r.has_failures(),
            "link-app {env}:\n{}",
            objectives::text::render(&r, false)
        );
        assert_eq!(
            check(&r, CheckName::Rpo, Some("postgres")).numbers,
            "longest gap 15m <= RPO 1h"
        );
        // The DR control plane already runs: activation scales the node groups up
        // (4m) and runs the restore Jobs (20m each, in parallel).
        assert_eq!(
            check(&r, CheckName::Rto, None).numbers,
            "estimated DR bring-up 24m <= overall RTO 4h",
            "{env}"
        );
        // The traffic component is the failover flip of both names.
        assert_eq!(
            check(&r, CheckName::Rto, Some("traffic")).numbers,
            "estimated DR bring-up 1m <= RTO 45m",
            "{env}"
        );
    }
}

/// The runbook's objectives, met for the reasons the spec gives: the DR control plane
/// and network already run (pilot light), so activation is the node groups scaled up,
/// Neo4j restored, the API rolled out after it, and the DNS flip.
#[test]
fn lanka_meets_the_runbook_objectives_by_activating_the_pilot_light() {
    for env in ["prod", "prod-dr", "staging"] {
        let r = report("lanka-platform", env);
        let text = objectives::text::render(&r, false);
        assert!(!r.has_failures(), "lanka-platform {env}:\n{text}");
        let app = check(&r, CheckName::Rto, Some("app"));
        assert_eq!(
            app.numbers, "estimated DR bring-up 24m30s <= RTO 30m",
            "{env}:\n{text}"
        );
        let path: Vec<(&str, &str)> = app
            .path
            .iter()
            .map(|s| (s.address.as_str(), s.estimate.as_str()))
            .collect();
        assert_eq!(
            path,
            [
                ("cluster.dr.node_group.data", "aws_eks_node_group_update"),
                ("backup.neo4j.placement.dr.job.restore", "restore_job"),
                (
                    "kubernetes.dr_apps.Deployment.lanka-platform.lanka-platform-api",
                    "kubernetes_object"
                ),
            ],
            "{env}"
        );
        assert_eq!(
            check(&r, CheckName::Rto, Some("neo4j")).numbers,
            "estimated DR bring-up 24m <= RTO 1h"
        );
        assert_eq!(
            check(&r, CheckName::Rto, Some("redis")).numbers,
            "estimated DR bring-up 4m30s <= RTO 15m"
        );
        assert_eq!(
            check(&r, CheckName::Rto, None).numbers,
            "estimated DR bring-up 24m30s <= overall RTO 2h"
        );
    }
}

#[test]
fn lanka_neo4j_meets_one_hour_rpo_with_a_copy_in_the_dr_region() {
    let r = report("lanka-platform", "prod");
    let text = objectives::text::render(&r, false);
    assert_eq!(
        check(&r, CheckName::Rpo, Some("neo4j")).verdict,
        Verdict::Pass,
        "{text}"
    );
    assert_eq!(
        check(&r, CheckName::CrossRegionCopy, Some("neo4j")).verdict,
        Verdict::Pass,
        "{text}"
    );
    // The redis cache (ElastiCache) keeps its daily snapshots in the primary region
    // only, as the spec says (`cross_region = false`): its 24h RPO holds, no breach.
    let redis = check(&r, CheckName::Rpo, Some("redis"));
    assert_eq!(redis.verdict, Verdict::Pass, "{text}");
    assert_eq!(redis.numbers, "automatic snapshots every 24h <= RPO 24h");
    let copy = check(&r, CheckName::CrossRegionCopy, Some("redis"));
    assert_eq!(copy.verdict, Verdict::Pass, "{text}");
    assert_eq!(
        copy.numbers,
        "cache.redis kept in site primary only (snapshot cross_region = false)"
    );
}
