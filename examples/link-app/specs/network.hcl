# One network per site, written once: network.primary and network.dr (`for_each =
# site`: each.key is the site's label, each.value the site). Three AZs per site: an
# AZ failure is absorbed by the load balancer and the scheduler (the runbook's
# scenario 3) and never needs a regional failover. Private subnets carry nodes and
# data volumes; public ones only the ingress NLBs. The DR network exists all the
# time: it costs nothing idle, and building it during an outage would spend RTO on
# something that never changes.
network {
  for_each = local.serving_sites
  site     = each.value
  cidr     = local.cidr[each.key]
  tags     = { team = "platform", app = "link" }

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

# The runbook's "VPC peering for cross-region connectivity": requested from Oregon,
# accepted in N. Virginia, with a route to the other CIDR in each VPC's main route
# table. The CIDRs (`local.cidr`) do not overlap, which validate checks.
peering "primary_dr" {
  requester = network.primary
  accepter  = network.dr
  tags      = { team = "platform", app = "link" }
}
