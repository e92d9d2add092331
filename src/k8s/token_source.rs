//! Fresh EKS tokens for every request of a long apply.
//!
//! An EKS token is accepted for 15 minutes, and an apply can wait far longer between
//! two requests to one cluster: a DR activation scales a node group (minutes), then
//! waits for a restore Job (up to hours) before it applies the workloads that need the
//! restored data. So the client does not carry one token: each request gets one at
//! most [`MAX_AGE`] old, signed anew with credentials from the SDK's provider (which
//! refreshes expiring temporary credentials itself). Signing is a few HMACs; the
//! provider caches, so a refresh makes no network call while credentials are valid.

use super::token;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use http::header::{HeaderValue, AUTHORIZATION};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::Mutex;

/// Well inside the 15 minutes the API server accepts, with room for a slow request.
pub const MAX_AGE: Duration = Duration::from_secs(5 * 60);

type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub struct TokenSource {
    provider: SharedCredentialsProvider,
    region: String,
    cluster: String,
    clock: Arc<dyn Fn() -> SystemTime + Send + Sync>,
    cached: Mutex<Option<(String, SystemTime)>>,
}

impl TokenSource {
    pub fn new(provider: SharedCredentialsProvider, region: &str, cluster: &str) -> Self {
        Self::with_clock(provider, region, cluster, Arc::new(SystemTime::now))
    }

    pub fn with_clock(
        provider: SharedCredentialsProvider,
        region: &str,
        cluster: &str,
        clock: Arc<dyn Fn() -> SystemTime + Send + Sync>,
    ) -> Self {
        TokenSource {
            provider,
            region: region.to_string(),
            cluster: cluster.to_string(),
            clock,
            cached: Mutex::new(None),
        }
    }

    /// The bearer token to send now.
    pub async fn bearer(&self) -> Result<String, String> {
        let now = (self.clock)();
        let mut cached = self.cached.lock().await;
        if let Some((token, minted)) = cached.as_ref() {
            if now.duration_since(*minted).is_ok_and(|age| age < MAX_AGE) {
                return Ok(token.clone());
            }
        }
        let credentials = self
            .provider
            .provide_credentials()
            .await
            .map_err(|e| format!("cannot load AWS credentials: {e}"))?;
        let token = token::eks_token(&credentials, &self.region, &self.cluster, now)
            .map_err(|e| e.to_string())?;
        *cached = Some((token.clone(), now));
        Ok(token)
    }

    /// Sets `Authorization: Bearer <token>` on `request` (marked sensitive, so it is
    /// never logged).
    pub async fn authorize<B>(
        &self,
        mut request: http::Request<B>,
    ) -> Result<http::Request<B>, BoxError> {
        let bearer = self
            .bearer()
            .await
            .map_err(|e| format!("EKS cluster `{}`: {e}", self.cluster))?;
        let mut value = HeaderValue::from_str(&format!("Bearer {bearer}"))?;
        value.set_sensitive(true);
        request.headers_mut().insert(AUTHORIZATION, value);
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::Credentials;
    use std::sync::atomic::{AtomicU64, Ordering};

    fn source(clock_secs: Arc<AtomicU64>) -> TokenSource {
        let provider = SharedCredentialsProvider::new(Credentials::new(
            "AKIDEXAMPLE",
            "secret",
            None,
            None,
            "test",
        ));
        let clock = Arc::new(move || {
            SystemTime::UNIX_EPOCH + Duration::from_secs(clock_secs.load(Ordering::SeqCst))
        });
        TokenSource::with_clock(provider, "eu-west-1", "shop-dr", clock)
    }

    #[tokio::test]
    async fn a_token_is_reused_until_it_is_max_age_old_then_signed_anew() {
        let secs = Arc::new(AtomicU64::new(1_790_000_000));
        let source = source(secs.clone());
        let first = source.bearer().await.expect("token");
        assert!(first.starts_with("k8s-aws-v1."));
        secs.fetch_add(MAX_AGE.as_secs() - 1, Ordering::SeqCst);
        assert_eq!(
            source.bearer().await.expect("token"),
            first,
            "reused while younger than MAX_AGE"
        );
        secs.fetch_add(1, Ordering::SeqCst);
        let second = source.bearer().await.expect("token");
        assert_ne!(second, first, "signed anew at MAX_AGE");
        // Three hours later (a long restore Job), still a fresh token, not the old one.
        secs.fetch_add(3 * 3600, Ordering::SeqCst);
        let third = source.bearer().await.expect("token");
        assert_ne!(third, second);
    }

    #[tokio::test]
    async fn authorize_sets_a_sensitive_bearer_header() {
        let source = source(Arc::new(AtomicU64::new(1_790_000_000)));
        let request = source
            .authorize(http::Request::new(()))
            .await
            .expect("authorized");
        let value = request.headers().get(AUTHORIZATION).expect("header");
        assert!(value.is_sensitive());
        assert!(value
            .to_str()
            .expect("ascii")
            .starts_with("Bearer k8s-aws-v1."));
    }
}
