//! Telling "could not be reached" from every other failure: the errors of the AWS
//! SDK and of the Kubernetes client, classified by what went wrong on the wire
//! (refused, reset, timed out, name not resolved). Anything else — an answer, even
//! an error answer such as AccessDenied or 401 — means the place is reachable.
//!
//! A place that does not answer is decided by a short probe, raced against the bulk
//! read ([`race`]): a healthy read never waits for the probe, a dead place costs at
//! most [`PROBE_TIMEOUT`] instead of minutes of retries.

use aws_smithy_runtime_api::client::result::SdkError;
use drplan_core::live::ReachFailure;
use std::error::Error;
use std::future::Future;
use std::io::ErrorKind;
use std::time::Duration;

/// How long a probe waits for any answer, unless `DRPLAN_PROBE_TIMEOUT` (seconds)
/// says otherwise. A healthy endpoint answers a list call in well under a second; a
/// blackholed one never does.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// [`PROBE_TIMEOUT`], or `DRPLAN_PROBE_TIMEOUT` seconds (a slow link, a loaded test
/// machine).
pub fn probe_timeout() -> Duration {
    std::env::var("DRPLAN_PROBE_TIMEOUT")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(Duration::from_secs_f64)
        .unwrap_or(PROBE_TIMEOUT)
}
/// How long a probe waits for the TCP connection.
pub const PROBE_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// What a failed probe found: the cause and the error, one line.
pub type Failure = (ReachFailure, String);

/// The transport failure behind `err`, walking its source chain, if it is one.
pub fn classify(err: &(dyn Error + 'static)) -> Option<ReachFailure> {
    let mut text = String::new();
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            match io.kind() {
                ErrorKind::ConnectionRefused => return Some(ReachFailure::ConnectionRefused),
                ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::BrokenPipe
                | ErrorKind::UnexpectedEof
                | ErrorKind::NotConnected => return Some(ReachFailure::ConnectionReset),
                ErrorKind::TimedOut => return Some(ReachFailure::Timeout),
                _ => {}
            }
        }
        if e.is::<tokio::time::error::Elapsed>() {
            return Some(ReachFailure::Timeout);
        }
        text.push_str(&e.to_string().to_ascii_lowercase());
        text.push('\n');
        current = e.source();
    }
    // Clients that wrap the io::Error in their own text, without a source.
    let has = |needles: &[&str]| needles.iter().any(|n| text.contains(n));
    if has(&[
        "dns error",
        "failed to lookup address",
        "name or service not known",
        "no such host",
    ]) {
        Some(ReachFailure::Dns)
    } else if has(&["connection refused"]) {
        Some(ReachFailure::ConnectionRefused)
    } else if has(&[
        "connection reset",
        "connection closed before message completed",
        "broken pipe",
    ]) {
        Some(ReachFailure::ConnectionReset)
    } else if has(&["timed out", "deadline has elapsed"]) {
        Some(ReachFailure::Timeout)
    } else {
        None
    }
}

/// An AWS SDK error that means the endpoint did not answer.
pub fn sdk_failure<E, R>(err: &SdkError<E, R>) -> Option<Failure>
where
    E: Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let cause = match err {
        SdkError::TimeoutError(_) => Some(ReachFailure::Timeout),
        SdkError::DispatchFailure(d) if d.is_timeout() => Some(ReachFailure::Timeout),
        SdkError::DispatchFailure(d) if d.is_io() => {
            Some(classify(err).unwrap_or(ReachFailure::ConnectionReset))
        }
        SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => classify(err),
        _ => None,
    }?;
    Some((cause, innermost(err)))
}

/// A Kubernetes client error that means the API server did not answer.
pub fn kube_failure(err: &kube::Error) -> Option<Failure> {
    let cause = match err {
        kube::Error::Api(_) => None,
        e => classify(e),
    }?;
    Some((cause, innermost(err)))
}

/// At most one line of 200 characters.
pub fn one_line(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > 200 {
        format!("{}...", line.chars().take(197).collect::<String>())
    } else {
        line
    }
}

/// Runs `read` while `probe` finds out whether the place answers at all. A read that
/// finishes without `failed` wins at once; a probe that finds the place dead cancels
/// the read (and its retries). `Err` carries the probe's finding.
pub async fn race<T>(
    probe: impl Future<Output = Option<Failure>>,
    read: impl Future<Output = T>,
    failed: impl Fn(&T) -> bool,
) -> Result<T, Failure> {
    tokio::pin!(probe);
    tokio::pin!(read);
    tokio::select! {
        dead = &mut probe => match dead {
            Some(failure) => Err(failure),
            None => Ok(read.await),
        },
        out = &mut read => {
            if !failed(&out) {
                return Ok(out);
            }
            match probe.await {
                Some(failure) => Err(failure),
                None => Ok(out),
            }
        }
    }
}

/// Tries `attempt` up to twice: a refused or reset connection once more at once (a
/// dead endpoint refuses again within milliseconds; a passing hiccup does not repeat),
/// a timeout never (it already cost [`PROBE_TIMEOUT`]).
pub async fn probe<F, Fut>(attempt: F) -> Option<Failure>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<Failure>>,
{
    let first = attempt().await?;
    if first.0 == ReachFailure::Timeout {
        return Some(first);
    }
    attempt().await
}

/// The innermost error of the chain (`Connection refused (os error 111)`): the
/// wrappers around it say no more than the cause does.
fn innermost(err: &(dyn Error + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    one_line(&current.to_string())
}
