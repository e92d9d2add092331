# Route53 fails api.lanka-platform.com over on its own when the primary health check
# fails three times in a row (~90 s). DR activation (`-e prod-dr`) flips which target
# is PRIMARY, so the failover also survives the primary region coming back half-broken.

zone "public" {
  name    = var.dns_zone
  comment = "Lanka Platform public zone (managed by drplan)"
}

dns "api" {
  zone = zone.public
  name = "api"
  type = "CNAME"
  ttl  = 60

  target "primary" {
    site    = site.primary
    records = [var.primary_lb_hostname]
    health_check {
      type              = "HTTPS"
      fqdn              = var.primary_lb_hostname
      path              = "/health"
      request_interval  = 30
      failure_threshold = 3
    }
  }

  # Checked as well: after activation the DR target is PRIMARY and needs the same
  # guard.
  target "dr" {
    site    = site.dr
    records = [var.dr_lb_hostname]
    health_check {
      type              = "HTTPS"
      fqdn              = var.dr_lb_hostname
      path              = "/health"
      request_interval  = 30
      failure_threshold = 3
    }
  }
}
