# Oregon serves; N. Virginia holds replicated backups, a cold cluster, and takes over
# on regional failure (`drplan plan -e prod-dr`).

site "primary" {
  region = "us-west-2"
  role   = "primary"
}

site "dr" {
  region = "us-east-1"
  role   = "dr"
}
