# Production, serving from us-west-2.
stack      = "link-app"
account_id = "123456789012"

variables {
  environment         = "prod"
  cluster_version     = "1.29"
  image_tag           = "v3.14.2"

  primary_lb_hostname = "link-api-prod-1a2b3c4d5e.elb.us-west-2.amazonaws.com"
  dr_lb_hostname      = "link-api-prod-dr-5e4d3c2b1a.elb.us-east-1.amazonaws.com"
  dr_account          = "210987654321"
}

# The DR site lives in its own AWS account (blast radius: a compromised or deleted
# primary account leaves the DR copies standing). drplan assumes this role for every
# request to us-east-1; the guard checks the account before anything is read.
site_account "dr" {
  account_id = "210987654321"
  role_arn   = "arn:aws:iam::210987654321:role/link-app-drplan"
}

# The Postgres password is read from SSM Parameter Store at plan and apply time, in
# the DR region so a failover can read it with us-west-2 down; never in git or a plan.
secret "postgres_password" {
  ssm_parameter = "/link-app/prod/postgres-password"
  region        = "us-east-1"
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
