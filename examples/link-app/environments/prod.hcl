# Production, serving from us-west-2.
stack      = "link-app"
account_id = "123456789012"

variables {
  environment         = "prod"
  cluster_version     = "1.29"
  image_tag           = "v3.14.2"

  primary_lb_hostname = "link-api-prod-1a2b3c4d5e.elb.us-west-2.amazonaws.com"
  dr_lb_hostname      = "link-api-prod-dr-5e4d3c2b1a.elb.us-east-1.amazonaws.com"

  # Demo value for the emulator. Real deployments keep this out of git.
  postgres_password = "demo-only-not-a-secret"
}

# In the DR region: the failover apply must be able to take the lock while
# us-west-2 is down.
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
