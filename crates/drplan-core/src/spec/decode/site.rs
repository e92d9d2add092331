use super::{object, source_ref, Cx};
use crate::model::{Site, SiteRole};
use crate::spec::body::{BlockBody, Schema};
use hcl::Value;

pub const SCHEMA: Schema = Schema::new(&["region", "role"], &[]);

/// `active` is filled in once every site is known (it depends on the environment's
/// active site, which defaults to the primary).
pub fn decode(label: &str, b: &mut BlockBody, cx: &mut Cx) -> Option<Site> {
    let address = format!("site.{label}");
    let region = b.required_string(
        cx.diags,
        "region",
        "the AWS region of this site, e.g. region = \"us-west-2\"",
    );
    if let Some(r) = &region {
        if !is_region(r) {
            b.invalid(
                cx.diags,
                "drplan::invalid_value",
                "region",
                format!("`{r}` is not an AWS region"),
                "regions look like us-west-2 or eu-central-1",
            );
        }
    }
    let role = match b.string(cx.diags, "role").as_deref() {
        None => {
            if label == "primary" {
                SiteRole::Primary
            } else {
                SiteRole::Dr
            }
        }
        Some("primary") => SiteRole::Primary,
        Some("dr") => SiteRole::Dr,
        Some("vault") => SiteRole::Vault,
        Some(other) => {
            b.invalid(
                cx.diags,
                "drplan::invalid_value",
                "role",
                format!("site role `{other}` is not known"),
                "role is \"primary\", \"dr\" or \"vault\" (a backup-only site)",
            );
            return None;
        }
    };
    cx.spans.record(&address, "role", b);
    Some(Site {
        name: label.to_string(),
        region: region?,
        role,
        active: false,
        source: source_ref(b),
    })
}

pub fn site_object(site: &Site) -> Value {
    let role = site.role.as_str();
    object(&[
        ("name", Value::from(site.name.clone())),
        ("region", Value::from(site.region.clone())),
        ("role", Value::from(role)),
        ("active", Value::Bool(site.active)),
        ("address", Value::from(format!("site.{}", site.name))),
    ])
}

fn is_region(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].chars().all(|c| c.is_ascii_lowercase())
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts
            .last()
            .is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}
