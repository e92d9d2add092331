# The DR control plane is kept running (about $70 a month) because creating an EKS
# cluster is the slowest step of a bring-up, ~15 minutes of a 2h RTO. Its node
# groups sit at zero until the DR site is activated.

cluster "primary" {
  site     = site.primary
  name     = local.name
  version  = var.cluster_version
  network  = network.primary
  subnets  = ["private-a", "private-b", "private-c"]
  role_arn = local.cluster_role_arn
  tags     = { team = "platform" }

  node_group "general" {
    instance_types = var.app_instance_types
    min_size       = var.app_nodes
    desired_size   = var.app_nodes
    max_size       = var.app_nodes_max
    node_role_arn  = local.node_role_arn
    disk_size      = 50
    labels         = { workload = "general" }
  }

  # Neo4j runs as a single instance; a second node is headroom for the restore Job
  # and for draining during node upgrades.
  node_group "data" {
    instance_types = [var.data_instance_type]
    min_size       = 1
    desired_size   = 1
    max_size       = 2
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

  node_group "general" {
    instance_types = var.app_instance_types
    min_size       = site.dr.active ? var.app_nodes : 0
    desired_size   = site.dr.active ? var.app_nodes : 0
    max_size       = var.app_nodes_max
    node_role_arn  = local.node_role_arn
    disk_size      = 50
    labels         = { workload = "general" }
  }

  node_group "data" {
    instance_types = [var.data_instance_type]
    min_size       = site.dr.active ? 1 : 0
    desired_size   = site.dr.active ? 1 : 0
    max_size       = 2
    node_role_arn  = local.node_role_arn
    disk_size      = 100
    labels         = { workload = "data" }
  }
}
