# Backups land in the region they were taken in and S3 replicates them to the other
# side, so a regional outage never takes the only copy with it. Each region has its
# copy of the multi-region key (specs/keys.hcl): a key only in the failed region would
# make the DR copies unreadable.
bucket "backups" {
  site       = site.primary
  name       = "${local.name}-backups-${site.primary.region}"
  versioning = true
  tags       = { team = "platform", data = "backups" }

  encryption {
    algorithm  = "aws:kms"
    kms_key_id = kms_key.backups
  }

  # Restores always read the newest object; old versions only matter while an
  # overwrite is being investigated.
  lifecycle_rule "noncurrent-versions" {
    prefix                  = ""
    noncurrent_expire_after = "7d"
  }

  # Only the graph leaves the region: the DR site rebuilds its cache from Neo4j
  # (Redis's snapshots are ElastiCache's, in us-west-2: cache.hcl).
  replication {
    role_arn      = local.replication_role
    destination   = bucket.backups_dr
    prefix        = "neo4j/"
    storage_class = "STANDARD_IA"
    # SSE-KMS objects are replicated, re-encrypted with the key's DR replica.
    replica_kms_key_id = kms_key.backups
  }
}

# mirror_of: versioning and encryption must stay the primary's (validate warns).
bucket "backups_dr" {
  site       = site.dr
  mirror_of  = bucket.backups
  name       = "${local.name}-backups-${site.dr.region}"
  versioning = true
  tags       = { team = "platform", data = "backups" }

  encryption {
    algorithm  = "aws:kms"
    kms_key_id = kms_key.backups
  }

  lifecycle_rule "noncurrent-versions" {
    prefix                  = ""
    noncurrent_expire_after = "7d"
  }

  # The 90-day cross-region copies are read at most once, in an incident.
  lifecycle_rule "archive" {
    prefix = "neo4j/"
    transition {
      after         = "30d"
      storage_class = "GLACIER_IR"
    }
  }
}
