#!/usr/bin/env bash
# The whole test suite, on a fresh machine or a warm one: installs what the tests need
# (moto in .venv, checkov in .venv-checkov, terraform-compliance in .venv-tfc, kubectl from Debian), then runs every test in the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-test-env.sh
# checkov for the policy-tool test of `plan --terraform-json` (its own virtualenv).
bash scripts/setup-checkov.sh >/dev/null
# terraform-compliance for the same test (its own virtualenv too).
bash scripts/setup-terraform-compliance.sh >/dev/null

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
# The in-process plans of the e2e tests probe moto for reachability like the CLI does.
# On a loaded 2-core runner moto can take more than the real 5 s to answer, which
# reads as a lost region; the CLI tests already get 30 s (support/moto.rs), and the
# tests that measure the probe set their own bound.
export DRPLAN_PROBE_TIMEOUT="${DRPLAN_PROBE_TIMEOUT:-30}"
# On CI every build is cold: incremental caches only cost disk (gigabytes with the AWS SDK).
if [ -n "${CI:-}" ]; then
  export CARGO_INCREMENTAL=0
fi

# A cold debug build of the workspace and its tests takes about 3 GiB (the EC2 SDK alone
# is 0.8 GiB). A CI run once died of a full disk, so when the project's disk is short
# and nothing is built yet, build in memory (/dev/shm) instead.
need_kib=$((5 * 1024 * 1024))
free_kib() { df -Pk "$1" 2>/dev/null | awk 'NR==2 {print $4}'; }
if [ -z "${CARGO_TARGET_DIR:-}" ] && [ ! -d target/debug ]; then
  here=$(free_kib .)
  shm=$(free_kib /dev/shm || true)
  echo "== disk: $((here / 1024)) MiB free here, $(( ${shm:-0} / 1024 )) MiB in /dev/shm" >&2
  if [ "${here:-0}" -lt "$need_kib" ] && [ "${shm:-0}" -gt "$need_kib" ]; then
    export CARGO_TARGET_DIR=/dev/shm/drplan-target
    echo "== short of disk: building in $CARGO_TARGET_DIR" >&2
  fi
fi
# House rules, cheap first: the tree is rustfmt-clean (rustfmt.toml).
cargo fmt --all --check
cargo test --workspace "$@"

# One HTTP/TLS stack in the shipped binary (issue 19): no second hyper, rustls or h2,
# and one crypto provider (aws-lc-rs, the SDK's; ring is for the test API server only).
dups=$(cargo tree -d -e normal -p drplan 2>/dev/null | grep -E '^(hyper|rustls|h2|http) v' || true)
if [ -n "$dups" ] || cargo tree -e normal -p drplan 2>/dev/null | grep -qE ' ring v'; then
  echo "error: the drplan binary links a second HTTP/TLS stack or ring:" >&2
  echo "$dups" >&2
  exit 1
fi

# On CI, the README's other command too: the demo is user-facing, and a merge once broke
# it with no test noticing. It reuses this build (and this CARGO_TARGET_DIR).
if [ -n "${CI:-}" ] && [ $# -eq 0 ]; then
  echo "== the demo (scripts/demo.sh)" >&2
  bash scripts/demo.sh >/dev/null
fi

# Clippy with warnings denied, on CI (it builds every crate again in check mode, a few
# minutes cold); locally with DRPLAN_LINT=1.
if { [ -n "${CI:-}" ] || [ -n "${DRPLAN_LINT:-}" ]; } && [ $# -eq 0 ]; then
  echo "== cargo clippy --workspace --all-targets -- -D warnings" >&2
  cargo clippy --workspace --all-targets -- -D warnings
fi
