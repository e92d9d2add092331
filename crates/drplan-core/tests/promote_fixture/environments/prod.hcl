# Production. Values marked promote in the spec come from staging via
# `drplan promote --from staging --to prod`; the rest is set by hand.
stack = "shop-prod"

variables {
  environment   = "prod"
  # Pinned until the 1.30 soak in staging is over.
  cluster_version = "1.29" # keep in step with the DR runbook
  api_image_tag = "v2.3.1"

  api_replicas  = 6 # peak traffic
}

lock {
  bucket = "shop-drplan-state"
  region = "us-west-2"
}
