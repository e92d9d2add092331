# The vault: an immutable copy of the Postgres backups in a third region that never
# serves. S3 Object Lock in COMPLIANCE mode keeps every object version for 7 years
# (the compliance requirement) against anyone, root included: ransomware or a stolen
# admin credential can delete the primary and the DR copies, not this one. Replicated
# from bucket.backups (storage.hcl), prefix postgres-backups/.
bucket "postgres_vault" {
  site                = site.vault
  name                = "${var.name_prefix}-postgres-vault-${site.vault.region}"
  versioning          = true
  block_public_access = true
  tags                = { team = "platform", data = "backups", compliance = "7y" }

  encryption {
    algorithm = "AES256"
  }

  object_lock {
    mode      = "COMPLIANCE"
    retention = "7y"
  }

  # Only auditors or a last-resort restore read it: deep archive after a month.
  lifecycle_rule "archive" {
    prefix = ""
    transition {
      after         = "30d"
      storage_class = "DEEP_ARCHIVE"
    }
  }
}
