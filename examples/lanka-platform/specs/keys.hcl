# The backups' encryption key, declared rather than assumed: one multi-region key
# with a replica in the DR region (same key id and material), so the DR copies stay
# readable when us-west-2 is gone. Each region has the alias. Keys are stateful:
# drplan never deletes one without --allow-destroy, and then only schedules it.
kms_key "backups" {
  site                 = site.primary
  multi_region         = true
  replicas             = [site.dr]
  alias                = "alias/lanka-platform-backups"
  description          = "lanka-platform backups (Neo4j dumps, Redis snapshots)"
  deletion_window_days = 30
  enable_key_rotation  = true
  tags                 = { team = "platform", data = "backups" }
}
