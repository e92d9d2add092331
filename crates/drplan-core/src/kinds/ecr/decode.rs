//! The `registry` block: an ECR repository in a site's region, replicated by ECR to
//! other sites' regions (`replicate_to = [site.dr]`), with a lifecycle policy
//! (`expire_images_after = "30d"`, or a whole `lifecycle_policy` document). The
//! block's own checks are here; the check across blocks (one repository name per
//! region) runs once every block is decoded (`check`, called from `spec::checks`).

use crate::kinds::ecr::{expiry_policy, normalize_lifecycle_policy, TAG_MUTABILITY};
use crate::model::{Registry, Topology};
use crate::spec::body::{BlockBody, Schema};
use crate::spec::decode::{check_tags, object, site_of, source_ref, Cx, SpanTable};
use crate::spec::diagnostic::{Diagnostics, SpecDiagnostic};
use crate::spec::duration::{parse_duration, whole_days, DURATION_HELP};
use hcl::Value;
use std::collections::BTreeMap;

pub const SCHEMA: Schema = Schema::new(
    &[
        "site",
        "name",
        "replicate_to",
        "image_tag_mutability",
        "scan_on_push",
        "expire_images_after",
        "lifecycle_policy",
        "protect",
        "tags",
        "depends_on",
    ],
    &[],
);

/// The `registry` block in the table of blocks (registered in `kinds::FAMILIES`).
pub const BLOCK: crate::spec::blocks::Block = crate::spec::blocks::Block::family::<Registry>(
    "registry",
    &["name", "site", "region", "address"],
    6,
    &SCHEMA,
);

impl crate::spec::decode::FamilyBlock for Registry {
    fn decode(label: &str, b: &mut BlockBody, cx: &mut Cx) -> Option<Self> {
        decode(label, b, cx)
    }

    fn object(&self, sites: &BTreeMap<String, crate::model::Site>) -> Value {
        registry_object(self, &crate::spec::decode::region_in(sites, &self.site))
    }

    fn models(t: &mut crate::model::Topology) -> &mut BTreeMap<String, Self> {
        &mut t.registries
    }
}

pub fn decode(label: &str, b: &mut BlockBody, cx: &mut Cx) -> Option<Registry> {
    let address = format!("registry.{label}");
    let site = site_of(
        b,
        cx,
        "name the site whose registry holds this repository: site = site.primary",
    );
    let name = b.string_or(cx.diags, "name", || label.to_string());
    if let Some(Err(why)) = name.as_deref().map(check_repository_name) {
        let shown = name.clone().unwrap_or_default();
        b.invalid(
            cx.diags,
            "drplan::repository_name",
            "name",
            format!("`{shown}` is not a valid ECR repository name: {why}"),
            "2-256 characters: lowercase letters, digits and `.`, `_`, `-` between them, path segments joined by `/` (lanka-platform/api)",
        );
    }
    cx.spans.record(&address, "name", b);
    let replicate_to = replicate_to(b, cx, site.as_deref());
    let image_tag_mutability = b
        .string(cx.diags, "image_tag_mutability")
        .unwrap_or_else(|| "MUTABLE".into());
    if !TAG_MUTABILITY.contains(&image_tag_mutability.as_str()) {
        b.invalid(
            cx.diags,
            "drplan::invalid_value",
            "image_tag_mutability",
            format!("image tag mutability `{image_tag_mutability}` is not known"),
            "use \"MUTABLE\" or \"IMMUTABLE\"",
        );
    }
    let scan_on_push = b.bool(cx.diags, "scan_on_push").unwrap_or(false);
    let lifecycle_policy = lifecycle_policy(b, cx);
    let protect = b.bool(cx.diags, "protect").unwrap_or(true);
    let tags = b.string_map(cx.diags, "tags").unwrap_or_default();
    check_tags(b, cx.diags, &tags);
    Some(Registry {
        label: label.to_string(),
        name: name?,
        site: site?,
        replicate_to,
        image_tag_mutability,
        scan_on_push,
        lifecycle_policy,
        protect,
        tags,
        source: source_ref(b),
    })
}

/// The sites ECR copies the repository to: each declared, none in the repository's
/// own region (ECR refuses a destination equal to its source), none twice.
fn replicate_to(b: &mut BlockBody, cx: &mut Cx, own_site: Option<&str>) -> Vec<String> {
    let Some(listed) = b.string_list(cx.diags, "replicate_to") else {
        return Vec::new();
    };
    let own_region = own_site
        .and_then(|s| cx.sites.get(s))
        .map(|s| s.region.clone());
    let mut out: Vec<String> = Vec::new();
    for written in listed {
        let label = written.strip_prefix("site.").unwrap_or(&written);
        let label = cx.scope.global("site", label);
        let Some(site) = cx.sites.get(&label) else {
            b.invalid(
                cx.diags,
                "drplan::unresolved_reference",
                "replicate_to",
                format!("there is no site \"{label}\""),
                "name declared sites: replicate_to = [site.dr]",
            );
            continue;
        };
        if own_region.as_deref() == Some(site.region.as_str()) {
            b.invalid(
                cx.diags,
                "drplan::invalid_value",
                "replicate_to",
                format!(
                    "site \"{label}\" is in {}, the repository's own region: ECR replicates to other regions only",
                    site.region
                ),
                "replicate to a site in another region (the DR site)",
            );
            continue;
        }
        if out.contains(&label) {
            b.invalid(
                cx.diags,
                "drplan::duplicate_value",
                "replicate_to",
                format!("site \"{label}\" is listed twice"),
                "list each destination site once",
            );
            continue;
        }
        out.push(label);
    }
    out
}

/// `expire_images_after = "30d"` (the policy it stands for) or `lifecycle_policy`
/// (a JSON string, or the document written as an HCL object), normalized; both at
/// once is an error.
fn lifecycle_policy(b: &mut BlockBody, cx: &mut Cx) -> Option<serde_json::Value> {
    if b.has("expire_images_after") && b.has("lifecycle_policy") {
        b.invalid(
            cx.diags,
            "drplan::conflicting_attributes",
            "lifecycle_policy",
            "`expire_images_after` and `lifecycle_policy` both set the repository's lifecycle policy".into(),
            "keep one: expire_images_after = \"30d\" is a policy of one rule",
        );
        return None;
    }
    if let Some(s) = b.string(cx.diags, "expire_images_after") {
        let days = match parse_duration(&s) {
            Ok(d) => whole_days(d),
            Err(e) => {
                b.invalid(
                    cx.diags,
                    "drplan::duration",
                    "expire_images_after",
                    e,
                    DURATION_HELP,
                );
                return None;
            }
        };
        return match days {
            Some(n) if n > 0 => Some(expiry_policy(n)),
            _ => {
                b.invalid(
                    cx.diags,
                    "drplan::retention",
                    "expire_images_after",
                    format!("`{s}` is not a whole number of days"),
                    "ECR lifecycle policies count in days: use e.g. \"30d\"",
                );
                None
            }
        };
    }
    let written = b.value("lifecycle_policy")?.clone();
    let json = match &written {
        Value::String(text) => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(v) => v,
            Err(e) => {
                b.invalid(
                    cx.diags,
                    "drplan::invalid_json",
                    "lifecycle_policy",
                    format!("the lifecycle policy is not JSON: {e}"),
                    "write the policy as JSON text, or as an HCL object { rules = [...] }",
                );
                return None;
            }
        },
        Value::Null => return None,
        other => match serde_json::to_value(other) {
            Ok(v) => v,
            Err(_) => return None,
        },
    };
    match normalize_lifecycle_policy(&json) {
        Ok(v) => Some(v),
        Err(why) => {
            b.invalid(
                cx.diags,
                "drplan::invalid_value",
                "lifecycle_policy",
                format!("lifecycle policy: {why}"),
                "see ECR's lifecycle policy format: { rules = [{ rulePriority = 1, selection = { tagStatus = \"any\", countType = \"sinceImagePushed\", countUnit = \"days\", countNumber = 30 }, action = { type = \"expire\" } }] }",
            );
            None
        }
    }
}

/// ECR's repository name rule: 2-256 characters, path segments of lowercase letters
/// and digits separated by single `.`, `_` or `-` (`__` too), joined by `/`.
pub fn check_repository_name(name: &str) -> Result<(), String> {
    if !(2..=256).contains(&name.len()) {
        return Err(format!("{} characters", name.len()));
    }
    for segment in name.split('/') {
        let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
        if segment.is_empty() {
            return Err("an empty path segment".into());
        }
        if !segment.starts_with(alnum) || !segment.ends_with(alnum) {
            return Err(format!(
                "segment `{segment}` must start and end with a lowercase letter or digit"
            ));
        }
        if let Some(c) = segment
            .chars()
            .find(|c| !alnum(*c) && !matches!(c, '.' | '_' | '-'))
        {
            return Err(format!("`{c}` is not allowed"));
        }
        let mut separators = 0;
        for c in segment.chars() {
            if alnum(c) {
                separators = 0;
                continue;
            }
            separators += 1;
            if separators > 2 || (separators == 2 && c != '_') {
                return Err(format!("segment `{segment}` has consecutive separators"));
            }
        }
    }
    Ok(())
}

pub fn registry_object(r: &Registry, region: &str) -> Value {
    object(&[
        ("name", Value::from(r.name.clone())),
        ("site", Value::from(r.site.clone())),
        ("region", Value::from(region)),
        ("address", Value::from(format!("registry.{}", r.label))),
    ])
}

/// Across blocks: a repository name is unique in its registry (account and region).
pub fn check(t: &Topology, spans: &SpanTable, diags: &mut Diagnostics) {
    let mut seen: BTreeMap<(String, String), &str> = BTreeMap::new();
    for r in t.registries.values() {
        let Some(region) = t.sites.get(&r.site).map(|s| s.region.clone()) else {
            continue;
        };
        match seen.get(&(region.clone(), r.name.clone())) {
            Some(other) => {
                let d = SpecDiagnostic::new(
                    "drplan::duplicate_repository",
                    format!(
                        "registry \"{}\" and registry \"{other}\" both declare repository `{}` in {region}",
                        r.label, r.name
                    ),
                )
                .help("a repository name is unique per account and region: remove one block or rename it");
                diags.push(match spans.get(&format!("registry.{}", r.label), "name") {
                    Some((f, span)) => d.at(f, span.clone(), "declared again"),
                    None => d,
                });
            }
            None => {
                seen.insert((region, r.name.clone()), &r.label);
            }
        }
    }
}
