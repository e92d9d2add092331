# One policy per data store. Each compiles to CronJobs in the active cluster,
# lifecycle rules on both backup buckets, an S3 replication rule for its prefix
# (replication_role_arn), and under DR activation a restore Job in us-east-1 — the
# "Phase 2: Database Recovery" and the Redis/Qdrant steps of the old runbook.
# Prefixes keep the paths the runbook and the restore scripts already use.
backup "postgres" {
  engine    = "postgres"
  namespace = local.namespace
  host      = "postgres-primary.${local.namespace}.svc"
  image     = var.postgres_image
  prefix    = "postgres-backups/"

  # Daily base backup; WAL is shipped every 15 minutes so one failed run still keeps
  # the 1h RPO.
  full { schedule = "0 3 * * *" }
  incremental { schedule = "*/15 * * * *" }

  # 7 years is the compliance requirement; it is met by the DR copy, which lives
  # outside the blast radius of the primary region.
  retention {
    local        = "35d"
    cross_region = "7y"
  }

  placement "primary" {
    cluster = cluster.primary
    bucket  = bucket.backups
  }
  placement "dr" {
    cluster = cluster.dr
    bucket  = bucket.backups_dr
  }

  replication_role_arn = local.replication_role
}

# Redis Cluster holds sessions and chat fan-out state that is expensive to rebuild,
# so unlike a pure cache it is restored in DR. AOF keeps the nodes durable; the
# hourly RDB export is what leaves the region.
backup "redis" {
  engine    = "redis"
  namespace = local.namespace
  host      = "redis-cluster.${local.namespace}.svc"
  prefix    = "redis-backups/"

  full { schedule = "20 * * * *" }

  # The runbook replays the data with `redis-cli --pipe`. An RDB snapshot is turned
  # into that protocol stream by rdbtools, so the DR restore Job does the same.
  restore_command = ["/bin/sh", "-c", "rdb --command protocol \"$BACKUP_DIR/dump.rdb\" | redis-cli -h \"$HOST\" --pipe"]

  retention {
    local        = "7d"
    cross_region = "30d"
  }

  placement "primary" {
    cluster = cluster.primary
    bucket  = bucket.backups
  }
  placement "dr" {
    cluster = cluster.dr
    bucket  = bucket.backups_dr
  }

  replication_role_arn = local.replication_role
}

# Qdrant snapshots hourly: re-embedding the corpus takes days, far beyond the RTO.
backup "qdrant" {
  engine    = "qdrant"
  namespace = local.namespace
  host      = "qdrant.${local.namespace}.svc"
  image     = var.qdrant_image
  prefix    = "qdrant-backups/"

  full { schedule = "40 * * * *" }

  retention {
    local        = "7d"
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

  replication_role_arn = local.replication_role
}
