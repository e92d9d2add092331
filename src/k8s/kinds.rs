//! `apiVersion` + `kind` -> the REST resource that serves it, through discovery,
//! asked once per kind per cluster and remembered for the run.

use kube::core::{ApiResource, GroupVersionKind};
use kube::discovery::{self, Scope};
use kube::Client;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::Mutex;

/// A kind the cluster serves: where to send requests for it, and whether it lives in
/// namespaces.
#[derive(Clone, Debug)]
pub struct ServedKind {
    pub resource: ApiResource,
    pub namespaced: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum KindError {
    #[error("`{api_version}` is not a valid apiVersion")]
    BadApiVersion { api_version: String },
    #[error(
        "the cluster does not serve {kind} in {api_version} (is its CRD installed?): {reason}"
    )]
    NotServed {
        api_version: String,
        kind: String,
        reason: String,
    },
    /// Discovery itself was refused: an access problem, not a missing kind.
    #[error("the API server refused drplan's credentials ({code} {reason}): {message}")]
    Refused {
        code: u16,
        reason: String,
        message: String,
    },
    /// Discovery got no answer, or one that says nothing about the kind: only a 404
    /// (or an answer without the kind) means the kind is missing.
    #[error("could not look up {kind} in {api_version}: {reason}")]
    Unanswered {
        api_version: String,
        kind: String,
        reason: String,
    },
}

/// Discovery results for one cluster.
pub struct Kinds {
    client: Client,
    cache: Mutex<HashMap<(String, String), ServedKind>>,
    requests: AtomicU64,
}

impl Kinds {
    pub fn new(client: Client) -> Self {
        Kinds {
            client,
            cache: Mutex::new(HashMap::new()),
            requests: AtomicU64::new(0),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Discovery requests made so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    pub async fn resolve(&self, api_version: &str, kind: &str) -> Result<ServedKind, KindError> {
        let key = (api_version.to_string(), kind.to_string());
        if let Some(found) = self.cache.lock().await.get(&key) {
            return Ok(found.clone());
        }
        let (group, version) = match api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", api_version),
        };
        if version.is_empty() || version.contains('/') {
            return Err(KindError::BadApiVersion {
                api_version: api_version.to_string(),
            });
        }
        let gvk = GroupVersionKind::gvk(group, version, kind);
        self.requests.fetch_add(1, Ordering::Relaxed);
        let (resource, caps) =
            discovery::pinned_kind(&self.client, &gvk)
                .await
                .map_err(|e| match e {
                    kube::Error::Api(status) if status.code == 401 || status.code == 403 => {
                        KindError::Refused {
                            code: status.code,
                            reason: status.reason.clone(),
                            message: status.message.clone(),
                        }
                    }
                    e @ (kube::Error::Api(_) | kube::Error::Discovery(_)) if is_missing(&e) => {
                        KindError::NotServed {
                            api_version: api_version.to_string(),
                            kind: kind.to_string(),
                            reason: e.to_string(),
                        }
                    }
                    e => KindError::Unanswered {
                        api_version: api_version.to_string(),
                        kind: kind.to_string(),
                        reason: unanswered(&e),
                    },
                })?;
        let served = ServedKind {
            resource,
            namespaced: caps.scope == Scope::Namespaced,
        };
        self.cache.lock().await.insert(key, served.clone());
        Ok(served)
    }
}

/// A discovery answer that says the kind is not served: 404 for its group/version,
/// or a group/version that lists no such kind.
fn is_missing(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(status) => status.code == 404,
        kube::Error::Discovery(_) => true,
        _ => false,
    }
}

/// Why discovery got no usable answer, the transport failure named first.
fn unanswered(e: &kube::Error) -> String {
    match crate::reach::kube_failure(e) {
        Some((cause, detail)) => format!("{} ({detail})", cause.describe()),
        None => e.to_string(),
    }
}
