//! EKS bearer tokens: a presigned STS `GetCallerIdentity` URL, the format
//! `aws eks get-token` and aws-iam-authenticator produce.
//!
//! The API server's authenticator replays the presigned request to STS, so the URL
//! must be signed exactly as STS expects: query-string SigV4 for service `sts`, the
//! cluster name in the signed `x-k8s-aws-id` header, and a 60 s expiry.

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
};
use aws_sigv4::sign::v4;
use base64::Engine;
use std::time::{Duration, SystemTime};

const TOKEN_PREFIX: &str = "k8s-aws-v1.";
const CLUSTER_ID_HEADER: &str = "x-k8s-aws-id";
/// What aws-iam-authenticator uses; the server rejects tokens older than 15 minutes
/// regardless, so short is fine.
const PRESIGN_EXPIRY: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("could not sign the STS request for the EKS token: {0}")]
    Signing(String),
}

/// Builds the bearer token for `cluster_name`, signing with `credentials` in `region`
/// at `now`. The STS endpoint is the regional one (`sts.<region>.amazonaws.com`), also
/// when `AWS_ENDPOINT_URL` points drplan's own calls elsewhere: the API server, not
/// drplan, sends this request, and aws-iam-authenticator accepts only STS hosts.
pub fn eks_token(
    credentials: &Credentials,
    region: &str,
    cluster_name: &str,
    now: SystemTime,
) -> Result<String, TokenError> {
    let url =
        format!("https://sts.{region}.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15");
    let identity = credentials.clone().into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(PRESIGN_EXPIRY);
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sts")
        .time(now)
        .settings(settings)
        .build()
        .map_err(|e| TokenError::Signing(e.to_string()))?
        .into();
    let signable = SignableRequest::new(
        "GET",
        &url,
        std::iter::once((CLUSTER_ID_HEADER, cluster_name)),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| TokenError::Signing(e.to_string()))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| TokenError::Signing(e.to_string()))?
        .into_parts();
    let mut request = http::Request::builder()
        .method("GET")
        .uri(&url)
        .body(())
        .map_err(|e| TokenError::Signing(e.to_string()))?;
    instructions.apply_to_request_http1x(&mut request);
    let presigned = request.uri().to_string();
    Ok(format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(presigned)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Known answer computed independently with botocore's `SigV4QueryAuth` (the signer
    /// the AWS CLI's `aws eks get-token` uses), for fixed credentials and time.
    const BOTOCORE_URL: &str = "https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261121%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20261121T120000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=07ac230a6fa8abae575337f951aaca5e529e9a426e9b2ad5725fb886b1742a83";

    fn query(url: &str) -> BTreeMap<String, String> {
        url.split_once('?')
            .map(|(_, q)| q)
            .unwrap_or("")
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn eks_token_matches_botocore_known_answer() {
        let creds = Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            None,
            None,
            "test",
        );
        // 2026-11-21T12:00:00Z
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_262_400);
        let token = eks_token(&creds, "us-east-1", "lanka-platform-prod-dr", now).unwrap();
        let encoded = token.strip_prefix(TOKEN_PREFIX).expect("token prefix");
        let url = String::from_utf8(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(encoded)
                .unwrap(),
        )
        .unwrap();
        assert!(
            url.starts_with("https://sts.us-east-1.amazonaws.com/?"),
            "{url}"
        );
        // Parameter order is not significant to STS; every parameter, the signature
        // above all, must be identical.
        assert_eq!(query(&url), query(BOTOCORE_URL));
    }
}
