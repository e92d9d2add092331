//! Objective checks on small projects loaded through the spec loader: each check
//! passing and failing with the numbers a user reads.

use drplan_core::model::Project;
use drplan_core::objectives::{
    self, Activation, CheckName, Estimates, Gate, ObjectivesReport, Verdict,
};
use drplan_core::resource::Kind;
use std::collections::BTreeMap;
use std::ops::Deref;
use std::time::Duration;

const SITES: &str = r#"
site "primary" {
  region = "us-west-2"
}
site "dr" {
  region = "us-east-1"
  role   = "dr"
}

network "primary" {
  site = site.primary
  cidr = "10.0.0.0/16"
  subnet "private-a" {
    availability_zone = "us-west-2a"
    cidr              = "10.0.0.0/20"
  }
}
network "dr" {
  site = site.dr
  cidr = "10.1.0.0/16"
  subnet "private-a" {
    availability_zone = "us-east-1a"
    cidr              = "10.1.0.0/20"
  }
}

cluster "primary" {
  site     = site.primary
  version  = "1.29"
  network  = network.primary
  role_arn = "arn:aws:iam::123456789012:role/eks-cluster"
  node_group "general" {
    instance_types = ["m5.large"]
    min_size       = 1
    desired_size   = 2
    max_size       = 4
    node_role_arn  = "arn:aws:iam::123456789012:role/eks-node"
  }
}
cluster "dr" {
  site     = site.dr
  version  = "1.29"
  network  = network.dr
  role_arn = "arn:aws:iam::123456789012:role/eks-cluster"
  node_group "general" {
    instance_types = ["m5.large"]
    min_size       = 0
    desired_size   = site.dr.active ? 2 : 0
    max_size       = 4
    node_role_arn  = "arn:aws:iam::123456789012:role/eks-node"
  }
}
"#;

const BUCKETS: &str = r#"
bucket "backups" {
  site = site.primary
  name = "lanka-test-backups"
}
bucket "backups_dr" {
  site = site.dr
  name = "lanka-test-backups-dr"
}
"#;

const REPLICATION: &str =
    r#"replication_role_arn = "arn:aws:iam::123456789012:role/s3-replication""#;

fn neo4j_backup(schedules: &str, replication: &str) -> String {
    format!(
        r#"
backup "neo4j" {{
  engine    = "neo4j"
  namespace = "lanka-platform"
  prefix    = "neo4j/"
  {schedules}
  retention {{
    local        = "30d"
    cross_region = "90d"
  }}
  placement "primary" {{
    cluster = cluster.primary
    bucket  = bucket.backups
  }}
  placement "dr" {{
    cluster = cluster.dr
    bucket  = bucket.backups_dr
  }}
  {replication}
}}
"#
    )
}

const DAILY_FULL: &str = r#"full { schedule = "0 2 * * *" }"#;
const DAILY_FULL_HOURLY_INCREMENTAL: &str = r#"full { schedule = "0 2 * * *" }
  incremental { schedule = "0 * * * *" }"#;

fn objectives_block(neo4j_rto: &str) -> String {
    format!(
        r#"
objectives {{
  rto = "2h"
  rpo = "1h"

  component "neo4j" {{
    rto       = "{neo4j_rto}"
    rpo       = "1h"
    resources = [backup.neo4j, cluster.dr]
  }}
  # No RPO: the cache is rebuilt.
  component "redis" {{
    rto       = "15m"
    resources = [cluster.dr]
  }}
}}
"#
    )
}

/// A loaded project and the folder it lives in: the RTO check loads the environment
/// a second time (with the DR site active), so the files must outlive the load.
struct Loaded {
    _dir: tempfile::TempDir,
    project: Project,
}

impl Deref for Loaded {
    type Target = Project;
    fn deref(&self) -> &Project {
        &self.project
    }
}

/// Writes a project (one spec file per entry) and loads it for `prod`.
fn load(specs: &[(&str, String)]) -> Loaded {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("specs")).expect("mkdir specs");
    std::fs::create_dir_all(dir.path().join("environments")).expect("mkdir environments");
    for (name, text) in specs {
        std::fs::write(dir.path().join("specs").join(name), text).expect("write spec");
    }
    std::fs::write(
        dir.path().join("environments/prod.hcl"),
        "stack = \"lanka-test\"\n",
    )
    .expect("write env");
    match drplan_core::spec::load_project(dir.path(), "prod") {
        Ok(project) => Loaded { _dir: dir, project },
        Err(d) => panic!("fixture does not load:\n{}", d.render(false, 100)),
    }
}

fn project(backup: String, objectives: String) -> Loaded {
    load(&[
        ("sites.hcl", SITES.to_string()),
        ("buckets.hcl", BUCKETS.to_string()),
        ("backups.hcl", backup),
        ("objectives.hcl", objectives),
    ])
}

fn evaluate(p: &Project) -> ObjectivesReport {
    objectives::for_project(p)
}

fn find<'a>(
    r: &'a ObjectivesReport,
    name: CheckName,
    component: Option<&str>,
) -> &'a objectives::Check {
    r.checks
        .iter()
        .find(|c| c.name == name && c.component.as_deref() == component)
        .unwrap_or_else(|| panic!("no {name:?} check for {component:?} in {:#?}", r.checks))
}

#[test]
fn daily_full_backup_breaks_a_one_hour_rpo() {
    let p = project(
        neo4j_backup(DAILY_FULL, REPLICATION),
        objectives_block("1h"),
    );
    let r = evaluate(&p);
    let c = find(&r, CheckName::Rpo, Some("neo4j"));
    assert_eq!(c.verdict, Verdict::Fail);
    assert_eq!(c.numbers, "longest gap 24h > RPO 1h");
    assert_eq!(c.measured_seconds, Some(86_400));
    let src = c.source.as_ref().expect("source");
    assert_eq!(src.file, "specs/backups.hcl");
    assert_eq!(r.gate(false), Gate::Breached);
    assert_eq!(r.gate(true), Gate::BreachAllowed);
}

#[test]
fn hourly_incremental_meets_a_one_hour_rpo() {
    let p = project(
        neo4j_backup(DAILY_FULL_HOURLY_INCREMENTAL, REPLICATION),
        objectives_block("1h"),
    );
    let r = evaluate(&p);
    let c = find(&r, CheckName::Rpo, Some("neo4j"));
    assert_eq!(c.verdict, Verdict::Pass);
    assert_eq!(c.numbers, "longest gap 1h <= RPO 1h");
    assert_eq!(
        c.details,
        vec![r#"full "0 2 * * *""#, r#"incremental "0 * * * *""#]
    );
}

#[test]
fn a_component_without_rpo_is_not_measured_and_one_without_backup_fails() {
    let objectives = r#"
objectives {
  rpo = "1h"
  component "neo4j" {
    rpo = "1h"
  }
  component "redis" {
    rto = "15m"
  }
  component "postgres" {
    rpo = "15m"
  }
}
"#;
    let p = project(
        neo4j_backup(DAILY_FULL_HOURLY_INCREMENTAL, REPLICATION),
        objectives.to_string(),
    );
    let r = evaluate(&p);
    assert!(!r
        .checks
        .iter()
        .any(|c| c.name == CheckName::Rpo && c.component.as_deref() == Some("redis")));
    let c = find(&r, CheckName::Rpo, Some("postgres"));
    assert_eq!(c.verdict, Verdict::Fail);
    assert_eq!(c.numbers, "no backup policy, RPO 15m");
    assert_eq!(
        c.source.as_ref().map(|s| s.file.as_str()),
        Some("specs/objectives.hcl")
    );
}

#[test]
fn a_policy_without_component_rpo_is_held_to_the_overall_rpo() {
    let objectives = r#"
objectives {
  rpo = "30m"
}
"#;
    let p = project(
        neo4j_backup(DAILY_FULL_HOURLY_INCREMENTAL, REPLICATION),
        objectives.to_string(),
    );
    let c = find(&evaluate(&p), CheckName::Rpo, Some("neo4j")).clone();
    assert_eq!(c.verdict, Verdict::Fail);
    assert_eq!(c.numbers, "longest gap 1h > overall RPO 30m");
}

#[test]
fn longest_gap_takes_the_union_of_schedules() {
    let gap = |crons: &[&str]| objectives_gap(crons);
    assert_eq!(gap(&["0 2 * * *"]), "24h");
    assert_eq!(gap(&["0 2 * * *", "0 */6 * * *"]), "6h");
    assert_eq!(gap(&["*/15 * * * *"]), "15m");
    // Weekly: Sunday 03:00 (the window starts on a Monday, so it must wrap).
    assert_eq!(gap(&["0 3 * * 0"]), "168h");
    // Weekdays only: Friday 01:00 to Monday 01:00.
    assert_eq!(gap(&["0 1 * * 1-5"]), "72h");
    // 1st and 15th: the long stretch is the end of a 31-day month.
    assert_eq!(gap(&["0 0 1,15 * *"]), "408h");
}

fn objectives_gap(crons: &[&str]) -> String {
    let schedules: String = crons
        .iter()
        .enumerate()
        .map(|(i, c)| {
            format!(
                "{} {{ schedule = \"{c}\" }}\n",
                if i == 0 { "full" } else { "incremental" }
            )
        })
        .collect();
    let p = project(
        neo4j_backup(&schedules, REPLICATION),
        "objectives {\n  rpo = \"1h\"\n}\n".to_string(),
    );
    let c = find(&evaluate(&p), CheckName::Rpo, Some("neo4j")).clone();
    objectives::human_duration(Duration::from_secs(c.measured_seconds.expect("a gap")))
}

#[test]
fn replicated_backups_pass_the_cross_region_check() {
    let p = project(
        neo4j_backup(DAILY_FULL_HOURLY_INCREMENTAL, REPLICATION),
        objectives_block("1h"),
    );
    let c = find(&evaluate(&p), CheckName::CrossRegionCopy, Some("neo4j")).clone();
    assert_eq!(c.verdict, Verdict::Pass);
    assert_eq!(c.numbers, "kept 90d >= cross_region retention 90d");
    assert_eq!(
        c.details,
        vec!["bucket.backups -> bucket.backups_dr in site dr (replication rule drplan-backup-neo4j, prefix neo4j/)"]
    );
}

#[test]
fn removing_replication_fails_the_cross_region_check() {
    let p = project(
        neo4j_backup(DAILY_FULL_HOURLY_INCREMENTAL, ""),
        objectives_block("1h"),
    );
    let r = evaluate(&p);
    let c = find(&r, CheckName::CrossRegionCopy, Some("neo4j"));
    assert_eq!(c.verdict, Verdict::Fail);
    assert_eq!(
        c.numbers,
        "no copy outside site primary: bucket.backups does not replicate neo4j/"
    );
    assert!(r.has_failures());
}

#[test]
fn a_bucket_replication_block_covering_the_prefix_counts() {
    let buckets = r#"
bucket "backups" {
  site = site.primary
  name = "lanka-test-backups"
  replication {
    role_arn    = "arn:aws:iam::123456789012:role/s3-replication"
    destination = bucket.backups_dr
  }
}
bucket "backups_dr" {
  site = site.dr
  name = "lanka-test-backups-dr"
}
"#;
    let p = load(&[
        ("sites.hcl", SITES.to_string()),
        ("buckets.hcl", buckets.to_string()),
        (
            "backups.hcl",
            neo4j_backup(DAILY_FULL_HOURLY_INCREMENTAL, ""),
        ),
        ("objectives.hcl", objectives_block("1h")),
    ]);
    let c = find(&evaluate(&p), CheckName::CrossRegionCopy, Some("neo4j")).clone();
    assert_eq!(c.verdict, Verdict::Pass, "{c:#?}");
    assert!(
        c.details[0].starts_with("bucket.backups -> bucket.backups_dr in site dr"),
        "{:?}",
        c.details
    );
    assert!(c.details[0].ends_with("everything)"), "{:?}", c.details);
}

#[test]
fn a_shorter_expiry_in_the_dr_bucket_fails_the_retention() {
    let buckets = r#"
bucket "backups" {
  site = site.primary
  name = "lanka-test-backups"
}
bucket "backups_dr" {
  site = site.dr
  name = "lanka-test-backups-dr"
  lifecycle_rule "everything" {
    prefix       = ""
    expire_after = "30d"
  }
}
"#;
    let p = load(&[
        ("sites.hcl", SITES.to_string()),
        ("buckets.hcl", buckets.to_string()),
        (
            "backups.hcl",
            neo4j_backup(DAILY_FULL_HOURLY_INCREMENTAL, REPLICATION),
        ),
        ("objectives.hcl", objectives_block("1h")),
    ]);
    let c = find(&evaluate(&p), CheckName::CrossRegionCopy, Some("neo4j")).clone();
    assert_eq!(c.verdict, Verdict::Fail);
    assert_eq!(c.numbers, "kept 30d < cross_region retention 90d");
}

/// The fixture's DR site runs pilot-light: the cluster exists, its node group sits at
/// zero until `site.dr.active`. Activation scales it up and runs the restore Job.
const NEO4J_PATH: &str =
    "cluster.dr.node_group.general (4m) -> backup.neo4j.placement.dr.job.restore (20m) = 24m";

#[test]
fn rto_estimates_activation_and_shows_the_critical_path() {
    let p = project(
        neo4j_backup(DAILY_FULL_HOURLY_INCREMENTAL, REPLICATION),
        objectives_block("1h"),
    );
    let r = evaluate(&p);
    let c = find(&r, CheckName::Rto, Some("neo4j"));
    assert_eq!(c.verdict, Verdict::Pass);
    assert_eq!(c.numbers, "estimated DR bring-up 24m <= RTO 1h");
    let estimates: Vec<&str> = c.path.iter().map(|s| s.estimate.as_str()).collect();
    assert_eq!(estimates, ["aws_eks_node_group_update", "restore_job"]);
    let text = objectives::text::render(&r, false);
    assert!(
        text.contains(&format!("critical path: {NEO4J_PATH}")),
        "{text}"
    );
    let overall = find(&r, CheckName::Rto, None);
    assert_eq!(overall.verdict, Verdict::Pass);
    assert_eq!(
        overall.numbers,
        "estimated DR bring-up 24m <= overall RTO 2h"
    );
    // The node group scale-up, the restore Job and the DR placement's CronJob.
    assert_eq!(
        overall.details,
        ["DR activation: 3 to create, 1 to update in place; what already runs costs nothing"]
    );
}

#[test]
fn an_rto_too_tight_for_the_critical_path_fails_and_names_the_path() {
    let p = project(
        neo4j_backup(DAILY_FULL_HOURLY_INCREMENTAL, REPLICATION),
        objectives_block("20m"),
    );
    let r = evaluate(&p);
    let c = find(&r, CheckName::Rto, Some("neo4j"));
    assert_eq!(c.verdict, Verdict::Fail);
    assert_eq!(c.numbers, "estimated DR bring-up 24m > RTO 20m");
    let addresses: Vec<&str> = c.path.iter().map(|s| s.address.as_str()).collect();
    assert_eq!(
        addresses,
        [
            "cluster.dr.node_group.general",
            "backup.neo4j.placement.dr.job.restore"
        ]
    );
    let text = objectives::text::render(&r, false);
    assert!(
        text.contains(&format!("critical path: {NEO4J_PATH}")),
        "{text}"
    );
    // redis is only the cluster, whose control plane already runs: the scale-up.
    let redis = find(&r, CheckName::Rto, Some("redis"));
    assert_eq!(redis.numbers, "estimated DR bring-up 4m <= RTO 15m");
    assert_eq!(r.gate(false), Gate::Breached);
}

#[test]
fn the_same_estimate_whichever_side_the_environment_is() {
    let p = project(
        neo4j_backup(DAILY_FULL_HOURLY_INCREMENTAL, REPLICATION),
        objectives_block("1h"),
    );
    std::fs::write(
        p.root.join("environments/prod-dr.hcl"),
        "stack = \"lanka-test\"\nactive_site = \"dr\"\n",
    )
    .expect("write env");
    let dr = drplan_core::spec::load_project(&p.root, "prod-dr")
        .unwrap_or_else(|d| panic!("{}", d.render(false, 100)));
    assert_eq!(evaluate(&dr).checks, evaluate(&p).checks);
}

/// A DR cluster that only exists under activation (a cold site): its network, control
/// plane and node group are created on the way, and the path says so. No spec block
/// is conditional but `kubernetes`, so the two evaluations are given directly.
#[test]
fn a_dr_cluster_created_by_activation_is_on_the_critical_path() {
    let p = project(
        neo4j_backup(DAILY_FULL_HOURLY_INCREMENTAL, REPLICATION),
        objectives_block("30m"),
    );
    let dr = drplan_core::spec::load_project_with_active_site(&p.root, "prod", "dr")
        .unwrap_or_else(|d| panic!("{}", d.render(false, 100)));
    let cold: Vec<_> = p
        .resources
        .iter()
        .filter(|r| !(r.site.as_deref() == Some("dr") && r.kind != Kind::Bucket))
        .cloned()
        .collect();
    let activation = Activation::Compared {
        normal: &cold,
        activated: &dr.resources,
    };
    let r = objectives::evaluate(
        &p.topology,
        activation,
        &Estimates::for_topology(&p.topology),
    );
    let c = find(&r, CheckName::Rto, Some("neo4j"));
    assert_eq!(c.numbers, "estimated DR bring-up 41m > RTO 30m");
    assert_eq!(
        objectives::text::render(&r, false).lines().find(|l| l.contains("critical path: network.dr")).map(str::trim),
        Some(
            "critical path: network.dr (30s) -> network.dr.subnet.private-a (30s) -> cluster.dr (15m) -> \
             cluster.dr.node_group.general (5m) -> backup.neo4j.placement.dr.job.restore (20m) = 41m"
        )
    );
    let estimates: Vec<&str> = c.path.iter().map(|s| s.estimate.as_str()).collect();
    assert_eq!(
        estimates,
        [
            "aws_vpc",
            "aws_subnet",
            "aws_eks_cluster",
            "aws_eks_node_group",
            "restore_job"
        ]
    );
}

#[test]
fn spec_estimates_override_the_defaults() {
    let objectives = r#"
objectives {
  rto = "2h"
  component "neo4j" {
    rto       = "20m"
    resources = [backup.neo4j]
  }
  estimates {
    aws_eks_node_group_update = "3m"
    restore_job               = "18m"
  }
}
"#;
    let p = project(
        neo4j_backup(DAILY_FULL_HOURLY_INCREMENTAL, REPLICATION),
        objectives.to_string(),
    );
    let r = evaluate(&p);
    assert_eq!(
        find(&r, CheckName::Rto, Some("neo4j")).numbers,
        "estimated DR bring-up 21m > RTO 20m"
    );

    let mut estimates = Estimates::for_topology(&p.topology);
    estimates.override_with(&BTreeMap::from([(
        objectives::RESTORE_JOB.to_string(),
        Duration::from_secs(15 * 60),
    )]));
    let activation = Activation::Compared {
        normal: &p.resources,
        activated: &drplan_core::spec::load_project_with_active_site(&p.root, "prod", "dr")
            .unwrap_or_else(|d| panic!("{}", d.render(false, 100)))
            .resources,
    };
    let r = objectives::evaluate(&p.topology, activation, &estimates);
    assert_eq!(
        find(&r, CheckName::Rto, Some("neo4j")).numbers,
        "estimated DR bring-up 18m <= RTO 20m"
    );
}

#[test]
fn a_backup_restore_estimate_overrides_restore_job_for_that_policy() {
    let backup = neo4j_backup(
        DAILY_FULL_HOURLY_INCREMENTAL,
        &format!("{REPLICATION}\n  restore_estimate = \"10m\""),
    );
    let p = project(backup, objectives_block("20m"));
    let c = find(&evaluate(&p), CheckName::Rto, Some("neo4j")).clone();
    assert_eq!(c.numbers, "estimated DR bring-up 14m <= RTO 20m");
    assert_eq!(
        c.path.last().map(|s| (s.estimate.as_str(), s.seconds)),
        Some(("backup.neo4j.restore_estimate", 600))
    );
}

#[test]
fn an_unknown_estimate_key_and_a_bad_restore_estimate_are_spec_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("specs")).expect("mkdir");
    std::fs::create_dir_all(dir.path().join("environments")).expect("mkdir");
    let objectives = "objectives {\n  estimates {\n    aws_eks_nodegroup = \"3m\"\n  }\n}\n";
    let backup = neo4j_backup(DAILY_FULL_HOURLY_INCREMENTAL, "restore_estimate = \"soon\"");
    for (name, text) in [
        ("sites.hcl", SITES.to_string()),
        ("buckets.hcl", BUCKETS.to_string()),
        ("backups.hcl", backup),
        ("objectives.hcl", objectives.to_string()),
    ] {
        std::fs::write(dir.path().join("specs").join(name), text).expect("write");
    }
    std::fs::write(
        dir.path().join("environments/prod.hcl"),
        "stack = \"lanka-test\"\n",
    )
    .expect("write env");
    let Err(d) = drplan_core::spec::load_project(dir.path(), "prod") else {
        panic!("loads")
    };
    let text = d.render(false, 100);
    assert!(text.contains("aws_eks_nodegroup"), "{text}");
    assert!(text.contains("restore_estimate"), "{text}");
}

#[test]
fn a_component_with_nothing_in_the_dr_site_is_a_warning() {
    let objectives = r#"
objectives {
  component "api" {
    rto = "15m"
  }
}
"#;
    let p = project(
        neo4j_backup(DAILY_FULL_HOURLY_INCREMENTAL, REPLICATION),
        objectives.to_string(),
    );
    let r = evaluate(&p);
    let c = find(&r, CheckName::Rto, Some("api"));
    assert_eq!(c.verdict, Verdict::Warn);
    assert_eq!(
        c.numbers,
        "no resources listed: nothing to estimate, RTO 15m"
    );
    assert_eq!(r.gate(false), Gate::Met);
}

#[test]
fn report_text_and_json() {
    let p = project(neo4j_backup(DAILY_FULL, ""), objectives_block("20m"));
    let r = evaluate(&p);
    insta::assert_snapshot!(
        "objectives_text_breached",
        objectives::text::render(&r, false)
    );
    insta::assert_snapshot!(
        "objectives_text_allowed_summary",
        objectives::text::render(&r, true)
            .lines()
            .last()
            .unwrap_or("")
    );
    insta::assert_json_snapshot!("objectives_json", r);
}

#[test]
fn plan_json_carries_the_report_under_objectives() {
    let p = project(
        neo4j_backup(DAILY_FULL, REPLICATION),
        objectives_block("1h"),
    );
    let r = evaluate(&p);
    let plan = "{\n  \"format_version\": \"1.0\",\n  \"resource_changes\": []\n}\n";
    let out = objectives::attach_to_json(plan, &r, false).expect("valid JSON");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("JSON out");
    assert_eq!(doc["format_version"], "1.0");
    assert_eq!(doc["objectives"]["status"], "breached");
    assert_eq!(doc["objectives"]["checks"][0]["name"], "rpo");
    assert_eq!(
        doc["objectives"]["checks"][0]["numbers"],
        "longest gap 24h > RPO 1h"
    );
    let allowed = objectives::attach_to_json(plan, &r, true).expect("valid JSON");
    assert!(allowed.contains("\"status\": \"breach_allowed\""));
}

/// Issue 15: objectives join the plan document as data; the JSON is the one the
/// renderer-then-parse path printed, byte for byte.
#[test]
fn plan_json_with_objectives_joins_them_as_data_with_the_same_bytes() {
    let p = project(
        neo4j_backup(DAILY_FULL, REPLICATION),
        objectives_block("1h"),
    );
    let r = evaluate(&p);
    let plan = drplan_core::plan::diff::diff(
        &p.resources,
        &drplan_core::live::LiveState::default(),
        &drplan_core::plan::diff::DiffContext {
            stack: p.environment.stack.clone(),
            ..Default::default()
        },
    );
    for allow in [false, true] {
        let joined = drplan_core::render::json::plan_with_objectives(&plan, &r, allow);
        let reparsed =
            objectives::attach_to_json(&drplan_core::render::json::plan(&plan), &r, allow)
                .expect("valid JSON");
        assert_eq!(joined, reparsed);
    }
}

#[test]
fn a_local_only_policy_for_data_without_rpo_is_not_held_to_a_copy() {
    let backup = r#"
backup "redis" {
  engine    = "redis"
  namespace = "lanka-platform"
  full { schedule = "0 */6 * * *" }
  retention {
    local = "7d"
  }
  placement "primary" {
    cluster = cluster.primary
    bucket  = bucket.backups
  }
}
"#;
    let p = project(
        format!(
            "{}{backup}",
            neo4j_backup(DAILY_FULL_HOURLY_INCREMENTAL, REPLICATION)
        ),
        objectives_block("1h"),
    );
    let r = evaluate(&p);
    assert!(
        !r.checks
            .iter()
            .any(|c| c.component.as_deref() == Some("redis") && c.name != CheckName::Rto),
        "{:#?}",
        r.checks
    );
}

#[test]
fn a_schedule_that_never_runs_fails_with_a_reason() {
    let p = project(
        neo4j_backup(r#"full { schedule = "0 0 30 2 *" }"#, REPLICATION),
        objectives_block("1h"),
    );
    let c = find(&evaluate(&p), CheckName::Rpo, Some("neo4j")).clone();
    assert_eq!(c.verdict, Verdict::Fail);
    assert_eq!(
        c.numbers,
        "`0 0 30 2 *` runs less than twice a year: no gap to measure"
    );
}

/// docs/objectives.md lists the default estimates; keep the table and the code equal.
#[test]
fn documented_estimate_defaults_are_the_real_ones() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/objectives.md"
    ))
    .expect("docs");
    let documented: BTreeMap<String, String> = doc
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let key = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            Some((key.to_string(), cells.get(2)?.to_string()))
        })
        .collect();
    let actual: BTreeMap<String, String> = Estimates::defaults()
        .iter()
        .map(|(k, d)| (k.to_string(), objectives::human_duration(d)))
        .collect();
    assert_eq!(documented, actual);
}
