//! Recovery objectives, checked: does the topology as written still meet the RTO and
//! RPO the team promised? Three checks (docs/objectives.md):
//!
//! - `rpo`: the longest gap between a backup policy's runs fits the RPO;
//! - `cross_region_copy`: each policy's backups reach a bucket in another site and are
//!   kept there at least as long as its cross-region retention;
//! - `rto`: the critical path of what DR activation creates fits the RTO.
//!
//! [`evaluate`] is a pure function of the loaded topology, its resources and duration
//! estimates; [`text`] renders the report for humans, serde renders it for JSON.
//!
//! **Architecture invariant:** nothing here reads live state. Objectives are a property
//! of the spec; drills (later) feed measured durations in through [`Estimates`].

mod cross_region;
mod estimates;
mod rpo;
mod rto;
pub mod text;

pub use estimates::{Estimates, RESTORE_JOB};

use crate::model::Topology;
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
}

impl CheckName {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckName::Rpo => "rpo",
            CheckName::CrossRegionCopy => "cross_region_copy",
            CheckName::Rto => "rto",
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
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectivesReport {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rto_seconds: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpo_seconds: Option<u64>,
    pub checks: Vec<Check>,
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

/// Evaluates every objective check. `resources` are the project's lowered resources
/// (the apply graph); `estimates` the per-operation durations (usually
/// [`Estimates::for_topology`]).
pub fn evaluate(topology: &Topology, resources: &[Resource], estimates: &Estimates) -> ObjectivesReport {
    let objectives = topology.objectives.as_ref();
    let mut checks = Vec::new();
    checks.extend(rpo::check(topology));
    checks.extend(cross_region::check(topology));
    checks.extend(rto::check(topology, resources, estimates));
    ObjectivesReport {
        rto_seconds: objectives.and_then(|o| o.rto).map(|d| d.as_secs()),
        rpo_seconds: objectives.and_then(|o| o.rpo).map(|d| d.as_secs()),
        checks,
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
pub fn attach_to_json(document: &str, report: &ObjectivesReport, allow_breach: bool) -> Result<String, serde_json::Error> {
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
pub fn for_project(project: &crate::model::Project) -> ObjectivesReport {
    evaluate(&project.topology, &project.resources, &Estimates::for_topology(&project.topology))
}
