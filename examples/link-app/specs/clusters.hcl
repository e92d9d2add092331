# EKS in both regions. The DR control plane stays up (creating one is ~15 minutes
# of the 4h RTO); its node groups are at zero until DR activation.

cluster "primary" {
  site     = site.primary
  name     = local.name
  version  = var.cluster_version
  network  = network.primary
  subnets  = ["private-a", "private-b", "private-c"]
  role_arn = local.cluster_role_arn
  tags     = { team = "platform" }

  node_group "services" {
    instance_types = var.service_instance_types
    min_size       = var.service_nodes
    desired_size   = var.service_nodes
    max_size       = var.dr_service_nodes + 3
    node_role_arn  = local.node_role_arn
    disk_size      = 50
    labels         = { workload = "services" }
  }

  # Postgres, Redis Cluster and Qdrant. One node per AZ so each StatefulSet can
  # spread its replicas and keep quorum through an AZ loss.
  node_group "data" {
    instance_types = [var.data_instance_type]
    min_size       = 3
    desired_size   = 3
    max_size       = 6
    node_role_arn  = local.node_role_arn
    disk_size      = 100
    labels         = { workload = "data" }
  }
}

cluster "dr" {
  site     = site.dr
  name     = "${local.name}-dr"
  version  = var.cluster_version
  network  = network.dr
  subnets  = ["private-a", "private-b", "private-c"]
  role_arn = local.cluster_role_arn
  tags     = { team = "platform" }

  node_group "services" {
    instance_types = var.service_instance_types
    min_size       = site.dr.active ? var.dr_service_nodes : 0
    desired_size   = site.dr.active ? var.dr_service_nodes : 0
    max_size       = var.dr_service_nodes + 3
    node_role_arn  = local.node_role_arn
    disk_size      = 50
    labels         = { workload = "services" }
  }

  node_group "data" {
    instance_types = [var.data_instance_type]
    min_size       = site.dr.active ? 3 : 0
    desired_size   = site.dr.active ? 3 : 0
    max_size       = 6
    node_role_arn  = local.node_role_arn
    disk_size      = 100
    labels         = { workload = "data" }
  }
}
