//! Running a drill (`drplan_core::drill` says what it creates): scale, create, restore,
//! verify, each step timed; then tear down whatever happened. `cleanup` removes what a
//! killed drill left, found by its marks, and nothing else.

pub mod activation;
pub mod record;

use crate::apply::context::aws_error;
use crate::aws::AwsContext;
use crate::k8s::apply as k8s_apply;
use crate::k8s::kinds::Kinds;
use crate::k8s::live::api_for;
use crate::stop::Stop;
use anyhow::{anyhow, Result};
use aws_sdk_eks::types::NodegroupScalingConfig;
use drplan_core::drill::{DrillPlan, NodeGroupScale, DRILL_LABEL, DRILL_STACK_LABEL};
use drplan_core::resource::Resource;
use kube::api::{DeleteParams, ListParams};
use record::{Record, Step};
use serde_json::Value;
use std::time::{Duration, Instant};

/// How long teardown waits for the drill namespace to be gone.
const NAMESPACE_GONE_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs `plan` in its cluster (`kinds`), recording every step into `record`.
/// Teardown runs however the drill ends, a stop request included.
pub async fn run(
    plan: &DrillPlan,
    kinds: &Kinds,
    aws: &AwsContext,
    sizes: Option<&SizeStore>,
    stop: &Stop,
    record: &mut Record,
) {
    let eks = aws.eks(&plan.region);
    let mut created: Vec<Resource> = Vec::new();
    let mut scaled: Vec<(&NodeGroupScale, (i32, i32, i32))> = Vec::new();
    let mut failed = false;

    'drill: {
        for ng in &plan.node_groups {
            if stop.is_stopping() {
                break 'drill;
            }
            let t = Instant::now();
            let what = format!(
                "scale node group {} to {}/{}/{} (min/desired/max)",
                ng.name, ng.activated.0, ng.activated.1, ng.activated.2
            );
            let Some(sizes) = sizes else {
                record.steps.push(step(
                    "scale_node_group",
                    None,
                    what,
                    t,
                    Err(anyhow!(
                        "no lock bucket to record its size in, so the drill does not scale it"
                    )),
                ));
                failed = true;
                break 'drill;
            };
            match scale_up(&eks, sizes, ng, &plan.id).await {
                Ok(before) => {
                    scaled.push((ng, before));
                    let mut s = step(
                        "scale_node_group",
                        None,
                        what,
                        t,
                        Ok(Some(format!("was {}/{}/{}", before.0, before.1, before.2))),
                    );
                    // The RTO's node-group estimate gives way to this measurement.
                    s.address = Some(ng.address.to_string());
                    record.steps.push(s);
                }
                Err(e) => {
                    record
                        .steps
                        .push(step("scale_node_group", None, what, t, Err(e)));
                    failed = true;
                    break 'drill;
                }
            }
        }
        let t = Instant::now();
        let ns_name = name_of(&plan.namespace);
        created.push(plan.namespace.clone());
        let r = k8s_apply::apply(kinds, &plan.namespace)
            .await
            .map(|_| None)
            .map_err(|e| anyhow!("{e}"));
        failed |= r.is_err();
        record.steps.push(step(
            "namespace",
            None,
            format!("create namespace {ns_name}"),
            t,
            r,
        ));
        if failed {
            break 'drill;
        }
        for c in &plan.components {
            if stop.is_stopping() {
                break 'drill;
            }
            let t = Instant::now();
            let mut r = Ok(None);
            let mut notes = Vec::new();
            for (name, optional) in drplan_core::drill::referenced_secrets(c) {
                match read_secret(kinds, &c.source_namespace, &name).await {
                    Ok(Some(secret)) => {
                        let copy = drplan_core::drill::secret_copy(plan, &secret);
                        created.push(copy.clone());
                        if let Err(e) = k8s_apply::apply(kinds, &copy).await {
                            r = Err(anyhow!("copying Secret {name}: {e}"));
                            break;
                        }
                        notes.push(format!("copied Secret {name}"));
                    }
                    Ok(None) if optional => notes.push(format!(
                        "Secret {name} (optional) is not in namespace {} of the DR cluster: a DR activation would run without it too",
                        c.source_namespace
                    )),
                    Ok(None) => {
                        r = Err(anyhow!(
                            "Secret {name} is referenced but not in namespace {} of the DR cluster: create it there (a DR activation needs it too)",
                            c.source_namespace
                        ));
                        break;
                    }
                    Err(e) => {
                        r = Err(anyhow!("reading Secret {name} in namespace {}: {e}", c.source_namespace));
                        break;
                    }
                }
            }
            for w in c.workloads.iter().take_while(|_| r.is_ok()) {
                created.push(w.clone());
                if let Err(e) = k8s_apply::apply(kinds, w).await {
                    r = Err(anyhow!("{e}"));
                    break;
                }
            }
            if r.is_ok() {
                for w in &c.workloads {
                    if let Err(e) = crate::k8s::rollout::wait_rolled_out(kinds, &w.attrs).await {
                        r = Err(anyhow!("{} {}: {e}", kind_of(w), name_of(w)));
                        break;
                    }
                }
            }
            let what = format!(
                "bring up {} object(s) of namespace {} and wait until rolled out",
                c.workloads.len(),
                c.source_namespace
            );
            failed |= r.is_err();
            let r = r.map(|detail: Option<String>| {
                let mut all: Vec<String> = detail.into_iter().collect();
                all.append(&mut notes);
                (!all.is_empty()).then(|| all.join("; "))
            });
            record
                .steps
                .push(step("workloads", Some(&c.component), what, t, r));
            if failed || stop.is_stopping() {
                break 'drill;
            }
            let t = Instant::now();
            created.push(c.restore.clone());
            let source = source_of(&c.restore);
            let r = k8s_apply::apply(kinds, &c.restore)
                .await
                .map(|_| Some(format!("Job {} completed", name_of(&c.restore))))
                .map_err(|e| anyhow!("{e}"));
            failed |= r.is_err();
            let mut s = step(
                "restore",
                Some(&c.component),
                format!("restore the newest full backup from {source}"),
                t,
                r,
            );
            s.estimate_seconds = c.restore_estimate_seconds;
            s.policy = Some(c.policy.clone());
            record.steps.push(s);
            if failed || stop.is_stopping() {
                break 'drill;
            }
            let t = Instant::now();
            created.push(c.verify.clone());
            let r = k8s_apply::apply(kinds, &c.verify)
                .await
                .map(|_| Some(format!("Job {} completed", name_of(&c.verify))))
                .map_err(|e| anyhow!("{e}"));
            failed |= r.is_err();
            record.steps.push(step(
                "verify",
                Some(&c.component),
                format!("verify: {}", c.verify_what),
                t,
                r,
            ));
            if failed {
                break 'drill;
            }
        }
    }

    // Teardown: what was created, newest first, then the namespace is waited out;
    // node groups return to their size.
    let t = Instant::now();
    let mut problems = Vec::new();
    for r in created.iter().rev() {
        if let Err(e) = k8s_apply::delete(kinds, r.address.as_str(), &r.attrs).await {
            problems.push(e.to_string());
        }
    }
    if !created.is_empty() {
        if let Err(e) = wait_namespace_gone(kinds, &name_of(&plan.namespace)).await {
            problems.push(e);
        }
    }
    for (ng, before) in scaled.iter().rev() {
        let Some(sizes) = sizes else { continue };
        if let Err(e) = restore_size(&eks, sizes, &ng.cluster_name, &ng.name, *before).await {
            problems.push(format!("node group {}: {e:#}", ng.name));
        }
    }
    record.cleaned_up = problems.is_empty();
    let what = format!(
        "tear down {} object(s) and {} node group size(s)",
        created.len(),
        scaled.len()
    );
    let r = if problems.is_empty() {
        Ok(None)
    } else {
        Err(anyhow!(
            "{}; run `drplan drill cleanup -e {}`",
            problems.join("; "),
            record.environment
        ))
    };
    record.steps.push(step("teardown", None, what, t, r));
    record.finished = Some(chrono::Utc::now());
    record.outcome = if stop.is_stopping() {
        format!("stopped ({})", stop.cause().unwrap_or_default())
    } else if failed {
        "failed".into()
    } else {
        "passed".into()
    };
}

fn step(
    name: &str,
    component: Option<&str>,
    what: String,
    started: Instant,
    result: Result<Option<String>>,
) -> Step {
    let seconds = (started.elapsed().as_secs_f64() * 10.0).round() / 10.0;
    let (outcome, detail) = match result {
        Ok(detail) => ("ok", detail),
        Err(e) => ("failed", Some(format!("{e:#}"))),
    };
    eprintln!("  {outcome:<6} {seconds:>6.1}s  {what}");
    // Crash tests: `DRPLAN_FAILPOINT=drill.<step>:after` aborts here, as a SIGKILL
    // would (debug builds only).
    crate::apply::idempotency::failpoint(
        &drplan_core::address::Address::new(format!("drill.{name}")),
        crate::apply::idempotency::FailpointPhase::After,
    );
    Step {
        step: name.into(),
        component: component.map(str::to_string),
        what,
        seconds,
        outcome: outcome.into(),
        detail,
        estimate_seconds: None,
        policy: None,
        address: None,
    }
}

fn attr<'a>(r: &'a Resource, key: &str) -> &'a str {
    r.attrs.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn name_of(r: &Resource) -> String {
    attr(r, "name").to_string()
}

fn kind_of(r: &Resource) -> String {
    attr(r, "kind").to_string()
}

/// The restore Job's `SOURCE` (the DR copy it reads).
fn source_of(r: &Resource) -> String {
    r.attrs
        .get("manifest")
        .and_then(|m| m.pointer("/spec/template/spec/initContainers"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("env").and_then(Value::as_array))
        .flatten()
        .find(|e| e.get("name").and_then(Value::as_str) == Some("SOURCE"))
        .and_then(|e| e.get("value").and_then(Value::as_str))
        .unwrap_or("the DR copy")
        .to_string()
}

async fn nodegroup_size(
    eks: &aws_sdk_eks::Client,
    cluster: &str,
    name: &str,
) -> Result<(i32, i32, i32)> {
    let ng = crate::apply::eks::describe_node_group(eks, cluster, name).await?;
    let s = ng.as_ref().and_then(|n| n.scaling_config());
    Ok((
        s.and_then(|s| s.min_size()).unwrap_or(0),
        s.and_then(|s| s.desired_size()).unwrap_or(0),
        s.and_then(|s| s.max_size()).unwrap_or(0),
    ))
}

/// Where the size of a node group a drill scaled is kept until it is put back: next to
/// the lock, written before the scaling (so `drill cleanup` finds it after a kill).
/// (EKS tags would do too, but moto cannot tag node groups.)
#[derive(Clone, Debug)]
pub struct SizeStore {
    pub s3: aws_sdk_s3::Client,
    pub bucket: String,
    pub stack: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct ScaledNodeGroup {
    drill: String,
    cluster: String,
    node_group: String,
    /// min, desired, max before the drill.
    before: (i32, i32, i32),
}

impl SizeStore {
    fn prefix(&self) -> String {
        format!("drplan/drills/{}/scaled/", self.stack)
    }

    fn key(&self, cluster: &str, name: &str) -> String {
        format!("{}{cluster}/{name}.json", self.prefix())
    }

    async fn put(&self, record: &ScaledNodeGroup) -> Result<()> {
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(self.key(&record.cluster, &record.node_group))
            .body(serde_json::to_vec(record)?.into())
            .send()
            .await
            .map_err(aws_error("PutObject (drill node group size)"))?;
        Ok(())
    }

    async fn delete(&self, cluster: &str, name: &str) -> Result<()> {
        self.s3
            .delete_object()
            .bucket(&self.bucket)
            .key(self.key(cluster, name))
            .send()
            .await
            .map_err(aws_error("DeleteObject (drill node group size)"))?;
        Ok(())
    }

    async fn list(&self) -> Result<Vec<ScaledNodeGroup>> {
        use crate::aws::objects::{get_bytes, list_keys};
        let what = "drill node group sizes";
        let keys = list_keys(
            &self.s3,
            &self.bucket,
            &self.prefix(),
            "ListObjectsV2 (drill node group sizes)",
        )
        .await?;
        let mut found = Vec::new();
        for key in keys {
            let Some(body) = get_bytes(
                &self.s3,
                &self.bucket,
                &key,
                "GetObject (drill node group size)",
            )
            .await?
            else {
                continue;
            };
            found.push(
                serde_json::from_slice(&body)
                    .map_err(|e| anyhow!("s3://{}/{key} ({what}): {e}", self.bucket))?,
            );
        }
        Ok(found)
    }
}

/// Records the size (`SizeStore`), then scales. Returns the size before.
async fn scale_up(
    eks: &aws_sdk_eks::Client,
    sizes: &SizeStore,
    ng: &NodeGroupScale,
    id: &str,
) -> Result<(i32, i32, i32)> {
    let before = nodegroup_size(eks, &ng.cluster_name, &ng.name).await?;
    sizes
        .put(&ScaledNodeGroup {
            drill: id.to_string(),
            cluster: ng.cluster_name.clone(),
            node_group: ng.name.clone(),
            before,
        })
        .await?;
    let (min, desired, max) = ng.activated;
    let clamp = |v: i64| i32::try_from(v).unwrap_or(i32::MAX);
    eks.update_nodegroup_config()
        .cluster_name(&ng.cluster_name)
        .nodegroup_name(&ng.name)
        .scaling_config(
            NodegroupScalingConfig::builder()
                .min_size(clamp(min))
                .desired_size(clamp(desired))
                .max_size(clamp(max))
                .build(),
        )
        .send()
        .await
        .map_err(aws_error("UpdateNodegroupConfig"))?;
    Ok(before)
}

async fn restore_size(
    eks: &aws_sdk_eks::Client,
    sizes: &SizeStore,
    cluster: &str,
    name: &str,
    size: (i32, i32, i32),
) -> Result<()> {
    eks.update_nodegroup_config()
        .cluster_name(cluster)
        .nodegroup_name(name)
        .scaling_config(
            NodegroupScalingConfig::builder()
                .min_size(size.0)
                .desired_size(size.1)
                .max_size(size.2)
                .build(),
        )
        .send()
        .await
        .map_err(aws_error("UpdateNodegroupConfig"))?;
    sizes.delete(cluster, name).await
}

/// The Secret `name` in `namespace` of the cluster, as the server returns it.
async fn read_secret(
    kinds: &Kinds,
    namespace: &str,
    name: &str,
) -> std::result::Result<Option<serde_json::Value>, String> {
    let served = kinds
        .resolve("v1", "Secret")
        .await
        .map_err(|e| e.to_string())?;
    let api = crate::k8s::live::api_for(kinds, &served, Some(namespace));
    match api.get_opt(name).await {
        Ok(Some(obj)) => Ok(Some(serde_json::to_value(&obj).map_err(|e| e.to_string())?)),
        Ok(None) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

async fn namespaces(kinds: &Kinds) -> Result<kube::Api<kube::api::DynamicObject>> {
    let served = kinds
        .resolve("v1", "Namespace")
        .await
        .map_err(|e| anyhow!("{e}"))?;
    Ok(api_for(kinds, &served, None))
}

async fn wait_namespace_gone(kinds: &Kinds, name: &str) -> std::result::Result<(), String> {
    let api = namespaces(kinds).await.map_err(|e| e.to_string())?;
    let started = Instant::now();
    loop {
        match api.get_opt(name).await {
            Ok(None) => return Ok(()),
            Ok(Some(_)) if started.elapsed() < NAMESPACE_GONE_TIMEOUT => {
                tokio::time::sleep(Duration::from_millis(250)).await
            }
            Ok(Some(_)) => {
                return Err(format!(
                    "namespace {name} still exists after {}s",
                    NAMESPACE_GONE_TIMEOUT.as_secs()
                ))
            }
            Err(e) => return Err(format!("namespace {name}: {e}")),
        }
    }
}

/// The kinds a drill creates inside its namespace (deleted before the namespace, so
/// nothing depends on the namespace finalizer).
const DRILL_KINDS: &[(&str, &str)] = &[
    ("batch/v1", "Job"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"),
    ("v1", "PersistentVolumeClaim"),
    ("v1", "Service"),
    ("v1", "ServiceAccount"),
    ("v1", "Secret"),
    ("v1", "ConfigMap"),
];

/// What `cleanup` found and removed.
#[derive(Debug, Default)]
pub struct Cleaned {
    pub namespaces: Vec<String>,
    pub objects: usize,
    pub node_groups: Vec<String>,
}

/// Removes every object carrying the drill marks of `stack` in the cluster, and puts
/// back the size of every node group of `cluster_name` a drill scaled (`SizeStore`).
pub async fn cleanup(
    kinds: &Kinds,
    eks: &aws_sdk_eks::Client,
    sizes: Option<&SizeStore>,
    cluster_name: &str,
    stack: &str,
) -> Result<Cleaned> {
    let mut cleaned = Cleaned::default();
    let selector = format!("{DRILL_STACK_LABEL}={stack}");
    let ns_api = namespaces(kinds).await?;
    let found = ns_api
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(|e| anyhow!("listing drill namespaces: {e}"))?;
    for ns in found.items {
        let Some(name) = ns.metadata.name.clone() else {
            continue;
        };
        for (api_version, kind) in DRILL_KINDS {
            let served = kinds
                .resolve(api_version, kind)
                .await
                .map_err(|e| anyhow!("{e}"))?;
            let api = api_for(kinds, &served, Some(&name));
            let objects = api
                .list(&ListParams::default().labels(DRILL_LABEL))
                .await
                .map_err(|e| anyhow!("listing {kind} in {name}: {e}"))?;
            for o in objects.items {
                let Some(n) = o.metadata.name.as_deref() else {
                    continue;
                };
                match api.delete(n, &DeleteParams::background()).await {
                    Ok(_) => cleaned.objects += 1,
                    Err(kube::Error::Api(s)) if s.code == 404 => {}
                    Err(e) => return Err(anyhow!("deleting {kind} {name}/{n}: {e}")),
                }
            }
        }
        match ns_api.delete(&name, &DeleteParams::background()).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => return Err(anyhow!("deleting namespace {name}: {e}")),
        }
        wait_namespace_gone(kinds, &name)
            .await
            .map_err(|e| anyhow!(e))?;
        cleaned.namespaces.push(name);
    }
    if let Some(sizes) = sizes {
        for scaled in sizes.list().await? {
            if scaled.cluster != cluster_name {
                continue;
            }
            restore_size(
                eks,
                sizes,
                &scaled.cluster,
                &scaled.node_group,
                scaled.before,
            )
            .await?;
            cleaned.node_groups.push(scaled.node_group);
        }
    }
    Ok(cleaned)
}
