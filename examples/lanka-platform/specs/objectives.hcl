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

  # No RPO: the cache is rebuilt from Neo4j. In DR it is the Redis Deployment of
  # dr_data, started empty.
  component "redis" {
    rto       = "15m"
    resources = [kubernetes.dr_data]
  }

  component "infrastructure" {
    rto       = "2h"
    resources = [network.dr, cluster.dr]
  }
}
