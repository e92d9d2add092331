//! One cheap request per regional service, tried once with short timeouts: does the
//! region answer at all? (`crate::reach` races it against the bulk read.)

use super::{regional_clients, AwsContext, Service};
use crate::reach::{self, Failure, PROBE_CONNECT_TIMEOUT};
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;

impl AwsContext {
    /// Probes `service` in `region`: `None` if it answered anything (an error answer
    /// too), else how it failed. One or two requests, counted like any other.
    pub async fn probe(&self, region: &str, service: Service) -> Option<Failure> {
        let timeout = reach::probe_timeout();
        let config = self
            .config
            .to_builder()
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(PROBE_CONNECT_TIMEOUT)
                    .read_timeout(timeout)
                    .operation_attempt_timeout(timeout)
                    .operation_timeout(timeout)
                    .build(),
            )
            .build();
        let clients = regional_clients(&config, &self.counter, region);
        let clients = &clients;
        reach::probe(|| async move {
            match service {
                Service::Ec2 => clients
                    .ec2
                    .describe_availability_zones()
                    .send()
                    .await
                    .err()
                    .and_then(|e| reach::sdk_failure(&e)),
                Service::Eks => clients
                    .eks
                    .list_clusters()
                    .max_results(1)
                    .send()
                    .await
                    .err()
                    .and_then(|e| reach::sdk_failure(&e)),
                Service::S3 => clients
                    .s3
                    .list_buckets()
                    .max_buckets(1)
                    .send()
                    .await
                    .err()
                    .and_then(|e| reach::sdk_failure(&e)),
                Service::Kms => clients
                    .kms
                    .list_keys()
                    .limit(1)
                    .send()
                    .await
                    .err()
                    .and_then(|e| reach::sdk_failure(&e)),
                Service::ElastiCache => clients
                    .elasticache
                    .describe_cache_subnet_groups()
                    .max_records(20)
                    .send()
                    .await
                    .err()
                    .and_then(|e| reach::sdk_failure(&e)),
                Service::Ecr => clients
                    .ecr
                    .describe_registry()
                    .send()
                    .await
                    .err()
                    .and_then(|e| reach::sdk_failure(&e)),
                // Global services are not probed per region.
                Service::Route53 | Service::Sts | Service::Iam => None,
            }
        })
        .await
    }
}
