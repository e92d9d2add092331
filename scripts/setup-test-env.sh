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
PATCH_LEVEL="5"
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

# moto 5.2.5 has two S3 bugs that make drplan see drift a real account would not show;
# patch_moto fixes both in moto/s3/responses.py. Each patch is applied once (its marker
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
patch_moto() {
    "$VENV/bin/python" - <<'PY'
import pathlib, sys
import moto.s3.responses as s3_responses
import moto.eks.models as eks_models
import moto.kms.models as kms_models
import moto.kms.responses as kms_responses
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
