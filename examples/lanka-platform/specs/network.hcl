# One network per site, written once: the DR network mirrors the primary's layout
# (`drplan validate` warns when they drift apart). Three AZs per site so the loss of
# one AZ is absorbed by the cluster without a failover (the runbook's "single AZ
# failure" scenario). Private subnets carry nodes, public ones only the ingress load
# balancers. The DR network exists all the time: it costs nothing idle, and building
# it during an outage would spend RTO on something that never changes.
#
# `for_each = site` makes network.primary and network.dr (each.key is the site's
# label, each.value the site).
network {
  for_each = site
  site     = each.value
  cidr     = local.cidr[each.key]
  tags     = { team = "platform", app = "lanka-platform" }

  subnet "private-a" {
    availability_zone = "${each.value.region}a"
    cidr              = cidrsubnet(local.cidr[each.key], 3, 0)
  }
  subnet "private-b" {
    availability_zone = "${each.value.region}b"
    cidr              = cidrsubnet(local.cidr[each.key], 3, 1)
  }
  subnet "private-c" {
    availability_zone = "${each.value.region}c"
    cidr              = cidrsubnet(local.cidr[each.key], 3, 2)
  }

  subnet "public-a" {
    availability_zone = "${each.value.region}a"
    cidr              = cidrsubnet(local.cidr[each.key], 8, 200)
    public            = true
    tags              = { "kubernetes.io/role/elb" = "1" }
  }
  subnet "public-b" {
    availability_zone = "${each.value.region}b"
    cidr              = cidrsubnet(local.cidr[each.key], 8, 201)
    public            = true
    tags              = { "kubernetes.io/role/elb" = "1" }
  }
  subnet "public-c" {
    availability_zone = "${each.value.region}c"
    cidr              = cidrsubnet(local.cidr[each.key], 8, 202)
    public            = true
    tags              = { "kubernetes.io/role/elb" = "1" }
  }
}
