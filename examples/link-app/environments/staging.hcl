# Staging: separate infrastructure (own stack, buckets, VPC ranges and zone) at a
# fraction of prod's size. Releases land here first and reach prod through
# `drplan promote --from staging --to prod`.
stack      = "link-app-staging"
account_id = "123456789012"

variables {
  environment             = "staging"
  name_prefix             = "link-staging"
  cluster_version         = "1.29"
  image_tag               = "v3.15.0-rc.2"

  api_gateway_replicas    = 2
  user_svc_replicas       = 1
  chat_svc_replicas       = 1
  dr_api_gateway_replicas = 2
  dr_user_svc_replicas    = 1
  service_nodes           = 2
  dr_service_nodes        = 2
  service_instance_types  = ["m6i.large"]
  data_instance_type      = "r6i.large"

  primary_cidr            = "10.70.0.0/16"
  dr_cidr                 = "10.71.0.0/16"
  dns_zone                = "staging.linkapp.com"

  primary_lb_hostname     = "link-api-staging-0f1e2d3c4b.elb.us-west-2.amazonaws.com"
  dr_lb_hostname          = "link-api-staging-dr-4b3c2d1e0f.elb.us-east-1.amazonaws.com"
}

secret "postgres_password" {
  ssm_parameter = "/link-app/staging/postgres-password"
  region        = "us-east-1"
}

lock {
  bucket = "link-drplan-locks"
  region = "us-east-1"
  key    = "drplan/locks/link-app-staging.json"
}

# The demo and the tests reach the clusters through a kubeconfig ($KUBECONFIG); on
# real EKS, leave these out and drplan uses each cluster's endpoint with an STS token.
cluster_access "primary" {
  context = "link-app-staging-primary"
}

cluster_access "dr" {
  context = "link-app-staging-dr"
}
