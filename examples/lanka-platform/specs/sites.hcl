# us-west-2 serves traffic; us-east-1 holds the copies and a cold cluster.
# `drplan plan -e prod-dr` (active_site = "dr") is the regional failover.

site "primary" {
  region = "us-west-2"
  role   = "primary"
}

site "dr" {
  region = "us-east-1"
  role   = "dr"
}
