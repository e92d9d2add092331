//! Where appliers get their SDK clients: one per service and region.
//!
//! A trait so that the apply code does not care how clients are configured (the `aws`
//! layer's context in the CLI, a plain `SdkConfig` pointed at moto in tests).

use aws_config::SdkConfig;
use aws_types::region::Region;

pub trait Clients: Send + Sync {
    fn ec2(&self, region: &str) -> aws_sdk_ec2::Client;
    fn eks(&self, region: &str) -> aws_sdk_eks::Client;
    fn s3(&self, region: &str) -> aws_sdk_s3::Client;
    fn kms(&self, region: &str) -> aws_sdk_kms::Client;
    fn ecr(&self, region: &str) -> aws_sdk_ecr::Client;
    fn elasticache(&self, region: &str) -> aws_sdk_elasticache::Client;
    /// Route53 is global.
    fn route53(&self) -> aws_sdk_route53::Client;
    /// The account `region`'s requests are made in when a `site_account` names it
    /// (`None`: the environment's credentials' account).
    fn site_account(&self, _region: &str) -> Option<String> {
        None
    }
}

/// Clients built from one shared SDK configuration, re-targeted per region.
#[derive(Clone, Debug)]
pub struct ClientsFromConfig {
    config: SdkConfig,
}

impl ClientsFromConfig {
    pub fn new(config: SdkConfig) -> Self {
        ClientsFromConfig { config }
    }

    pub fn config(&self) -> &SdkConfig {
        &self.config
    }
}

impl Clients for ClientsFromConfig {
    fn ec2(&self, region: &str) -> aws_sdk_ec2::Client {
        let conf = aws_sdk_ec2::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .build();
        aws_sdk_ec2::Client::from_conf(conf)
    }

    fn eks(&self, region: &str) -> aws_sdk_eks::Client {
        let conf = aws_sdk_eks::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .build();
        aws_sdk_eks::Client::from_conf(conf)
    }

    fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        let path_style = crate::aws::s3_path_style(&self.config);
        let conf = aws_sdk_s3::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .force_path_style(path_style)
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    fn kms(&self, region: &str) -> aws_sdk_kms::Client {
        let conf = aws_sdk_kms::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .build();
        aws_sdk_kms::Client::from_conf(conf)
    }

    fn ecr(&self, region: &str) -> aws_sdk_ecr::Client {
        let conf = aws_sdk_ecr::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .build();
        aws_sdk_ecr::Client::from_conf(conf)
    }
    fn elasticache(&self, region: &str) -> aws_sdk_elasticache::Client {
        let conf = aws_sdk_elasticache::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .build();
        aws_sdk_elasticache::Client::from_conf(conf)
    }

    fn route53(&self) -> aws_sdk_route53::Client {
        let conf = aws_sdk_route53::config::Builder::from(&self.config)
            .region(Region::new("us-east-1"))
            .build();
        aws_sdk_route53::Client::from_conf(conf)
    }
}

/// The CLI's clients: retries, timeouts, per-service rate limits and call counting
/// are configured once in the `aws` layer.
impl Clients for crate::aws::AwsContext {
    fn ec2(&self, region: &str) -> aws_sdk_ec2::Client {
        crate::aws::AwsContext::ec2(self, region)
    }

    fn eks(&self, region: &str) -> aws_sdk_eks::Client {
        crate::aws::AwsContext::eks(self, region)
    }

    fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        crate::aws::AwsContext::s3(self, region)
    }

    fn kms(&self, region: &str) -> aws_sdk_kms::Client {
        crate::aws::AwsContext::kms(self, region)
    }

    fn ecr(&self, region: &str) -> aws_sdk_ecr::Client {
        crate::aws::AwsContext::ecr(self, region)
    }
    fn elasticache(&self, region: &str) -> aws_sdk_elasticache::Client {
        crate::aws::AwsContext::elasticache(self, region)
    }

    fn route53(&self) -> aws_sdk_route53::Client {
        crate::aws::AwsContext::route53(self).clone()
    }

    fn site_account(&self, region: &str) -> Option<String> {
        self.site_configs()
            .find(|(r, _)| *r == region)
            .map(|(_, s)| s.account_id.clone())
    }
}
