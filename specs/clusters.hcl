# The DR control plane stays up because creating it is the slowest part of a
# bring-up; its nodes cost nothing until DR is activated.

cluster "primary" {
  site     = site.primary
  name     = local.name
  version  = var.cluster_version
  network  = network.primary
  role_arn = "arn:aws:iam::${local.account}:role/shop-eks-cluster"

  node_group "general" {
    instance_types = ["m5.large"]
    min_size       = 2
    desired_size   = 2
    max_size       = 4
    node_role_arn  = "arn:aws:iam::${local.account}:role/shop-eks-node"
  }
}

cluster "dr" {
  site     = site.dr
  name     = "${local.name}-dr"
  version  = var.cluster_version
  network  = network.dr
  role_arn = "arn:aws:iam::${local.account}:role/shop-eks-cluster"

  node_group "general" {
    instance_types = ["m5.large"]
    min_size       = site.dr.active ? 2 : 0
    desired_size   = site.dr.active ? 2 : 0
    max_size       = 4
    node_role_arn  = "arn:aws:iam::${local.account}:role/shop-eks-node"
  }
}

kubernetes "primary" {
  cluster   = cluster.primary
  manifests = ["k8s/shop-api.yaml", "k8s/orders-db.yaml"]
}

# Nothing runs in the DR cluster until it is activated; then the API comes up there
# and drplan's generated restore Job loads the latest database backup.
kubernetes "dr" {
  cluster   = cluster.dr
  manifests = ["k8s/shop-api.yaml", "k8s/orders-db.yaml"]
  enabled   = site.dr.active
}
