//! Authentication as an EKS API server does it (aws-iam-authenticator): the bearer
//! token is `k8s-aws-v1.` + the base64url of a presigned STS `GetCallerIdentity` URL
//! whose signed headers include `x-k8s-aws-id`. The server checks the URL's shape and
//! age, then replays it — GET, with `x-k8s-aws-id: <this cluster>` — against STS;
//! STS answering 200 with an identity is what makes the token good.
//!
//! Here "STS" is whatever endpoint the test configures (moto over plain HTTP): the
//! replay goes to that endpoint with the URL's path and query and the signed `Host`.
//! moto does not check signatures, so when given the signing key the server checks
//! the signature itself, as STS would; that is what refuses a token signed for
//! another cluster name (the name is only in the signature).

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
};
use aws_sigv4::sign::v4;
use axum::body::Bytes;
use base64::Engine;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

const TOKEN_PREFIX: &str = "k8s-aws-v1.";
const CLUSTER_ID_HEADER: &str = "x-k8s-aws-id";
/// aws-iam-authenticator's limit, whatever `X-Amz-Expires` says.
pub const DEFAULT_MAX_TOKEN_AGE: Duration = Duration::from_secs(15 * 60);
const STS_TIMEOUT: Duration = Duration::from_secs(10);

/// How the server authenticates, as the EKS cluster `cluster_name`.
#[derive(Clone)]
pub struct EksAuth {
    /// The EKS cluster this server stands for: tokens must be signed for it.
    pub cluster_name: String,
    /// Where STS is, e.g. `http://127.0.0.1:PORT` (moto). The token's own host
    /// (`sts.<region>.amazonaws.com`) is replaced by this one.
    pub sts_endpoint: String,
    /// Access key id and secret the tokens must be signed with. None: the signature
    /// is left to the STS endpoint (which moto does not check).
    pub signing_key: Option<(String, String)>,
    /// Tokens signed longer ago than this are refused.
    pub max_token_age: Duration,
}

impl EksAuth {
    pub fn new(cluster_name: impl Into<String>, sts_endpoint: impl Into<String>) -> EksAuth {
        EksAuth {
            cluster_name: cluster_name.into(),
            sts_endpoint: sts_endpoint.into(),
            signing_key: None,
            max_token_age: DEFAULT_MAX_TOKEN_AGE,
        }
    }

    pub fn with_signing_key(mut self, access_key_id: &str, secret_access_key: &str) -> EksAuth {
        self.signing_key = Some((access_key_id.to_string(), secret_access_key.to_string()));
        self
    }
}

impl fmt::Debug for EksAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EksAuth")
            .field("cluster_name", &self.cluster_name)
            .field("sts_endpoint", &self.sts_endpoint)
            .field(
                "signing_key",
                &self.signing_key.as_ref().map(|(id, _)| (id, "<secret>")),
            )
            .field("max_token_age", &self.max_token_age)
            .finish()
    }
}

/// Why a token was refused. Messages never contain the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NoBearer,
    NotEksToken,
    Malformed(String),
    Expired { age_secs: u64, max_secs: u64 },
    UnknownAccessKey(String),
    BadSignature { cluster: String },
    Sts(String),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NoBearer => write!(f, "no bearer token"),
            Refusal::NotEksToken => write!(
                f,
                "the bearer token is not an EKS token (expected {TOKEN_PREFIX}<base64url presigned STS URL>)"
            ),
            Refusal::Malformed(why) => write!(f, "the EKS token is malformed: {why}"),
            Refusal::Expired { age_secs, max_secs } => write!(
                f,
                "the EKS token has expired: signed {age_secs} s ago, tokens are good for {max_secs} s"
            ),
            Refusal::UnknownAccessKey(id) => {
                write!(f, "the EKS token is signed with an unknown access key `{id}`")
            }
            Refusal::BadSignature { cluster } => write!(
                f,
                "the EKS token's signature does not match a GetCallerIdentity request for cluster `{cluster}` (signed for another cluster, or with other credentials)"
            ),
            Refusal::Sts(why) => write!(f, "STS did not confirm the EKS token: {why}"),
        }
    }
}

/// The presigned request a token carries, checked for shape and age.
#[derive(Debug)]
struct Presigned {
    url: url::Url,
    /// Every query parameter, decoded, in order.
    params: Vec<(String, String)>,
    signed_at: SystemTime,
}

impl Presigned {
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Shape and age checks that need no network, in aws-iam-authenticator's order.
fn parse(token: &str, max_age: Duration, now: SystemTime) -> Result<Presigned, Refusal> {
    let encoded = token
        .strip_prefix(TOKEN_PREFIX)
        .ok_or(Refusal::NotEksToken)?;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let bytes = engine
        .decode(encoded.trim_end_matches('='))
        .map_err(|e| Refusal::Malformed(format!("not base64url: {e}")))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Refusal::Malformed("the decoded URL is not UTF-8".into()))?;
    let url = url::Url::parse(&text).map_err(|e| Refusal::Malformed(format!("not a URL: {e}")))?;
    if url.scheme() != "https" {
        return Err(Refusal::Malformed(format!(
            "scheme `{}`, not https",
            url.scheme()
        )));
    }
    let host = url.host_str().unwrap_or_default();
    if !is_sts_host(host) {
        return Err(Refusal::Malformed(format!(
            "host `{host}` is not an STS endpoint"
        )));
    }
    if url.path() != "/" {
        return Err(Refusal::Malformed(format!("path `{}`, not /", url.path())));
    }
    let params: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut names: Vec<String> = params.iter().map(|(k, _)| k.to_ascii_lowercase()).collect();
    names.sort();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return Err(Refusal::Malformed("a query parameter is repeated".into()));
    }
    let presigned = Presigned {
        url: url.clone(),
        params,
        signed_at: SystemTime::UNIX_EPOCH,
    };
    if presigned.param("Action") != Some("GetCallerIdentity") {
        return Err(Refusal::Malformed(
            "the action is not GetCallerIdentity".into(),
        ));
    }
    let signed_headers = presigned.param("X-Amz-SignedHeaders").unwrap_or_default();
    if !signed_headers
        .split(';')
        .any(|h| h.eq_ignore_ascii_case(CLUSTER_ID_HEADER))
    {
        return Err(Refusal::Malformed(format!(
            "`{CLUSTER_ID_HEADER}` is not among the signed headers"
        )));
    }
    let date = presigned
        .param("X-Amz-Date")
        .ok_or_else(|| Refusal::Malformed("no X-Amz-Date".into()))?;
    let signed_at = chrono::NaiveDateTime::parse_from_str(date, "%Y%m%dT%H%M%SZ")
        .map_err(|_| Refusal::Malformed(format!("X-Amz-Date `{date}` is not a date")))?
        .and_utc();
    let signed_at = SystemTime::UNIX_EPOCH
        + Duration::from_secs(u64::try_from(signed_at.timestamp()).unwrap_or_default());
    let age = now.duration_since(signed_at).unwrap_or_default();
    if age >= max_age {
        return Err(Refusal::Expired {
            age_secs: age.as_secs(),
            max_secs: max_age.as_secs(),
        });
    }
    if presigned.param("X-Amz-Signature").is_none() {
        return Err(Refusal::Malformed("no X-Amz-Signature".into()));
    }
    Ok(Presigned {
        signed_at,
        ..presigned
    })
}

/// `sts.amazonaws.com`, `sts.<region>.amazonaws.com` (and the China partition).
fn is_sts_host(host: &str) -> bool {
    let rest = host
        .strip_suffix(".amazonaws.com")
        .or_else(|| host.strip_suffix(".amazonaws.com.cn"));
    match rest.and_then(|r| r.strip_prefix("sts")) {
        Some("") => true,
        Some(region) => region.strip_prefix('.').is_some_and(|r| {
            !r.is_empty()
                && r.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        }),
        None => false,
    }
}

/// Re-signs the request the token describes, for `cluster`, with `key`, and compares
/// signatures: what STS does with the request a server replays.
fn check_signature(
    presigned: &Presigned,
    cluster: &str,
    (access_key_id, secret): (&str, &str),
) -> Result<(), Refusal> {
    let credential = presigned.param("X-Amz-Credential").unwrap_or_default();
    let scope: Vec<&str> = credential.split('/').collect();
    let [key_id, _date, region, service, "aws4_request"] = scope.as_slice() else {
        return Err(Refusal::Malformed(
            "X-Amz-Credential is not a SigV4 scope".into(),
        ));
    };
    if *key_id != access_key_id {
        return Err(Refusal::UnknownAccessKey((*key_id).to_string()));
    }
    let expires = presigned
        .param("X-Amz-Expires")
        .and_then(|e| e.parse::<u64>().ok())
        .ok_or_else(|| Refusal::Malformed("X-Amz-Expires is not a number".into()))?;
    let session_token = presigned.param("X-Amz-Security-Token").map(str::to_string);
    let identity = Credentials::new(
        access_key_id,
        secret,
        session_token,
        None,
        "kube-testserver",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(expires));
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(presigned.signed_at)
        .settings(settings)
        .build()
        .map_err(|e| Refusal::Malformed(format!("cannot re-sign: {e}")))?
        .into();
    let mut unsigned = presigned.url.clone();
    {
        let mut query = unsigned.query_pairs_mut();
        query.clear();
        for (k, v) in &presigned.params {
            if !k.to_ascii_lowercase().starts_with("x-amz-") {
                query.append_pair(k, v);
            }
        }
    }
    let signable = SignableRequest::new(
        "GET",
        unsigned.as_str(),
        std::iter::once((CLUSTER_ID_HEADER, cluster)),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| Refusal::Malformed(format!("cannot re-sign: {e}")))?;
    let (_, expected) = sign(signable, &params)
        .map_err(|e| Refusal::Malformed(format!("cannot re-sign: {e}")))?
        .into_parts();
    if presigned.param("X-Amz-Signature") == Some(expected.as_str()) {
        Ok(())
    } else {
        Err(Refusal::BadSignature {
            cluster: cluster.to_string(),
        })
    }
}

/// The configuration plus what it has learnt: tokens STS confirmed (as the real
/// authenticator caches them) and the identities they carried.
pub struct Authenticator {
    config: EksAuth,
    http: Client<hyper_util::client::legacy::connect::HttpConnector, Empty<Bytes>>,
    confirmed: Mutex<HashMap<String, (String, SystemTime)>>,
    identities: Mutex<Vec<String>>,
}

impl Authenticator {
    pub fn new(config: EksAuth) -> Authenticator {
        Authenticator {
            config,
            http: Client::builder(TokioExecutor::new()).build_http(),
            confirmed: Mutex::new(HashMap::new()),
            identities: Mutex::new(Vec::new()),
        }
    }

    /// The ARNs STS confirmed, one per distinct token, oldest first.
    pub fn identities(&self) -> Vec<String> {
        self.identities
            .lock()
            .map(|i| i.clone())
            .unwrap_or_default()
    }

    /// The identity (ARN) behind `authorization`, or why there is none.
    pub async fn authenticate(&self, authorization: Option<&str>) -> Result<String, Refusal> {
        let token = authorization
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(Refusal::NoBearer)?;
        let now = SystemTime::now();
        if let Some(arn) = self.cached(token, now) {
            return Ok(arn);
        }
        let presigned = parse(token, self.config.max_token_age, now)?;
        if let Some((id, secret)) = &self.config.signing_key {
            check_signature(&presigned, &self.config.cluster_name, (id, secret))?;
        }
        let arn = self.replay(&presigned).await?;
        let valid_until = presigned.signed_at + self.config.max_token_age;
        if let Ok(mut confirmed) = self.confirmed.lock() {
            confirmed.insert(token.to_string(), (arn.clone(), valid_until));
        }
        if let Ok(mut identities) = self.identities.lock() {
            identities.push(arn.clone());
        }
        Ok(arn)
    }

    fn cached(&self, token: &str, now: SystemTime) -> Option<String> {
        let confirmed = self.confirmed.lock().ok()?;
        let (arn, valid_until) = confirmed.get(token)?;
        (now <= *valid_until).then(|| arn.clone())
    }

    async fn replay(&self, presigned: &Presigned) -> Result<String, Refusal> {
        let sts = |why: String| Refusal::Sts(why);
        let target = format!(
            "{}{}?{}",
            self.config.sts_endpoint.trim_end_matches('/'),
            presigned.url.path(),
            presigned.url.query().unwrap_or_default()
        );
        // The signature covers Host: keep the token's, whatever address STS is at.
        let host = presigned.url.host_str().unwrap_or_default().to_string();
        let request = http::Request::get(&target)
            .header(http::header::HOST, host)
            .header(CLUSTER_ID_HEADER, &self.config.cluster_name)
            .header(http::header::ACCEPT, "application/json")
            .body(Empty::<Bytes>::new())
            .map_err(|e| {
                sts(format!(
                    "cannot build the request to {}: {e}",
                    self.config.sts_endpoint
                ))
            })?;
        let exchange = async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(|e| e.to_string())?;
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| e.to_string())?
                .to_bytes();
            Ok::<_, String>((status, body))
        };
        let (status, body) = tokio::time::timeout(STS_TIMEOUT, exchange)
            .await
            .map_err(|_| {
                sts(format!(
                    "no answer from {} within {STS_TIMEOUT:?}",
                    self.config.sts_endpoint
                ))
            })?
            .map_err(|e| sts(format!("cannot reach {}: {e}", self.config.sts_endpoint)))?;
        let text = String::from_utf8_lossy(&body);
        if !status.is_success() {
            let excerpt: String = text.chars().take(300).collect();
            return Err(sts(format!("{status}: {excerpt}")));
        }
        caller_arn(&text).ok_or_else(|| sts("the GetCallerIdentity answer names no Arn".into()))
    }
}

/// The `Arn` of a GetCallerIdentity answer: JSON (what STS sends for `Accept:
/// application/json`) or XML (what moto sends regardless).
fn caller_arn(body: &str) -> Option<String> {
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(body) {
        return json
            .pointer("/GetCallerIdentityResponse/GetCallerIdentityResult/Arn")
            .and_then(|v| v.as_str())
            .map(str::to_string);
    }
    let start = body.find("<Arn>")? + "<Arn>".len();
    let end = body[start..].find("</Arn>")? + start;
    Some(body[start..end].trim().to_string()).filter(|a| !a.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(url: &str) -> String {
        format!(
            "{TOKEN_PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url)
        )
    }

    /// botocore's presigned URL for AKIDEXAMPLE at 2026-11-21T12:00:00Z, cluster
    /// `lanka-platform-prod-dr` (the known answer drplan's own signer is tested with).
    const BOTOCORE_URL: &str = "https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261121%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20261121T120000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=07ac230a6fa8abae575337f951aaca5e529e9a426e9b2ad5725fb886b1742a83";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    fn signed_at() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_262_400)
    }

    #[test]
    fn botocore_tokens_verify_for_their_cluster_only() {
        let now = signed_at() + Duration::from_secs(30);
        let presigned = parse(&token(BOTOCORE_URL), DEFAULT_MAX_TOKEN_AGE, now).expect("parses");
        let key = ("AKIDEXAMPLE", SECRET);
        assert_eq!(
            check_signature(&presigned, "lanka-platform-prod-dr", key),
            Ok(())
        );
        assert_eq!(
            check_signature(&presigned, "lanka-platform-prod", key),
            Err(Refusal::BadSignature {
                cluster: "lanka-platform-prod".into()
            })
        );
        assert_eq!(
            check_signature(
                &presigned,
                "lanka-platform-prod-dr",
                ("AKIDEXAMPLE", "other")
            ),
            Err(Refusal::BadSignature {
                cluster: "lanka-platform-prod-dr".into()
            })
        );
        assert_eq!(
            check_signature(&presigned, "lanka-platform-prod-dr", ("AKIDOTHER", SECRET)),
            Err(Refusal::UnknownAccessKey("AKIDEXAMPLE".into()))
        );
    }

    #[test]
    fn old_tokens_are_expired() {
        let now = signed_at() + Duration::from_secs(16 * 60);
        let refused = parse(&token(BOTOCORE_URL), DEFAULT_MAX_TOKEN_AGE, now).unwrap_err();
        assert_eq!(
            refused,
            Refusal::Expired {
                age_secs: 960,
                max_secs: 900
            }
        );
        assert!(refused.to_string().contains("expired"), "{refused}");
    }

    #[test]
    fn tokens_of_the_wrong_shape_are_refused_with_the_reason() {
        let now = signed_at();
        let refuse = |t: &str| {
            parse(t, DEFAULT_MAX_TOKEN_AGE, now)
                .unwrap_err()
                .to_string()
        };
        assert!(refuse("kube-testserver-token").contains("not an EKS token"));
        assert!(refuse("k8s-aws-v1.!!!").contains("not base64url"));
        let other_host = BOTOCORE_URL.replace("sts.us-east-1.amazonaws.com", "evil.example.com");
        assert!(refuse(&token(&other_host)).contains("not an STS endpoint"));
        let http = BOTOCORE_URL.replace("https://", "http://");
        assert!(refuse(&token(&http)).contains("not https"));
        let other_action = BOTOCORE_URL.replace("GetCallerIdentity", "AssumeRole");
        assert!(refuse(&token(&other_action)).contains("not GetCallerIdentity"));
        let unsigned_id = BOTOCORE_URL.replace("host%3Bx-k8s-aws-id", "host");
        assert!(refuse(&token(&unsigned_id)).contains("x-k8s-aws-id"));
    }

    #[test]
    fn refusals_never_show_the_token() {
        let t = token(BOTOCORE_URL);
        let far = signed_at() + Duration::from_secs(3600);
        let message = parse(&t, DEFAULT_MAX_TOKEN_AGE, far)
            .unwrap_err()
            .to_string();
        assert!(!message.contains(&t[TOKEN_PREFIX.len()..TOKEN_PREFIX.len() + 20]));
        assert!(!message.contains("07ac230a"), "{message}");
    }

    #[test]
    fn sts_hosts() {
        for good in [
            "sts.amazonaws.com",
            "sts.us-west-2.amazonaws.com",
            "sts.cn-north-1.amazonaws.com.cn",
        ] {
            assert!(is_sts_host(good), "{good}");
        }
        for bad in [
            "sts.amazonaws.com.evil.com",
            "xsts.amazonaws.com",
            "sts..amazonaws.com",
            "127.0.0.1",
        ] {
            assert!(!is_sts_host(bad), "{bad}");
        }
    }

    #[test]
    fn caller_arn_reads_json_and_moto_xml() {
        let json = r#"{"GetCallerIdentityResponse":{"GetCallerIdentityResult":{"Arn":"arn:aws:iam::1:user/a","Account":"1","UserId":"A"}}}"#;
        assert_eq!(caller_arn(json).as_deref(), Some("arn:aws:iam::1:user/a"));
        let xml = "<GetCallerIdentityResponse><GetCallerIdentityResult><UserId>A</UserId><Account>1</Account><Arn>arn:aws:sts::1:user/moto</Arn></GetCallerIdentityResult></GetCallerIdentityResponse>";
        assert_eq!(caller_arn(xml).as_deref(), Some("arn:aws:sts::1:user/moto"));
        assert_eq!(caller_arn("<Error/>"), None);
    }
}
