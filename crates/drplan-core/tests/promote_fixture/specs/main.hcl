# A small project whose versions and image tags move from staging to prod.
variable "environment" {
  type = string
}

variable "cluster_version" {
  type    = string
  default = "1.29"
  promote = true
}

variable "api_image_tag" {
  type    = string
  promote = true
}

variable "node_instance_types" {
  type    = list(string)
  default = ["m5.large"]
  promote = true
}

variable "api_replicas" {
  type    = number
  default = 2
}

variable "db_password" {
  type      = string
  default   = "change-me"
  sensitive = true
  promote   = true
}

site "primary" {
  region = "us-west-2"
}
site "dr" {
  region = "us-east-1"
  role   = "dr"
}

network "primary" {
  site = site.primary
  cidr = "10.0.0.0/16"
  subnet "a" {
    availability_zone = "us-west-2a"
    cidr              = "10.0.0.0/20"
  }
}

cluster "primary" {
  site     = site.primary
  name     = "shop-${var.environment}"
  version  = var.cluster_version
  network  = network.primary
  role_arn = "arn:aws:iam::123456789012:role/eks-cluster"
  node_group "general" {
    instance_types = var.node_instance_types
    min_size       = 1
    desired_size   = var.api_replicas
    max_size       = 6
    node_role_arn  = "arn:aws:iam::123456789012:role/eks-node"
  }
}
