//! HTTP edge: authentication, the request log, URL parsing into a `Target`, and
//! the mapping of methods to verbs. Everything behind it is plain data.

use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::catalog::Catalog;
use crate::discovery;
use crate::metadata_only;
use crate::openapi;
use crate::patch::PatchFormat;
use crate::protobuf;
use crate::selectors::{FieldSelector, LabelSelector};
use crate::status::ApiError;
use crate::store::Store;
use crate::table;
use crate::verbs::{self, Target, WriteOptions};
use crate::watch::{self, WatchRequest};

/// One request the server answered, for tests that assert on traffic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    /// Raw query string, empty when there was none.
    pub query: String,
    pub status: u16,
}

pub struct AppState {
    pub catalog: Catalog,
    pub store: Mutex<Store>,
    pub log: Mutex<Vec<RequestRecord>>,
    pub require_token: Option<String>,
    /// EKS-style authentication (takes the place of `require_token`).
    pub eks_auth: Option<crate::eks_auth::Authenticator>,
    /// `127.0.0.1:PORT`, reported in `/api` discovery.
    pub address: String,
    pub uid_salt: u64,
    pub simulate_rollouts: bool,
    /// Set to true when the server stops, so open watches end.
    pub closing: tokio::sync::watch::Sender<bool>,
}

impl AppState {
    pub fn store(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock leaves consistent data (each write is one
        // insert), so a poisoned lock is still safe to use.
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn log(&self) -> MutexGuard<'_, Vec<RequestRecord>> {
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub async fn handle(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let response = match authorize(&state, &headers).await {
        Ok(()) => route(&state, &method, &uri, &headers, &body)
            .unwrap_or_else(IntoResponse::into_response),
        Err(e) => e.into_response(),
    };
    state.log().push(RequestRecord {
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().unwrap_or_default().to_string(),
        status: response.status().as_u16(),
    });
    response
}

async fn authorize(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    if let Some(eks) = &state.eks_auth {
        let sent = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        // A real API server says only "Unauthorized"; the reason is what a test
        // (and whoever reads drplan's error) needs, and it never holds the token.
        return match eks.authenticate(sent).await {
            Ok(_) => Ok(()),
            Err(refusal) => Err(ApiError::unauthorized_because(&refusal.to_string())),
        };
    }
    let Some(token) = &state.require_token else {
        return Ok(());
    };
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match sent.and_then(|v| v.strip_prefix("Bearer ")) {
        Some(t) if t.trim() == token => Ok(()),
        _ => Err(ApiError::unauthorized()),
    }
}

fn route(
    state: &Arc<AppState>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    let segments: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let catalog = &state.catalog;
    let discovery_only = |value: Option<Value>| -> Result<Response, ApiError> {
        if method != Method::GET {
            return Err(ApiError::method_not_allowed(format!(
                "{method} is not allowed on discovery endpoints"
            )));
        }
        value
            .map(|v| json_response(StatusCode::OK, v))
            .ok_or_else(ApiError::unknown_resource)
    };
    match segments.as_slice() {
        [] => discovery_only(Some(
            json!({"paths": ["/api", "/api/v1", "/apis", "/version", "/healthz"]}),
        )),
        ["version"] => discovery_only(Some(discovery::version_info())),
        ["healthz" | "livez" | "readyz"] => Ok((StatusCode::OK, "ok").into_response()),
        ["api"] | ["apis"] => {
            let core = segments[0] == "api";
            if method != Method::GET {
                return discovery_only(None);
            }
            if let Some(version) = discovery::aggregated_version(accept) {
                let body = discovery::aggregated(catalog, core, version);
                let content_type = discovery::aggregated_content_type(version);
                return Ok(
                    ([(header::CONTENT_TYPE, content_type)], body.to_string()).into_response()
                );
            }
            let body = if core {
                discovery::core_versions(catalog, &state.address)
            } else {
                discovery::group_list(catalog)
            };
            discovery_only(Some(body))
        }
        ["openapi", "v3"] => discovery_only(Some(openapi::root(catalog))),
        ["openapi", "v3", "api", version] => {
            discovery_only(openapi::group_version(catalog, "", version))
        }
        ["openapi", "v3", "apis", group, version] => {
            discovery_only(openapi::group_version(catalog, group, version))
        }
        ["api", version] => discovery_only(discovery::resource_list(catalog, "", version)),
        ["apis", group] => discovery_only(discovery::group(catalog, group)),
        ["apis", group, version] => {
            discovery_only(discovery::resource_list(catalog, group, version))
        }
        ["api", version, rest @ ..] => {
            resource(state, "", version, rest, method, uri, headers, body)
        }
        ["apis", group, version, rest @ ..] => {
            resource(state, group, version, rest, method, uri, headers, body)
        }
        _ => Err(ApiError::unknown_resource()),
    }
}

#[allow(clippy::too_many_arguments)]
fn resource(
    state: &Arc<AppState>,
    group: &str,
    version: &str,
    rest: &[&str],
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    if rest.first() == Some(&"watch") {
        return Err(ApiError::method_not_allowed(
            "the deprecated /watch/ paths are not supported by kube-testserver; use ?watch=true",
        ));
    }
    let target = parse_target(&state.catalog, group, version, rest)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let body = request_body(method, content_type, body)?;
    let body = body.as_slice();
    let query = QueryParams::parse(uri)?;
    let opts = write_options(&query, headers, state);
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if *method == Method::GET && query.flag("watch") {
        let request = watch_request(&target, &query, accept)?;
        return Ok(watch::respond(state.clone(), request));
    }
    let mut store = state.store();
    let (status, object) = match *method {
        Method::GET if target.name.is_none() => {
            let (labels, fields) = query.selectors()?;
            (
                StatusCode::OK,
                verbs::list(&store, &target, &labels, &fields),
            )
        }
        Method::GET => (StatusCode::OK, verbs::get(&store, &target)?),
        Method::POST => (
            StatusCode::CREATED,
            verbs::create(&mut store, &target, parse_body(body)?, &opts)?,
        ),
        Method::PUT => (
            StatusCode::OK,
            verbs::replace(&mut store, &target, parse_body(body)?, &opts)?,
        ),
        Method::PATCH => {
            let format = PatchFormat::from_content_type(content_type)
                .ok_or_else(|| ApiError::unsupported_media_type(content_type))?;
            let (object, created) = verbs::patch(&mut store, &target, format, body, &opts)?;
            (
                if created {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                },
                object,
            )
        }
        Method::DELETE if target.name.is_none() => {
            let (labels, fields) = query.selectors()?;
            (
                StatusCode::OK,
                verbs::delete_collection(&mut store, &target, &labels, &fields, &opts)?,
            )
        }
        Method::DELETE => {
            let options = if body.iter().all(u8::is_ascii_whitespace) {
                Value::Null
            } else {
                parse_body(body)?
            };
            (
                StatusCode::OK,
                verbs::delete(&mut store, &target, &options, &opts)?,
            )
        }
        _ => {
            return Err(ApiError::method_not_allowed(format!(
                "{method} is not supported"
            )))
        }
    };
    drop(store);
    if *method == Method::GET && table::wants_table(accept) {
        return Ok(json_response(
            status,
            table::render(target.ty, &object, &opts.now),
        ));
    }
    if *method == Method::GET && metadata_only::wants_metadata(accept) {
        return Ok(json_response(status, metadata_only::render(&object)));
    }
    Ok(json_response(status, object))
}

/// The body as JSON/YAML bytes: protobuf from kubectl's generators is decoded
/// where `protobuf` knows the type; other binary encodings are refused.
fn request_body(method: &Method, content_type: &str, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    if protobuf::is_protobuf(content_type) && matches!(*method, Method::POST | Method::PUT) {
        let decoded = protobuf::decode(body)
            .map_err(|e| ApiError::unsupported_media_type(&format!("{content_type} ({e})")))?;
        return Ok(decoded.to_string().into_bytes());
    }
    if content_type.contains("protobuf") || content_type.contains("cbor") {
        return Err(ApiError::unsupported_media_type(content_type));
    }
    Ok(body.to_vec())
}

fn watch_request(
    target: &Target,
    query: &QueryParams,
    accept: &str,
) -> Result<WatchRequest, ApiError> {
    if target.name.is_some() {
        return Err(ApiError::method_not_allowed(
            "watch a single object with fieldSelector=metadata.name=<name>",
        ));
    }
    let (labels, fields) = query.selectors()?;
    let resource_version = match query.get("resourceVersion").filter(|rv| !rv.is_empty()) {
        Some(rv) => Some(
            rv.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resourceVersion {rv:?}")))?,
        ),
        None => None,
    };
    let timeout = query
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .map(std::time::Duration::from_secs);
    Ok(WatchRequest {
        ty: target.ty.clone(),
        namespace: target.namespace.clone(),
        labels,
        fields,
        resource_version,
        timeout,
        table: table::wants_table(accept),
        metadata_only: metadata_only::wants_metadata(accept),
    })
}

/// Splits `[namespaces/NS/]PLURAL[/NAME[/SUBRESOURCE]]` against the catalog.
fn parse_target<'a>(
    catalog: &'a Catalog,
    group: &str,
    version: &str,
    rest: &[&str],
) -> Result<Target<'a>, ApiError> {
    let namespaced_path = rest.len() >= 3
        && rest[0] == "namespaces"
        && catalog
            .find(group, version, rest[2])
            .is_some_and(|t| t.namespaced);
    let (namespace, tail) = if namespaced_path {
        (Some(rest[1].to_string()), &rest[2..])
    } else {
        (None, rest)
    };
    let plural = tail.first().ok_or_else(ApiError::unknown_resource)?;
    let ty = catalog
        .find(group, version, plural)
        .ok_or_else(ApiError::unknown_resource)?;
    let name = tail.get(1).map(|n| n.to_string());
    let subresource = tail.get(2).map(|s| s.to_string());
    let known_subresource = |s: &str| s == "status" || (s == "scale" && ty.has_scale());
    if tail.len() > 3
        || subresource
            .as_deref()
            .is_some_and(|s| !known_subresource(s))
    {
        return Err(ApiError::unknown_resource());
    }
    if ty.namespaced && namespace.is_none() && name.is_some() {
        return Err(ApiError::unknown_resource());
    }
    Ok(Target {
        ty,
        namespace,
        name,
        subresource,
    })
}

struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    fn parse(uri: &Uri) -> Result<Self, ApiError> {
        let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(uri)
            .map_err(|e| ApiError::bad_request(format!("invalid query string: {e}")))?;
        Ok(QueryParams(pairs))
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1"))
    }

    fn selectors(&self) -> Result<(LabelSelector, FieldSelector), ApiError> {
        let labels = LabelSelector::parse(self.get("labelSelector").unwrap_or_default())
            .map_err(|e| ApiError::bad_request(format!("unable to parse requirement: {e}")))?;
        let fields = FieldSelector::parse(self.get("fieldSelector").unwrap_or_default())
            .map_err(ApiError::bad_request)?;
        Ok((labels, fields))
    }
}

fn write_options(query: &QueryParams, headers: &HeaderMap, state: &AppState) -> WriteOptions {
    // Like the real server, a write without fieldManager is attributed to the
    // client's User-Agent up to the first '/'.
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("unknown");
    let default_manager = user_agent
        .split('/')
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or("unknown");
    WriteOptions {
        field_manager: query.get("fieldManager").map(str::to_string),
        default_manager: default_manager.to_string(),
        force: query.flag("force"),
        dry_run: query.get("dryRun") == Some("All"),
        now: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        uid_salt: state.uid_salt,
        simulate_rollouts: state.simulate_rollouts,
    }
}

fn parse_body(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body)
        .or_else(|_| serde_yaml_ng::from_slice(body))
        .map_err(|e| {
            ApiError::bad_request(format!("the request body is not valid JSON or YAML: {e}"))
        })
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}
