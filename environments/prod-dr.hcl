# The regional failover: same stack as prod, DR site active.
stack       = "shop"
account_id  = "123456789012"
active_site = "dr"

variables {
  environment   = "prod"
  api_image_tag = "1.0.0"
  api_replicas  = 2
  db_password   = "demo-only-not-a-secret"
}
# One apply at a time per stack. The bucket lives in the DR region so a failover
# apply can still take the lock when the primary region is down.
lock {
  bucket = "shop-drplan-locks"
  region = "us-east-1"
}

# The demo and the tests reach the clusters through a kubeconfig (KUBECONFIG); on
# real EKS, leave these out and drplan uses the cluster endpoint with an STS token.
cluster_access "primary" {
  context = "shop-primary"
}

cluster_access "dr" {
  context = "shop-dr"
}
