# Regional failover (runbook scenario 4) as a reviewed change set: the same
# infrastructure as prod with us-east-1 active. Plan shows DR node groups scaled up,
# Postgres/Redis/Qdrant restore Jobs, services at DR replica counts, and Route53
# failover flipped to the DR targets.
# Keep in step with prod.hcl: `drplan promote --from prod --to prod-dr --write`.
stack       = "link-app"
account_id  = "123456789012"
active_site = "dr"

variables {
  environment         = "prod"
  cluster_version     = "1.29"
  image_tag           = "v3.14.2"

  primary_lb_hostname = "link-api-prod-1a2b3c4d5e.elb.us-west-2.amazonaws.com"
  dr_lb_hostname      = "link-api-prod-dr-5e4d3c2b1a.elb.us-east-1.amazonaws.com"
  primary_web_ips     = ["203.0.113.10", "203.0.113.11", "203.0.113.12"]
  dr_web_ips          = ["198.51.100.10", "198.51.100.11", "198.51.100.12"]

  postgres_password   = "demo-only-not-a-secret"
}

lock {
  bucket = "link-drplan-locks"
  region = "us-east-1"
}

# The demo and the tests reach the clusters through a kubeconfig ($KUBECONFIG); on
# real EKS, leave these out and drplan uses each cluster's endpoint with an STS token.
cluster_access "primary" {
  context = "link-app-primary"
}

cluster_access "dr" {
  context = "link-app-dr"
}
