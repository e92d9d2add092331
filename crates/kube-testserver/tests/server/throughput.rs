//! How fast the server answers the real client, for sizing test suites.
//! Ignored by default: `cargo test -p kube-testserver --test server throughput -- --ignored --nocapture`.

use std::time::Instant;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::Client;
use kube_testserver::TestServer;
use serde_json::json;

#[tokio::test]
#[ignore]
async fn applies_and_lists_per_second() {
    let server = TestServer::start().await;
    let config = kube::Config::new(server.url().parse().expect("url"));
    let cms: Api<ConfigMap> = Api::namespaced(Client::try_from(config).expect("client"), "default");
    let params = PatchParams::apply("drplan");
    let n = 1000;
    let started = Instant::now();
    for i in 0..n {
        let name = format!("cm-{i}");
        let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": {"i": i.to_string()}}, "data": {"k": "v"}});
        cms.patch(&name, &params, &Patch::Apply(&body))
            .await
            .expect("apply");
    }
    let applies = started.elapsed();
    let started = Instant::now();
    for _ in 0..100 {
        let listed = cms
            .list(&ListParams::default().labels("i in (1,2,3)"))
            .await
            .expect("list");
        assert_eq!(listed.items.len(), 3);
    }
    let lists = started.elapsed();
    println!(
        "{n} server-side applies: {:?} ({:.0}/s); 100 selector lists over {n} objects: {:?} ({:.1} ms each)",
        applies,
        n as f64 / applies.as_secs_f64(),
        lists,
        lists.as_secs_f64() * 10.0
    );
}
