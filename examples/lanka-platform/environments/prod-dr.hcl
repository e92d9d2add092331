# Regional failover: the same infrastructure as prod (same stack) with the DR site
# active. `drplan plan -e prod-dr` is the reviewed change set for the day us-west-2
# is lost: DR node groups to serving size, Neo4j restored from the replicated
# backups, the API deployed in us-east-1, DNS failover flipped.
# Keep in step with prod.hcl: `drplan promote --from prod --to prod-dr --write`.
stack       = "lanka-platform"
account_id  = "123456789012"
active_site = "dr"

variables {
  environment         = "prod"
  cluster_version     = "1.29"
  api_image_tag       = "2024.01.3"
  api_replicas        = 6
  app_nodes           = 3
  app_nodes_max       = 9

  primary_lb_hostname = "lanka-api-prod-1234567890.us-west-2.elb.amazonaws.com"
  dr_lb_hostname      = "lanka-api-prod-dr-0987654321.us-east-1.elb.amazonaws.com"

  neo4j_password      = "demo-only-not-a-secret"
}

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
