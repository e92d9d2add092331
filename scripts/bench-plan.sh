#!/usr/bin/env bash
# The plan benchmark (docs/benchmarks-plan.md): ~1,200 generated resources in 4 regions,
# planned against moto empty and half-built. Installs moto if needed. Builds the dev
# profile by default (the time is moto's, not drplan's); pass --release for an
# optimized drplan.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-test-env.sh >/dev/null
profile=(--profile dev)
if [ "${1:-}" = "--release" ]; then
  profile=()
fi
exec cargo bench "${profile[@]}" --bench plan_moto
