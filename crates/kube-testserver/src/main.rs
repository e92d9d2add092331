//! `kube-testserver`: runs one test API server until SIGINT/SIGTERM, for demos.
//! stdout carries only the server URL so scripts can capture it.

use std::path::PathBuf;

use clap::Parser;
use kube_testserver::{Options, TestServer};

#[derive(Debug, Parser)]
#[command(
    name = "kube-testserver",
    about = "An in-memory Kubernetes API server for tests and demos"
)]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Write (or merge into) this kubeconfig a context for the server.
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// Name of the kubeconfig context, cluster and user.
    #[arg(long, default_value = "kube-testserver")]
    context: String,
    /// Require this bearer token on every request.
    #[arg(long)]
    token: Option<String>,
    /// Mark written deployments, statefulsets, daemonsets and jobs as finished
    /// and ready at once, so rollout waits complete (no pods are run).
    #[arg(long)]
    simulate_rollouts: bool,
    /// Serve HTTPS with a freshly generated CA; the kubeconfig carries the CA.
    #[arg(long)]
    tls: bool,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let options = Options {
        require_token: args.token,
        port: args.port,
        simulate_rollouts: args.simulate_rollouts,
        tls: args.tls,
        ..Options::default()
    };
    let server = match TestServer::try_start_with(options).await {
        Ok(server) => server,
        Err(e) => {
            eprintln!("error: cannot listen on 127.0.0.1:{}: {e}", args.port);
            return std::process::ExitCode::FAILURE;
        }
    };
    if let Some(path) = &args.kubeconfig {
        if let Err(e) = server.write_kubeconfig(path, &args.context) {
            eprintln!("error: cannot write kubeconfig {}: {e}", path.display());
            return std::process::ExitCode::FAILURE;
        }
        eprintln!(
            "kubeconfig {} has context {:?}",
            path.display(),
            args.context
        );
    }
    println!("{}", server.url());
    wait_for_signal().await;
    eprintln!("shutting down");
    server.shutdown().await;
    std::process::ExitCode::SUCCESS
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
