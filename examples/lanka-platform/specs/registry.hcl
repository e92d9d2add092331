# Docker images (the runbook: "multi-region ECR replication, 30 days, primary and DR
# regions"). CI pushes the API image to the primary region's repository; ECR copies
# every push to us-east-1 (the registry's replication rule drplan writes for it), so a
# failover pulls from the DR region's registry, never from the region it lost.
registry "api" {
  site                = site.primary
  name                = "${local.name}/api"
  replicate_to        = [site.dr]
  expire_images_after = "30d"
  tags                = { team = "platform" }
}

# The replica in us-east-1. ECR would create it on the first replicated push, but
# lifecycle policies are not replicated: declaring it keeps DR's images to 30 days too.
registry "api_dr" {
  site                = site.dr
  name                = "${local.name}/api"
  expire_images_after = "30d"
  tags                = { team = "platform" }
}
