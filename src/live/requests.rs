//! Sending requests under the service's permit (in-flight bound and, for Route53, the
//! request rate). Every reader request goes through one of these two functions.

use crate::aws::{AwsContext, Service};
use aws_smithy_async::future::pagination_stream::PaginationStream;
use std::future::Future;

/// One request. SDK `send()` futures do nothing until polled, so the request starts
/// only once the permit is held.
pub(crate) async fn send<T>(
    ctx: &AwsContext,
    service: Service,
    request: impl Future<Output = T>,
) -> T {
    let _permit = ctx.permit(service).await;
    request.await
}

/// Every page of a paginator; each page is one request and waits for its own slot.
pub(crate) async fn collect_pages<O, E>(
    ctx: &AwsContext,
    service: Service,
    mut pages: PaginationStream<Result<O, E>>,
) -> Result<Vec<O>, E> {
    let mut out = Vec::new();
    loop {
        let page = {
            let _permit = ctx.permit(service).await;
            pages.next().await
        };
        match page {
            Some(Ok(page)) => out.push(page),
            Some(Err(e)) => return Err(e),
            None => return Ok(out),
        }
    }
}
