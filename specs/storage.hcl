# Backups are written in the primary region and replicated to the DR region, so the
# copy a failover restores from never shares the failed region.

bucket "backups" {
  site = site.primary
  name = "${local.name}-backups-us-west-2"

  encryption {
    algorithm  = "aws:kms"
    kms_key_id = "alias/shop-backups"
  }

  replication {
    role_arn    = "arn:aws:iam::${local.account}:role/shop-s3-replication"
    destination = bucket.backups_dr
  }
}

bucket "backups_dr" {
  site = site.dr
  name = "${local.name}-backups-us-east-1"

  encryption {
    algorithm  = "aws:kms"
    kms_key_id = "alias/shop-backups"
  }
}

# Hourly incrementals keep the 1h RPO; the DR copies are kept three times longer
# because they are the last line of defence.
backup "orders_db" {
  engine    = "postgres"
  component = "orders-db"
  namespace = local.namespace
  host      = "orders-db.${local.namespace}.svc"
  prefix    = "orders-db/"

  full        { schedule = "0 3 * * *" }
  incremental { schedule = "0 * * * *" }

  retention {
    local        = "30d"
    cross_region = "90d"
  }

  placement "primary" {
    cluster = cluster.primary
    bucket  = bucket.backups
  }
  placement "dr" {
    cluster = cluster.dr
    bucket  = bucket.backups_dr
  }
}
