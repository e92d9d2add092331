# The backups' encryption keys, declared rather than assumed. The DR site lives in
# its own account (site_account "dr"), and KMS replicates a multi-region key only
# within one account: the DR bucket keeps a key of the DR account, made in the DR
# site, and both carry the alias the backup Jobs name. The primary key is
# multi-region so that a replica can follow in any site of its own account. Keys are
# stateful: drplan never deletes one without --allow-destroy, and then only
# schedules it.
kms_key "backups" {
  site                 = site.primary
  multi_region         = true
  alias                = "alias/link-backups"
  description          = "link-app backups (Postgres dumps and WAL)"
  deletion_window_days = 30
  enable_key_rotation  = true
  tags                 = { team = "platform", data = "backups" }
}

kms_key "backups_dr" {
  site                 = site.dr
  alias                = "alias/link-backups"
  description          = "link-app backups in the DR account (7-year compliance copies)"
  deletion_window_days = 30
  enable_key_rotation  = true
  tags                 = { team = "platform", data = "backups", compliance = "7y" }
}
