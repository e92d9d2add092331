# Regional failover (runbook scenario 4) as a reviewed change set: prod with us-east-1
# active. Plan shows DR node groups scaled up, Postgres/Redis/Qdrant restore Jobs,
# services at DR replica counts, and Route53 failover flipped to the DR targets.
# Everything else comes from prod.hcl (`extends`), so a release promoted to prod is the
# one a failover deploys.
extends     = "prod"
active_site = "dr"
