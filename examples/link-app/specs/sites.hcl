# Oregon serves; N. Virginia holds replicated backups, a cold cluster, and takes over
# on regional failure (`drplan plan -e prod-dr`). Ohio is a vault: it only keeps an
# immutable copy of the Postgres backups (vault.hcl), never serves and is never
# activated — the clean copy the runbook's "Security Breach/Ransomware: restore from
# clean backups" needs.
site "primary" {
  region = "us-west-2"
  role   = "primary"
}

site "dr" {
  region = "us-east-1"
  role   = "dr"
}

site "vault" {
  region = "us-east-2"
  role   = "vault"
}
