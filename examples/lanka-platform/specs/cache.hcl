# The seed's Redis: "RDB snapshots every 6 hours, 7 days, ElastiCache automated
# backups". In the primary it is an ElastiCache replication group, a primary and a
# replica in the private subnets with automatic failover (an AZ loss costs no cache).
# ElastiCache takes automatic snapshots once a day, in the window, so the 6-hourly
# cadence of the seed is not available this way: the snapshots give the cache a 24h
# RPO (objectives.hcl), which holds because the cache is rebuilt from Neo4j anyway.
#
# The snapshots stay in us-west-2 (`cross_region = false`): a regional failover starts
# DR's in-cluster Redis empty (kubernetes.dr_data) and the API warms it from the graph,
# as the runbook's "Redis will be rebuilt from application startup" says.
cache "redis" {
  site           = site.primary
  network        = network.primary
  name           = "${local.name}-redis"
  node_type      = var.redis_node_type
  nodes          = 2
  engine_version = "7.1"
  tags           = { team = "platform", app = "lanka-platform" }

  snapshot {
    retention_days = 7
    # After the 02:00 Neo4j full backup, still in the US night.
    window         = "03:00-05:00"
    cross_region   = false
  }
}
