# bucket.old left the spec; the removed block keeps it and drops drplan's marks.
site "primary" {
  region = "us-west-2"
}

site "dr" {
  region = "us-east-1"
  role   = "dr"
}

removed {
  from = bucket.old
  lifecycle {
    destroy = false
  }
}
