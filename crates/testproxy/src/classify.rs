//! What a request is: the AWS service and region it is signed for, and the operation.

use http::{header, HeaderMap, Method, Uri};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Classified {
    /// From the SigV4 credential scope: `eks`, `s3`, `sts`...; `k8s` for a request
    /// with a bearer token (a Kubernetes API server's); empty when neither.
    pub service: String,
    /// From the SigV4 credential scope; empty when unsigned.
    pub region: String,
    /// The AWS operation where the request says it (EC2's and STS's `Action=`), else
    /// from method and path shape (`DescribeCluster`, `GET ?versioning`, `k8s:apply`).
    pub operation: String,
    /// The credential scope of a presigned request (`AK/date/region/service/aws4_request`),
    /// which has no `Authorization` header.
    pub presigned: Option<String>,
}

pub fn classify(method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Classified {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let signed = authorization
        .split("Credential=")
        .nth(1)
        .map(|c| c.split([',', ' ']).next().unwrap_or("").to_string());
    let presigned = match signed {
        Some(_) => None,
        None => query_value(uri.query().unwrap_or(""), "X-Amz-Credential"),
    };
    let credential = signed.as_deref().or(presigned.as_deref()).unwrap_or("");
    let mut scope = credential.split('/').skip(2);
    let region = scope.next().unwrap_or("").to_string();
    let service = match scope.next() {
        Some(service) => service.to_string(),
        None if authorization.starts_with("Bearer ") => "k8s".to_string(),
        None => String::new(),
    };
    let operation = operation(&service, method, uri, body);
    Classified {
        service,
        region,
        operation,
        presigned,
    }
}

fn query_value(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.into_owned())
}

fn operation(service: &str, method: &Method, uri: &Uri, body: &[u8]) -> String {
    let method = method.as_str();
    let path = uri.path();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match service {
        "k8s" => match method {
            "PATCH" | "POST" | "PUT" => "k8s:apply",
            "DELETE" => "k8s:delete",
            _ if path.starts_with("/api")
                && (path.matches('/').count() <= 3 || path == "/apis") =>
            {
                "k8s:discovery"
            }
            _ => "k8s:read",
        }
        .to_string(),
        "ec2" | "sts" => query_value(&String::from_utf8_lossy(body), "Action")
            .or_else(|| query_value(uri.query().unwrap_or(""), "Action"))
            .unwrap_or_else(|| "?".into()),
        "eks" => match (method, segments.as_slice()) {
            ("POST", ["clusters"]) => "CreateCluster".into(),
            ("GET", ["clusters"]) => "ListClusters".into(),
            ("GET", ["clusters", _]) => "DescribeCluster".into(),
            ("POST", ["clusters", _, "node-groups"]) => "CreateNodegroup".into(),
            ("GET", ["clusters", _, "node-groups"]) => "ListNodegroups".into(),
            ("GET", ["clusters", _, "node-groups", _]) => "DescribeNodegroup".into(),
            ("POST", ["clusters", _, "node-groups", _, "update-config"]) => {
                "UpdateNodegroupConfig".into()
            }
            _ => format!("{method} eks"),
        },
        "route53" => match (method, segments.as_slice()) {
            ("GET", [_, "hostedzone"]) => "ListHostedZones".into(),
            ("POST", [_, "hostedzone"]) => "CreateHostedZone".into(),
            ("GET", [_, "hostedzone", _, "rrset"]) => "ListResourceRecordSets".into(),
            ("POST", [_, "hostedzone", _, "rrset"]) => "ChangeResourceRecordSets".into(),
            ("GET", [_, "healthcheck"]) => "ListHealthChecks".into(),
            ("POST", [_, "healthcheck"]) => "CreateHealthCheck".into(),
            ("POST", [_, "tags", _]) => "ListTagsForResources".into(),
            ("GET", [_, "change", _]) => "GetChange".into(),
            _ => format!("{method} route53"),
        },
        "s3" => {
            let sub = uri
                .query()
                .unwrap_or("")
                .split('&')
                .next()
                .unwrap_or("")
                .split('=')
                .next()
                .unwrap_or("");
            match (method, segments.len(), sub) {
                ("GET", 0, _) => "ListBuckets".into(),
                ("PUT", 1, "") => "CreateBucket".into(),
                ("GET", 1, "location") => "GetBucketLocation".into(),
                (m, 1, s) if !s.is_empty() => format!("{m} ?{s}"),
                (m, _, _) => format!("{m} object"),
            }
        }
        _ => method.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, uri: &str, authorization: Option<&str>, body: &str) -> Classified {
        let mut headers = HeaderMap::new();
        if let Some(a) = authorization {
            headers.insert(header::AUTHORIZATION, a.parse().expect("header"));
        }
        let method: Method = method.parse().expect("method");
        let uri: Uri = uri.parse().expect("uri");
        classify(&method, &uri, &headers, body.as_bytes())
    }

    const EKS: &str = "AWS4-HMAC-SHA256 Credential=AK/20260101/us-west-2/eks/aws4_request, SignedHeaders=host, Signature=x";
    const EC2: &str = "AWS4-HMAC-SHA256 Credential=AK/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=x";

    #[test]
    fn signed_requests_name_service_region_and_operation() {
        let c = request("GET", "/clusters/shop-dr", Some(EKS), "");
        assert_eq!(
            (c.service.as_str(), c.region.as_str(), c.operation.as_str()),
            ("eks", "us-west-2", "DescribeCluster")
        );
        assert_eq!(c.presigned, None);
        let c = request(
            "POST",
            "/",
            Some(EC2),
            "Action=CreateVpc&Version=2016-11-15",
        );
        assert_eq!(c.operation, "CreateVpc");
    }

    #[test]
    fn presigned_requests_are_classified_from_the_query() {
        let c = request(
            "GET",
            "http://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Credential=AK%2F20260101%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Signature=x",
            None,
            "",
        );
        assert_eq!(
            (c.service.as_str(), c.region.as_str(), c.operation.as_str()),
            ("sts", "us-east-1", "GetCallerIdentity")
        );
        assert_eq!(
            c.presigned.as_deref(),
            Some("AK/20260101/us-east-1/sts/aws4_request")
        );
    }

    #[test]
    fn bearer_requests_are_kubernetes() {
        let c = request(
            "PATCH",
            "/apis/apps/v1/namespaces/a/deployments/b",
            Some("Bearer t"),
            "",
        );
        assert_eq!(
            (c.service.as_str(), c.operation.as_str()),
            ("k8s", "k8s:apply")
        );
        let c = request("GET", "/api/v1", Some("Bearer t"), "");
        assert_eq!(c.operation, "k8s:discovery");
        let c = request("GET", "/", None, "");
        assert_eq!((c.service.as_str(), c.region.as_str()), ("", ""));
    }
}
