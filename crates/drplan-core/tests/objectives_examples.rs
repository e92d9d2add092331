//! The seed examples against the objectives their runbooks promised (Lanka: Neo4j
//! 1h/1h, overall 2h/1h; Link: 4h/1h, databases 90m/1h).

use drplan_core::objectives::{self, Check, CheckName, Estimates, ObjectivesReport, Verdict};
use std::path::Path;

fn report(example: &str, env: &str) -> ObjectivesReport {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples").join(example);
    let p = drplan_core::spec::load_project(&root, env)
        .unwrap_or_else(|d| panic!("{example} {env} does not load:\n{}", d.render(false, 100)));
    objectives::evaluate(&p.topology, &p.resources, &Estimates::for_topology(&p.topology))
}

fn check<'a>(r: &'a ObjectivesReport, name: CheckName, component: Option<&str>) -> &'a Check {
    r.checks
        .iter()
        .find(|c| c.name == name && c.component.as_deref() == component)
        .unwrap_or_else(|| panic!("no {name:?} check for {component:?}:\n{}", objectives::text::render(r, false)))
}

#[test]
fn link_app_meets_its_objectives_in_every_environment() {
    for env in ["staging", "prod", "prod-dr"] {
        let r = report("link-app", env);
        assert!(!r.has_failures(), "link-app {env}:\n{}", objectives::text::render(&r, false));
        assert_eq!(check(&r, CheckName::Rpo, Some("postgres")).numbers, "longest gap 15m <= RPO 1h");
        // 41m of infrastructure and restore, plus 30s where a Kubernetes object that
        // only the activated environment has (namespace, app) lies on the path.
        let rto = &check(&r, CheckName::Rto, None).numbers;
        assert!(
            rto == "estimated DR bring-up 41m <= overall RTO 4h" || rto == "estimated DR bring-up 41m30s <= overall RTO 4h",
            "link-app {env}: {rto}"
        );
    }
}

#[test]
fn lanka_neo4j_meets_one_hour_rto_and_rpo() {
    let r = report("lanka-platform", "prod");
    let text = objectives::text::render(&r, false);
    assert_eq!(check(&r, CheckName::Rpo, Some("neo4j")).verdict, Verdict::Pass, "{text}");
    assert_eq!(check(&r, CheckName::CrossRegionCopy, Some("neo4j")).verdict, Verdict::Pass, "{text}");
    let rto = check(&r, CheckName::Rto, Some("neo4j"));
    assert_eq!(rto.numbers, "estimated DR bring-up 41m <= RTO 1h", "{text}");
    assert_eq!(rto.path.last().map(|s| s.address.as_str()), Some("backup.neo4j.restore"));
    // The redis cache is backed up locally only, and that is not a breach.
    assert!(!r.checks.iter().any(|c| c.name == CheckName::CrossRegionCopy && c.component.as_deref() == Some("redis")), "{text}");
}
