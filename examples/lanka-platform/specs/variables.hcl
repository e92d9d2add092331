# Inputs that differ between environments. Everything else about the topology is
# fixed here so prod and prod-dr can never disagree on what the DR site looks like.
variable "environment" {
  type        = string
  description = "Short environment name baked into cluster and bucket names. prod and prod-dr share it: they are the same infrastructure."
}

variable "cluster_version" {
  type        = string
  default     = "1.29"
  description = "EKS control-plane version, kept identical in both sites so a failover never doubles as an upgrade."
  promote     = true
}

variable "api_image_tag" {
  type        = string
  description = "lanka-platform-api image tag. Promoted from staging once it has soaked there."
  promote     = true
}

variable "neo4j_image" {
  type        = string
  default     = "neo4j:5.14.0-enterprise"
  description = "Neo4j image for the database and its backup/restore jobs. neo4j-admin backup needs Enterprise."
  promote     = true
}

variable "api_replicas" {
  type        = number
  default     = 3
  description = "Serving replicas of lanka-platform-api in whichever site is active."
}

variable "app_nodes" {
  type        = number
  default     = 3
  description = "Serving size of the general node group. The DR site runs 0 until it is activated."
}

variable "app_nodes_max" {
  type    = number
  default = 6
}

variable "app_instance_types" {
  type    = list(string)
  default = ["m5.xlarge"]
}

variable "data_instance_type" {
  type        = string
  default     = "r5.xlarge"
  description = "Neo4j keeps its page cache in memory; memory-optimised nodes keep query latency flat."
}

variable "primary_cidr" {
  type    = string
  default = "10.20.0.0/16"
}

variable "dr_cidr" {
  type        = string
  default     = "10.21.0.0/16"
  description = "Must not overlap primary_cidr: the two VPCs are peered for replication traffic."
}

variable "dns_zone" {
  type    = string
  default = "lanka-platform.com"
}

variable "primary_lb_hostname" {
  type        = string
  description = "Hostname of the ingress load balancer in us-west-2 (created by the AWS Load Balancer Controller)."
}

variable "dr_lb_hostname" {
  type        = string
  description = "Hostname of the ingress load balancer in us-east-1."
}

variable "redis_node_type" {
  type        = string
  default     = "cache.r6g.large"
  description = "Node type of the primary's ElastiCache replication group (cache.redis)."
}

variable "primary_redis_host" {
  type        = string
  description = "Primary endpoint of the ElastiCache replication group (cache.redis), known once it exists; the API reaches the cache through it while the primary site serves."
}

variable "neo4j_password" {
  type        = string
  sensitive   = true
  description = "Neo4j admin password, rendered into the lanka-platform-secrets Secret."
}

locals {
  name             = "lanka-platform-${var.environment}"
  account          = "123456789012"

  cluster_role_arn = "arn:aws:iam::${local.account}:role/lanka-platform-eks-cluster"
  node_role_arn    = "arn:aws:iam::${local.account}:role/lanka-platform-eks-node"
  replication_role = "arn:aws:iam::${local.account}:role/lanka-platform-s3-replication"

  # Per site, for the blocks written once with for_each = site.
  cidr = { primary = var.primary_cidr, dr = var.dr_cidr }
  # Node groups at serving size: the primary's always (its data never moves by
  # itself), DR's once the DR site is activated (`-e prod-dr`).
  serving = { for k, s in site : k => s.role == "primary" || s.active }

  # Kubernetes manifests are interpolated with these, so they must be scalars.
  namespace = "lanka-platform"
  # The cache the API uses: ElastiCache while the primary serves, the DR cluster's
  # own Redis (started empty, warmed from the graph) under DR activation.
  redis_host = site.primary.active ? var.primary_redis_host : "redis.lanka-platform.svc"
  # The API image from the active site's ECR registry (registry.hcl): in a failover,
  # the replica in the DR region, so the bring-up never pulls from the lost one.
  registry_region = site.dr.active ? site.dr.region : site.primary.region
  api_image       = "${local.account}.dkr.ecr.${local.registry_region}.amazonaws.com/${local.name}/api:${var.api_image_tag}"
}
