//! The API verbs over the store: get, list, create, replace, patch (apply, merge,
//! JSON) and delete. Pure functions of (store, request); no HTTP here.

mod apply;
mod checks;
mod stamp;
mod write;

pub use write::{create, delete, delete_collection, patch, replace};

use serde_json::{json, Value};

use crate::catalog::ResourceType;
use crate::scale;
use crate::selectors::{FieldSelector, LabelSelector};
use crate::status::ApiError;
use crate::store::{ObjectKey, Store};

/// What a request addresses once its URL is parsed.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    pub ty: &'a ResourceType,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

impl Target<'_> {
    fn name(&self) -> Result<&str, ApiError> {
        self.name
            .as_deref()
            .ok_or_else(|| ApiError::method_not_allowed("a resource name is required"))
    }

    fn key(&self, name: &str) -> ObjectKey {
        ObjectKey::new(self.ty, self.namespace.as_deref(), name)
    }

    fn not_found(&self, name: &str) -> ApiError {
        ApiError::not_found(&self.ty.group, &self.ty.plural, name)
    }
}

/// Write settings from the query string (and User-Agent for the default manager).
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    pub field_manager: Option<String>,
    pub default_manager: String,
    pub force: bool,
    pub dry_run: bool,
    /// RFC 3339, seconds precision: creationTimestamp and managedFields times.
    pub now: String,
    /// Mixed into generated uids so two servers never hand out the same one.
    pub uid_salt: u64,
    /// Give workloads their finished status on every write (see `rollouts`).
    pub simulate_rollouts: bool,
}

impl WriteOptions {
    fn manager(&self) -> &str {
        self.field_manager
            .as_deref()
            .unwrap_or(&self.default_manager)
    }
}

pub fn get(store: &Store, target: &Target) -> Result<Value, ApiError> {
    let name = target.name()?;
    let object = store
        .get(&target.key(name))
        .ok_or_else(|| target.not_found(name))?;
    if target.subresource.as_deref() == Some("scale") {
        return Ok(scale::to_scale(object));
    }
    Ok(object.clone())
}

pub fn list(
    store: &Store,
    target: &Target,
    labels: &LabelSelector,
    fields: &FieldSelector,
) -> Value {
    let items: Vec<Value> = store
        .list(target.ty, target.namespace.as_deref())
        .into_iter()
        .filter(|o| labels.matches(o) && fields.matches(o))
        .cloned()
        .collect();
    json!({
        "kind": format!("{}List", target.ty.kind),
        "apiVersion": target.ty.api_version(),
        "metadata": {"resourceVersion": store.revision().to_string()},
        "items": items,
    })
}
