#!/usr/bin/env bash
# The benchmark suite (BENCHMARKS.md), from a fresh clone: installs moto into .venv,
# builds drplan and the suite optimized (cargo's bench profile = release), runs
#   1. parse + validate + diff, N = 1,000 / 10,000 / 50,000 (no network)
#   2. `drplan plan`, N = 500 / 2,000 / 5,000 over 4 regions, 0 and 50 ms per request
#   3. `drplan apply` of a DR activation with scaled operation times
# and prints one Markdown table per benchmark on stdout (progress on stderr).
#
#   scripts/bench.sh              # all three
#   scripts/bench.sh plan apply   # a subset
# Sizes can be overridden: BENCH_LOAD_N, BENCH_PLAN_N, BENCH_PLAN_LATENCY_MS,
# BENCH_APPLY_N, BENCH_APPLY_LATENCY_MS (comma-separated numbers);
# BENCH_PLAN_EVIDENCE=compare runs each plan again with `--skip-evidence`;
# BENCH_PLAN_FOREIGN_CHECKS=1000 adds that many other stacks' health checks and plans again.
# BENCH_DRPLAN=path runs the plan benchmark with another drplan binary (before/after).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
bash scripts/setup-test-env.sh >&2
echo "== building (release profile)" >&2
cargo bench --bench suite --no-run >&2
cargo bench --bench suite -- "$@"
echo "== bench.sh done in $(( $(date +%s) - started )) s (build included)" >&2
