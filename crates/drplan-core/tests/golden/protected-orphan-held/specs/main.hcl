# bucket.old left the spec without a removed block: a protected orphan, held; the new
# bucket is still planned.
site "primary" {
  region = "us-west-2"
}

site "dr" {
  region = "us-east-1"
  role   = "dr"
}

bucket "new" {
  site = site.dr
  name = "golden-new"
}
