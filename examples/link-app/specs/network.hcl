# Three AZs per site: an AZ failure is absorbed by the load balancer and the
# scheduler (the runbook's scenario 3) and never needs a regional failover. Private
# subnets carry nodes and data volumes; public ones only the ingress NLBs.

network "primary" {
  site = site.primary
  cidr = var.primary_cidr
  tags = { team = "platform", app = "link" }

  subnet "private-a" {
    availability_zone = "${site.primary.region}a"
    cidr              = cidrsubnet(var.primary_cidr, 3, 0)
  }
  subnet "private-b" {
    availability_zone = "${site.primary.region}b"
    cidr              = cidrsubnet(var.primary_cidr, 3, 1)
  }
  subnet "private-c" {
    availability_zone = "${site.primary.region}c"
    cidr              = cidrsubnet(var.primary_cidr, 3, 2)
  }

  subnet "public-a" {
    availability_zone = "${site.primary.region}a"
    cidr              = cidrsubnet(var.primary_cidr, 8, 200)
    public            = true
    tags              = { "kubernetes.io/role/elb" = "1" }
  }
  subnet "public-b" {
    availability_zone = "${site.primary.region}b"
    cidr              = cidrsubnet(var.primary_cidr, 8, 201)
    public            = true
    tags              = { "kubernetes.io/role/elb" = "1" }
  }
  subnet "public-c" {
    availability_zone = "${site.primary.region}c"
    cidr              = cidrsubnet(var.primary_cidr, 8, 202)
    public            = true
    tags              = { "kubernetes.io/role/elb" = "1" }
  }
}

# The DR network exists all the time: it costs nothing idle, and building it during
# an outage would spend RTO on something that never changes.
network "dr" {
  site = site.dr
  cidr = var.dr_cidr
  tags = { team = "platform", app = "link" }

  subnet "private-a" {
    availability_zone = "${site.dr.region}a"
    cidr              = cidrsubnet(var.dr_cidr, 3, 0)
  }
  subnet "private-b" {
    availability_zone = "${site.dr.region}b"
    cidr              = cidrsubnet(var.dr_cidr, 3, 1)
  }
  subnet "private-c" {
    availability_zone = "${site.dr.region}c"
    cidr              = cidrsubnet(var.dr_cidr, 3, 2)
  }

  subnet "public-a" {
    availability_zone = "${site.dr.region}a"
    cidr              = cidrsubnet(var.dr_cidr, 8, 200)
    public            = true
    tags              = { "kubernetes.io/role/elb" = "1" }
  }
  subnet "public-b" {
    availability_zone = "${site.dr.region}b"
    cidr              = cidrsubnet(var.dr_cidr, 8, 201)
    public            = true
    tags              = { "kubernetes.io/role/elb" = "1" }
  }
  subnet "public-c" {
    availability_zone = "${site.dr.region}c"
    cidr              = cidrsubnet(var.dr_cidr, 8, 202)
    public            = true
    tags              = { "kubernetes.io/role/elb" = "1" }
  }
}
