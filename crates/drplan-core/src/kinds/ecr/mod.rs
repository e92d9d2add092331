//! The ECR family: a `registry` block lowers to one ECR repository in its site's
//! region, with its lifecycle policy and the regions ECR replicates it to as
//! attributes of the repository.
//!
//! ECR keeps replication in ONE configuration per registry (account and region),
//! shared by every team. drplan owns only its own rules there: a rule is drplan's
//! when it has at least one repository filter and every filter is a `PREFIX_MATCH`
//! on exactly the name of a repository this stack manages (marks it) in that region.
//! Every other rule (no filter, another filter type, a filter naming anything else)
//! is someone else's and is written back untouched. drplan groups its repositories
//! by destination set: one rule per set, one filter per repository (ECR allows 10
//! rules per registry). [`with_repository`] is that read-modify-write, pure.
//!
//! Lifecycle policies are JSON documents; they are compared by meaning
//! ([`normalize_lifecycle_policy`]): key order, whitespace, rule order and tag list
//! order do not count.

pub mod decode;
pub mod terraform;

use super::{
    into_attrs, region_of, text, type_name_of, Family, Import, KindInfo, MarkPlace, NameKey, Phase,
    Provider, Runbook, Terraform,
};
use crate::address::Address;
use crate::resource::{Kind, Resource};
use crate::spec::lower::{tags, Lowering};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// A repository's normalized attributes, typed: the lowering builds them from the spec
/// and the reader (`src/live/ecr.rs`) from ECR's answers, so the compiler checks that
/// both sides produce one form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RepositoryAttrs {
    pub name: String,
    /// `MUTABLE` or `IMMUTABLE`.
    pub image_tag_mutability: String,
    pub scan_on_push: bool,
    /// Normalized by [`normalize_lifecycle_policy`]; `null` for none (a policy text
    /// drplan cannot read is kept as a string, and differs from the spec's).
    pub lifecycle_policy: Option<Value>,
    /// Sorted regions drplan's rules replicate the repository to.
    pub replicate_to: Vec<String>,
    pub tags: Value,
}

/// ECR's filter type for a repository name prefix, the only one it has.
pub const PREFIX_MATCH: &str = "PREFIX_MATCH";

/// Tag mutability settings ECR accepts.
pub const TAG_MUTABILITY: &[&str] = &["MUTABLE", "IMMUTABLE"];

/// The family in the registry (`kinds::FAMILIES`): its spec blocks, lowering and
/// checks across blocks.
pub(crate) const FAMILY: Family = Family {
    blocks: &[decode::BLOCK],
    lower: Some(lower),
    check: Some(|t, spans, _, diags| decode::check(t, spans, diags)),
};

pub const REPOSITORY: KindInfo = KindInfo {
    type_name: "aws_ecr_repository",
    // A repository holds the images a bring-up pulls: deleting it loses them.
    stateful: true,
    regional: true,
    in_cluster: false,
    force_new: &["name"],
    unknown_after_apply: &[],
    regional_service: Some("ecr"),
    apply_service: "ecr",
    identity: |region, _, attrs| format!("{region}/{}", text(attrs, "name")),
    identified_by_mark: false,
    mark: MarkPlace::Tags,
    references: &[],
    name_key: Some(NameKey {
        attr: "name",
        regional: true,
        trim_dot: false,
    }),
    forgettable: true,
    // CreateRepository, PutLifecyclePolicy and the registry's replication
    // configuration (DescribeRegistry + PutReplicationConfiguration): seconds.
    estimate_create: 5,
    estimate_update: 5,
    // The DR copy of a repository is made by ECR's replication, not a mirror block;
    // how images are kept must agree between two declared mirrors.
    parity: Some(&["image_tag_mutability", "scan_on_push", "lifecycle_policy"]),
    deletion_means: None,
    terraform: Terraform {
        type_name: None,
        provider: Provider::Aws,
        values: terraform::values,
    },
    runbook: Runbook {
        what: type_name_of,
        phase: |_| Phase::Storage,
        verify,
    },
    import: Import {
        address_shape: &["registry", "*"],
        state: Ok(terraform::state),
    },
};

/// Lowers the family's blocks to resources in the normalized form (`spec::lower`).
pub(crate) fn lower(lw: &Lowering, out: &mut Vec<Resource>) {
    let t = lw.t;
    for r in t.registries.values() {
        let mut regions: Vec<String> = r
            .replicate_to
            .iter()
            .filter_map(|s| t.sites.get(s).map(|s| s.region.clone()))
            .collect();
        regions.sort();
        regions.dedup();
        out.push(lw.resource(
            Address::block("registry", &r.label),
            Kind::EcrRepository,
            Some(&r.site),
            Value::Object(into_attrs(RepositoryAttrs {
                name: r.name.clone(),
                image_tag_mutability: r.image_tag_mutability.clone(),
                scan_on_push: r.scan_on_push,
                lifecycle_policy: r.lifecycle_policy.clone(),
                replicate_to: regions,
                tags: tags(&r.tags),
            })),
            Vec::new(),
            r.protect,
            &r.source,
        ));
    }
}

/// The lifecycle policy `expire_images_after = "30d"` stands for: every image,
/// tagged or not, expires that many days after it was pushed.
pub fn expiry_policy(days: i64) -> Value {
    json!({
        "rules": [{
            "rulePriority": 1,
            "description": format!("expire images {days} days after push (drplan)"),
            "selection": {
                "tagStatus": "any",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": days,
            },
            "action": { "type": "expire" },
        }]
    })
}

/// A lifecycle policy in the form drplan compares: rules sorted by `rulePriority`,
/// tag lists sorted, an empty description dropped. Checks the shape ECR requires
/// (rules with a unique whole `rulePriority`, a `selection` with `tagStatus`,
/// `countType` and a whole `countNumber`, an `action` with a `type`), so a mistake is
/// reported at the spec, not by ECR at apply.
pub fn normalize_lifecycle_policy(policy: &Value) -> Result<Value, String> {
    let Some(doc) = policy.as_object() else {
        return Err("a lifecycle policy is a JSON object with `rules`".into());
    };
    let Some(rules) = doc.get("rules").and_then(Value::as_array) else {
        return Err("a lifecycle policy needs `rules`, a list".into());
    };
    if rules.is_empty() {
        return Err("a lifecycle policy needs at least one rule".into());
    }
    let mut out = Vec::new();
    let mut priorities = BTreeSet::new();
    for rule in rules {
        let Some(rule) = rule.as_object() else {
            return Err("each lifecycle rule is an object".into());
        };
        let Some(priority) = rule.get("rulePriority").and_then(Value::as_i64) else {
            return Err("each lifecycle rule needs a whole `rulePriority`".into());
        };
        if !priorities.insert(priority) {
            return Err(format!("rulePriority {priority} is used twice"));
        }
        let Some(selection) = rule.get("selection").and_then(Value::as_object) else {
            return Err(format!("rule {priority} needs a `selection` object"));
        };
        let tag_status = selection.get("tagStatus").and_then(Value::as_str);
        if !matches!(tag_status, Some("tagged" | "untagged" | "any")) {
            return Err(format!(
                "rule {priority}: `selection.tagStatus` must be \"tagged\", \"untagged\" or \"any\""
            ));
        }
        let count_type = selection.get("countType").and_then(Value::as_str);
        if !matches!(
            count_type,
            Some(
                "imageCountMoreThan"
                    | "sinceImagePushed"
                    | "sinceImagePulled"
                    | "sinceImageTransitioned"
            )
        ) {
            return Err(format!(
                "rule {priority}: `selection.countType` must be \"imageCountMoreThan\" or \"sinceImagePushed\""
            ));
        }
        if count_type != Some("imageCountMoreThan") && selection.get("countUnit").is_none() {
            return Err(format!(
                "rule {priority}: `selection.countUnit` (\"days\") is needed with countType {}",
                count_type.unwrap_or_default()
            ));
        }
        let count = selection.get("countNumber").and_then(Value::as_i64);
        if count.is_none_or(|n| n <= 0) {
            return Err(format!(
                "rule {priority}: `selection.countNumber` must be a whole number above 0"
            ));
        }
        if rule
            .get("action")
            .and_then(|a| a.get("type"))
            .and_then(Value::as_str)
            .is_none()
        {
            return Err(format!(
                "rule {priority}: `action.type` is needed (\"expire\")"
            ));
        }
        let mut rule = rule.clone();
        if rule.get("description").and_then(Value::as_str) == Some("") {
            rule.remove("description");
        }
        if let Some(Value::Object(sel)) = rule.get_mut("selection") {
            for key in ["tagPrefixList", "tagPatternList"] {
                if let Some(Value::Array(list)) = sel.get_mut(key) {
                    list.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
                }
            }
        }
        out.push((priority, Value::Object(rule)));
    }
    out.sort_by_key(|(p, _)| *p);
    let mut doc = doc.clone();
    doc.insert(
        "rules".into(),
        Value::Array(out.into_iter().map(|(_, r)| r).collect()),
    );
    Ok(Value::Object(doc))
}

/// One rule of a registry's replication configuration, as ECR holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicationRule {
    /// (region, registry id), in ECR's order.
    pub destinations: Vec<(String, String)>,
    /// (filter, filter type), in ECR's order.
    pub filters: Vec<(String, String)>,
}

impl ReplicationRule {
    /// drplan's rule: filtered, and every filter is a `PREFIX_MATCH` on exactly one
    /// of `mine` (the names of the repositories this stack manages in the registry).
    pub fn is_owned(&self, mine: &BTreeSet<String>) -> bool {
        !self.filters.is_empty()
            && self
                .filters
                .iter()
                .all(|(f, ty)| ty == PREFIX_MATCH && mine.contains(f))
    }

    fn names(&self, repository: &str) -> bool {
        self.filters.iter().any(|(f, _)| f == repository)
    }

    fn destination_set(&self) -> BTreeSet<(String, String)> {
        self.destinations.iter().cloned().collect()
    }
}

/// The regions drplan's rules replicate `repository` to (sorted): the
/// `replicate_to` a reader reports. Rules that are not drplan's do not count.
pub fn replicated_regions(
    rules: &[ReplicationRule],
    mine: &BTreeSet<String>,
    repository: &str,
) -> Vec<String> {
    let regions: BTreeSet<String> = rules
        .iter()
        .filter(|r| r.is_owned(mine) && r.names(repository))
        .flat_map(|r| r.destinations.iter().map(|(region, _)| region.clone()))
        .collect();
    regions.into_iter().collect()
}

/// The configuration with `repository` replicated to exactly `destinations` by
/// drplan's rules: taken out of every rule of drplan's that names it (a rule left
/// without filters goes), then added to drplan's rule with that destination set, or
/// to a new rule appended after the others. Rules that are not drplan's keep their
/// place and content. `mine` must hold `repository`.
pub fn with_repository(
    rules: &[ReplicationRule],
    mine: &BTreeSet<String>,
    repository: &str,
    destinations: &[(String, String)],
) -> Vec<ReplicationRule> {
    let mut out: Vec<ReplicationRule> = Vec::new();
    for rule in rules {
        if !rule.is_owned(mine) || !rule.names(repository) {
            out.push(rule.clone());
            continue;
        }
        let mut rule = rule.clone();
        rule.filters.retain(|(f, _)| f != repository);
        if !rule.filters.is_empty() {
            out.push(rule);
        }
    }
    if destinations.is_empty() {
        return out;
    }
    let wanted: BTreeSet<(String, String)> = destinations.iter().cloned().collect();
    let filter = (repository.to_string(), PREFIX_MATCH.to_string());
    match out
        .iter_mut()
        .find(|r| r.is_owned(mine) && r.destination_set() == wanted)
    {
        Some(rule) => {
            rule.filters.push(filter);
            rule.filters.sort();
        }
        None => out.push(ReplicationRule {
            destinations: wanted.into_iter().collect(),
            filters: vec![filter],
        }),
    }
    out
}

/// The configuration once drplan stops managing `repository` and keeps it
/// (`removed { destroy = false }`): its replication goes on, in a rule of its own
/// that is no longer drplan's, so the rule it shared stays all drplan's for the
/// repositories still managed. `mine` holds `repository` (its marks not yet dropped).
pub fn detached(
    rules: &[ReplicationRule],
    mine: &BTreeSet<String>,
    repository: &str,
) -> Vec<ReplicationRule> {
    let shared = rules
        .iter()
        .find(|r| r.is_owned(mine) && r.names(repository) && r.filters.len() > 1);
    let Some(shared) = shared else {
        return rules.to_vec();
    };
    let destinations = shared.destinations.clone();
    let mut out = with_repository(rules, mine, repository, &[]);
    out.push(ReplicationRule {
        destinations,
        filters: vec![(repository.to_string(), PREFIX_MATCH.to_string())],
    });
    out
}

/// An image held in ECR: `<account>.dkr.ecr.<region>.amazonaws.com/<repository>[:tag|@digest]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EcrImage {
    pub account: String,
    pub region: String,
    pub repository: String,
}

/// The ECR repository an image reference names, if it names one.
pub fn parse_image(image: &str) -> Option<EcrImage> {
    let (host, path) = image.split_once('/')?;
    let rest = host
        .strip_suffix(".amazonaws.com")
        .or_else(|| host.strip_suffix(".amazonaws.com.cn"))?;
    let (account, rest) = rest.split_once(".dkr.ecr.")?;
    if account.is_empty() || !account.chars().all(|c| c.is_ascii_digit()) || rest.is_empty() {
        return None;
    }
    let path = path.split('@').next().unwrap_or(path);
    // A tag follows the last `:` of the last path segment.
    let repository = match path.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => repo,
        _ => path,
    };
    Some(EcrImage {
        account: account.to_string(),
        region: rest.to_string(),
        repository: repository.to_string(),
    })
}

/// The runbook's check of a repository (`KindInfo::runbook`).
fn verify(r: &Resource, _: &dyn Fn(&str) -> String) -> String {
    format!(
        "aws ecr describe-repositories --region {} --repository-names {} --query 'repositories[].repositoryUri'",
        region_of(r),
        text(&r.attrs, "name")
    )
}
