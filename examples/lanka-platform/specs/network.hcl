# Three AZs per site so the loss of one AZ is absorbed by the cluster without a
# failover (the runbook's "single AZ failure" scenario). Private subnets carry nodes,
# public ones only the ingress load balancers.

network "primary" {
  site = site.primary
  cidr = var.primary_cidr
  tags = { team = "platform", app = "lanka-platform" }

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
  tags = { team = "platform", app = "lanka-platform" }

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
