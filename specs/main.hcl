# drplan's own reference project: a small shop API with a primary in us-west-2 and a
# cold standby in us-east-1. Small enough to plan against the emulator in seconds;
# examples/ holds the full-size topologies.

variable "environment" {
  type    = string
  default = "prod"
}

variable "cluster_version" {
  type    = string
  default = "1.29"
  promote = true
}

variable "api_image_tag" {
  type    = string
  default = "1.0.0"
  promote = true
}

variable "api_replicas" {
  type    = number
  default = 2
}

variable "db_password" {
  type      = string
  sensitive = true
}

locals {
  name      = "shop-${var.environment}"
  account   = "123456789012"
  namespace = "shop"
}

site "primary" {
  region = "us-west-2"
}

site "dr" {
  region = "us-east-1"
  role   = "dr"
}

objectives {
  rto = "2h"
  rpo = "1h"

  component "orders-db" {
    rto       = "1h"
    rpo       = "1h"
    resources = [backup.orders_db, cluster.dr]
  }
}
