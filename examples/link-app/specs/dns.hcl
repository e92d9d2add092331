# Route53 health checks and failover for both public names — the runbook's
# "Phase 4: Traffic Cutover" (change-resource-record-sets with dns-failover.json).
# Route53 fails over by itself when the primary check fails; DR activation makes the
# DR targets PRIMARY so traffic stays there even if us-west-2 flaps back.
zone "public" {
  name    = var.dns_zone
  comment = "Link App public zone (managed by drplan)"
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
      request_interval  = 10
      failure_threshold = 3
    }
  }

  target "dr" {
    site    = site.dr
    records = [var.dr_lb_hostname]
    health_check {
      type              = "HTTPS"
      fqdn              = var.dr_lb_hostname
      path              = "/health"
      request_interval  = 10
      failure_threshold = 3
    }
  }
}

# The web app at the zone apex: an alias to the region's NLB (Route53 answers with
# the NLB's current addresses; no TTL of its own). Health-checked on "/" like the
# runbook's verification step (`curl -f https://linkapp.com/`).
dns "web" {
  zone = zone.public
  name = var.dns_zone
  type = "A"

  target "primary" {
    site = site.primary
    alias {
      name                   = var.primary_lb_hostname
      zone_id                = var.primary_lb_zone_id
      evaluate_target_health = true
    }
    health_check {
      type              = "HTTPS"
      fqdn              = var.primary_lb_hostname
      path              = "/"
      request_interval  = 30
      failure_threshold = 3
    }
  }

  target "dr" {
    site = site.dr
    alias {
      name                   = var.dr_lb_hostname
      zone_id                = var.dr_lb_zone_id
      evaluate_target_health = true
    }
    health_check {
      type              = "HTTPS"
      fqdn              = var.dr_lb_hostname
      path              = "/"
      request_interval  = 30
      failure_threshold = 3
    }
  }
}

# Always points at us-east-1, whichever site is active: failover drills and the
# monthly cross-region test run their health checks against it.
dns "api_dr" {
  zone = zone.public
  name = "api-dr"
  type = "CNAME"
  ttl  = 300

  target "dr" {
    site    = site.dr
    records = [var.dr_lb_hostname]
  }
}
