//! Random faults, chosen by a seeded generator, answered in each AWS service's own
//! wire format.

use crate::config::Config;
use bytes::Bytes;
use http::{header, HeaderName, HeaderValue, Response, StatusCode};
use http_body_util::Full;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The service's throttling error (400 Throttling for Route 53, 503
    /// RequestLimitExceeded for EC2, 503 SlowDown for S3, 429 ThrottlingException for
    /// the JSON protocols).
    Throttle,
    ServiceUnavailable,
    InternalError,
    /// Close the connection without answering.
    Drop,
}

impl Fault {
    pub const ALL: [Fault; 4] = [
        Fault::Throttle,
        Fault::ServiceUnavailable,
        Fault::InternalError,
        Fault::Drop,
    ];
}

/// Picks faults with splitmix64: tiny, seedable, and the sequence the e2e tests were
/// tuned with.
pub(crate) struct Picker(u64);

impl Picker {
    pub(crate) fn new(seed: u64) -> Self {
        Picker(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The fault for the next request, if it gets one.
    pub(crate) fn pick(&mut self, config: &Config) -> Option<Fault> {
        if self.unit() >= config.fault_rate {
            return None;
        }
        let total: u32 = config.weights.iter().sum();
        if total == 0 {
            return None;
        }
        let mut roll = (self.next() % u64::from(total)) as u32;
        for (fault, w) in Fault::ALL.iter().zip(config.weights) {
            if roll < w {
                return Some(*fault);
            }
            roll -= w;
        }
        None
    }
}

/// The answer a fault gives to a request for `service` (`Drop` gives none: the
/// caller closes the connection).
pub(crate) fn answer(fault: Fault, service: &str) -> Response<Full<Bytes>> {
    let (status, content_type, body) = match (fault, service) {
        (Fault::Throttle, "s3") => (
            503,
            "application/xml",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>FAULT</RequestId></Error>",
        ),
        (Fault::Throttle, "ec2") => (
            503,
            "text/xml",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>FAULT</RequestID></Response>",
        ),
        (Fault::Throttle, "route53") => (
            400,
            "text/xml",
            "<?xml version=\"1.0\"?><ErrorResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>FAULT</RequestId></ErrorResponse>",
        ),
        (Fault::Throttle, _) => {
            let mut answer = canned(
                429,
                "application/json",
                "FAULT",
                "{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}".into(),
            );
            answer.headers_mut().insert(
                HeaderName::from_static("x-amzn-errortype"),
                HeaderValue::from_static("ThrottlingException"),
            );
            return answer;
        }
        (Fault::ServiceUnavailable, _) => (503, "text/plain", "Service Unavailable"),
        (_, _) => (500, "text/plain", "Internal Server Error"),
    };
    canned(status, content_type, "FAULT", body.into())
}

/// An answer made up by the proxy: `x-amzn-RequestId: request_id`, and the
/// connection closed after it, as after a fault the client reconnects.
pub(crate) fn canned(
    status: u16,
    content_type: &str,
    request_id: &'static str,
    body: String,
) -> Response<Full<Bytes>> {
    let mut answer = Response::new(Full::new(Bytes::from(body)));
    *answer.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    let headers = answer.headers_mut();
    if let Ok(value) = HeaderValue::from_str(content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(
        HeaderName::from_static("x-amzn-requestid"),
        HeaderValue::from_static(request_id),
    );
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    answer
}
