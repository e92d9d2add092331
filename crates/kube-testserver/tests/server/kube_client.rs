//! The real `kube` client against the test server: what drplan's readers and
//! appliers will see.

use std::path::Path;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::{ApiResource, GroupVersionKind};
use kube::discovery::{Discovery, Scope};
use kube::{Client, Config};
use kube_testserver::{Options, TestServer};
use serde_json::json;

async fn client_from_kubeconfig(path: &Path, context: &str) -> Client {
    install_crypto();
    let kubeconfig = Kubeconfig::read_from(path).expect("kubeconfig parses");
    let options = KubeConfigOptions {
        context: Some(context.to_string()),
        ..Default::default()
    };
    let config = Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .expect("kubeconfig loads");
    Client::try_from(config).expect("client builds")
}

async fn client(server: &TestServer) -> Client {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kubeconfig");
    server
        .write_kubeconfig(&path, "test")
        .expect("kubeconfig written");
    client_from_kubeconfig(&path, "test").await
}

fn config_map(name: &str, labels: serde_json::Value, data: serde_json::Value) -> ConfigMap {
    serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels},
        "data": data,
    }))
    .expect("valid ConfigMap")
}

fn api_error(err: kube::Error) -> (u16, String, String) {
    match err {
        kube::Error::Api(status) => (status.code, status.reason.clone(), status.message.clone()),
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn discovery_finds_builtin_types_both_ways() {
    let server = TestServer::start().await;
    let client = client(&server).await;
    for discovery in [
        Discovery::new(client.clone())
            .run()
            .await
            .expect("legacy discovery"),
        Discovery::new(client.clone())
            .run_aggregated()
            .await
            .expect("aggregated discovery"),
    ] {
        let gvk = GroupVersionKind::gvk("apps", "v1", "Deployment");
        let (resource, caps) = discovery.resolve_gvk(&gvk).expect("deployments discovered");
        assert_eq!(resource.plural, "deployments");
        assert_eq!(caps.scope, Scope::Namespaced);
        let (ns, caps) = discovery
            .resolve_gvk(&GroupVersionKind::gvk("", "v1", "Namespace"))
            .expect("namespaces");
        assert_eq!(ns.plural, "namespaces");
        assert_eq!(caps.scope, Scope::Cluster);
        for (group, kind) in [
            ("batch", "CronJob"),
            ("networking.k8s.io", "Ingress"),
            ("rbac.authorization.k8s.io", "RoleBinding"),
            ("", "Secret"),
        ] {
            assert!(
                discovery
                    .resolve_gvk(&GroupVersionKind::gvk(group, "v1", kind))
                    .is_some(),
                "{kind}"
            );
        }
    }
    let version = client.apiserver_version().await.expect("version");
    assert_eq!(version.major, "1");
}

#[tokio::test]
async fn config_map_create_get_list_delete() {
    let server = TestServer::start().await;
    let client = client(&server).await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let pp = PostParams::default();
    cms.create(
        &pp,
        &config_map(
            "web",
            json!({"app": "web", "tier": "front"}),
            json!({"k": "v"}),
        ),
    )
    .await
    .expect("create web");
    cms.create(
        &pp,
        &config_map("db", json!({"app": "db", "tier": "back"}), json!({})),
    )
    .await
    .expect("create db");
    cms.create(&pp, &config_map("plain", json!({}), json!({})))
        .await
        .expect("create plain");

    let (code, reason, message) = api_error(
        cms.create(&pp, &config_map("web", json!({}), json!({})))
            .await
            .unwrap_err(),
    );
    assert_eq!((code, reason.as_str()), (409, "AlreadyExists"));
    assert_eq!(message, "configmaps \"web\" already exists");

    let web = cms.get("web").await.expect("get");
    assert_eq!(
        web.data
            .as_ref()
            .and_then(|d| d.get("k"))
            .map(String::as_str),
        Some("v")
    );
    let meta = &web.metadata;
    assert!(
        meta.uid.is_some() && meta.creation_timestamp.is_some() && meta.resource_version.is_some()
    );

    let names = |list: kube::core::ObjectList<ConfigMap>| -> Vec<String> {
        list.items
            .into_iter()
            .filter_map(|c| c.metadata.name)
            .collect()
    };
    for (selector, expected) in [
        ("app=web", vec!["web"]),
        ("app==db", vec!["db"]),
        ("app!=web", vec!["db", "plain"]),
        ("tier in (front,back)", vec!["db", "web"]),
        ("tier notin (front)", vec!["db", "plain"]),
        ("app", vec!["db", "web"]),
        ("!app", vec!["plain"]),
        ("app,tier=back", vec!["db"]),
    ] {
        let listed = cms
            .list(&ListParams::default().labels(selector))
            .await
            .expect("list");
        assert_eq!(names(listed), expected, "selector {selector}");
    }
    let metadata = cms
        .list_metadata(&ListParams::default().labels("app"))
        .await
        .expect("list metadata");
    let names_only: Vec<String> = metadata
        .items
        .into_iter()
        .filter_map(|m| m.metadata.name)
        .collect();
    assert_eq!(names_only, vec!["db", "web"]);
    let web_meta = cms.get_metadata("web").await.expect("get metadata");
    assert_eq!(
        web_meta
            .metadata
            .labels
            .unwrap_or_default()
            .get("tier")
            .map(String::as_str),
        Some("front")
    );

    let by_name = cms
        .list(&ListParams::default().fields("metadata.name=plain"))
        .await
        .expect("field selector");
    assert_eq!(names(by_name), vec!["plain"]);
    let (code, ..) = api_error(
        cms.list(&ListParams::default().fields("spec.x=1"))
            .await
            .unwrap_err(),
    );
    assert_eq!(code, 400);

    cms.delete("web", &DeleteParams::background())
        .await
        .expect("delete");
    let (code, reason, message) = api_error(cms.get("web").await.unwrap_err());
    assert_eq!(
        (code, reason.as_str(), message.as_str()),
        (404, "NotFound", "configmaps \"web\" not found")
    );
    assert_eq!(
        api_error(
            cms.delete("web", &DeleteParams::default())
                .await
                .unwrap_err()
        )
        .0,
        404
    );
}

#[tokio::test]
async fn namespaced_objects_need_their_namespace_and_go_with_it() {
    let server = TestServer::start().await;
    let client = client(&server).await;
    let in_ns: Api<ConfigMap> = Api::namespaced(client.clone(), "app");
    let (code, _, message) = api_error(
        in_ns
            .create(
                &PostParams::default(),
                &config_map("c", json!({}), json!({})),
            )
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (code, message.as_str()),
        (404, "namespaces \"app\" not found")
    );

    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace = serde_json::from_value(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "app"}}),
    )
    .expect("ns");
    let created = namespaces
        .create(&PostParams::default(), &ns)
        .await
        .expect("create ns");
    let labels = created.metadata.labels.unwrap_or_default();
    assert_eq!(
        labels
            .get("kubernetes.io/metadata.name")
            .map(String::as_str),
        Some("app")
    );
    in_ns
        .create(
            &PostParams::default(),
            &config_map("c", json!({}), json!({})),
        )
        .await
        .expect("create in ns");
    let all: Api<ConfigMap> = Api::all(client.clone());
    assert_eq!(
        all.list(&ListParams::default())
            .await
            .expect("list all")
            .items
            .len(),
        1
    );

    namespaces
        .delete("app", &DeleteParams::default())
        .await
        .expect("delete ns");
    assert!(all
        .list(&ListParams::default())
        .await
        .expect("list all")
        .items
        .is_empty());
    let (code, reason, _) = api_error(
        namespaces
            .delete("default", &DeleteParams::default())
            .await
            .unwrap_err(),
    );
    assert_eq!((code, reason.as_str()), (403, "Forbidden"));
}

#[tokio::test]
async fn server_side_apply_creates_then_updates_and_prunes() {
    let server = TestServer::start().await;
    let client = client(&server).await;
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    let params = PatchParams::apply("drplan");
    let first = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings", "labels": {"app.kubernetes.io/managed-by": "drplan", "old": "yes"}},
        "data": {"a": "1", "b": "2"},
    });
    let created = cms
        .patch("settings", &params, &Patch::Apply(&first))
        .await
        .expect("apply creates");
    let rv1: u64 = created
        .metadata
        .resource_version
        .clone()
        .unwrap_or_default()
        .parse()
        .expect("numeric rv");
    let managed = created.metadata.managed_fields.clone().unwrap_or_default();
    assert_eq!(managed.len(), 1);
    assert_eq!(managed[0].manager.as_deref(), Some("drplan"));
    assert_eq!(managed[0].operation.as_deref(), Some("Apply"));
    assert_eq!(managed[0].fields_type.as_deref(), Some("FieldsV1"));
    let fields = serde_json::to_value(&managed[0].fields_v1).expect("fieldsV1");
    assert_eq!(fields["f:data"], json!({"f:a": {}, "f:b": {}}));

    // Re-applying the same intent is a no-op: no new resourceVersion.
    let again = cms
        .patch("settings", &params, &Patch::Apply(&first))
        .await
        .expect("reapply");
    assert_eq!(
        again.metadata.resource_version,
        created.metadata.resource_version
    );

    let second = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings", "labels": {"app.kubernetes.io/managed-by": "drplan"}},
        "data": {"a": "10"},
    });
    let updated = cms
        .patch("settings", &params, &Patch::Apply(&second))
        .await
        .expect("apply updates");
    let data = updated.data.clone().unwrap_or_default();
    assert_eq!(data.get("a").map(String::as_str), Some("10"));
    assert!(
        !data.contains_key("b"),
        "a field the manager stopped applying is removed"
    );
    let labels = updated.metadata.labels.clone().unwrap_or_default();
    assert!(!labels.contains_key("old"));
    let rv2: u64 = updated
        .metadata
        .resource_version
        .clone()
        .unwrap_or_default()
        .parse()
        .expect("numeric rv");
    assert!(rv2 > rv1);

    let (code, _, message) = api_error(
        cms.patch("settings", &PatchParams::default(), &Patch::Apply(&second))
            .await
            .unwrap_err(),
    );
    assert_eq!(code, 400, "{message}");
}

#[tokio::test]
async fn field_managers_conflict_until_forced() {
    let server = TestServer::start().await;
    let client = client(&server).await;
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    let intent = |value: &str| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shared"}, "data": {"key": value}});
    cms.patch(
        "shared",
        &PatchParams::apply("drplan"),
        &Patch::Apply(intent("from-drplan")),
    )
    .await
    .expect("first manager");

    let err = cms
        .patch(
            "shared",
            &PatchParams::apply("operator"),
            &Patch::Apply(intent("from-operator")),
        )
        .await
        .unwrap_err();
    let kube::Error::Api(status) = err else {
        panic!("expected a Status")
    };
    assert_eq!((status.code, status.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        status.message,
        "Apply failed with 1 conflict: conflict with \"drplan\" using v1: .data.key"
    );
    let causes = status
        .details
        .as_ref()
        .map(|d| d.causes.clone())
        .unwrap_or_default();
    assert_eq!(causes.len(), 1);
    assert_eq!(causes[0].field, ".data.key");
    assert_eq!(causes[0].reason, "FieldManagerConflict");
    assert!(causes[0].message.contains("\"drplan\""));

    let forced = cms
        .patch(
            "shared",
            &PatchParams::apply("operator").force(),
            &Patch::Apply(intent("from-operator")),
        )
        .await
        .expect("forced apply");
    assert_eq!(
        forced
            .data
            .unwrap_or_default()
            .get("key")
            .map(String::as_str),
        Some("from-operator")
    );
    let managers: Vec<String> = forced
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.manager)
        .collect();
    assert_eq!(
        managers,
        vec!["operator"],
        "the forced manager took the only field drplan owned"
    );

    // drplan now conflicts in turn.
    let (code, ..) = api_error(
        cms.patch(
            "shared",
            &PatchParams::apply("drplan"),
            &Patch::Apply(intent("from-drplan")),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(code, 409);
}

#[tokio::test]
async fn stale_replace_is_a_conflict() {
    let server = TestServer::start().await;
    let client = client(&server).await;
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    let original = cms
        .create(
            &PostParams::default(),
            &config_map("c", json!({}), json!({"v": "1"})),
        )
        .await
        .expect("create");
    let mut fresh = original.clone();
    fresh.data = Some([("v".to_string(), "2".to_string())].into());
    let replaced = cms
        .replace("c", &PostParams::default(), &fresh)
        .await
        .expect("replace with current rv");
    assert_ne!(
        replaced.metadata.resource_version,
        original.metadata.resource_version
    );

    let mut stale = original;
    stale.data = Some([("v".to_string(), "3".to_string())].into());
    let (code, reason, message) = api_error(
        cms.replace("c", &PostParams::default(), &stale)
            .await
            .unwrap_err(),
    );
    assert_eq!((code, reason.as_str()), (409, "Conflict"));
    assert!(
        message.contains("the object has been modified"),
        "{message}"
    );
    assert_eq!(
        cms.get("c")
            .await
            .expect("get")
            .data
            .unwrap_or_default()
            .get("v")
            .map(String::as_str),
        Some("2")
    );
}

#[tokio::test]
async fn dynamic_objects_via_api_resource() {
    let server = TestServer::start().await;
    let client = client(&server).await;
    let gvk = GroupVersionKind::gvk("apps", "v1", "Deployment");
    let resource = ApiResource::from_gvk(&gvk);
    let deployments: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), "default", &resource);
    let manifest = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}},
    });
    let applied = deployments
        .patch(
            "web",
            &PatchParams::apply("drplan"),
            &Patch::Apply(&manifest),
        )
        .await
        .expect("apply");
    assert_eq!(applied.metadata.generation, Some(1));
    let mut scaled = manifest.clone();
    scaled["spec"]["replicas"] = json!(3);
    let applied = deployments
        .patch("web", &PatchParams::apply("drplan"), &Patch::Apply(&scaled))
        .await
        .expect("scale");
    assert_eq!(
        applied.metadata.generation,
        Some(2),
        "spec change bumps generation"
    );

    let all: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
    let listed = all
        .list(&ListParams::default().labels("app=web"))
        .await
        .expect("list across namespaces");
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].data["spec"]["replicas"], json!(3));

    // The typed API reads the same object.
    let typed: Api<Deployment> = Api::namespaced(client, "default");
    let web = typed.get("web").await.expect("typed get");
    assert_eq!(web.spec.replicas, Some(3));
}

#[tokio::test]
async fn bearer_token_is_enforced_when_required() {
    let server = TestServer::start_with(Options {
        require_token: Some("s3cret".into()),
        ..Options::default()
    })
    .await;
    let good = client(&server).await;
    let cms: Api<ConfigMap> = Api::namespaced(good, "default");
    cms.list(&ListParams::default())
        .await
        .expect("token from kubeconfig is accepted");

    install_crypto();
    let mut config = Config::new(server.url().parse().expect("url"));
    config.auth_info.token = Some("wrong".to_string().into());
    let bad: Api<ConfigMap> = Api::namespaced(Client::try_from(config).expect("client"), "default");
    let (code, reason, _) = api_error(bad.list(&ListParams::default()).await.unwrap_err());
    assert_eq!((code, reason.as_str()), (401, "Unauthorized"));
}

#[tokio::test]
async fn servers_are_independent_and_share_one_kubeconfig() {
    let primary = TestServer::start().await;
    let dr = TestServer::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kubeconfig");
    primary
        .write_kubeconfig(&path, "primary")
        .expect("write primary");
    dr.write_kubeconfig(&path, "dr").expect("merge dr");
    let text = std::fs::read_to_string(&path).expect("read kubeconfig");
    assert!(text.contains("current-context: primary"), "{text}");

    let on_primary: Api<ConfigMap> =
        Api::namespaced(client_from_kubeconfig(&path, "primary").await, "default");
    let on_dr: Api<ConfigMap> =
        Api::namespaced(client_from_kubeconfig(&path, "dr").await, "default");
    on_primary
        .create(
            &PostParams::default(),
            &config_map("only-primary", json!({}), json!({})),
        )
        .await
        .expect("create");
    assert!(on_dr
        .get_opt("only-primary")
        .await
        .expect("get on dr")
        .is_none());
    assert!(on_primary
        .get_opt("only-primary")
        .await
        .expect("get on primary")
        .is_some());

    let writes = primary.writes();
    assert_eq!(writes.len(), 1);
    assert_eq!(
        (writes[0].method.as_str(), writes[0].path.as_str()),
        ("POST", "/api/v1/namespaces/default/configmaps")
    );
    assert!(dr.writes().is_empty());
    assert!(primary
        .object("v1", "configmaps", Some("default"), "only-primary")
        .is_some());
    primary.shutdown().await;
    assert!(
        on_dr.list(&ListParams::default()).await.is_ok(),
        "the other server keeps running"
    );
}

#[tokio::test]
async fn invalid_labels_are_rejected_like_a_real_server() {
    let server = TestServer::start().await;
    let cms: Api<ConfigMap> = Api::namespaced(client(&server).await, "default");
    let bad = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "labels": {"drplan:stack": "prod"}}});
    let (code, reason, message) = api_error(
        cms.patch("x", &PatchParams::apply("drplan"), &Patch::Apply(&bad))
            .await
            .unwrap_err(),
    );
    assert_eq!((code, reason.as_str()), (422, "Invalid"), "{message}");
    assert!(message.contains("drplan:stack"), "{message}");
}

#[tokio::test]
async fn merge_patch_and_status_subresource() {
    let server = TestServer::start().await;
    let client = client(&server).await;
    let deployments: Api<Deployment> = Api::namespaced(client, "default");
    let manifest = json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api"},
        "spec": {"selector": {"matchLabels": {"app": "api"}}, "template": {"metadata": {"labels": {"app": "api"}}, "spec": {"containers": [{"name": "api", "image": "api:1"}]}}},
    });
    deployments
        .patch(
            "api",
            &PatchParams::apply("drplan"),
            &Patch::Apply(&manifest),
        )
        .await
        .expect("apply");
    let status = json!({"status": {"readyReplicas": 1, "replicas": 1}});
    deployments
        .patch_status("api", &PatchParams::default(), &Patch::Merge(&status))
        .await
        .expect("status patch");
    let merged = deployments
        .patch(
            "api",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {"note": "x"}}})),
        )
        .await
        .expect("merge patch");
    assert_eq!(merged.status.and_then(|s| s.ready_replicas), Some(1));
    assert_eq!(
        merged
            .metadata
            .annotations
            .unwrap_or_default()
            .get("note")
            .map(String::as_str),
        Some("x")
    );

    let scale = deployments.get_scale("api").await.expect("get scale");
    assert_eq!(
        scale.spec.and_then(|s| s.replicas),
        Some(1),
        "replicas default to 1"
    );
    assert_eq!(scale.status.map(|s| s.replicas), Some(1));
    let scaled = deployments
        .patch_scale(
            "api",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 0}})),
        )
        .await
        .expect("scale to zero");
    assert_eq!(scaled.spec.and_then(|s| s.replicas), Some(0));
    assert_eq!(
        deployments.get("api").await.expect("get").spec.replicas,
        Some(0)
    );
}

#[tokio::test]
async fn dry_run_apply_changes_nothing() {
    let server = TestServer::start().await;
    let cms: Api<ConfigMap> = Api::namespaced(client(&server).await, "default");
    let intent = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "d"}, "data": {"a": "1"}});
    let preview = cms
        .patch(
            "d",
            &PatchParams::apply("drplan").dry_run(),
            &Patch::Apply(&intent),
        )
        .await
        .expect("dry run");
    assert_eq!(
        preview
            .data
            .unwrap_or_default()
            .get("a")
            .map(String::as_str),
        Some("1")
    );
    assert!(
        cms.get_opt("d").await.expect("get").is_none(),
        "dry run stored nothing"
    );

    let created = cms
        .patch("d", &PatchParams::apply("drplan"), &Patch::Apply(&intent))
        .await
        .expect("apply");
    let changed = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "d"}, "data": {"a": "2"}});
    let preview = cms
        .patch(
            "d",
            &PatchParams::apply("drplan").dry_run(),
            &Patch::Apply(&changed),
        )
        .await
        .expect("dry run");
    assert_eq!(
        preview
            .data
            .unwrap_or_default()
            .get("a")
            .map(String::as_str),
        Some("2")
    );
    let live = cms.get("d").await.expect("get");
    assert_eq!(
        live.data.unwrap_or_default().get("a").map(String::as_str),
        Some("1")
    );
    assert_eq!(
        live.metadata.resource_version,
        created.metadata.resource_version
    );
}

#[tokio::test]
async fn generate_name_json_patch_and_delete_collection() {
    let server = TestServer::start().await;
    let cms: Api<ConfigMap> = Api::namespaced(client(&server).await, "default");
    let generated: ConfigMap = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "job-", "labels": {"batch": "1"}}
    }))
    .expect("cm");
    let a = cms
        .create(&PostParams::default(), &generated)
        .await
        .expect("create a");
    let b = cms
        .create(&PostParams::default(), &generated)
        .await
        .expect("create b");
    let (name_a, name_b) = (
        a.metadata.name.unwrap_or_default(),
        b.metadata.name.unwrap_or_default(),
    );
    assert!(name_a.starts_with("job-") && name_a.len() == 9, "{name_a}");
    assert_ne!(name_a, name_b);

    // kube's Patch::Json needs a feature drplan does not enable; send it raw.
    let request = http::Request::patch(format!("/api/v1/namespaces/default/configmaps/{name_a}"))
        .header("Content-Type", "application/json-patch+json")
        .body(br#"[{"op": "add", "path": "/data", "value": {"k": "v"}}]"#.to_vec())
        .expect("request");
    let patched: ConfigMap = client(&server)
        .await
        .request(request)
        .await
        .expect("json patch");
    assert_eq!(
        patched
            .data
            .unwrap_or_default()
            .get("k")
            .map(String::as_str),
        Some("v")
    );

    cms.create(
        &PostParams::default(),
        &config_map("keep", json!({}), json!({})),
    )
    .await
    .expect("create keep");
    cms.delete_collection(
        &DeleteParams::default(),
        &ListParams::default().labels("batch=1"),
    )
    .await
    .expect("delete collection");
    let left: Vec<String> = cms
        .list(&ListParams::default())
        .await
        .expect("list")
        .items
        .into_iter()
        .filter_map(|c| c.metadata.name)
        .collect();
    assert_eq!(left, vec!["keep"]);
}

#[tokio::test]
async fn watch_streams_changes_after_a_list() {
    use futures::{StreamExt, TryStreamExt};
    use kube::api::{WatchEvent, WatchParams};

    let server = TestServer::start().await;
    let cms: Api<ConfigMap> = Api::namespaced(client(&server).await, "default");
    cms.create(
        &PostParams::default(),
        &config_map("before", json!({"w": "1"}), json!({})),
    )
    .await
    .expect("create");
    let listed = cms.list(&ListParams::default()).await.expect("list");
    let rv = listed.metadata.resource_version.clone().unwrap_or_default();

    let params = WatchParams::default().labels("w=1").timeout(5);
    let stream = cms.watch(&params, &rv).await.expect("watch opens");
    cms.create(
        &PostParams::default(),
        &config_map("ignored", json!({}), json!({})),
    )
    .await
    .expect("create ignored");
    cms.create(
        &PostParams::default(),
        &config_map("c", json!({"w": "1"}), json!({})),
    )
    .await
    .expect("create c");
    cms.patch(
        "c",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"k": "v"}})),
    )
    .await
    .expect("patch");
    cms.delete("c", &DeleteParams::default())
        .await
        .expect("delete");

    let events: Vec<(String, String)> = stream
        .take(3)
        .map_ok(|event| match event {
            WatchEvent::Added(o) => ("ADDED".to_string(), o.metadata.name.unwrap_or_default()),
            WatchEvent::Modified(o) => {
                ("MODIFIED".to_string(), o.metadata.name.unwrap_or_default())
            }
            WatchEvent::Deleted(o) => ("DELETED".to_string(), o.metadata.name.unwrap_or_default()),
            other => (format!("{other:?}"), String::new()),
        })
        .try_collect()
        .await
        .expect("events");
    let expected: Vec<(String, String)> = [("ADDED", "c"), ("MODIFIED", "c"), ("DELETED", "c")]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(events, expected);

    // From "0", a watch starts with what exists, then ends at its timeout.
    let initial: Vec<_> = cms
        .watch(&WatchParams::default().timeout(1), "0")
        .await
        .expect("watch from 0")
        .try_collect()
        .await
        .expect("stream ends cleanly at the timeout");
    assert_eq!(initial.len(), 2, "before and ignored");
}

#[tokio::test]
async fn simulated_rollouts_report_workloads_ready() {
    use k8s_openapi::api::batch::v1::Job;

    let server = TestServer::start_with(Options {
        simulate_rollouts: true,
        ..Options::default()
    })
    .await;
    let client = client(&server).await;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let manifest = |replicas: i64| {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "api"}},
                     "template": {"metadata": {"labels": {"app": "api"}}, "spec": {"containers": [{"name": "api", "image": "api:1"}]}}},
        })
    };
    let created = deployments
        .patch(
            "api",
            &PatchParams::apply("drplan"),
            &Patch::Apply(manifest(2)),
        )
        .await
        .expect("apply");
    let status = created.status.expect("simulated status");
    assert_eq!(
        (
            status.ready_replicas,
            status.available_replicas,
            status.observed_generation
        ),
        (Some(2), Some(2), Some(1))
    );

    let scaled = deployments
        .patch(
            "api",
            &PatchParams::apply("drplan"),
            &Patch::Apply(manifest(4)),
        )
        .await
        .expect("apply");
    let status = scaled.status.expect("simulated status");
    assert_eq!(
        (status.ready_replicas, status.observed_generation),
        (Some(4), Some(2))
    );

    let jobs: Api<Job> = Api::namespaced(client, "default");
    let job = json!({
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "restore"},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "r", "image": "restore:1"}]}}},
    });
    let job = jobs
        .patch("restore", &PatchParams::apply("drplan"), &Patch::Apply(job))
        .await
        .expect("job");
    let conditions = job.status.and_then(|s| s.conditions).unwrap_or_default();
    assert!(conditions
        .iter()
        .any(|c| c.type_ == "Complete" && c.status == "True"));
}

#[tokio::test]
async fn extra_resources_are_discovered_and_served() {
    use kube_testserver::ResourceType;

    let schedule = ResourceType::new("velero.io", "v1", "Schedule", "schedules", true);
    let server = TestServer::start_with(Options {
        extra_resources: vec![schedule],
        ..Options::default()
    })
    .await;
    let client = client(&server).await;
    let discovery = Discovery::new(client.clone())
        .run_aggregated()
        .await
        .expect("discovery");
    let (resource, caps) = discovery
        .resolve_gvk(&GroupVersionKind::gvk("velero.io", "v1", "Schedule"))
        .expect("schedule discovered");
    assert_eq!(caps.scope, Scope::Namespaced);

    let schedules: Api<DynamicObject> = Api::namespaced_with(client, "default", &resource);
    let nightly = json!({
        "apiVersion": "velero.io/v1", "kind": "Schedule", "metadata": {"name": "nightly"},
        "spec": {"schedule": "0 2 * * *", "template": {"ttl": "720h"}},
    });
    let applied = schedules
        .patch(
            "nightly",
            &PatchParams::apply("drplan"),
            &Patch::Apply(&nightly),
        )
        .await
        .expect("apply");
    assert_eq!(applied.data["spec"]["schedule"], "0 2 * * *");
    assert_eq!(applied.metadata.generation, Some(1));
}

/// kube's rustls cannot choose between the ring and aws-lc providers when a workspace
/// build enables both; pick one, once, before any client is built.
fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
