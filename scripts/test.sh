#!/usr/bin/env bash
# The whole test suite, on a fresh machine or a warm one: installs what the tests need
# (moto in .venv, kubectl from Debian), then runs every test in the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-test-env.sh

if ! command -v kubectl >/dev/null 2>&1; then
  echo "== installing kubectl (Debian kubernetes-client) for the API-server fidelity test" >&2
  if command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && apt-get install -y -qq kubernetes-client) >&2 || true
  fi
fi
if command -v kubectl >/dev/null 2>&1; then
  export DRPLAN_REQUIRE_KUBECTL=1
fi

export NO_COLOR=1
# On CI every build is cold: incremental caches only cost disk (gigabytes with the AWS SDK).
if [ -n "${CI:-}" ]; then
  export CARGO_INCREMENTAL=0
fi
cargo test --workspace "$@"
