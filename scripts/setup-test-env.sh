#!/usr/bin/env bash
# Installs the AWS emulator the tests and the demo run against: moto's server mode,
# pinned, in a project-local virtualenv (.venv/ at the repo root). Idempotent: a
# second run with the same pins does nothing but print the server path.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
# Pinned so every machine runs the same emulator; bump deliberately (moto's quirks are
# recorded in tests/e2e/support/moto.rs and the live readers). 5.1.x cannot be used: it
# renders Route53 health checks with Python booleans (<MeasureLatency>False</...>),
# which the Rust SDK rejects. 5.2.x has two bugs we patch below (see patch_moto).
MOTO_VERSION="5.2.5"
# Bumped whenever patch_moto or moto-requirements.txt change, so existing environments
# are brought up to date.
PATCH_LEVEL="6"
STAMP="$VENV/.drplan-moto-$MOTO_VERSION-p$PATCH_LEVEL"
PYTHON="${PYTHON:-python3}"

log() { echo "setup-test-env: $*" >&2; }

if [ -x "$VENV/bin/moto_server" ] && [ -f "$STAMP" ]; then
    echo "$VENV/bin/moto_server"
    exit 0
fi

if ! command -v "$PYTHON" >/dev/null 2>&1; then
    log "$PYTHON not found; installing python3 with apt"
    apt-get update -qq && apt-get install -y -qq python3 python3-venv >&2
    PYTHON=python3
fi

# Debian splits venv/ensurepip into python3-venv (python3.X-venv); a failed venv leaves
# a broken directory behind, so remove it before retrying.
if [ ! -x "$VENV/bin/python" ]; then
    if ! "$PYTHON" -m venv "$VENV" >&2 2>/dev/null; then
        rm -rf "$VENV"
        pyver="$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
        log "python -m venv failed; installing python3-venv / python${pyver}-venv with apt"
        apt-get update -qq >&2
        apt-get install -y -qq "python${pyver}-venv" >&2 || apt-get install -y -qq python3-venv >&2
        "$PYTHON" -m venv "$VENV" >&2
    fi
fi

log "installing moto[server]==$MOTO_VERSION into $VENV"
"$VENV/bin/python" -m pip install --quiet --no-cache-dir --disable-pip-version-check \
    -c "$ROOT/scripts/moto-requirements.txt" "moto[server]==$MOTO_VERSION" >&2

# moto 5.2.5 has S3, EKS and ElastiCache bugs that make drplan see drift a real account
# would not show; patch_moto fixes them (moto/s3/responses.py unless said otherwise).
# Each patch is applied once (its marker
# comment says so) and fails loudly if moto's code is not what the patch expects.
#
# 1. Its generic serializer answers GetBucketVersioning with a
#    <GetBucketVersioningResponse> root element (botocore's model names none); real S3,
#    and the Rust SDK's parser, use <VersioningConfiguration>. Render the real document.
# 2. GetBucketReplication answers every rule with an empty <Filter><Prefix/>, whatever
#    PutBucketReplication stored, so a rule limited to a prefix reads back as "every
#    object". Return the stored prefix (from Filter, Filter/And, or the legacy rule-level
#    Prefix). Tag filters are still not returned: drplan writes none.
# 3. (moto/eks/models.py) UpdateClusterConfig replaces the cluster's whole
#    resourcesVpcConfig with what the request carries, so an update of the endpoint
#    access alone drops the cluster's subnets. EKS changes only the fields sent: merge.
# 4. (moto/kms) ReplicateKey makes the replica a shallow copy of the primary: the two
#    share one alias table (an alias made in the replica's region shows up in the
#    primary's, and the same alias name cannot be made in both regions), and DescribeKey
#    of the replica writes "REPLICA" into the configuration the primary shares, so the
#    primary reads back as a replica. Its Tags are ignored too (real KMS tags the replica
#    at creation). Give the replica its own aliases and grants, describe it without
#    touching the primary, and tag it.
# 5. (moto/elasticache/models.py) CreateReplicationGroup with cluster mode disabled
#    ignores NumCacheClusters (one node unless ReplicasPerNodeGroup is given): honour it.
# 6. (same) A replication group's member clusters are not listed by
#    DescribeCacheClusters, the only answer that holds a group's engine version and
#    cache subnet group name: list them, as ElastiCache does.
# 7. (moto/elasticache/responses.py and models.py) ModifyReplicationGroup ignores
#    SnapshotWindow and EngineVersion: apply them (to the members too).
patch_moto() {
    "$VENV/bin/python" - <<'PY'
import pathlib, sys
import moto.s3.responses as s3_responses
import moto.eks.models as eks_models
import moto.kms.models as kms_models
import moto.kms.responses as kms_responses
import moto.elasticache.models as elasticache_models
import moto.elasticache.responses as elasticache_responses
patches = [
    (
        s3_responses,
        "drplan patch: real S3 document root",
        """        result = {"Status": versioning}
        self.data["Action"] = "GetBucketVersioning"
        return self.serialized(ActionResult(result))""",
        """        # drplan patch: real S3 document root (see scripts/setup-test-env.sh)
        status = f"<Status>{versioning}</Status>" if versioning else ""
        return 200, {}, (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            f"{status}</VersioningConfiguration>"
        )""",
    ),
    (
        s3_responses,
        "drplan patch: stored replication filter prefix",
        """        rules = [
            {
                "ID": rule["ID"],
                "Priority": rule["Priority"],
                "Status": rule["Status"],
                "DeleteMarkerReplication": {"Status": "Disabled"},
                "Filter": {"Prefix": ""},
                "Destination": rule["Destination"],
            }
            for rule in replication["Rule"]
        ]""",
        """        # drplan patch: stored replication filter prefix (see scripts/setup-test-env.sh)
        def stored_prefix(rule):
            stored = rule.get("Filter") or {}
            return (
                stored.get("Prefix")
                or (stored.get("And") or {}).get("Prefix")
                or rule.get("Prefix")
                or ""
            )

        rules = [
            {
                "ID": rule["ID"],
                "Priority": rule["Priority"],
                "Status": rule["Status"],
                "DeleteMarkerReplication": {"Status": "Disabled"},
                "Filter": {"Prefix": stored_prefix(rule)},
                "Destination": rule["Destination"],
            }
            for rule in replication["Rule"]
        ]""",
    ),
    (
        eks_models,
        "drplan patch: merged cluster VPC config",
        """            if resources_vpc_config:
                self.clusters[name].resources_vpc_config = resources_vpc_config""",
        """            if resources_vpc_config:
                # drplan patch: merged cluster VPC config (see scripts/setup-test-env.sh)
                self.clusters[name].resources_vpc_config = {
                    **(self.clusters[name].resources_vpc_config or {}),
                    **resources_vpc_config,
                }""",
    ),
    (
        elasticache_models,
        "drplan patch: NumCacheClusters honoured",
        """        if replicas_per_node_group:
            num_cache_clusters = replicas_per_node_group + 1
        else:
            num_cache_clusters = 1""",
        """        # drplan patch: NumCacheClusters honoured (see scripts/setup-test-env.sh)
        if replicas_per_node_group:
            num_cache_clusters = replicas_per_node_group + 1
        else:
            num_cache_clusters = num_cache_clusters or 1""",
    ),
    (
        elasticache_models,
        "drplan patch: member cache clusters",
        """        if tags:
            self.tagging_service.tag_resource(replication_group.arn, tags)

        self.replication_groups[replication_group_id] = replication_group
        return replication_group""",
        """        if tags:
            self.tagging_service.tag_resource(replication_group.arn, tags)

        # drplan patch: member cache clusters (see scripts/setup-test-env.sh)
        for member in replication_group.member_clusters:
            self.cache_clusters[member] = CacheCluster(
                account_id=self.account_id,
                region_name=self.region_name,
                cache_cluster_id=member,
                cache_node_type=replication_group.cache_node_type,
                replication_group_id=replication_group_id,
                az_mode=None,
                preferred_availability_zone=None,
                num_cache_nodes=1,
                engine="redis",
                engine_version=engine_version,
                cache_parameter_group_name=cache_parameter_group_name,
                cache_subnet_group_name=cache_subnet_group_name,
                transit_encryption_enabled=None,
                network_type=None,
                ip_discovery=None,
                snapshot_name=None,
                preferred_maintenance_window=None,
                port=None,
                notification_topic_arn=None,
                auto_minor_version_upgrade=None,
                snapshot_retention_limit=replication_group.snapshot_retention_limit,
                snapshot_window=replication_group.snapshot_window,
                auth_token=None,
                outpost_mode=None,
                preferred_outpost_arn=None,
                preferred_availability_zones=None,
                cache_security_group_names=None,
                security_group_ids=None,
                tags=None,
                snapshot_arns=None,
                preferred_outpost_arns=None,
                log_delivery_configurations=[],
                cache_node_ids_to_remove=None,
                cache_node_ids_to_reboot=None,
            )
        self.replication_groups[replication_group_id] = replication_group
        return replication_group""",
    ),
    (
        elasticache_responses,
        "drplan patch: modified snapshot window and engine version",
        """            snapshot_retention_limit=self._get_int_param("SnapshotRetentionLimit"),
        )""",
        """            snapshot_retention_limit=self._get_int_param("SnapshotRetentionLimit"),
            # drplan patch: modified snapshot window and engine version (see scripts/setup-test-env.sh)
            snapshot_window=self._get_param("SnapshotWindow"),
            engine_version=self._get_param("EngineVersion"),
        )""",
    ),
    (
        elasticache_models,
        "drplan patch: modify applies window and version",
        """        snapshot_retention_limit: int,
    ) -> ReplicationGroup:
        if replication_group_id not in self.replication_groups:
            raise ReplicationGroupNotFound(replication_group_id)""",
        """        snapshot_retention_limit: int,
        snapshot_window: str | None = None,
        engine_version: str | None = None,
    ) -> ReplicationGroup:
        # drplan patch: modify applies window and version (see scripts/setup-test-env.sh)
        if replication_group_id not in self.replication_groups:
            raise ReplicationGroupNotFound(replication_group_id)
        group = self.replication_groups[replication_group_id]
        if snapshot_window is not None:
            group.snapshot_window = snapshot_window
        if engine_version is not None:
            group.engine_version = engine_version
        for member in group.member_clusters:
            cluster = self.cache_clusters.get(member)
            if cluster is None:
                continue
            if engine_version is not None:
                cluster.engine_version = engine_version
            if cache_node_type is not None:
                cluster.cache_node_type = cache_node_type
            if snapshot_window is not None:
                cluster.snapshot_window = snapshot_window
            if snapshot_retention_limit is not None:
                cluster.snapshot_retention_limit = snapshot_retention_limit""",
    ),
    (
        kms_models,
        "drplan patch: replica keys of their own",
        """        replica_key.arn = replica_key.arn.replace(self.region_name, replica_region)
""",
        """        replica_key.arn = replica_key.arn.replace(self.region_name, replica_region)
        # drplan patch: replica keys of their own (see scripts/setup-test-env.sh)
        replica_key.aliases = {}
        replica_key.grants = {}
""",
    ),
    (
        kms_models,
        "drplan patch: replica described apart",
        """                key.multi_region_configuration["MultiRegionKeyType"] = "REPLICA"
""",
        """                # drplan patch: replica described apart (see scripts/setup-test-env.sh)
                key.multi_region_configuration = {
                    **key.multi_region_configuration,
                    "MultiRegionKeyType": "REPLICA",
                }
""",
    ),
    (
        kms_responses,
        "drplan patch: replica tags",
        """        replica_key = self.kms_backend.replicate_key(key_id, replica_region)
""",
        """        replica_key = self.kms_backend.replicate_key(key_id, replica_region)
        # drplan patch: replica tags (see scripts/setup-test-env.sh)
        replica_tags = self._get_param("Tags")
        if replica_tags:
            from moto.kms.models import kms_backends as _kms_backends
            _kms_backends[self.current_account][replica_region].tagger.tag_resource(
                replica_key.id, replica_tags
            )
""",
    ),
]
for module, marker, old, new in patches:
    path = pathlib.Path(module.__file__)
    src = path.read_text()
    if marker in src:
        continue
    if src.count(old) != 1:
        sys.exit(f"setup-test-env: cannot apply '{marker}' to {path} (moto changed?)")
    path.write_text(src.replace(old, new))
PY
}
patch_moto
rm -f "$VENV"/.drplan-moto-*
touch "$STAMP"
"$VENV/bin/moto_server" --help >/dev/null
echo "$VENV/bin/moto_server"
