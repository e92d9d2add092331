# EKS in both regions, written once: cluster.primary and cluster.dr. The DR control
# plane stays up (creating one is ~15 minutes of the 4h RTO); its node groups are at
# zero until DR activation. Version and instance types come from one expression per
# attribute, so a failover is never also an upgrade (`drplan validate` warns if the
# two clusters ever differ there).
cluster {
  for_each = local.serving_sites
  site     = each.value
  name     = each.value.role == "primary" ? local.name : "${local.name}-${each.key}"
  version  = var.cluster_version
  network  = network[each.key]
  subnets  = ["private-a", "private-b", "private-c"]
  role_arn = local.cluster_role_arn[each.key]
  tags     = { team = "platform" }

  # The primary serves at service_nodes; DR, once activated, at dr_service_nodes
  # (sized for the DR replica counts).
  node_group "services" {
    instance_types = var.service_instance_types
    min_size       = local.service_nodes[each.key]
    desired_size   = local.service_nodes[each.key]
    max_size       = var.dr_service_nodes + 3
    node_role_arn  = local.node_role_arn[each.key]
    disk_size      = 50
    labels         = { workload = "services" }
  }

  # Postgres, Redis Cluster and Qdrant. One node per AZ so each StatefulSet can
  # spread its replicas and keep quorum through an AZ loss.
  node_group "data" {
    instance_types = [var.data_instance_type]
    min_size       = local.serving[each.key] ? 3 : 0
    desired_size   = local.serving[each.key] ? 3 : 0
    max_size       = 6
    node_role_arn  = local.node_role_arn[each.key]
    disk_size      = 100
    labels         = { workload = "data" }
  }
}
