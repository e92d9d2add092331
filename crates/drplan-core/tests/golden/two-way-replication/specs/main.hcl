# S3's active/active pattern: each bucket replicates to the other.
site "primary" {
  region = "us-west-2"
}

site "dr" {
  region = "us-east-1"
  role   = "dr"
}

bucket "east" {
  site = site.primary
  name = "golden-east"
  replication {
    role_arn    = "arn:aws:iam::123456789012:role/s3-replication"
    destination = bucket.west
  }
}

bucket "west" {
  site = site.dr
  name = "golden-west"
  replication {
    role_arn    = "arn:aws:iam::123456789012:role/s3-replication"
    destination = bucket.east
  }
}
