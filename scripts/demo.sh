#!/usr/bin/env bash
# The drplan demo, end to end on this machine: a local AWS emulator (moto) and two
# in-memory Kubernetes API servers stand in for us-west-2/us-east-1 and their EKS
# clusters. It validates the root project, plans and applies `prod`, shows the DR
# failover plan (`prod-dr`), applies it, and fails back; then it fails over again with
# the primary cluster's API server frozen (a lost region), and back when it returns.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n== %s\n' "$*" >&2; }
run() { printf '$ %s\n' "$*" >&2; "$@"; }

say "Installing the emulator (moto in .venv) and building drplan"
bash scripts/setup-test-env.sh >/dev/null
cargo build -q --bin drplan
cargo build -q -p kube-testserver --bin kube-testserver
# Wherever cargo builds (CARGO_TARGET_DIR, a config file), ask it.
target_dir=$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
export PATH="$target_dir/debug:$PATH"

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

say "Starting moto on 127.0.0.1 and one Kubernetes API server per cluster"
port=$(free_port)
.venv/bin/moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
pids+=($!)
export KUBECONFIG="$work/kubeconfig"
kube-testserver --kubeconfig "$KUBECONFIG" --context shop-primary --simulate-rollouts >"$work/k1.log" 2>&1 &
primary_api=$!
pids+=($!)
sleep 0.5
kube-testserver --kubeconfig "$KUBECONFIG" --context shop-dr --simulate-rollouts >"$work/k2.log" 2>&1 &
pids+=($!)
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_REGION=us-east-1
for _ in $(seq 1 50); do
  curl -fsS "$AWS_ENDPOINT_URL/moto-api/" >/dev/null 2>&1 && break
  sleep 0.2
done
say "0. What the platform team creates before drplan runs, and drplan does not manage:"
say "   the IAM roles the clusters and replication use, the KMS key of the backups in each"
say "   region (drplan's DR-readiness check reads them: see step 2's Objectives)"
.venv/bin/python - <<'PY'
import os, boto3
url = os.environ["AWS_ENDPOINT_URL"]
iam = boto3.client("iam", region_name="us-east-1", endpoint_url=url)
for role in ["shop-eks-cluster", "shop-eks-node", "shop-s3-replication"]:
    iam.create_role(RoleName=role, AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[]}')
for region in ["us-west-2", "us-east-1"]:
    kms = boto3.client("kms", region_name=region, endpoint_url=url)
    key = kms.create_key(Description="shop backups")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/shop-backups", TargetKeyId=key)
    print(f"created alias/shop-backups in {region}")
print("created IAM roles shop-eks-cluster, shop-eks-node, shop-s3-replication")
PY
# What drplan itself needs in the account (the lock bucket), created once.
run drplan bootstrap -e prod

say "1. Validate the spec (no cloud access)"
run drplan validate

say "2. Plan prod against an empty cloud"
run drplan plan -e prod --detailed-exitcode || [ $? -eq 2 ]

say "3. Apply prod"
run drplan apply -e prod --auto-approve

say "4. Plan prod again: nothing to do"
run drplan plan -e prod --detailed-exitcode

say "4b. A backup ran. The demo has no database, so it writes the recovery point a finished"
say "    backup Job writes (and S3 replication copies) itself, through S3; drift reads its age"
.venv/bin/python - <<'PY'
import datetime, json, os, boto3
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
for region, bucket in [("us-west-2", "shop-prod-backups-us-west-2"), ("us-east-1", "shop-prod-backups-us-east-1")]:
    s3 = boto3.client("s3", region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    point = {"format": 1, "time": now.isoformat().replace("+00:00", "Z"), "engine": "postgres",
             "kind": "full", "size_bytes": 1048576, "sha256": "0" * 64, "source_site": "primary",
             "run": "s3://shop-prod-backups-us-west-2/orders-db/full/" + now.strftime("%Y%m%dT%H%M%SZ") + "/"}
    s3.put_object(Bucket=bucket, Key="orders-db/recovery-points/full.json", Body=json.dumps(point).encode())
PY
run drplan drift -e prod

say "4c. A restore drill in the DR site: isolated namespace, restore, verify, teardown"
say "    (the demo's API servers settle Jobs at once: these are not real restore times)"
run drplan drill -e prod
run drplan drill history -e prod

say "5. The DR failover plan: what activating us-east-1 will do"
run drplan plan -e prod-dr --out "$work/failover.plan" || [ $? -eq 2 ]

say "6. Apply the reviewed failover plan"
run drplan apply "$work/failover.plan"
run drplan plan -e prod-dr --detailed-exitcode

say "7. Drift check (what CI runs), then fail back to prod"
run drplan drift -e prod --format markdown || [ $? -eq 2 ]
run drplan apply -e prod --auto-approve
run drplan plan -e prod --detailed-exitcode

say "8. The primary region is lost: its cluster's API server stops answering (SIGSTOP)"
kill -STOP "$primary_api"
say "   The failover is planned anyway: us-west-2 is marked unreachable, what it would change is deferred"
run drplan plan -e prod-dr || [ $? -eq 2 ]
run drplan apply -e prod-dr --auto-approve
run drplan plan -e prod-dr --detailed-exitcode || [ $? -eq 2 ]

say "9. The region returns (SIGCONT): fail back and converge"
kill -CONT "$primary_api"
run drplan apply -e prod --auto-approve
run drplan plan -e prod --detailed-exitcode

say "Done: prod -> prod-dr -> prod, then a failover with the primary cluster lost and back; every step converged."
