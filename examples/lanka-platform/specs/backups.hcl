# Backup policies compile to bucket lifecycle rules and CronJobs in the active site's
# cluster; under DR activation drplan also generates the restore Job that the old
# runbook applied by hand (k8s/jobs/neo4j-restore.yaml).
backup "neo4j" {
  engine    = "neo4j"
  namespace = local.namespace
  host      = "neo4j.${local.namespace}.svc"
  image     = var.neo4j_image
  prefix    = "neo4j/"

  # Full backups at 02:00 UTC, the trough of both US timezones; the hourly
  # incremental is what keeps the 1h RPO.
  full { schedule = "0 2 * * *" }
  incremental { schedule = "0 * * * *" }

  retention {
    local        = "30d"
    cross_region = "90d"
  }

  placement "primary" {
    cluster = cluster.primary
    bucket  = bucket.backups
  }
  placement "dr" {
    cluster = cluster.dr
    bucket  = bucket.backups_dr
  }
}

# Redis's snapshots are ElastiCache's automatic backups (cache.hcl), not a policy here.

# The application's own state is its Kubernetes configuration: the runbook's
# "kubectl get all,configmap,secret,pvc,ingress -o yaml" before each deployment.
# Exporting it every 15 minutes is what backs the app's 15m RPO; in DR the export is
# re-applied before the deployments roll out. (Secrets are not exported: they come
# from the spec's sensitive variables.)
backup "app_config" {
  engine    = "custom"
  component = "app"
  namespace = local.namespace
  image     = "bitnami/kubectl:1.29"
  prefix    = "app-config/"

  # Copied to the DR bucket by a replication rule of its own (the bucket's
  # replication block only covers neo4j/).
  replication_role_arn = local.replication_role

  command              = ["/bin/sh", "-c", "kubectl get deployment,service,configmap,pvc,ingress -n ${local.namespace} -o yaml > /backup/k8s-config.yaml"]
  restore_command      = ["/bin/sh", "-c", "kubectl apply --server-side --force-conflicts -f /backup/k8s-config.yaml"]

  # The restore is one `kubectl apply` of a single exported file, not a data load.
  restore_estimate = "2m"

  full { schedule = "*/15 * * * *" }

  retention {
    local        = "30d"
    cross_region = "90d"
  }

  placement "primary" {
    cluster = cluster.primary
    bucket  = bucket.backups
  }
  placement "dr" {
    cluster = cluster.dr
    bucket  = bucket.backups_dr
  }
}
