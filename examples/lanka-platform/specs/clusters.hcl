# EKS in both sites, written once: cluster.primary and cluster.dr. The DR control
# plane is kept running (about $70 a month) because creating an EKS cluster is the
# slowest step of a bring-up, ~15 minutes of a 2h RTO. Its node groups sit at zero
# until the DR site is activated; the primary's serve whatever the environment.
# Version and instance types come from one expression, so a failover never doubles
# as an upgrade (and `drplan validate` warns if the two ever differ).
cluster {
  for_each = site
  site     = each.value
  name     = each.value.role == "primary" ? local.name : "${local.name}-${each.key}"
  version  = var.cluster_version
  network  = network[each.key]
  subnets  = ["private-a", "private-b", "private-c"]
  role_arn = local.cluster_role_arn
  tags     = { team = "platform" }

  node_group "general" {
    instance_types = var.app_instance_types
    min_size       = local.serving[each.key] ? var.app_nodes : 0
    desired_size   = local.serving[each.key] ? var.app_nodes : 0
    max_size       = var.app_nodes_max
    node_role_arn  = local.node_role_arn
    disk_size      = 50
    labels         = { workload = "general" }
  }

  # Neo4j runs as a single instance; a second node is headroom for the restore Job
  # and for draining during node upgrades.
  node_group "data" {
    instance_types = [var.data_instance_type]
    min_size       = local.serving[each.key] ? 1 : 0
    desired_size   = local.serving[each.key] ? 1 : 0
    max_size       = 2
    node_role_arn  = local.node_role_arn
    disk_size      = 100
    labels         = { workload = "data" }
  }
}
