//! Recovery objectives, checked: does the topology as written still meet the RTO and
//! RPO the team promised? Three checks (docs/objectives.md):
//!
//! - `rpo`: the longest gap between a backup policy's runs fits the RPO;
//! - `cross_region_copy`: each policy's backups reach a bucket in another site and are
//!   kept there at least as long as its cross-region retention;
//! - `rto`: the critical path of what DR activation changes fits the RTO.
//!
//! [`evaluate`] is a pure function of the loaded topology, the environment's resources
//! in normal operation and under DR activation, and duration estimates; [`text`]
//! renders the report for humans, serde renders it for JSON. [`for_project`] loads the
//! second evaluation of the environment it needs.
//!
//! **Architecture invariant:** nothing here reads the cloud. The checks are a property
//! of the spec; [`evidence`] folds in what a plan found live (the backup CronJobs, the
//! buckets on the copy path), and drills (later) feed measured durations in through
//! [`Estimates`].

mod cross_region;
pub mod estimates;
pub mod evidence;
pub mod readiness;
pub mod recovery_points;
mod rpo;
pub mod rto;
pub mod text;

pub use estimates::{Estimates, Measured, MeasuredDurations, Operation, RESTORE_JOB};

use crate::model::{Project, SiteRole, Topology};
use crate::resource::{Resource, SourceRef};
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Warn,
    Fail,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckName {
    Rpo,
    CrossRegionCopy,
    Rto,
    /// What a failover needs and drplan does not manage (`readiness`).
    DrReadiness,
}

impl CheckName {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckName::Rpo => "rpo",
            CheckName::CrossRegionCopy => "cross_region_copy",
            CheckName::Rto => "rto",
            CheckName::DrReadiness => "dr_readiness",
        }
    }
}

/// One step of an estimated critical path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathStep {
    pub address: String,
    /// The estimate key used (`aws_eks_cluster`, `restore_job`, ...).
    pub estimate: String,
    pub seconds: u64,
}

/// One objective check and the numbers behind its verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub name: CheckName,
    /// The objectives component; `None` for the overall objective.
    pub component: Option<String>,
    pub verdict: Verdict,
    /// The numbers, as a sentence: `longest gap 24h > RPO 1h`.
    pub numbers: String,
    /// What was measured (gap, retention, bring-up time), in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measured_seconds: Option<u64>,
    /// The limit it was compared with, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_seconds: Option<u64>,
    /// Supporting facts: the schedules used, the copy path found, ...
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
    /// RTO only: the critical path, first step first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub path: Vec<PathStep>,
    /// The spec location the check is about.
    pub source: Option<SourceRef>,
    /// What the verdict rests on: the spec alone, or the spec and the live cloud.
    #[serde(default)]
    pub basis: Basis,
    /// The backup policy (`backup` block label) an `rpo` or `cross_region_copy` check
    /// is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// The data store an `rpo` or `cross_region_copy` check is about when it is not a
    /// backup policy: a cache's address (`cache.redis`), whose automatic snapshots
    /// are its recovery points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
}

/// What a verdict rests on (docs/objectives.md, "Evidence").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The spec alone (validate; or nothing live bears on the check).
    #[default]
    Spec,
    /// The spec, confirmed or contradicted by what the plan read from the cloud.
    Live,
    /// The live cloud could not be read where the check looks (a lost region).
    LiveNotRead,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectivesReport {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rto_seconds: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpo_seconds: Option<u64>,
    pub checks: Vec<Check>,
    /// The newest backups found in each bucket holding a copy, when a plan read them
    /// (`recovery_points`); empty for validate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recovery_points: Vec<recovery_points::Seen>,
    /// Every prerequisite of a failover and what was found (`readiness`): from the
    /// spec in validate, from the live cloud in plan and drift.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub readiness: Vec<readiness::Finding>,
}

/// What a command does with a report: the CLI maps it onto exit code 3.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// No check failed.
    Met,
    /// Checks failed, and the run was told to carry on (`--allow-objective-breach`).
    BreachAllowed,
    /// Checks failed: the command exits 3.
    Breached,
}

impl ObjectivesReport {
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.verdict == Verdict::Fail)
    }

    pub fn has_failures(&self) -> bool {
        self.failures().next().is_some()
    }

    pub fn gate(&self, allow_breach: bool) -> Gate {
        match (self.has_failures(), allow_breach) {
            (false, _) => Gate::Met,
            (true, true) => Gate::BreachAllowed,
            (true, false) => Gate::Breached,
        }
    }

    /// A spec without an `objectives` block and without backups has nothing to check.
    pub fn is_empty(&self) -> bool {
        self.checks.is_empty()
    }
}

/// What the RTO check measures: one environment's resources evaluated twice from the
/// same spec, once in normal operation (the primary site active) and once under DR
/// activation (a dr-role site active). What the second has that the first lacks or has
/// differently is the bring-up.
#[derive(Clone, Copy, Debug)]
pub enum Activation<'a> {
    Compared {
        normal: &'a [Resource],
        activated: &'a [Resource],
    },
    /// The other evaluation could not be made: why (the RTO check fails with it).
    Unavailable(&'a str),
}

/// Evaluates every objective check. `estimates` are the per-operation durations
/// (usually [`Estimates::for_topology`]).
pub fn evaluate(
    topology: &Topology,
    activation: Activation<'_>,
    estimates: &Estimates,
) -> ObjectivesReport {
    let objectives = topology.objectives.as_ref();
    let mut checks = Vec::new();
    checks.extend(rpo::check(topology));
    checks.extend(cross_region::check(topology));
    checks.extend(rto::check(topology, &activation, estimates));
    ObjectivesReport {
        rto_seconds: objectives.and_then(|o| o.rto).map(|d| d.as_secs()),
        rpo_seconds: objectives.and_then(|o| o.rpo).map(|d| d.as_secs()),
        checks,
        recovery_points: Vec::new(),
        readiness: Vec::new(),
    }
}

/// Durations the way the spec writes them, largest unit first, but never in days:
/// a daily backup gap reads `24h`, not `1d`. `1h30m`, `21m`, `45s`.
pub fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs == 0 {
        return "0s".to_string();
    }
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 {
        out.push_str(&format!("{s}s"));
    }
    out
}

/// Retention periods are whole days in the spec and in S3; show them so.
pub fn human_days(days: u64) -> String {
    format!("{days}d")
}

/// The JSON form carried by `drplan plan --json` under `objectives`: the report plus
/// the run's outcome, so a policy tool need not recount verdicts.
pub fn json_value(report: &ObjectivesReport, allow_breach: bool) -> serde_json::Value {
    let status = match report.gate(allow_breach) {
        Gate::Met => "met",
        Gate::BreachAllowed => "breach_allowed",
        Gate::Breached => "breached",
    };
    let mut doc = serde_json::Map::new();
    doc.insert("status".to_string(), serde_json::Value::from(status));
    if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(report) {
        doc.extend(fields);
    }
    serde_json::Value::Object(doc)
}

/// Adds the `objectives` key to an already rendered plan (or drift) JSON document, so
/// the plan renderer needs no knowledge of objectives.
pub fn attach_to_json(
    document: &str,
    report: &ObjectivesReport,
    allow_breach: bool,
) -> Result<String, serde_json::Error> {
    let mut doc: serde_json::Value = serde_json::from_str(document)?;
    if let serde_json::Value::Object(fields) = &mut doc {
        fields.insert("objectives".to_string(), json_value(report, allow_breach));
    }
    let mut text = serde_json::to_string_pretty(&doc)?;
    text.push('\n');
    Ok(text)
}

/// The report for a loaded project with the spec's estimates: what `validate`, `plan`,
/// `drift` and `promote` show.
///
/// When the spec asks for an RTO, the environment is loaded a second time from the
/// project root with the other active site (the DR site when the environment is in
/// normal operation, the primary when it is the activation), so `prod` and `prod-dr`
/// give the same estimate.
pub fn for_project(project: &Project) -> ObjectivesReport {
    for_project_measured(project, MeasuredDurations::default())
}

/// [`for_project`] with the restore durations recent drills measured, per backup
/// label: the RTO path uses them and says so (`measured in drill <id> on <date>`).
pub fn for_project_measured(project: &Project, measured: MeasuredDurations) -> ObjectivesReport {
    for_project_loaded(project, &Loaded::load(project), measured)
}

/// The environment's other evaluation (normal operation or DR activation), loaded
/// once for the RTO check and the readiness check.
pub struct Loaded {
    counterpart: Result<Counterpart, String>,
}

impl Loaded {
    /// Loads the other evaluation when a check needs it (an RTO, or a dr-role site).
    pub fn load(project: &Project) -> Self {
        let t = &project.topology;
        let counterpart = if rto::wanted(t) || readiness::wanted(t) {
            counterpart(project)
        } else {
            Ok(Counterpart::Same)
        };
        Loaded { counterpart }
    }

    /// Why the other evaluation does not load, if it does not.
    pub fn error(&self) -> Option<&str> {
        self.counterpart.as_ref().err().map(String::as_str)
    }

    /// (normal operation, DR activation) with `project` as one of them; the
    /// activation is `None` without one.
    pub fn pair<'a>(&'a self, project: &'a Project) -> (&'a Project, Option<&'a Project>) {
        match &self.counterpart {
            Ok(Counterpart::Normal(normal)) => (normal, Some(project)),
            Ok(Counterpart::Activated(activated)) => (project, Some(activated)),
            Ok(Counterpart::Same) | Err(_) => (project, None),
        }
    }
}

/// [`for_project_measured`] with the other evaluation already loaded.
pub fn for_project_loaded(
    project: &Project,
    loaded: &Loaded,
    measured: MeasuredDurations,
) -> ObjectivesReport {
    let estimates = Estimates::for_topology(&project.topology).with_measured(measured.clone());
    let mut report = if !rto::wanted(&project.topology) {
        evaluate(
            &project.topology,
            Activation::Compared {
                normal: &[],
                activated: &[],
            },
            &estimates,
        )
    } else {
        match &loaded.counterpart {
            Ok(Counterpart::Same) => {
                let r = &project.resources;
                evaluate(
                    &project.topology,
                    Activation::Compared {
                        normal: r,
                        activated: r,
                    },
                    &estimates,
                )
            }
            Ok(Counterpart::Normal(normal)) => evaluate(
                &project.topology,
                Activation::Compared {
                    normal: &normal.resources,
                    activated: &project.resources,
                },
                &estimates,
            ),
            Ok(Counterpart::Activated(activated)) => evaluate(
                &project.topology,
                Activation::Compared {
                    normal: &project.resources,
                    activated: &activated.resources,
                },
                &estimates,
            ),
            Err(why) => evaluate(&project.topology, Activation::Unavailable(why), &estimates),
        }
    };
    for check in report
        .checks
        .iter_mut()
        .filter(|c| c.name == CheckName::Rto)
    {
        for (address, m) in &measured.scale_ups {
            if check.path.iter().any(|s| &s.address == address) {
                check.details.push(format!(
                    "scale-up of {address} {}, measured in drill {} on {} (instead of the estimate)",
                    human_duration(m.duration.max(Duration::from_secs(1))),
                    m.drill,
                    m.date
                ));
            }
        }
        for (label, m) in &measured.restores {
            let component = project.topology.backups.get(label).map(|b| &b.component);
            if check.component.is_some() && check.component.as_ref() != component {
                continue;
            }
            check.details.push(format!(
                "restore of backup.{label} {}, measured in drill {} on {} (instead of the estimate)",
                human_duration(m.duration.max(Duration::from_secs(1))),
                m.drill,
                m.date
            ));
        }
    }
    let (normal, activated) = loaded.pair(project);
    if let Some((check, findings)) = readiness::spec_check(normal, activated, loaded.error()) {
        report.checks.push(check);
        report.readiness = findings;
    }
    report
}

/// Resources in normal operation, then under DR activation.
pub type ActivationPair = (Vec<Resource>, Vec<Resource>);

/// The environment's resources in normal operation and under DR activation (one of
/// them is `project` itself), for the runbook; `None` without a dr-role site.
pub fn activation_pair(project: &Project) -> Result<Option<ActivationPair>, String> {
    Ok(match counterpart(project)? {
        Counterpart::Same => None,
        Counterpart::Normal(normal) => Some((normal.resources, project.resources.clone())),
        Counterpart::Activated(activated) => Some((project.resources.clone(), activated.resources)),
    })
}

enum Counterpart {
    /// No dr-role site (or no primary): nothing to compare.
    Same,
    /// The project is the activation; this is normal operation.
    Normal(Project),
    /// The project is normal operation; this is the activation.
    Activated(Project),
}

/// The DR site activated is the environment's own active site when that is a dr-role
/// site, else the first dr-role site by label.
fn counterpart(project: &Project) -> Result<Counterpart, String> {
    let sites = &project.topology.sites;
    let primary = sites.values().find(|s| s.role == SiteRole::Primary);
    let active = sites.get(&project.environment.active_site);
    let dr = match active.filter(|s| s.role == SiteRole::Dr) {
        Some(s) => Some(s),
        None => sites.values().find(|s| s.role == SiteRole::Dr),
    };
    let (Some(primary), Some(dr)) = (primary, dr) else {
        return Ok(Counterpart::Same);
    };
    let is_activation = active.is_some_and(|s| s.name == dr.name);
    let other = if is_activation {
        &primary.name
    } else {
        &dr.name
    };
    match crate::spec::reload_with_active_site(project, other) {
        Ok(p) if is_activation => Ok(Counterpart::Normal(p)),
        Ok(p) => Ok(Counterpart::Activated(p)),
        Err(diags) => {
            let first = diags
                .iter()
                .next()
                .map(|d| d.message.clone())
                .unwrap_or_default();
            Err(format!(
                "{} does not load with active_site = \"{other}\" ({} problem(s); first: {first})",
                project.env_name,
                diags.len()
            ))
        }
    }
}
