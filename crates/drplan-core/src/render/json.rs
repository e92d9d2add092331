//! Machine-readable plans and drift reports. The schema is documented, versioned and
//! stable: `docs/plan-json.md`. Plans follow `terraform show -json`'s
//! `resource_changes[].change` shape so existing policy tools (OPA/conftest, ...) can
//! read them.
//!
//! These are wire types: the core's [`Plan`] is mapped onto them here, so the core
//! types can change without changing what scripts read.

use crate::live::{ReachFailure, Unreachable};
use crate::plan::diff::REPLACE_REQUESTED;
use crate::plan::drift::{AttributeDrift, DriftItem, DriftReport};
use crate::plan::reason::ActionReason;
use crate::plan::redact::sensitivity_mask;
use crate::plan::{Action, Plan, PlanError, ResourceChange, FORMAT_VERSION};
use serde::Serialize;
use serde_json::{Map, Value};

/// The plan as pretty-printed JSON (`drplan plan --json`, `drplan show --json`).
pub fn plan(plan: &Plan) -> String {
    pretty(&plan_document(plan))
}

/// The drift report as pretty-printed JSON (`drplan drift --format json`).
pub fn drift(report: &DriftReport) -> String {
    pretty(&drift_document(report))
}

/// The plan with the objectives' verdicts (`objectives`), as `plan --json` prints it:
/// the report joins the document as data, nothing rendered is parsed again.
pub fn plan_with_objectives(
    plan: &Plan,
    report: &crate::objectives::ObjectivesReport,
    allow_breach: bool,
) -> String {
    with_objectives(&plan_document(plan), report, allow_breach)
}

/// The drift report with the objectives' verdicts, as `drift --format json` prints it.
pub fn drift_with_objectives(
    drift: &DriftReport,
    report: &crate::objectives::ObjectivesReport,
    allow_breach: bool,
) -> String {
    with_objectives(&drift_document(drift), report, allow_breach)
}

fn with_objectives<T: Serialize>(
    doc: &T,
    report: &crate::objectives::ObjectivesReport,
    allow_breach: bool,
) -> String {
    let mut value = serde_json::to_value(doc).unwrap_or_default();
    if let Value::Object(fields) = &mut value {
        fields.insert(
            "objectives".to_string(),
            crate::objectives::json_value(report, allow_breach),
        );
    }
    pretty(&value)
}

fn pretty<T: Serialize>(doc: &T) -> String {
    // Serializing these plain structs of strings, numbers and JSON values cannot fail.
    let mut text = serde_json::to_string_pretty(doc).unwrap_or_default();
    text.push('\n');
    text
}

#[derive(Serialize)]
pub struct PlanDocument<'a> {
    pub format_version: &'static str,
    pub stack: &'a str,
    pub environment: &'a str,
    pub spec_digest: &'a str,
    pub resource_changes: Vec<ResourceChangeDocument<'a>>,
    pub errors: Vec<ErrorDocument<'a>>,
    pub summary: SummaryDocument,
    /// Places that did not answer (absent when everything did): docs/outage.md.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreachable: Vec<UnreachableDocument<'a>>,
    /// Objects of the spec there: not read, not planned.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deferred: Vec<DeferredDocument<'a>>,
    /// A partial plan (`--target`): the targets, and the changes it leaves out.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<&'a str>,
    /// `--replace`: what the plan was asked to replace.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub replace: Vec<&'a str>,
}

#[derive(Serialize)]
pub struct UnreachableDocument<'a> {
    pub site: Option<&'a str>,
    pub region: Option<&'a str>,
    pub service: &'a str,
    pub cluster: Option<&'a str>,
    /// `connection-refused`, `connection-reset`, `timeout`, `dns`.
    pub cause: ReachFailure,
    pub detail: &'a str,
}

#[derive(Serialize)]
pub struct DeferredDocument<'a> {
    pub address: &'a str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub site: Option<&'a str>,
    pub region: Option<&'a str>,
    pub reason: &'a str,
}

#[derive(Serialize)]
pub struct ResourceChangeDocument<'a> {
    pub address: &'a str,
    /// Terraform's name for the address a moved object had (absent when not moved).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_address: Option<&'a str>,
    /// The live object was created by an interrupted apply of this stack and is
    /// adopted: apply writes its marks (absent when false).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub adopt: bool,
    /// Terraform's `importing`: `{"id": ...}` when an `import` block takes the object
    /// over (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub importing: Option<serde_json::Value>,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub site: Option<&'a str>,
    pub region: Option<&'a str>,
    pub live_id: Option<&'a str>,
    pub protect: bool,
    pub depends_on: Vec<&'a str>,
    /// Changes this one starts after besides `depends_on` (a failback's ordering).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub wait_for: Vec<&'a str>,
    pub change: ChangeDocument<'a>,
}

#[derive(Serialize)]
pub struct ChangeDocument<'a> {
    pub actions: &'static [&'static str],
    pub before: Option<&'a Map<String, Value>>,
    pub after: Option<&'a Map<String, Value>>,
    pub after_unknown: Value,
    pub before_sensitive: Value,
    pub after_sensitive: Value,
    pub replace_paths: Vec<Vec<&'a str>>,
    pub sensitive_changed: Vec<&'a str>,
    /// Why an action was chosen beyond the attributes: `replace_by_request`
    /// (`--replace`), as Terraform's plan JSON says it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action_reason: Option<&'static str>,
}

#[derive(Serialize)]
pub struct ErrorDocument<'a> {
    pub address: Option<&'a str>,
    pub message: &'a str,
    pub help: Option<&'a str>,
}

#[derive(Serialize)]
pub struct SummaryDocument {
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
}

pub fn plan_document(plan: &Plan) -> PlanDocument<'_> {
    let s = plan.summary();
    PlanDocument {
        format_version: FORMAT_VERSION,
        stack: &plan.stack,
        environment: &plan.environment,
        spec_digest: &plan.spec_digest,
        resource_changes: plan.changes.iter().map(resource_change).collect(),
        errors: plan.errors.iter().map(error).collect(),
        summary: SummaryDocument {
            add: s.add,
            change: s.change,
            destroy: s.destroy,
        },
        unreachable: plan.unreachable.iter().map(unreachable).collect(),
        deferred: plan
            .deferred
            .iter()
            .map(|d| DeferredDocument {
                address: d.address.as_str(),
                kind: d.kind.type_name(),
                site: d.site.as_deref(),
                region: d.region.as_deref(),
                reason: &d.reason,
            })
            .collect(),
        targets: plan.targets.iter().map(|a| a.as_str()).collect(),
        left_out: plan.left_out.iter().map(|a| a.as_str()).collect(),
        replace: plan.replace.iter().map(|a| a.as_str()).collect(),
    }
}

fn unreachable(u: &Unreachable) -> UnreachableDocument<'_> {
    UnreachableDocument {
        site: u.site.as_deref(),
        region: u.region.as_deref(),
        service: &u.service,
        cluster: u.cluster.as_ref().map(|c| c.as_str()),
        cause: u.cause,
        detail: &u.detail,
    }
}

/// Terraform's action lists: a replace is a delete then a create.
pub fn actions(action: Action) -> &'static [&'static str] {
    match action {
        Action::NoOp => &["no-op"],
        Action::Create => &["create"],
        Action::Update => &["update"],
        Action::Replace => &["delete", "create"],
        Action::Delete => &["delete"],
        Action::Forget => &["forget"],
    }
}

fn resource_change(c: &ResourceChange) -> ResourceChangeDocument<'_> {
    let mask = |side: Option<&Map<String, Value>>| match side {
        Some(attrs) => sensitivity_mask(attrs, &c.sensitive),
        None => Value::Bool(false),
    };
    let after_unknown = match c.action {
        Action::Delete => Value::Bool(false),
        _ => Value::Object(
            c.unknown_after
                .iter()
                .map(|k| (k.clone(), Value::Bool(true)))
                .collect(),
        ),
    };
    ResourceChangeDocument {
        address: c.address.as_str(),
        previous_address: c.moved_from.as_ref().map(|a| a.as_str()),
        adopt: c.adopt,
        importing: c
            .import_id
            .as_ref()
            .map(|id| serde_json::json!({ "id": id })),
        kind: c.kind.type_name(),
        site: c.site.as_deref(),
        region: c.region.as_deref(),
        live_id: c.live_id.as_deref(),
        protect: c.protect,
        depends_on: c.depends_on.iter().map(|a| a.as_str()).collect(),
        wait_for: c.wait_for.iter().map(|a| a.as_str()).collect(),
        change: ChangeDocument {
            actions: actions(c.action),
            before: c.before.as_deref(),
            after: c.after.as_deref(),
            after_unknown,
            before_sensitive: mask(c.before.as_deref()),
            after_sensitive: mask(c.after.as_deref()),
            replace_paths: c
                .replace_because
                .iter()
                .filter(|a| a.as_str() != REPLACE_REQUESTED)
                .map(|a| vec![a.as_str()])
                .collect(),
            sensitive_changed: c.sensitive_changed.iter().map(String::as_str).collect(),
            action_reason: ActionReason::of(c).and_then(ActionReason::json_name),
        },
    }
}

fn error(e: &PlanError) -> ErrorDocument<'_> {
    ErrorDocument {
        address: Some(e.address.as_str()).filter(|a| !a.is_empty()),
        message: &e.message,
        help: e.help.as_deref(),
    }
}

#[derive(Serialize)]
pub struct DriftDocument<'a> {
    pub format_version: &'static str,
    pub stack: &'a str,
    pub environment: &'a str,
    pub in_sync: bool,
    pub summary: DriftSummaryDocument,
    pub drifted: Vec<DriftItemDocument<'a>>,
    pub missing: Vec<DriftItemDocument<'a>>,
    pub orphaned: Vec<DriftItemDocument<'a>>,
    pub conflicts: Vec<ErrorDocument<'a>>,
    /// Places that did not answer; nothing there was compared (absent when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreachable: Vec<UnreachableDocument<'a>>,
    /// `drift --unmanaged` only: objects no drplan stack marks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unmanaged: Option<&'a [crate::live::Unmanaged]>,
}

#[derive(Serialize)]
pub struct DriftSummaryDocument {
    pub drifted: usize,
    pub missing: usize,
    pub orphaned: usize,
    pub conflicts: usize,
}

#[derive(Serialize)]
pub struct DriftItemDocument<'a> {
    pub address: &'a str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub site: Option<&'a str>,
    pub region: Option<&'a str>,
    pub live_id: Option<&'a str>,
    pub actions: &'static [&'static str],
    pub differences: Vec<DifferenceDocument<'a>>,
}

#[derive(Serialize)]
pub struct DifferenceDocument<'a> {
    pub path: &'a str,
    pub live: Option<&'a Value>,
    pub desired: Option<&'a Value>,
    pub sensitive: bool,
    pub forces_replacement: bool,
}

pub fn drift_document(report: &DriftReport) -> DriftDocument<'_> {
    DriftDocument {
        format_version: FORMAT_VERSION,
        stack: &report.stack,
        environment: &report.environment,
        in_sync: report.in_sync(),
        summary: DriftSummaryDocument {
            drifted: report.drifted.len(),
            missing: report.missing.len(),
            orphaned: report.orphaned.len(),
            conflicts: report.conflicts.len(),
        },
        drifted: report.drifted.iter().map(drift_item).collect(),
        missing: report.missing.iter().map(drift_item).collect(),
        orphaned: report.orphaned.iter().map(drift_item).collect(),
        conflicts: report.conflicts.iter().map(error).collect(),
        unreachable: report.unreachable.iter().map(unreachable).collect(),
        unmanaged: report.unmanaged.as_deref(),
    }
}

fn drift_item(item: &DriftItem) -> DriftItemDocument<'_> {
    DriftItemDocument {
        address: item.address.as_str(),
        kind: item.kind.type_name(),
        site: item.site.as_deref(),
        region: item.region.as_deref(),
        live_id: item.live_id.as_deref(),
        actions: actions(item.action),
        differences: item.differences.iter().map(difference).collect(),
    }
}

fn difference(d: &AttributeDrift) -> DifferenceDocument<'_> {
    DifferenceDocument {
        path: &d.path,
        live: d.live.as_ref(),
        desired: d.desired.as_ref(),
        sensitive: d.sensitive,
        forces_replacement: d.forces_replacement,
    }
}
