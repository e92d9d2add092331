# Production, serving from us-west-2.
stack      = "lanka-platform"
account_id = "123456789012"

variables {
  environment         = "prod"
  cluster_version     = "1.29"
  api_image_tag       = "2024.01.3"
  api_replicas        = 6
  app_nodes           = 3
  app_nodes_max       = 9

  primary_lb_hostname = "lanka-api-prod-1234567890.us-west-2.elb.amazonaws.com"
  dr_lb_hostname      = "lanka-api-prod-dr-0987654321.us-east-1.elb.amazonaws.com"
  primary_redis_host  = "master.lanka-platform-prod-redis.abc123.usw2.cache.amazonaws.com"
}

# The Neo4j password is read from Secrets Manager at plan and apply time, in the DR
# region so a failover can read it with us-west-2 down; it is never in git or in a plan.
secret "neo4j_password" {
  secrets_manager = "lanka-platform/prod/neo4j"
  json_key        = "password"
  region          = "us-east-1"
}

# The lock lives in the DR region: during a regional outage of us-west-2 the
# failover apply must still be able to take it.
lock {
  bucket = "lanka-platform-drplan-locks"
  region = "us-east-1"
}

# The demo and the tests reach the clusters through a kubeconfig ($KUBECONFIG); on
# real EKS, leave these out and drplan uses each cluster's endpoint with an STS token.
cluster_access "primary" {
  context = "lanka-platform-primary"
}

cluster_access "dr" {
  context = "lanka-platform-dr"
}
