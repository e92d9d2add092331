//! Kubernetes API servers behind a proxy (issue 16): a kubeconfig cluster with
//! `proxy-url`, as kubectl users behind a corporate proxy or a bastion have it. drplan
//! goes through the proxy instead of failing on a disabled client feature.

use crate::objectives_e2e::applied_root_project;
use crate::support::cli::{drplan, explain};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A minimal HTTP forward proxy on 127.0.0.1: `CONNECT host:port` tunnels; a request
/// in absolute form (`GET http://host:port/path`) is passed to that host as is. Counts
/// the connections it served.
async fn forward_proxy() -> (String, Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let served = Arc::new(AtomicUsize::new(0));
    let count = served.clone();
    let task = tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(serve(client));
        }
    });
    (url, served, task)
}

async fn serve(mut client: TcpStream) {
    // The request head, up to the blank line.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match client.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let text = String::from_utf8_lossy(&head).to_string();
    let mut parts = text.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let authority = match method {
        "CONNECT" => target,
        _ => target
            .strip_prefix("http://")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or(""),
    };
    let Ok(mut upstream) = TcpStream::connect(authority).await else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
        return;
    };
    let started = if method == "CONNECT" {
        client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await
    } else {
        upstream.write_all(&head).await
    };
    if started.is_ok() {
        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_behind_a_proxy_url_is_read_through_the_proxy() {
    let (dir, moto, clusters) = applied_root_project().await;
    let root = dir.path();
    let (proxy, served, task) = forward_proxy().await;

    // The primary cluster is reachable only through the proxy, as kubectl has it.
    let kubeconfig = std::fs::read_to_string(&clusters.kubeconfig).expect("read kubeconfig");
    let primary = clusters.servers[0].url();
    let server_line = kubeconfig
        .lines()
        .find(|l| l.trim() == format!("server: {primary}"))
        .expect("the primary cluster's server line")
        .to_string();
    let indent = &server_line[..server_line.len() - server_line.trim_start().len()];
    let proxied = kubeconfig.replace(
        &server_line,
        &format!("{server_line}\n{indent}proxy-url: {proxy}"),
    );
    assert_ne!(proxied, kubeconfig);
    std::fs::write(&clusters.kubeconfig, proxied).expect("write kubeconfig");

    let out = drplan(&moto, root, &["plan", "-e", "prod", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    assert!(
        served.load(Ordering::SeqCst) > 0,
        "the cluster was read through the proxy"
    );
    task.abort();
}
