//! A Kubernetes API server for tests: the real HTTP protocol (discovery, CRUD,
//! server-side apply with field managers, Status errors) over an in-memory
//! store, so the real `kube` client and `kubectl` can talk to it.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let server = kube_testserver::TestServer::start().await;
//! server.write_kubeconfig(std::path::Path::new("/tmp/kubeconfig"), "primary")?;
//! # Ok(()) }
//! ```
//!
//! **Architecture invariant:** only `routing`, `watch`, `tls`, `eks_auth` and this
//! file know about HTTP; `verbs`, `ssa`, `fieldpath`, `selectors` and `store` work on plain JSON
//! values. See README.md for the code map and the deviations from a real server.

mod catalog;
mod discovery;
mod eks_auth;
mod fieldpath;
mod kubeconfig;
mod metadata_only;
mod openapi;
mod patch;
mod protobuf;
mod rollouts;
mod routing;
mod scale;
mod selectors;
mod ssa;
mod status;
mod store;
mod table;
mod tls;
mod validation;
mod verbs;
mod watch;

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use catalog::ResourceType;
pub use eks_auth::{EksAuth, DEFAULT_MAX_TOKEN_AGE};
pub use routing::RequestRecord;

use catalog::Catalog;
use routing::AppState;
use store::{ObjectKey, Store};

/// Namespaces every real cluster starts with.
const INITIAL_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

/// The bearer token written to kubeconfigs when the server does not require one.
pub const DEFAULT_TOKEN: &str = "kube-testserver-token";

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// When set, every request must carry `Authorization: Bearer <token>` (401
    /// otherwise), and kubeconfigs carry this token.
    pub require_token: Option<String>,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Extra types (CRDs, say) served like the built-in ones.
    pub extra_resources: Vec<ResourceType>,
    /// Stand in for the workload controllers: every written deployment,
    /// statefulset, daemonset and job immediately gets a finished, ready status.
    /// Off by default: then status is only what clients write.
    pub simulate_rollouts: bool,
    /// Serve HTTPS with a certificate from a CA generated for this server (see
    /// [`TestServer::ca_data`]), as an EKS endpoint does.
    pub tls: bool,
    /// Authenticate as EKS does: bearer tokens that are presigned STS
    /// GetCallerIdentity URLs for this cluster, confirmed by replaying them to STS.
    /// Replaces `require_token`.
    pub eks_auth: Option<EksAuth>,
}

/// A running server. Dropping it stops accepting connections.
pub struct TestServer {
    address: SocketAddr,
    state: Arc<AppState>,
    token: String,
    /// `certificateAuthority.data` when serving HTTPS.
    ca_data: Option<String>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    /// Kept to serve again after [`TestServer::stop`].
    app: axum::Router,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
}

/// Serves `app` on `listener` (over TLS with `acceptor`) until the sender fires.
fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
) -> io::Result<(oneshot::Sender<()>, JoinHandle<()>)> {
    let address = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let stopped = async {
        let _ = stopped.await;
    };
    let task = match acceptor {
        Some(acceptor) => {
            let listener = tls::TlsListener::new(listener, acceptor)?;
            tokio::spawn(async move {
                let serve = axum::serve(listener, app).with_graceful_shutdown(stopped);
                if let Err(e) = serve.await {
                    eprintln!("kube-testserver on {address} stopped: {e}");
                }
            })
        }
        None => tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(stopped);
            if let Err(e) = serve.await {
                eprintln!("kube-testserver on {address} stopped: {e}");
            }
        }),
    };
    Ok((stop, task))
}

impl TestServer {
    /// Starts a server on a free port. Panics if no port can be bound, which
    /// in a test is the clearest failure.
    pub async fn start() -> TestServer {
        Self::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> TestServer {
        match Self::try_start_with(options).await {
            Ok(server) => server,
            Err(e) => panic!("kube-testserver could not listen on 127.0.0.1: {e}"),
        }
    }

    pub async fn try_start_with(options: Options) -> io::Result<TestServer> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port)).await?;
        let address = listener.local_addr()?;
        let catalog = Catalog::new(options.extra_resources);
        let mut store = Store::default();
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        seed_namespaces(&mut store, &catalog, &now, u64::from(address.port()));
        let state = Arc::new(AppState {
            catalog,
            store: Mutex::new(store),
            log: Mutex::new(Vec::new()),
            require_token: options.require_token.clone(),
            eks_auth: options.eks_auth.clone().map(eks_auth::Authenticator::new),
            address: address.to_string(),
            uid_salt: u64::from(address.port()),
            simulate_rollouts: options.simulate_rollouts,
            closing: tokio::sync::watch::channel(false).0,
        });
        // A real API server accepts request bodies up to 3 MiB (axum's default is 2).
        let app = axum::Router::new()
            .fallback(routing::handle)
            .layer(axum::extract::DefaultBodyLimit::max(3 * 1024 * 1024))
            .with_state(state.clone());
        let (acceptor, ca_data) = if options.tls {
            let identity = tls::Identity::generate()?;
            (Some(identity.acceptor.clone()), Some(identity.ca_data()))
        } else {
            (None, None)
        };
        let (stop, task) = serve(listener, app.clone(), acceptor.clone())?;
        Ok(TestServer {
            address,
            state,
            token: options
                .require_token
                .unwrap_or_else(|| DEFAULT_TOKEN.to_string()),
            ca_data,
            stop: Some(stop),
            task: Some(task),
            app,
            acceptor,
        })
    }

    /// `http://127.0.0.1:PORT`, or `https://` with [`Options::tls`].
    pub fn url(&self) -> String {
        let scheme = if self.ca_data.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.address)
    }

    /// The CA that signed the server's certificate, as EKS DescribeCluster returns
    /// it (`certificateAuthority.data`: the PEM, base64-encoded). None over HTTP.
    pub fn ca_data(&self) -> Option<&str> {
        self.ca_data.as_deref()
    }

    /// With [`Options::eks_auth`]: the caller ARNs STS confirmed, one per distinct
    /// token, oldest first.
    pub fn eks_identities(&self) -> Vec<String> {
        self.state
            .eks_auth
            .as_ref()
            .map(|a| a.identities())
            .unwrap_or_default()
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// A kubeconfig (YAML) with one cluster, user and context named `context`.
    pub fn kubeconfig_yaml(&self, context: &str) -> String {
        let config = kubeconfig::single(&self.url(), self.ca_data(), &self.token, context);
        serde_yaml_ng::to_string(&config).unwrap_or_default()
    }

    /// Writes a kubeconfig for this server under `context`, merging into the file
    /// if it exists so several servers can share one kubeconfig.
    pub fn write_kubeconfig(&self, path: &Path, context: &str) -> io::Result<()> {
        kubeconfig::write(path, &self.url(), self.ca_data(), &self.token, context)
    }

    /// Every request answered so far, oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.state.log().clone()
    }

    /// Requests that could change state (anything but GET), oldest first.
    pub fn writes(&self) -> Vec<RequestRecord> {
        self.state
            .log()
            .iter()
            .filter(|r| r.method != "GET")
            .cloned()
            .collect()
    }

    pub fn clear_requests(&self) {
        self.state.log().clear();
    }

    /// One stored object, read directly (no request is logged).
    pub fn object(
        &self,
        api_version: &str,
        plural: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        let (group, _) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let key = ObjectKey {
            group: group.to_string(),
            plural: plural.to_string(),
            namespace: namespace.unwrap_or_default().to_string(),
            name: name.to_string(),
        };
        self.state.store().get(&key).cloned()
    }

    /// Every stored object, ordered by group, resource, namespace and name.
    pub fn objects(&self) -> Vec<Value> {
        self.state.store().all().map(|(_, v)| v.clone()).collect()
    }

    /// Stops accepting connections and waits (briefly) for open ones to finish.
    pub async fn shutdown(mut self) {
        self.stop().await;
    }

    /// The cluster goes down: the port closes (clients get "connection refused")
    /// and open connections end, but every stored object is kept for
    /// [`TestServer::restart`]. Stopping a stopped server does nothing.
    pub async fn stop(&mut self) {
        self.state.closing.send_replace(true);
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(2), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }

    /// The cluster comes back after [`TestServer::stop`]: the same address, CA,
    /// token and objects. Fails if another process took the port meanwhile.
    pub async fn restart(&mut self) -> io::Result<()> {
        if self.task.is_some() {
            return Ok(());
        }
        let listener = tokio::net::TcpListener::bind(self.address).await?;
        self.state.closing.send_replace(false);
        let (stop, task) = serve(listener, self.app.clone(), self.acceptor.clone())?;
        self.stop = Some(stop);
        self.task = Some(task);
        Ok(())
    }

    /// Whether the server is accepting connections (not stopped).
    pub fn is_running(&self) -> bool {
        self.task.is_some()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.state.closing.send_replace(true);
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn seed_namespaces(store: &mut Store, catalog: &Catalog, now: &str, salt: u64) {
    let Some(ty) = catalog.namespace_type() else {
        return;
    };
    for name in INITIAL_NAMESPACES {
        let uid = store.next_uid(salt);
        let rv = store.next_revision().to_string();
        let object = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": name,
                "uid": uid,
                "resourceVersion": rv,
                "creationTimestamp": now,
                "labels": {"kubernetes.io/metadata.name": name},
            },
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        });
        store.put(ObjectKey::new(ty, None, name), object);
    }
}
