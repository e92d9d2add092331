//! The server as an EKS endpoint: HTTPS with its own CA, and bearer tokens that are
//! presigned STS GetCallerIdentity URLs, replayed to a stand-in STS that records
//! what it was asked.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
};
use aws_sigv4::sign::v4;
use axum::http::{HeaderMap, StatusCode, Uri};
use base64::Engine;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use kube_testserver::{EksAuth, Options, TestServer};

const CLUSTER: &str = "shop-prod-dr";
const KEY_ID: &str = "AKIDTEST";
const SECRET: &str = "test-secret";
/// The stand-in STS refuses this access key, as STS does a deleted one.
const REVOKED_KEY_ID: &str = "AKIDREVOKED";

/// What the stand-in STS was asked: Host, x-k8s-aws-id, query.
type Seen = Arc<Mutex<Vec<(String, String, String)>>>;

/// A GetCallerIdentity endpoint on 127.0.0.1 that answers as moto does (XML).
async fn fake_sts() -> (String, Seen, tokio::task::JoinHandle<()>) {
    let seen: Seen = Arc::default();
    let record = seen.clone();
    let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
        let record = record.clone();
        async move {
            let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
            let query = uri.query().unwrap_or_default().to_string();
            record.lock().expect("lock").push((header("host"), header("x-k8s-aws-id"), query.clone()));
            if query.contains(REVOKED_KEY_ID) {
                return (StatusCode::FORBIDDEN, "<ErrorResponse><Error><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error></ErrorResponse>".to_string());
            }
            (StatusCode::OK, "<GetCallerIdentityResponse><GetCallerIdentityResult><UserId>AIDA</UserId><Account>123456789012</Account><Arn>arn:aws:iam::123456789012:user/ci</Arn></GetCallerIdentityResult></GetCallerIdentityResponse>".to_string())
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, seen, task)
}

/// A token as `aws eks get-token` makes it.
fn token(cluster: &str, key_id: &str, secret: &str, at: SystemTime) -> String {
    let url = "https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15";
    let identity = Credentials::new(key_id, secret, None, None, "test").into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(60));
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("sts")
        .time(at)
        .settings(settings)
        .build()
        .expect("params")
        .into();
    let signable = SignableRequest::new(
        "GET",
        url,
        std::iter::once(("x-k8s-aws-id", cluster)),
        SignableBody::Bytes(&[]),
    )
    .expect("signable");
    let (instructions, _) = sign(signable, &params).expect("signs").into_parts();
    let mut request = http::Request::builder().uri(url).body(()).expect("request");
    instructions.apply_to_request_http1x(&mut request);
    format!(
        "k8s-aws-v1.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(request.uri().to_string())
    )
}

async fn eks_server(sts: &str) -> TestServer {
    TestServer::start_with(Options {
        tls: true,
        eks_auth: Some(EksAuth::new(CLUSTER, sts).with_signing_key(KEY_ID, SECRET)),
        ..Options::default()
    })
    .await
}

/// A client that trusts the server's CA (through a kubeconfig's
/// `certificate-authority-data`) and sends `bearer`.
async fn client(server: &TestServer, bearer: &str) -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kubeconfig");
    server.write_kubeconfig(&path, "eks").expect("kubeconfig");
    let options = KubeConfigOptions {
        context: Some("eks".into()),
        ..Default::default()
    };
    let mut config =
        Config::from_custom_kubeconfig(Kubeconfig::read_from(&path).expect("read"), &options)
            .await
            .expect("config");
    config.auth_info.token = Some(secrecy::SecretString::from(bearer.to_string()));
    Client::try_from(config).expect("client")
}

async fn list(client: Client) -> Result<usize, kube::Error> {
    Api::<Namespace>::all(client)
        .list(&ListParams::default())
        .await
        .map(|l| l.items.len())
}

fn refusal(result: Result<usize, kube::Error>) -> String {
    match result {
        Err(kube::Error::Api(status)) => {
            assert_eq!(status.code, 401, "{status:?}");
            status.message
        }
        other => panic!("expected a 401, got {other:?}"),
    }
}

#[tokio::test]
async fn serves_https_with_a_ca_handed_out_like_eks() {
    let server = TestServer::start_with(Options {
        tls: true,
        ..Options::default()
    })
    .await;
    assert!(
        server.url().starts_with("https://127.0.0.1:"),
        "{}",
        server.url()
    );
    let pem = base64::engine::general_purpose::STANDARD
        .decode(server.ca_data().expect("CA"))
        .expect("base64");
    assert!(String::from_utf8_lossy(&pem).starts_with("-----BEGIN CERTIFICATE-----"));
    let namespaces = list(client(&server, kube_testserver::DEFAULT_TOKEN).await)
        .await
        .expect("list over TLS");
    assert_eq!(namespaces, 4);

    // Another server's CA is not trusted: TLS fails before any request is answered.
    let other = TestServer::start_with(Options {
        tls: true,
        ..Options::default()
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kubeconfig");
    server.write_kubeconfig(&path, "eks").expect("kubeconfig");
    let text = std::fs::read_to_string(&path).expect("read");
    let wrong_ca = text.replace(server.ca_data().expect("CA"), other.ca_data().expect("CA"));
    std::fs::write(&path, wrong_ca).expect("write");
    let config = Config::from_custom_kubeconfig(
        Kubeconfig::read_from(&path).expect("read"),
        &KubeConfigOptions {
            context: Some("eks".into()),
            ..Default::default()
        },
    )
    .await
    .expect("config");
    let result = list(Client::try_from(config).expect("client")).await;
    assert!(
        result.is_err(),
        "a server signed by another CA must not be trusted"
    );
    assert!(
        server.requests().len() == 1,
        "only the first client got through: {:?}",
        server.requests()
    );
}

#[tokio::test]
async fn a_token_for_this_cluster_is_replayed_to_sts_once_and_accepted() {
    let (sts, seen, _task) = fake_sts().await;
    let server = eks_server(&sts).await;
    let client = client(&server, &token(CLUSTER, KEY_ID, SECRET, SystemTime::now())).await;
    assert_eq!(list(client.clone()).await.expect("authenticated"), 4);
    assert_eq!(list(client).await.expect("authenticated again"), 4);

    let seen = seen.lock().expect("lock").clone();
    assert_eq!(
        seen.len(),
        1,
        "a confirmed token is cached, as aws-iam-authenticator does: {seen:?}"
    );
    let (host, cluster_id, query) = &seen[0];
    assert_eq!(
        host, "sts.us-east-1.amazonaws.com",
        "the signed Host is kept"
    );
    assert_eq!(cluster_id, CLUSTER);
    assert!(
        query.starts_with("Action=GetCallerIdentity&Version=2011-06-15&X-Amz-"),
        "{query}"
    );
    assert_eq!(
        server.eks_identities(),
        vec!["arn:aws:iam::123456789012:user/ci".to_string()]
    );
}

#[tokio::test]
async fn wrong_expired_and_foreign_tokens_are_refused_with_the_reason() {
    let (sts, seen, _task) = fake_sts().await;
    let server = eks_server(&sts).await;
    let now = SystemTime::now();
    let cases = [
        (
            token("shop-prod", KEY_ID, SECRET, now),
            "for cluster `shop-prod-dr` (signed for another cluster",
        ),
        (
            token(CLUSTER, KEY_ID, "wrong-secret", now),
            "signature does not match",
        ),
        (
            token(CLUSTER, KEY_ID, SECRET, now - Duration::from_secs(20 * 60)),
            "has expired: signed 12",
        ),
        ("kube-testserver-token".to_string(), "not an EKS token"),
    ];
    for (bearer, reason) in cases {
        let message = refusal(list(client(&server, &bearer).await).await);
        assert!(message.contains(reason), "{message}");
        assert!(
            !message.contains(&bearer[bearer.len() - 16..]),
            "the token must not be echoed: {message}"
        );
    }
    assert!(
        seen.lock().expect("lock").is_empty(),
        "refused before STS was asked"
    );
    assert!(server.eks_identities().is_empty());
}

#[tokio::test]
async fn a_token_sts_refuses_is_refused() {
    let (sts, _seen, _task) = fake_sts().await;
    // No signing key: the signature is STS's business, as on a real cluster.
    let server = TestServer::start_with(Options {
        tls: true,
        eks_auth: Some(EksAuth::new(CLUSTER, &sts)),
        ..Options::default()
    })
    .await;
    let message = refusal(
        list(
            client(
                &server,
                &token(CLUSTER, REVOKED_KEY_ID, SECRET, SystemTime::now()),
            )
            .await,
        )
        .await,
    );
    assert!(
        message.contains("STS did not confirm the EKS token: 403"),
        "{message}"
    );
    assert!(message.contains("InvalidClientTokenId"), "{message}");

    let unreachable = TestServer::start_with(Options {
        eks_auth: Some(EksAuth::new(CLUSTER, "http://127.0.0.1:1")),
        ..Options::default()
    })
    .await;
    let message = refusal(
        list(
            client(
                &unreachable,
                &token(CLUSTER, KEY_ID, SECRET, SystemTime::now()),
            )
            .await,
        )
        .await,
    );
    assert!(
        message.contains("cannot reach http://127.0.0.1:1"),
        "{message}"
    );
}
