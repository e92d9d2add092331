# Route53 moves api.shop.example.com to us-east-1 by itself when the primary health
# check fails; `-e prod-dr` makes the DR target PRIMARY for a deliberate failover.

zone "public" {
  name = "shop.example.com"
}

dns "api" {
  zone = zone.public
  name = "api"
  type = "CNAME"
  ttl  = 60

  target "primary" {
    site    = site.primary
    records = ["shop-api.us-west-2.elb.amazonaws.com"]
    health_check {
      type = "HTTPS"
      fqdn = "shop-api.us-west-2.elb.amazonaws.com"
      path = "/health"
    }
  }

  target "dr" {
    site    = site.dr
    records = ["shop-api.us-east-1.elb.amazonaws.com"]
  }
}
