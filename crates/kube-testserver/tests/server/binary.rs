//! The `kube-testserver` binary used by the demo: prints its URL, writes the
//! kubeconfig, serves, and exits cleanly on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

#[tokio::test]
async fn binary_serves_until_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    let mut child = Command::new(env!("CARGO_BIN_EXE_kube-testserver"))
        .args(["--port", "0", "--context", "demo-primary", "--kubeconfig"])
        .arg(&kubeconfig)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let url = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    })
    .await
    .expect("join")
    .expect("reads URL");
    assert!(url.trim().starts_with("http://127.0.0.1:"), "{url}");

    install_crypto();
    let config = Config::from_custom_kubeconfig(
        Kubeconfig::read_from(&kubeconfig).expect("kubeconfig"),
        &KubeConfigOptions {
            context: Some("demo-primary".into()),
            ..Default::default()
        },
    )
    .await
    .expect("config");
    assert_eq!(
        config.cluster_url.to_string().trim_end_matches('/'),
        url.trim()
    );
    let namespaces: Api<Namespace> = Api::all(Client::try_from(config).expect("client"));
    let listed = namespaces
        .list(&ListParams::default())
        .await
        .expect("list namespaces");
    assert!(listed
        .items
        .iter()
        .any(|n| n.metadata.name.as_deref() == Some("default")));

    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(term.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "server did not exit after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status}");
}

/// kube's rustls cannot choose between the ring and aws-lc providers when a workspace
/// build enables both; pick one, once, before any client is built.
fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
