# What the runbook applied with kubectl, per cluster. Base config is kept in both
# clusters all the time so drift in the cold DR cluster shows up in CI, not during an
# incident. Workloads run only where they serve traffic.
kubernetes "primary_base" {
  cluster   = cluster.primary
  manifests = ["k8s/namespace.yaml", "k8s/configmaps.yaml", "k8s/secrets.yaml"]
}

kubernetes "dr_base" {
  cluster   = cluster.dr
  manifests = ["k8s/namespace.yaml", "k8s/configmaps.yaml", "k8s/secrets.yaml"]
}

# Data stores in the primary are never switched off by an environment: the volume
# holds the only live copy of the graph. The primary's cache is ElastiCache
# (cache.hcl), not a Deployment.
kubernetes "primary_data" {
  cluster   = cluster.primary
  manifests = ["k8s/apps/neo4j.yaml"]
}

# In DR, Neo4j comes up empty and drplan's generated neo4j-restore Job fills it from
# the replicated backup bucket before the API is scaled up; Redis starts empty.
kubernetes "dr_data" {
  cluster   = cluster.dr
  manifests = ["k8s/apps/neo4j.yaml", "k8s/apps/redis.yaml"]
  enabled   = site.dr.active
}

# The stateless API follows the active site. Under DR activation it is removed from
# the primary: if us-west-2 comes back mid-incident it must not serve reads from a
# graph that is no longer the source of truth. Failback is `drplan apply -e prod`:
# there the API waits for the failback restore Jobs that bring DR's data back (they
# belong to the backup policies, as DR's restore Jobs do; docs/failback.md).
kubernetes "primary_apps" {
  cluster    = cluster.primary
  manifests  = ["k8s/apps/api.yaml"]
  enabled    = site.primary.active
  depends_on = [backup.neo4j, backup.app_config]
}

# The API rolls out once the graph is restored and the exported app config is
# re-applied (the runbook's step 3 before step 4). The RTO estimate follows this
# ordering: API after the restore Jobs.
kubernetes "dr_apps" {
  cluster    = cluster.dr
  manifests  = ["k8s/apps/api.yaml"]
  enabled    = site.dr.active
  depends_on = [backup.neo4j, backup.app_config]
}
