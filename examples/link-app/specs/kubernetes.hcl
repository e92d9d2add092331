# What the runbook deployed with kubectl and helm, per cluster. The helm chart's
# values-dr.yaml differences are the replica counts in variables.hcl.

kubernetes "primary_base" {
  cluster   = cluster.primary
  manifests = ["k8s/namespace.yaml", "k8s/config.yaml", "k8s/secrets.yaml"]
}

# Kept in the cold DR cluster too, so `drplan drift` catches config that only
# changed in the primary long before anyone needs it.
kubernetes "dr_base" {
  cluster   = cluster.dr
  manifests = ["k8s/namespace.yaml", "k8s/config.yaml", "k8s/secrets.yaml"]
}

# The primary's databases are never turned off by an environment: their volumes are
# the live data.
kubernetes "primary_data" {
  cluster = cluster.primary
  manifests = [
    "k8s/data/postgres-primary-wal.yaml",
    "k8s/data/redis-cluster.yaml",
    "k8s/data/qdrant.yaml",
  ]
}

# In DR the stores start empty; the generated postgres-restore, redis-restore and
# qdrant-restore Jobs load the latest replicated backups into them.
kubernetes "dr_data" {
  cluster = cluster.dr
  manifests = [
    "k8s/data/postgres-primary-wal.yaml",
    "k8s/data/redis-cluster.yaml",
    "k8s/data/qdrant.yaml",
  ]
  enabled = site.dr.active
}

# Stateless services follow the active site. Removing them from the primary under
# DR activation is the runbook's `kubectl scale deployment --all --replicas=0
# --context=primary`: a recovering us-west-2 must not accept writes against a
# database that is no longer the primary. Failback is `drplan apply -e prod`.
kubernetes "primary_services" {
  cluster = cluster.primary
  manifests = [
    "k8s/services/api-gateway.yaml",
    "k8s/services/user-svc.yaml",
    "k8s/services/chat-svc.yaml",
  ]
  enabled = site.primary.active
}

kubernetes "dr_services" {
  cluster = cluster.dr
  manifests = [
    "k8s/services/api-gateway.yaml",
    "k8s/services/user-svc.yaml",
    "k8s/services/chat-svc.yaml",
  ]
  enabled = site.dr.active
}
