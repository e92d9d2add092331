//! The emulated cloud a benchmark runs against: two fresh moto servers (S3, and every
//! other AWS service) and one Kubernetes test server per cluster of the topology, each
//! behind a listener of one test proxy group (`crates/testproxy`: one configuration,
//! one request count). `drplan` reaches them only through the proxies; the AWS proxy
//! routes by the service the request is signed for.
//!
//! Why two moto servers: moto is one Python process, and on this 2-core machine it
//! was the bound of the plan benchmark (90-95% of a core, 280-440 requests/s, while
//! 93% of a plan's calls are S3 bucket reads). AWS services are separate fleets; the
//! emulated ones share no state a benchmark relies on (a bucket refers only to
//! buckets), so S3 gets its own process.

use super::topology::Topology;
use crate::support::moto::MotoServer;
use crate::support::outofband;
use drplan_core::resource::{Kind, Resource};
use kube_testserver::TestServer;
use std::fmt::Write;
use std::path::PathBuf;
use std::sync::Arc;
use testproxy::{Config, Counters, Proxy, Shared, Upstreams};

pub struct Rig {
    /// Every AWS service but S3.
    pub moto: MotoServer,
    pub moto_s3: MotoServer,
    pub counters: Arc<Counters>,
    shared: Arc<Shared>,
    moto_proxy: Proxy,
    _k8s: Vec<(TestServer, Proxy)>,
    pub kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

impl Rig {
    pub async fn start(topology: &Topology) -> Result<Rig, String> {
        // Started on the calling thread (the suite's main thread, inside block_on):
        // moto dies with the thread that spawned it (PR_SET_PDEATHSIG), and tokio's
        // blocking-pool threads exit when idle.
        let moto = MotoServer::start();
        let moto_s3 = MotoServer::start();
        let shared = Shared::new(Config::default());
        let upstreams = Upstreams {
            default: moto_addr(&moto)?,
            by_service: [("s3".to_string(), moto_addr(&moto_s3)?)]
                .into_iter()
                .collect(),
        };
        let moto_proxy = Proxy::join(upstreams, &shared)
            .await
            .map_err(|e| e.to_string())?;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mut k8s = Vec::new();
        let mut config = String::from("apiVersion: v1\nkind: Config\n");
        let (mut clusters, mut users, mut contexts) = (String::new(), String::new(), String::new());
        for label in &topology.clusters {
            let server = TestServer::try_start_with(Default::default())
                .await
                .map_err(|e| e.to_string())?;
            let proxy = Proxy::join(Upstreams::one(server_addr(&server)?), &shared)
                .await
                .map_err(|e| e.to_string())?;
            let _ = write!(
                clusters,
                "- name: {label}\n  cluster:\n    server: {}\n",
                proxy.url()
            );
            let _ = write!(
                users,
                "- name: {label}\n  user:\n    token: {}\n",
                server.token()
            );
            let _ = write!(
                contexts,
                "- name: {label}\n  context:\n    cluster: {label}\n    user: {label}\n"
            );
            k8s.push((server, proxy));
        }
        let _ = write!(
            config,
            "clusters:\n{clusters}users:\n{users}contexts:\n{contexts}"
        );
        if let Some(first) = topology.clusters.first() {
            let _ = writeln!(config, "current-context: {first}");
        }
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(&kubeconfig, config).map_err(|e| e.to_string())?;
        Ok(Rig {
            moto,
            moto_s3,
            counters: shared.counters.clone(),
            shared,
            moto_proxy,
            _k8s: k8s,
            kubeconfig,
            _dir: dir,
        })
    }

    /// Creates `resources` out of band, as a console user would (marked as drplan
    /// marks them), each on the emulator that serves its service.
    pub async fn create_out_of_band(
        &self,
        stack: &str,
        resources: &[Resource],
    ) -> Result<(), String> {
        let (buckets, others): (Vec<Resource>, Vec<Resource>) = resources
            .iter()
            .filter(|r| r.kind != Kind::K8sObject)
            .cloned()
            .partition(|r| r.kind == Kind::Bucket);
        let (a, b) = tokio::join!(
            outofband::create_all(&self.moto, stack, &others),
            outofband::create_all(&self.moto_s3, stack, &buckets)
        );
        a.map_err(|e| format!("{e:?}"))?;
        b.map_err(|e| format!("{e:?}"))?;
        Ok(())
    }

    /// Delays and record/replay mode for every proxy of the rig.
    pub fn configure(&self, config: Config) {
        self.shared.configure(config);
    }

    /// Environment for a `drplan` child: AWS through the proxy, clusters through theirs.
    pub fn cli_env(&self) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = self
            .moto
            .env_for_cli()
            .into_iter()
            .filter(|(k, _)| k != "AWS_ENDPOINT_URL" && k != "KUBECONFIG")
            .collect();
        env.push(("AWS_ENDPOINT_URL".into(), self.moto_proxy.url()));
        env.push(("KUBECONFIG".into(), self.kubeconfig.display().to_string()));
        env.push(("NO_COLOR".into(), "1".into()));
        env
    }

    /// CPU seconds the moto servers have used so far (user + system, from /proc).
    pub fn moto_cpu_seconds(&self) -> f64 {
        cpu_seconds(self.moto.pid()) + cpu_seconds(self.moto_s3.pid())
    }
}

fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return f64::NAN;
    };
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let Some(rest) = stat.rsplit(')').next() else {
        return f64::NAN;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    (ticks(11) + ticks(12)) / hz
}

fn moto_addr(moto: &MotoServer) -> Result<std::net::SocketAddr, String> {
    format!(
        "127.0.0.1:{}",
        moto.endpoint().rsplit(':').next().unwrap_or_default()
    )
    .parse()
    .map_err(|e| format!("moto address: {e}"))
}

fn server_addr(server: &TestServer) -> Result<std::net::SocketAddr, String> {
    format!("127.0.0.1:{}", server.port())
        .parse()
        .map_err(|e| format!("test server address: {e}"))
}
