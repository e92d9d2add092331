# The objectives from the DR plan, checked on every plan: backup intervals against
# RPO, cross-region copies of stateful components, and the estimated DR bring-up
# against RTO. The bring-up is what activation changes (`-e prod-dr` against `prod`):
# the DR control plane and network already run, so it is the node groups scaled up,
# the restore Jobs, the workloads that only run in the active site and the DNS flip.
objectives {
  rto = "2h"
  rpo = "1h"

  # Serving again from us-east-1: the API (after Neo4j is restored and the app
  # config re-applied, see kubernetes.hcl) and the failover record. The app_config
  # backup belongs here through its `component`.
  component "app" {
    rto       = "30m"
    rpo       = "15m"
    resources = [kubernetes.dr_apps, dns.api]
  }

  component "neo4j" {
    rto       = "1h"
    rpo       = "1h"
    resources = [backup.neo4j, kubernetes.dr_data]
  }

  # The seed says "N/A (cache rebuilt)" for a failover, and that stays true: in DR
  # the cache is the Redis Deployment of dr_data, started empty. In the primary the
  # ElastiCache group's daily automatic snapshots bound what a restart loses to 24h,
  # in us-west-2 only (cache.hcl: cross_region = false).
  component "redis" {
    rto       = "15m"
    rpo       = "24h"
    resources = [kubernetes.dr_data, cache.redis]
  }

  component "infrastructure" {
    rto       = "2h"
    resources = [network.dr, cluster.dr]
  }
}
