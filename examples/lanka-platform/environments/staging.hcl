# Staging is its own infrastructure (own stack, own VPC ranges, own zone) at a
# smaller size. New image tags soak here first; `drplan promote --from staging
# --to prod` carries the promotable variables over.
stack      = "lanka-platform-staging"
account_id = "123456789012"

variables {
  environment         = "staging"
  cluster_version     = "1.29"
  api_image_tag       = "2024.02.0-rc1"
  api_replicas        = 2
  app_nodes           = 1
  app_nodes_max       = 3
  app_instance_types  = ["m5.large"]
  data_instance_type  = "r5.large"

  primary_cidr        = "10.40.0.0/16"
  dr_cidr             = "10.41.0.0/16"
  dns_zone            = "staging.lanka-platform.com"

  primary_lb_hostname = "lanka-api-staging-1122334455.us-west-2.elb.amazonaws.com"
  dr_lb_hostname      = "lanka-api-staging-dr-5544332211.us-east-1.elb.amazonaws.com"
  primary_redis_host  = "master.lanka-platform-staging-redis.def456.usw2.cache.amazonaws.com"
}

secret "neo4j_password" {
  ssm_parameter = "/lanka-platform/staging/neo4j-password"
  region        = "us-east-1"
}

lock {
  bucket = "lanka-platform-drplan-locks"
  region = "us-east-1"
  key    = "drplan/locks/lanka-platform-staging.json"
}

# The demo and the tests reach the clusters through a kubeconfig ($KUBECONFIG); on
# real EKS, leave these out and drplan uses each cluster's endpoint with an STS token.
cluster_access "primary" {
  context = "lanka-platform-staging-primary"
}

cluster_access "dr" {
  context = "lanka-platform-staging-dr"
}
