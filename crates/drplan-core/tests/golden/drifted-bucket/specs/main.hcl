# A bucket changed outside drplan: a tag edited and one added by hand, a lifecycle rule
# edited and one deleted, versioning suspended. The plan shows each leaf that differs;
# the reader's 30.0 for the spec's 30 days is the same value, so that rule is unchanged.
site "primary" {
  region = "us-west-2"
}

site "dr" {
  region = "us-east-1"
  role   = "dr"
}

bucket "data" {
  site       = site.primary
  name       = "golden-data"
  versioning = true
  protect    = false
  tags       = { team = "data", tier = "gold" }

  lifecycle_rule "logs" {
    prefix       = "logs/"
    expire_after = "30d"
  }

  lifecycle_rule "tmp" {
    prefix       = "tmp/"
    expire_after = "7d"
    transition {
      after         = "1d"
      storage_class = "GLACIER"
    }
  }

  lifecycle_rule "zz" {
    prefix       = "zz/"
    expire_after = "90d"
  }
}
