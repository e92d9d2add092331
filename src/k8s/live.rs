//! Reading one cluster's objects: one paginated, label-selected list per kind across
//! all namespaces, plus a get for each desired object the lists did not return (an
//! object someone else created under the same name must not be overwritten).
//!
//! The kinds listed are those of the desired objects in the cluster plus the kinds
//! drplan generates (`drplan_core::kubernetes::GENERATED_KINDS`); an orphan of any
//! other kind is found only while some desired object shares its kind.

use super::kinds::{Kinds, ServedKind};
use drplan_core::address::Address;
use drplan_core::kubernetes::{live_form, GENERATED_KINDS};
use drplan_core::live::ReadError;
use drplan_core::live::{DesiredMaps, LiveObject};
use drplan_core::marks::K8S_STACK_LABEL;
use drplan_core::resource::{Kind, Resource};
use futures::stream::{self, StreamExt};
use kube::api::{Api, DynamicObject, ListParams};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

const PAGE_SIZE: u32 = 500;
/// Kinds listed at once per cluster.
const CONCURRENT_LISTS: usize = 4;
/// Gets of desired objects the lists did not return, at once per cluster.
const CONCURRENT_GETS: usize = 8;

/// What was read from one cluster.
#[derive(Debug, Default)]
pub struct ClusterRead {
    pub objects: Vec<LiveObject>,
    /// Requests sent (discovery, list pages, gets).
    pub api_calls: u64,
    /// One line per kind or object that could not be read; the plan for it is unknown.
    pub errors: Vec<drplan_core::live::ReadError>,
    /// `LiveState::observed` entries: the status of CronJobs (when they last ran, and
    /// last succeeded), which the RPO evidence reads.
    pub observed: Vec<(String, Value)>,
}

/// The cluster block a read is for.
#[derive(Clone, Debug)]
pub struct ClusterRef {
    /// `cluster.<label>`, written into every object's `cluster` attribute.
    pub address: Address,
    /// The cluster's region, the objects' region.
    pub region: Option<String>,
}

type ObjectKey = (String, String, Option<String>, String);

fn desired_key(r: &Resource) -> ObjectKey {
    let s = |k: &str| {
        r.attrs
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    (
        s("api_version"),
        s("kind"),
        r.attrs
            .get("namespace")
            .and_then(Value::as_str)
            .map(str::to_string),
        s("name"),
    )
}

/// Reads every object of `stack` in the cluster, and the objects `desired` names.
/// `desired` may hold resources of other clusters and kinds; they are ignored.
pub async fn read_cluster(
    kinds: &Kinds,
    cluster: &ClusterRef,
    stack: &str,
    desired: &[Resource],
) -> ClusterRead {
    let ours = in_cluster(desired, cluster);
    // What is read equal to the spec shares its map (`DesiredMaps::share`).
    let maps = DesiredMaps::new(ours.iter().copied());
    let by_key: BTreeMap<ObjectKey, &Resource> =
        ours.iter().map(|r| (desired_key(r), *r)).collect();
    let mut wanted: BTreeSet<(String, String)> = GENERATED_KINDS
        .iter()
        .map(|(a, k)| (a.to_string(), k.to_string()))
        .collect();
    wanted.extend(by_key.keys().map(|(a, k, _, _)| (a.clone(), k.clone())));

    let mut read = ClusterRead::default();
    let discovery_before = kinds.requests();
    let selector = format!("{K8S_STACK_LABEL}={stack}");
    let lists: Vec<_> = stream::iter(wanted)
        .map(|(api_version, kind)| {
            let selector = selector.clone();
            async move {
                let result = match kinds.resolve(&api_version, &kind).await {
                    Ok(served) => list_all(kinds, &served, &selector)
                        .await
                        .map(|(items, calls)| (served, items, calls)),
                    Err(e) => Err(e.to_string()),
                };
                (api_version, kind, result)
            }
        })
        .buffer_unordered(CONCURRENT_LISTS)
        .collect()
        .await;

    let mut found: BTreeSet<ObjectKey> = BTreeSet::new();
    let mut served_kinds: BTreeMap<(String, String), ServedKind> = BTreeMap::new();
    for (api_version, kind, result) in lists {
        match result {
            Ok((served, items, calls)) => {
                read.api_calls += calls;
                for raw in items {
                    let status = observation(&served, &raw);
                    let object = live_object(cluster, &served, raw, |key| by_key.get(key).copied());
                    read.observed
                        .extend(status.map(|s| (object.observation_key(), s)));
                    found.insert(key_of(&object));
                    read.objects.push(maps.shared(object));
                }
                served_kinds.insert((api_version, kind), served);
            }
            Err(reason) => read.errors.push(ReadError::new(
                cluster.address.as_str(),
                format!("cannot list {kind} ({api_version}): {reason}"),
            )),
        }
    }

    let mut lookups = Vec::new();
    for (key, resource) in &by_key {
        if found.contains(key) {
            continue;
        }
        let (api_version, kind, namespace, _) = key;
        let Some(served) = served_kinds.get(&(api_version.clone(), kind.clone())) else {
            continue;
        };
        // The core decides scope from a list of well-known kinds; the cluster knows.
        if served.namespaced != namespace.is_some() {
            let (is, treated) = if served.namespaced {
                ("namespaced", "cluster-scoped")
            } else {
                ("cluster-scoped", "namespaced")
            };
            read.errors.push(ReadError::new(
                cluster.address.as_str(),
                format!(
                    "{kind} ({api_version}) is {is} in this cluster, but drplan treated `{}` as {treated}; its plan is unknown",
                    resource.address
                ),
            ));
            continue;
        }
        lookups.push((key, *resource, served));
    }
    read.api_calls += lookups.len() as u64;
    let gets: Vec<_> = stream::iter(lookups)
        .map(|(key, resource, served)| async move {
            let (_, kind, namespace, name) = key;
            let result = api_for(kinds, served, namespace.as_deref())
                .get_opt(name)
                .await;
            (key, resource, served, kind, result)
        })
        .buffer_unordered(CONCURRENT_GETS)
        .collect()
        .await;
    for ((_, _, namespace, name), resource, served, kind, result) in gets {
        match result {
            Ok(Some(obj)) => {
                let raw = to_value(obj, served);
                let status = observation(served, &raw);
                let object = live_object(cluster, served, raw, |_| Some(resource));
                read.observed
                    .extend(status.map(|s| (object.observation_key(), s)));
                read.objects.push(maps.shared(object));
            }
            Ok(None) => {}
            Err(e) => read.errors.push(ReadError::new(
                cluster.address.as_str(),
                format!(
                    "cannot read {kind} {}: {e}",
                    display_name(namespace.as_deref(), name)
                ),
            )),
        }
    }
    read.api_calls += kinds.requests() - discovery_before;
    read.objects.sort_by(|a, b| a.id.cmp(&b.id));
    read
}

/// What drplan reads but does not manage about an object: a CronJob's `status`.
fn observation(served: &ServedKind, raw: &Value) -> Option<Value> {
    (served.resource.kind == "CronJob")
        .then(|| serde_json::json!({ "status": raw.get("status").cloned().unwrap_or(Value::Null) }))
}

fn display_name(namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    }
}

pub(crate) fn api_for(
    kinds: &Kinds,
    served: &ServedKind,
    namespace: Option<&str>,
) -> Api<DynamicObject> {
    match (served.namespaced, namespace) {
        (true, Some(ns)) => Api::namespaced_with(kinds.client().clone(), ns, &served.resource),
        _ => Api::all_with(kinds.client().clone(), &served.resource),
    }
}

async fn list_all(
    kinds: &Kinds,
    served: &ServedKind,
    selector: &str,
) -> Result<(Vec<Value>, u64), String> {
    let api: Api<DynamicObject> = Api::all_with(kinds.client().clone(), &served.resource);
    let mut items = Vec::new();
    let mut calls = 0;
    let mut token: Option<String> = None;
    loop {
        let mut params = ListParams::default().labels(selector).limit(PAGE_SIZE);
        if let Some(t) = &token {
            params = params.continue_token(t);
        }
        calls += 1;
        let page = api.list(&params).await.map_err(|e| e.to_string())?;
        token = page.metadata.continue_.clone().filter(|t| !t.is_empty());
        items.extend(page.items.into_iter().map(|o| to_value(o, served)));
        if token.is_none() {
            return Ok((items, calls));
        }
    }
}

/// List items often come without apiVersion/kind; the kind asked for supplies them.
fn to_value(object: DynamicObject, served: &ServedKind) -> Value {
    let mut value = serde_json::to_value(object).unwrap_or(Value::Null);
    if let Some(map) = value.as_object_mut() {
        map.insert(
            "apiVersion".into(),
            Value::from(served.resource.api_version.clone()),
        );
        map.insert("kind".into(), Value::from(served.resource.kind.clone()));
    }
    value
}

fn key_of(o: &LiveObject) -> ObjectKey {
    let s = |k: &str| {
        o.attrs
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    (
        s("api_version"),
        s("kind"),
        o.attrs
            .get("namespace")
            .and_then(Value::as_str)
            .map(str::to_string),
        s("name"),
    )
}

fn live_object<'a>(
    cluster: &ClusterRef,
    served: &ServedKind,
    raw: Value,
    desired: impl Fn(&ObjectKey) -> Option<&'a Resource>,
) -> LiveObject {
    let api_version = served.resource.api_version.clone();
    let kind = served.resource.kind.clone();
    let name = raw
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let namespace = if served.namespaced {
        raw.pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .map(str::to_string)
    } else {
        None
    };
    let key = (
        api_version.clone(),
        kind.clone(),
        namespace.clone(),
        name.clone(),
    );
    let (stack, address) = live_form::marks(&raw);
    let manifest =
        live_form::live_manifest(&raw, desired(&key).and_then(|r| r.attrs.get("manifest")));
    let id = match &namespace {
        Some(ns) => format!("{api_version}/{kind}/{ns}/{name}"),
        None => format!("{api_version}/{kind}/{name}"),
    };
    let mut attrs = Map::new();
    attrs.insert("cluster".into(), Value::from(cluster.address.as_str()));
    attrs.insert("api_version".into(), Value::from(api_version));
    attrs.insert("kind".into(), Value::from(kind));
    attrs.insert(
        "namespace".into(),
        namespace.map(Value::from).unwrap_or(Value::Null),
    );
    attrs.insert("name".into(), Value::from(name));
    attrs.insert("manifest".into(), manifest);
    LiveObject {
        kind: Kind::K8sObject,
        id,
        region: cluster.region.clone(),
        address: address.map(Address::new),
        stack,
        attrs: attrs.into(),
    }
}

/// `drift --unmanaged` in one cluster: objects of the namespaced kinds the spec puts
/// there, in the spec's namespaces, that carry no stack label at all (one list per
/// kind, filtered by the server with `!drplan.io/stack`).
pub async fn unmanaged(
    kinds: &Kinds,
    cluster: &ClusterRef,
    desired: &[Resource],
) -> (Vec<drplan_core::live::Unmanaged>, Vec<ReadError>) {
    let ours = in_cluster(desired, cluster);
    let namespaces: BTreeSet<&str> = ours
        .iter()
        .filter_map(|r| r.attrs.get("namespace").and_then(Value::as_str))
        .collect();
    let wanted: BTreeSet<(String, String)> = ours
        .iter()
        .filter(|r| r.attrs.get("namespace").and_then(Value::as_str).is_some())
        .map(|r| {
            let (a, k, _, _) = desired_key(r);
            (a, k)
        })
        .collect();
    let selector = format!("!{K8S_STACK_LABEL}");
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for (api_version, kind) in wanted {
        let listed = match kinds.resolve(&api_version, &kind).await {
            Ok(served) => list_all(kinds, &served, &selector).await,
            Err(e) => Err(e.to_string()),
        };
        match listed {
            Ok((items, _)) => {
                for item in items {
                    let text =
                        |p: &str| item.pointer(p).and_then(Value::as_str).unwrap_or_default();
                    let (ns, name) = (text("/metadata/namespace"), text("/metadata/name"));
                    if namespaces.contains(ns) {
                        found.push(drplan_core::live::Unmanaged {
                            kind: Kind::K8sObject,
                            id: format!("{ns}/{name}"),
                            region: cluster.region.clone(),
                            within: Some(format!("{} {api_version} {kind}", cluster.address)),
                        });
                    }
                }
            }
            Err(reason) => errors.push(ReadError::new(
                cluster.address.as_str(),
                format!("cannot list {kind} ({api_version}): {reason}"),
            )),
        }
    }
    (found, errors)
}

/// The Kubernetes objects of `desired` that go into `cluster`.
fn in_cluster<'a>(desired: &'a [Resource], cluster: &ClusterRef) -> Vec<&'a Resource> {
    desired
        .iter()
        .filter(|r| {
            r.kind == Kind::K8sObject
                && r.attrs.get("cluster").and_then(Value::as_str) == Some(cluster.address.as_str())
        })
        .collect()
}
