# Two bucket pairs. backups: database dumps, WAL, snapshots, replicated per prefix by
# the backup policies. media: user uploads, replicated whole so files survive the
# region with the rows that point at them.
bucket "backups" {
  site       = site.primary
  name       = "${var.name_prefix}-backups"
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

  # The Postgres backups also go to the vault (vault.hcl), locked for 7 years. The
  # backup policies' own rules (to backups_dr) are rules of the same configuration.
  replication {
    role_arn    = local.replication_role
    destination = bucket.postgres_vault
    prefix      = "postgres-backups/"
  }
}

# The compliance copy: 7 years of Postgres backups (see backups.hcl), moved to
# colder storage as they age because they are only read by auditors or a restore.
# mirror_of: versioning and encryption must stay the primary's (validate warns).
bucket "backups_dr" {
  site       = site.dr
  mirror_of  = bucket.backups
  # Its key is the DR account's own (specs/keys.hcl): a replica cannot cross accounts.
  parity_ignore = ["encryption"]
  name       = "${var.name_prefix}-backups-${site.dr.region}"
  versioning = true
  tags       = { team = "platform", data = "backups", compliance = "7y" }

  encryption {
    algorithm  = "aws:kms"
    kms_key_id = kms_key.backups_dr
  }

  lifecycle_rule "age-out" {
    prefix = ""
    transition {
      after         = "30d"
      storage_class = "GLACIER_IR"
    }
    transition {
      after         = "180d"
      storage_class = "DEEP_ARCHIVE"
    }
  }
}

bucket "media" {
  site       = site.primary
  name       = "${var.name_prefix}-media"
  versioning = true
  tags       = { team = "platform", data = "user-content" }

  encryption {
    algorithm = "AES256"
  }

  # Deleted uploads stay recoverable for a month (support requests, abuse reports).
  lifecycle_rule "deleted-uploads" {
    prefix                  = ""
    noncurrent_expire_after = "30d"
  }

  replication {
    role_arn    = local.replication_role
    destination = bucket.media_dr
  }
}

# mirror_of: versioning and encryption must stay the primary's (validate warns).
bucket "media_dr" {
  site       = site.dr
  mirror_of  = bucket.media
  name       = "${var.name_prefix}-media-${site.dr.region}"
  versioning = true
  tags       = { team = "platform", data = "user-content" }

  encryption {
    algorithm = "AES256"
  }

  lifecycle_rule "deleted-uploads" {
    prefix                  = ""
    noncurrent_expire_after = "30d"
  }
}
