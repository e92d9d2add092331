#!/usr/bin/env bash
# The drplan demo, end to end on this machine: a local AWS emulator (moto) and two
# in-memory Kubernetes API servers stand in for us-west-2/us-east-1 and their EKS
# clusters. It validates the root project, plans and applies `prod`, shows the DR
# failover plan (`prod-dr`), applies it, and fails back.
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
pids+=($!)
sleep 0.5
kube-testserver --kubeconfig "$KUBECONFIG" --context shop-dr --simulate-rollouts >"$work/k2.log" 2>&1 &
pids+=($!)
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_REGION=us-east-1
for _ in $(seq 1 50); do
  curl -fsS "$AWS_ENDPOINT_URL/moto-api/" >/dev/null 2>&1 && break
  sleep 0.2
done
# What drplan itself needs in the account (the lock bucket), created once.
run drplan bootstrap -e prod
import boto3
boto3.client("s3", endpoint_url="$AWS_ENDPOINT_URL", region_name="us-east-1").create_bucket(Bucket="shop-drplan-locks")
PY

say "1. Validate the spec (no cloud access)"
run drplan validate

say "2. Plan prod against an empty cloud"
run drplan plan -e prod --detailed-exitcode || [ $? -eq 2 ]

say "3. Apply prod"
run drplan apply -e prod --auto-approve

say "4. Plan prod again: nothing to do"
run drplan plan -e prod --detailed-exitcode

say "5. The DR failover plan: what activating us-east-1 will do"
run drplan plan -e prod-dr --out "$work/failover.plan" || [ $? -eq 2 ]

say "6. Apply the reviewed failover plan"
run drplan apply "$work/failover.plan"
run drplan plan -e prod-dr --detailed-exitcode

say "7. Drift check (what CI runs), then fail back to prod"
run drplan drift -e prod --format markdown || [ $? -eq 2 ]
run drplan apply -e prod --auto-approve
run drplan plan -e prod --detailed-exitcode

say "Done: prod -> prod-dr -> prod, every step converged."
