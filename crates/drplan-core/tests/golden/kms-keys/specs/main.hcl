# A multi-region key with its DR replica, used by both buckets and by the
# replication between them; an empty cloud: everything is created, each bucket
# after its region's copy of the key.
site "primary" {
  region = "us-west-2"
}

site "dr" {
  region = "us-east-1"
  role   = "dr"
}

kms_key "backups" {
  site                 = site.primary
  replicas             = [site.dr]
  alias                = "alias/backups"
  description          = "backups"
  deletion_window_days = 14
}

bucket "backups" {
  site = site.primary
  name = "golden-backups"
  encryption {
    algorithm  = "aws:kms"
    kms_key_id = kms_key.backups
  }
  replication {
    role_arn           = "arn:aws:iam::123456789012:role/s3-replication"
    destination        = bucket.backups_dr
    replica_kms_key_id = kms_key.backups
  }
}

bucket "backups_dr" {
  site = site.dr
  name = "golden-backups-dr"
  encryption {
    algorithm  = "aws:kms"
    kms_key_id = kms_key.backups
  }
}
