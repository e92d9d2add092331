# The objectives from the DR plan, checked on every plan: backup intervals against
# RPO, cross-region copies of stateful components, and the estimated DR bring-up
# against RTO.

objectives {
  rto = "2h"
  rpo = "1h"

  component "app" {
    rto       = "30m"
    rpo       = "15m"
    resources = [cluster.dr]
  }

  component "neo4j" {
    rto       = "1h"
    rpo       = "1h"
    resources = [backup.neo4j, cluster.dr]
  }

  # No RPO: the cache is rebuilt from Neo4j.
  component "redis" {
    rto = "15m"
  }

  component "infrastructure" {
    rto       = "2h"
    resources = [network.dr, cluster.dr]
  }
}
