//! Access to AWS: one [`AwsContext`] per command run, holding the SDK configuration,
//! cached clients per region, request counting and client-side limits.
//!
//! **Architecture invariant:** this module knows nothing about drplan's resources. It
//! hands out configured clients and permits; `live` (readers) and the appliers decide
//! what to call.

pub mod account;
mod call_counter;
pub mod credentials;
pub mod error;
mod limits;
pub mod objects;
mod probe;
pub mod secrets;
mod slow_calls;

pub use account::AccountGuardError;
pub use call_counter::ApiCallCounter;
pub use limits::{
    max_in_flight, RateLimiter, ServiceLimits, ServicePermit, ROUTE53_REQUESTS_PER_SECOND,
};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// Route53, STS and S3's bucket listing are global; their requests are signed for the
/// aws partition's home region.
pub(crate) const GLOBAL_REGION: &str = "us-east-1";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Service {
    Ec2 = 0,
    Eks = 1,
    S3 = 2,
    Route53 = 3,
    Sts = 4,
    Iam = 5,
    Kms = 6,
    Ecr = 7,
    ElastiCache = 8,
}

impl Service {
    pub const COUNT: usize = 9;
    pub const ALL: [Service; Service::COUNT] = [
        Service::Ec2,
        Service::Eks,
        Service::S3,
        Service::Route53,
        Service::Sts,
        Service::Iam,
        Service::Kms,
        Service::Ecr,
        Service::ElastiCache,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Service::Ec2 => "ec2",
            Service::Eks => "eks",
            Service::S3 => "s3",
            Service::Route53 => "route53",
            Service::Sts => "sts",
            Service::Iam => "iam",
            Service::Kms => "kms",
            Service::Ecr => "ecr",
            Service::ElastiCache => "elasticache",
        }
    }
}

/// Standard retry mode (token bucket, exponential backoff with jitter) with a bound
/// on attempts, so a broken endpoint fails a plan in seconds, not minutes.
pub fn default_retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(5)
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(Duration::from_secs(10))
}

/// Explicit timeouts: the SDK has none for operations by default, and an endpoint
/// that accepts connections and never answers would otherwise hang the command.
/// AWS control-plane calls answer in well under a second; an attempt silent for
/// [`ATTEMPT_TIMEOUT`] is given up (and retried), and no call takes longer than
/// [`OPERATION_TIMEOUT`] with its retries (it was 120 s of silence before). While a
/// call waits, `slow_calls` names it on stderr.
pub fn default_timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .read_timeout(ATTEMPT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

/// One attempt of one AWS call.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(20);
/// One AWS call, retries included.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(45);

/// The clients of one region.
#[derive(Clone, Debug)]
pub struct RegionalClients {
    pub ec2: aws_sdk_ec2::Client,
    pub eks: aws_sdk_eks::Client,
    pub s3: aws_sdk_s3::Client,
    pub kms: aws_sdk_kms::Client,
    pub ecr: aws_sdk_ecr::Client,
    pub elasticache: aws_sdk_elasticache::Client,
}

/// A site kept in another account: its region's requests are made with these
/// credentials (`site_account` in the environment).
#[derive(Clone, Debug)]
pub struct SiteConfig {
    pub site: String,
    pub account_id: String,
    pub config: SdkConfig,
}

#[derive(Debug)]
pub struct AwsContext {
    config: SdkConfig,
    /// region -> the site account whose credentials reach it.
    sites: BTreeMap<String, SiteConfig>,
    counter: ApiCallCounter,
    limits: ServiceLimits,
    regional: Mutex<BTreeMap<String, RegionalClients>>,
    route53: aws_sdk_route53::Client,
    sts: aws_sdk_sts::Client,
    iam: aws_sdk_iam::Client,
    global_s3: aws_sdk_s3::Client,
}

impl AwsContext {
    /// From the standard chain: environment, shared config/credentials files, SSO,
    /// web identity, instance metadata; `AWS_ENDPOINT_URL` redirects every service
    /// (the test emulator). `AWS_MAX_ATTEMPTS` / `AWS_RETRY_MODE`, when set, win over
    /// drplan's retry defaults.
    pub async fn from_env() -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .timeout_config(default_timeout_config());
        let retry_from_env = ["AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"]
            .iter()
            .any(|k| std::env::var_os(k).is_some());
        if !retry_from_env {
            loader = loader.retry_config(default_retry_config());
        }
        Self::new(loader.load().await)
    }

    /// [`from_env`](Self::from_env) with the project's site accounts in force.
    pub async fn for_project(project: &drplan_core::model::Project) -> Self {
        Self::from_env()
            .await
            .with_site_accounts(&project.environment, &project.topology)
            .await
    }

    /// From an explicit configuration (tests pass credentials and the emulator's
    /// endpoint here instead of mutating the process environment).
    pub fn new(config: SdkConfig) -> Self {
        let counter = ApiCallCounter::default();
        let global = Region::new(GLOBAL_REGION);
        let route53 = aws_sdk_route53::Client::from_conf(
            aws_sdk_route53::config::Builder::from(&config)
                .region(global.clone())
                .interceptor(counter.interceptor(Service::Route53))
                .interceptor(slow_calls::SlowCallNotice)
                .build(),
        );
        let sts = aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(&config)
                .region(config.region().cloned().unwrap_or_else(|| global.clone()))
                .interceptor(counter.interceptor(Service::Sts))
                .interceptor(slow_calls::SlowCallNotice)
                .build(),
        );
        // IAM is global; its endpoint is in us-east-1.
        let iam = aws_sdk_iam::Client::from_conf(
            aws_sdk_iam::config::Builder::from(&config)
                .region(global.clone())
                .interceptor(counter.interceptor(Service::Iam))
                .interceptor(slow_calls::SlowCallNotice)
                .build(),
        );
        let global_s3 = s3_client(&config, &counter, GLOBAL_REGION);
        AwsContext {
            config,
            sites: BTreeMap::new(),
            counter,
            limits: ServiceLimits::new(ROUTE53_REQUESTS_PER_SECOND),
            regional: Mutex::new(BTreeMap::new()),
            route53,
            sts,
            iam,
            global_s3,
        }
    }

    /// The resolved SDK configuration (credentials for EKS tokens, endpoint).
    pub fn sdk_config(&self) -> &SdkConfig {
        &self.config
    }

    /// The configuration requests to `region` are made with: its site account's, or
    /// the environment's.
    pub fn sdk_config_for(&self, region: &str) -> &SdkConfig {
        self.sites.get(region).map_or(&self.config, |s| &s.config)
    }

    /// The site accounts in force, by region.
    pub fn site_configs(&self) -> impl Iterator<Item = (&str, &SiteConfig)> {
        self.sites.iter().map(|(r, s)| (r.as_str(), s))
    }

    /// Whether `region`'s requests use another account's credentials than the
    /// environment's.
    pub fn has_site_account(&self, region: &str) -> bool {
        self.sites.contains_key(region)
    }

    /// Makes every request to a site's region with its `site_account` credentials:
    /// a role assumed with the environment's credentials, a profile, or the
    /// environment's own (only checked). Call before the first request.
    pub async fn with_site_accounts(
        mut self,
        environment: &drplan_core::model::Environment,
        topology: &drplan_core::model::Topology,
    ) -> Self {
        use drplan_core::model::environment::SiteCredentials;
        for (site, account) in &environment.site_accounts {
            let Some(region) = topology.sites.get(site).map(|s| s.region.clone()) else {
                continue;
            };
            let config = match &account.credentials {
                SiteCredentials::Default => self.config.clone(),
                SiteCredentials::AssumeRole {
                    role_arn,
                    session_name,
                    external_id,
                } => {
                    let session = session_name
                        .clone()
                        .unwrap_or_else(|| format!("drplan-{}", environment.stack));
                    let mut builder = aws_config::sts::AssumeRoleProvider::builder(role_arn)
                        .session_name(session)
                        .configure(&self.config);
                    if let Some(id) = external_id {
                        builder = builder.external_id(id);
                    }
                    let provider = builder.build().await;
                    self.config
                        .to_builder()
                        .credentials_provider(
                            aws_credential_types::provider::SharedCredentialsProvider::new(
                                provider,
                            ),
                        )
                        .build()
                }
                SiteCredentials::Profile(profile) => {
                    let mut loader = aws_config::defaults(BehaviorVersion::latest())
                        .profile_name(profile)
                        .timeout_config(default_timeout_config())
                        .retry_config(default_retry_config());
                    if let Some(region) = self.config.region() {
                        loader = loader.region(region.clone());
                    }
                    loader.load().await
                }
            };
            self.sites.insert(
                region,
                SiteConfig {
                    site: site.clone(),
                    account_id: account.account_id.clone(),
                    config,
                },
            );
        }
        self
    }

    /// The region of the default chain (`AWS_REGION`, profile), if any.
    pub fn default_region(&self) -> Option<&str> {
        self.config.region().map(|r| r.as_ref())
    }

    /// An endpoint override is in force (`AWS_ENDPOINT_URL`): an emulator or proxy.
    pub fn endpoint_override(&self) -> Option<&str> {
        self.config.endpoint_url()
    }

    /// The clients of `region`, built once and cached for the run.
    pub fn regional(&self, region: &str) -> RegionalClients {
        let mut cache = match self.regional.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        cache
            .entry(region.to_string())
            .or_insert_with(|| regional_clients(self.sdk_config_for(region), &self.counter, region))
            .clone()
    }

    pub fn ec2(&self, region: &str) -> aws_sdk_ec2::Client {
        self.regional(region).ec2
    }

    pub fn eks(&self, region: &str) -> aws_sdk_eks::Client {
        self.regional(region).eks
    }

    pub fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        self.regional(region).s3
    }

    /// S3 client for account-wide calls (ListBuckets, GetBucketLocation).
    pub fn s3_global(&self) -> &aws_sdk_s3::Client {
        &self.global_s3
    }

    /// S3 client for account-wide calls in the account that holds `region`: its site
    /// account's (`site_account`), or the environment's. Signed for the global
    /// region, so listing a region's buckets never needs that region to answer.
    pub fn s3_global_for(&self, region: &str) -> aws_sdk_s3::Client {
        match self.sites.get(region) {
            Some(site) => s3_client(&site.config, &self.counter, GLOBAL_REGION),
            None => self.global_s3.clone(),
        }
    }

    pub fn route53(&self) -> &aws_sdk_route53::Client {
        &self.route53
    }

    pub fn sts(&self) -> &aws_sdk_sts::Client {
        &self.sts
    }

    pub fn iam(&self) -> &aws_sdk_iam::Client {
        &self.iam
    }

    /// IAM (global, per account) of the account `arn` names: a site account's when it
    /// is one, the environment's otherwise.
    pub fn iam_for_arn(&self, arn: &str) -> aws_sdk_iam::Client {
        let account = arn.split(':').nth(4).unwrap_or_default();
        match self.sites.values().find(|s| s.account_id == account) {
            Some(site) => aws_sdk_iam::Client::from_conf(
                aws_sdk_iam::config::Builder::from(&site.config)
                    .region(Region::new(GLOBAL_REGION))
                    .interceptor(self.counter.interceptor(Service::Iam))
                    .interceptor(slow_calls::SlowCallNotice)
                    .build(),
            ),
            None => self.iam.clone(),
        }
    }

    pub fn kms(&self, region: &str) -> aws_sdk_kms::Client {
        self.regional(region).kms
    }

    pub fn ecr(&self, region: &str) -> aws_sdk_ecr::Client {
        self.regional(region).ecr
    }
    pub fn elasticache(&self, region: &str) -> aws_sdk_elasticache::Client {
        self.regional(region).elasticache
    }

    /// Wait for a slot to send one request to `service` (in-flight bound, plus the
    /// Route53 rate). Hold the permit until the response is in.
    pub async fn permit(&self, service: Service) -> ServicePermit<'_> {
        self.limits.acquire(service).await
    }

    /// Every HTTP request sent so far (retries included).
    pub fn api_calls(&self) -> u64 {
        self.counter.total()
    }

    pub fn api_calls_by_service(&self) -> BTreeMap<&'static str, u64> {
        self.counter.by_service()
    }

    pub fn api_call_counter(&self) -> &ApiCallCounter {
        &self.counter
    }
}

fn regional_clients(config: &SdkConfig, counter: &ApiCallCounter, region: &str) -> RegionalClients {
    let r = Region::new(region.to_string());
    RegionalClients {
        ec2: aws_sdk_ec2::Client::from_conf(
            aws_sdk_ec2::config::Builder::from(config)
                .region(r.clone())
                .interceptor(counter.interceptor(Service::Ec2))
                .interceptor(slow_calls::SlowCallNotice)
                .build(),
        ),
        eks: aws_sdk_eks::Client::from_conf(
            aws_sdk_eks::config::Builder::from(config)
                .region(r)
                .interceptor(counter.interceptor(Service::Eks))
                .interceptor(slow_calls::SlowCallNotice)
                .build(),
        ),
        s3: s3_client(config, counter, region),
        kms: aws_sdk_kms::Client::from_conf(
            aws_sdk_kms::config::Builder::from(config)
                .region(Region::new(region.to_string()))
                .interceptor(counter.interceptor(Service::Kms))
                .interceptor(slow_calls::SlowCallNotice)
                .build(),
        ),
        ecr: aws_sdk_ecr::Client::from_conf(
            aws_sdk_ecr::config::Builder::from(config)
                .region(Region::new(region.to_string()))
                .interceptor(counter.interceptor(Service::Ecr))
                .interceptor(slow_calls::SlowCallNotice)
                .build(),
        ),
        elasticache: aws_sdk_elasticache::Client::from_conf(
            aws_sdk_elasticache::config::Builder::from(config)
                .region(Region::new(region.to_string()))
                .interceptor(counter.interceptor(Service::ElastiCache))
                .interceptor(slow_calls::SlowCallNotice)
                .build(),
        ),
    }
}

fn s3_client(config: &SdkConfig, counter: &ApiCallCounter, region: &str) -> aws_sdk_s3::Client {
    let mut builder = aws_sdk_s3::config::Builder::from(config)
        .region(Region::new(region.to_string()))
        .interceptor(counter.interceptor(Service::S3))
        .interceptor(slow_calls::SlowCallNotice);
    if s3_path_style(config) {
        builder = builder.force_path_style(true);
    }
    aws_sdk_s3::Client::from_conf(builder.build())
}

/// Whether S3 is addressed by path: emulators and proxies (an endpoint override, for
/// every service or for S3 alone) answer on one host, where virtual-hosted addressing
/// would put the bucket name into the host name (`bucket.127.0.0.1`), which cannot
/// resolve. The one rule for every S3 client drplan builds.
pub fn s3_path_style(config: &SdkConfig) -> bool {
    config.endpoint_url().is_some() || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some()
}
