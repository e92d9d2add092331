# RTO 4h / RPO 1h for a regional failure. The runbook's phase budgets (15m
# assessment, 90m database, 90m applications, 45m cutover) add up to 4h; drplan
# checks the same budget against the estimated bring-up of the DR graph.

objectives {
  rto = "4h"
  rpo = "1h"

  component "postgres" {
    rto       = "90m"
    rpo       = "1h"
    resources = [backup.postgres, cluster.dr]
  }

  component "redis" {
    rto       = "90m"
    rpo       = "1h"
    resources = [backup.redis, cluster.dr]
  }

  component "qdrant" {
    rto       = "90m"
    rpo       = "1h"
    resources = [backup.qdrant, cluster.dr]
  }

  component "traffic" {
    rto       = "45m"
    resources = [dns.api, dns.web]
  }
}
