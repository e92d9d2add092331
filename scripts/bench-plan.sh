#!/usr/bin/env bash
# The plan benchmark alone (BENCHMARKS.md, section 2): `scripts/bench.sh plan`.
set -euo pipefail
exec "$(dirname "$0")/bench.sh" plan "$@"
