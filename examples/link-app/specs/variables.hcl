# Inputs that differ between environments. prod and prod-dr set the same values
# except where DR activation needs more capacity.
variable "environment" {
  type        = string
  description = "Short environment name used in cluster names. prod and prod-dr share it."
}

variable "name_prefix" {
  type        = string
  default     = "link"
  description = "Prefix of bucket names. Bucket names are global, so staging needs its own."
}

variable "cluster_version" {
  type        = string
  default     = "1.29"
  description = "EKS version, the same in both regions so a failover is never also an upgrade."
  promote     = true
}

variable "image_tag" {
  type        = string
  description = "Release of the Link services (api-gateway, user-svc, chat-svc). Soaks in staging first."
  promote     = true
}

variable "postgres_image" {
  type    = string
  default = "postgres:16.2"
  promote = true
}

variable "qdrant_image" {
  type    = string
  default = "qdrant/qdrant:v1.8.1"
  promote = true
}

# Serving replicas in the primary region.
variable "api_gateway_replicas" {
  type    = number
  default = 6
}
variable "user_svc_replicas" {
  type    = number
  default = 4
}
variable "chat_svc_replicas" {
  type    = number
  default = 4
}

# The DR region takes all traffic at once, cold caches included: the runbook scaled
# api-gateway to 10 and user-svc to 8 by hand after every cutover.
variable "dr_api_gateway_replicas" {
  type    = number
  default = 10
}
variable "dr_user_svc_replicas" {
  type    = number
  default = 8
}

variable "service_nodes" {
  type        = number
  default     = 6
  description = "Serving size of the services node group in the primary."
}

variable "dr_service_nodes" {
  type        = number
  default     = 9
  description = "Serving size of the services node group in DR, sized for the DR replica counts."
}

variable "service_instance_types" {
  type    = list(string)
  default = ["m6i.2xlarge", "m5.2xlarge"]
}

variable "data_instance_type" {
  type    = string
  default = "r6i.2xlarge"
}

variable "primary_cidr" {
  type    = string
  default = "10.60.0.0/16"
}

variable "dr_cidr" {
  type        = string
  default     = "10.61.0.0/16"
  description = "Must not overlap primary_cidr: the VPCs are peered for Postgres streaming replication."
}

variable "dns_zone" {
  type    = string
  default = "linkapp.com"
}

variable "primary_lb_hostname" {
  type        = string
  description = "Ingress NLB of the primary region."
}

variable "dr_lb_hostname" {
  type        = string
  description = "Ingress NLB of the DR region."
}

# The apex cannot be a CNAME: it is an alias (A) to the region's NLB, named with the
# NLB's canonical hosted zone (per region, from the ELB documentation).
variable "primary_lb_zone_id" {
  type        = string
  default     = "Z18D5FSROUN65G" # NLBs in us-west-2
  description = "Canonical hosted zone of the primary region's NLBs."
}

variable "dr_lb_zone_id" {
  type        = string
  default     = "Z26RNL4JYFTOTI" # NLBs in us-east-1
  description = "Canonical hosted zone of the DR region's NLBs."
}

variable "dr_account" {
  type        = string
  default     = ""
  description = "The DR site's AWS account, when it is not the primary's (environments/prod.hcl: site_account \"dr\")."
}

variable "postgres_password" {
  type        = string
  sensitive   = true
  description = "Password of the link_users owner role, rendered into the postgres-credentials Secret."
}

locals {
  name    = "link-${var.environment}"
  account = "123456789012"
  # Per site: the DR site may live in its own account (prod's does: site_account in
  # environments/prod.hcl); its cluster and node roles are that account's.
  accounts         = { primary = local.account, dr = coalesce(var.dr_account, local.account) }

  cluster_role_arn = { for site, account in local.accounts : site => "arn:aws:iam::${account}:role/link-eks-cluster" }
  node_role_arn    = { for site, account in local.accounts : site => "arn:aws:iam::${account}:role/link-eks-node" }
  replication_role = "arn:aws:iam::${local.account}:role/link-s3-replication"

  namespace        = "link-services"
  image            = "ghcr.io/linkapp"

  # The sites that run the app (a network and a cluster each): not the vault.
  serving_sites = { for k, s in site : k => s if s.role != "vault" }
  # Per site, for the blocks written once with for_each = local.serving_sites.
  cidr = { primary = var.primary_cidr, dr = var.dr_cidr }
  # Node groups at serving size: the primary's always, DR's once the DR site is
  # activated (`-e prod-dr`).
  serving = { for k, s in site : k => s.role == "primary" || s.active }
  service_nodes = {
    for k, s in site : k => !local.serving[k] ? 0 : s.role == "primary" ? var.service_nodes : var.dr_service_nodes
  }

  # Replica counts for whichever site is active; the manifests are shared by both
  # clusters and only applied in the active one.
  api_gateway_replicas = site.dr.active ? var.dr_api_gateway_replicas : var.api_gateway_replicas
  user_svc_replicas    = site.dr.active ? var.dr_user_svc_replicas : var.user_svc_replicas
  chat_svc_replicas    = var.chat_svc_replicas
}
