//! One in-memory Kubernetes API server per cluster, reached through a kubeconfig
//! whose context names match the environment's `cluster_access` blocks.

use kube_testserver::{Options, TestServer};
use std::path::PathBuf;

pub struct Clusters {
    pub servers: Vec<TestServer>,
    pub kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

impl Clusters {
    /// Starts a server per context (e.g. `shop-primary`, `shop-dr`). Each stands in for
    /// the workload controllers (Jobs complete, Deployments roll out at once), as apply
    /// waits for restore Jobs to finish.
    pub async fn start(contexts: &[&str]) -> Clusters {
        Self::start_with(contexts, true).await
    }

    /// [`Clusters::start`]; without `simulate_rollouts`, a workload's status is only
    /// what the test writes (a rollout is ready when the test says so).
    pub async fn start_with(contexts: &[&str], simulate_rollouts: bool) -> Clusters {
        let dir = tempfile::tempdir().expect("temp dir");
        let kubeconfig = dir.path().join("kubeconfig");
        let mut servers = Vec::new();
        for context in contexts {
            let server = TestServer::start_with(Options {
                simulate_rollouts,
                ..Options::default()
            })
            .await;
            server
                .write_kubeconfig(&kubeconfig, context)
                .expect("write kubeconfig");
            servers.push(server);
        }
        Clusters {
            servers,
            kubeconfig,
            _dir: dir,
        }
    }

    pub fn env(&self) -> (String, String) {
        (
            "KUBECONFIG".to_string(),
            self.kubeconfig.display().to_string(),
        )
    }
}
