# Staging: new versions land here first.
stack = "shop-staging"

variables {
  environment         = "staging"
  cluster_version     = "1.30"     # upgraded 2026-11-02
  api_image_tag       = "v2.4.0-rc1"
  node_instance_types = ["m6i.large", "m6a.large"]
  api_replicas        = 1
  db_password         = "staging-secret"
}
