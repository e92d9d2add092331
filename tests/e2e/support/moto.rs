//! A moto server (the AWS emulator) for one test.
//!
//! **One server per test**, not one per binary: drplan's reads are account-wide
//! (ListBuckets, ListHostedZones, ListHealthChecks, ListClusters), and tests assert
//! exactly what a read returns and how many requests it took. A shared server would
//! make those results depend on which other tests ran first. moto starts in 1-2 s on
//! an idle machine, and the server dies with its `MotoServer` value: on Drop (also
//! while a failing test unwinds) and, through `PR_SET_PDEATHSIG`, when the test
//! process itself is killed, so no server outlives its test.
//!
//! Install the server with `scripts/setup-test-env.sh` (or point `DRPLAN_MOTO_SERVER`
//! at a `moto_server` executable). Startup measured here: ~6 s with the machine's two
//! cores busy compiling, so a test binary's tests start their servers in parallel.
//!
//! moto 5.2.5 as observed by these tests (where it differs from AWS, noted):
//! - EC2 `tag:<key>` filters on DescribeVpcs/DescribeSubnets work server-side.
//! - ListBuckets returns no `BucketRegion` (AWS does): one GetBucketLocation per bucket.
//!   GetBucketLocation answers no constraint for us-east-1, like AWS.
//! - New buckets have no default encryption (AWS applies SSE-S3 since 2023), so
//!   GetBucketEncryption says ServerSideEncryptionConfigurationNotFoundError.
//! - GetBucketVersioning's XML root is wrong in 5.2.x; setup-test-env.sh patches it.
//!   moto 5.1.x instead writes Route53 booleans as `False`, which the SDK rejects.
//! - EKS: tags come back in DescribeCluster/DescribeNodegroup; CreateCluster accepts
//!   subnet ids that do not exist; clusters are ACTIVE at once; a bare node group gets
//!   t3.medium, ON_DEMAND, 2/2/2 nodes, 20 GiB; UpdateClusterVersion is missing.
//! - Route53: the apex SOA record's value is a Python dict repr (readers skip apex
//!   SOA/NS anyway); CallerReference is not honoured (no idempotency); health checks
//!   are always healthy.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use drplan::aws::{default_retry_config, default_timeout_config, AwsContext};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The account moto reports for its default credentials.
pub const MOTO_ACCOUNT_ID: &str = "123456789012";
const ACCESS_KEY: &str = "testing";
const SECRET_KEY: &str = "testing";
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

pub struct MotoServer {
    child: Child,
    port: u16,
    /// moto logs every request; kept in a file (a pipe nobody reads would fill up
    /// and stall the server) and shown when startup fails.
    log: tempfile::NamedTempFile,
    /// More environment for the CLI (e.g. KUBECONFIG of the test's clusters).
    extra_env: std::sync::Mutex<Vec<(String, String)>>,
    /// Per region, the credentials of the account a project's `site_account` keeps
    /// there ([`MotoServer::use_site_accounts`]): the regional clients below use them.
    regional_credentials: std::sync::Mutex<std::collections::BTreeMap<String, Credentials>>,
}

pub fn moto_server_path() -> PathBuf {
    std::env::var_os("DRPLAN_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server"))
}

/// IAM roles the test specs and examples reference (account 123456789012).
pub const PREREQUISITE_ROLES: &[&str] = &[
    "eks",
    "eks-cluster",
    "eks-node",
    "eks-dr",
    "eks-v2",
    "node",
    "elb",
    "other",
    "r",
    "replication",
    "s3-replication",
    "shop-eks-cluster",
    "shop-eks-node",
    "shop-s3-replication",
    "link-eks-cluster",
    "link-eks-node",
    "link-s3-replication",
    "lanka-platform-eks-cluster",
    "lanka-platform-eks-node",
    "lanka-platform-s3-replication",
];

/// KMS key aliases the test specs and examples encrypt buckets with.
pub const PREREQUISITE_KEY_ALIASES: &[&str] = &[
    "alias/backups",
    "alias/shop-backups",
    "alias/lanka-backups",
    "alias/bench",
];

/// Where the test specs put buckets.
pub const PREREQUISITE_REGIONS: &[&str] = &[
    "us-east-1",
    "us-west-2",
    "us-east-2",
    "eu-west-1",
    "eu-central-1",
    "ap-southeast-2",
];

impl MotoServer {
    /// Starts a fresh, empty server on a free port and waits until it accepts
    /// connections. Panics (failing the test) with the reason if it cannot.
    pub fn start() -> MotoServer {
        let path = moto_server_path();
        assert!(
            path.exists(),
            "moto_server not found at {}: run scripts/setup-test-env.sh first",
            path.display()
        );
        // A server that dies at startup is retried.
        let mut last_failure = String::new();
        for _ in 0..3 {
            match Self::try_start(&path) {
                Ok(server) => {
                    server.create_prerequisites();
                    return server;
                }
                Err(failure) => last_failure = failure,
            }
        }
        panic!("moto server did not start: {last_failure}");
    }

    fn try_start(path: &PathBuf) -> Result<MotoServer, String> {
        let log = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
        let stderr = log.reopen().map_err(|e| e.to_string())?;
        let mut command = Command::new(path);
        // Port 0: the server binds a free port itself and says which. Picking one here
        // and passing it raced with other tests: a server that lost the port died, and
        // its test talked to another test's server.
        command
            .args(["-H", "127.0.0.1", "-p", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr);
        kill_with_parent(&mut command);
        let child = command
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", path.display()))?;
        let mut server = MotoServer {
            child,
            port: 0,
            log,
            extra_env: Default::default(),
            regional_credentials: Default::default(),
        };
        let started = Instant::now();
        loop {
            if server.port == 0 {
                server.port = listening_port(&server.log_text()).unwrap_or(0);
            }
            if server.port != 0 {
                let addr = SocketAddr::from(([127, 0, 0, 1], server.port));
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    return Ok(server);
                }
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!("exited with {status}: {}", server.log_text()));
            }
            if started.elapsed() > STARTUP_TIMEOUT {
                return Err(format!(
                    "not listening after {STARTUP_TIMEOUT:?}: {}",
                    server.log_text()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What a platform team creates before drplan runs, and drplan's DR-readiness
    /// check looks for: the IAM roles and KMS key aliases the test specs reference
    /// (`PREREQUISITE_ROLES`, `PREREQUISITE_KEY_ALIASES` in every `PREREQUISITE_REGIONS`).
    /// Tests of a missing one delete it. Runs on its own thread and runtime, so it works
    /// from sync and async tests alike.
    fn create_prerequisites(&self) {
        let iam = aws_sdk_iam::Client::new(&self.sdk_config("us-east-1"));
        let kms: Vec<aws_sdk_kms::Client> = PREREQUISITE_REGIONS
            .iter()
            .map(|r| aws_sdk_kms::Client::new(&self.sdk_config(r)))
            .collect();
        self.make_prerequisites(iam, kms);
    }

    /// The IAM roles (with `iam`) and KMS key aliases (with each of `kms`) the test
    /// specs and examples reference.
    fn make_prerequisites(&self, iam: aws_sdk_iam::Client, kms: Vec<aws_sdk_kms::Client>) {
        let made = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async move {
                let trust = r#"{"Version":"2012-10-17","Statement":[]}"#;
                let roles = PREREQUISITE_ROLES.iter().map(|name| {
                    iam.create_role()
                        .role_name(*name)
                        .assume_role_policy_document(trust)
                        .send()
                });
                for r in futures::future::join_all(roles).await {
                    r.map_err(|e| format!("CreateRole: {e:?}"))?;
                }
                let keys = kms.iter().flat_map(|client| {
                    PREREQUISITE_KEY_ALIASES
                        .iter()
                        .map(move |alias| async move {
                            let key = client
                                .create_key()
                                .send()
                                .await
                                .map_err(|e| format!("CreateKey: {e:?}"))?;
                            let id = key.key_metadata.map(|m| m.key_id).unwrap_or_default();
                            client
                                .create_alias()
                                .alias_name(*alias)
                                .target_key_id(id)
                                .send()
                                .await
                                .map_err(|e| format!("CreateAlias: {e:?}"))
                        })
                });
                for r in futures::future::join_all(keys).await {
                    r?;
                }
                Ok::<(), String>(())
            })
        })
        .join();
        match made {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("creating the test account's IAM roles and KMS keys in moto: {e}"),
            Err(_) => panic!("creating the test account's IAM roles and KMS keys in moto panicked"),
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// The server's process id (to check that it is gone).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// SDK configuration for this server: explicit dummy credentials and endpoint,
    /// nothing read from the process environment (tests run in parallel).
    pub fn sdk_config(&self, region: &str) -> SdkConfig {
        self.sdk_config_with_credentials(region, ACCESS_KEY, SECRET_KEY)
    }

    pub fn sdk_config_with_credentials(
        &self,
        region: &str,
        access_key: &str,
        secret_key: &str,
    ) -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .endpoint_url(self.endpoint())
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                access_key,
                secret_key,
                None,
                None,
                "moto-test",
            )))
            .retry_config(default_retry_config())
            .timeout_config(default_timeout_config())
            .build()
    }

    /// [`Self::sdk_config`], with the credentials of the site account that keeps
    /// `region`, if a project put one there ([`Self::use_site_accounts`]).
    pub fn regional_config(&self, region: &str) -> SdkConfig {
        let site = self
            .regional_credentials
            .lock()
            .ok()
            .and_then(|c| c.get(region).cloned());
        match site {
            Some(credentials) => self
                .sdk_config(region)
                .to_builder()
                .credentials_provider(SharedCredentialsProvider::new(credentials))
                .build(),
            None => self.sdk_config(region),
        }
    }

    /// For each `site_account` of `project` with a role: assumes it (as drplan does),
    /// makes the test account's prerequisites (IAM roles, KMS key aliases) in that
    /// account too, and from then on answers the regional clients of the site's region
    /// ([`Self::ec2`], [`Self::eks`], [`Self::s3`]) with its credentials, so a test
    /// reads the site's objects where drplan put them. Route53 stays global.
    pub async fn use_site_accounts(&self, project: &drplan_core::model::Project) {
        use drplan_core::model::environment::SiteCredentials;
        for (site, account) in &project.environment.site_accounts {
            let SiteCredentials::AssumeRole { role_arn, .. } = &account.credentials else {
                continue;
            };
            let Some(region) = project.topology.sites.get(site).map(|s| s.region.clone()) else {
                continue;
            };
            let out = self
                .sts()
                .assume_role()
                .role_arn(role_arn)
                .role_session_name("drplan-test")
                .send()
                .await
                .unwrap_or_else(|e| panic!("AssumeRole {role_arn}: {e}"));
            let c = out.credentials().expect("AssumeRole answered credentials");
            let credentials = Credentials::new(
                c.access_key_id(),
                c.secret_access_key(),
                Some(c.session_token().to_string()),
                None,
                "moto-site-account",
            );
            if let Ok(mut map) = self.regional_credentials.lock() {
                map.insert(region.clone(), credentials);
            }
            let config = self.regional_config(&region);
            self.make_prerequisites(
                aws_sdk_iam::Client::new(&config),
                vec![aws_sdk_kms::Client::new(&config)],
            );
        }
    }

    /// The context drplan itself uses, pointed at this server.
    pub fn context(&self) -> AwsContext {
        AwsContext::new(self.sdk_config("us-east-1"))
    }

    // Clients for arranging a test's world directly, outside drplan's code paths.

    pub fn ec2(&self, region: &str) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::new(&self.regional_config(region))
    }

    pub fn eks(&self, region: &str) -> aws_sdk_eks::Client {
        aws_sdk_eks::Client::new(&self.regional_config(region))
    }

    pub fn elasticache(&self, region: &str) -> aws_sdk_elasticache::Client {
        aws_sdk_elasticache::Client::new(&self.regional_config(region))
    }

    pub fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&self.regional_config(region))
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    pub fn route53(&self) -> aws_sdk_route53::Client {
        aws_sdk_route53::Client::new(&self.sdk_config("us-east-1"))
    }

    pub fn kms(&self, region: &str) -> aws_sdk_kms::Client {
        aws_sdk_kms::Client::new(&self.regional_config(region))
    }

    pub fn sts(&self) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&self.sdk_config("us-east-1"))
    }

    /// Environment for running the `drplan` binary against this server (set these on
    /// the child `Command`, never on the test process).
    pub fn env_for_cli(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_string()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.to_string()),
            ("AWS_REGION", "us-east-1".to_string()),
            // No profile, SSO or instance metadata lookups from the developer's machine.
            ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
            ("AWS_CONFIG_FILE", "/dev/null".to_string()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".to_string()),
            // A loaded test machine can keep moto from answering a reachability
            // probe within its default 5 s; tests that measure the probe set it back.
            ("DRPLAN_PROBE_TIMEOUT", "30".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .chain(self.extra_env.lock().map(|e| e.clone()).unwrap_or_default())
        .collect()
    }

    /// Adds a variable to [`Self::env_for_cli`].
    pub fn add_cli_env(&self, (key, value): (String, String)) {
        if let Ok(mut e) = self.extra_env.lock() {
            e.push((key, value));
        }
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The port of werkzeug's ` * Running on http://127.0.0.1:PORT` line.
fn listening_port(log: &str) -> Option<u16> {
    log.lines()
        .find_map(|l| l.split("Running on http://127.0.0.1:").nth(1))
        .and_then(|rest| rest.trim().trim_end_matches('/').parse().ok())
        .filter(|p| *p != 0)
}

/// Linux: the server gets SIGKILL when the thread that started it dies, which
/// covers a test process killed before Drop could run.
#[cfg(target_os = "linux")]
fn kill_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe and touches only the child's own state.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn kill_with_parent(_command: &mut Command) {}
