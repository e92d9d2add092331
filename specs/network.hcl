# Two AZs per site keep the demo small; production topologies use three.

network "primary" {
  site = site.primary
  cidr = "10.10.0.0/16"

  subnet "private-a" {
    availability_zone = "us-west-2a"
    cidr              = cidrsubnet("10.10.0.0/16", 4, 0)
  }
  subnet "private-b" {
    availability_zone = "us-west-2b"
    cidr              = cidrsubnet("10.10.0.0/16", 4, 1)
  }
}

network "dr" {
  site = site.dr
  cidr = "10.11.0.0/16"

  subnet "private-a" {
    availability_zone = "us-east-1a"
    cidr              = cidrsubnet("10.11.0.0/16", 4, 0)
  }
  subnet "private-b" {
    availability_zone = "us-east-1b"
    cidr              = cidrsubnet("10.11.0.0/16", 4, 1)
  }
}
