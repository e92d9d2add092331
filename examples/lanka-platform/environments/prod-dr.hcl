# Regional failover: prod (same stack, same values) with the DR site active.
# `drplan plan -e prod-dr` is the reviewed change set for the day us-west-2 is lost:
# DR node groups to serving size, Neo4j restored from the replicated backups, the API
# deployed in us-east-1, DNS failover flipped. Everything else comes from prod.hcl
# (`extends`), so a release promoted to prod is the one a failover deploys.
extends     = "prod"
active_site = "dr"
