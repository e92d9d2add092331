#!/usr/bin/env bash
# Installs checkov, the policy tool the plan-JSON test runs on drplan's Terraform-shaped
# plan (`drplan plan --terraform-json`), pinned, in its own virtualenv (.venv-checkov/:
# its dependencies must not move moto's). Idempotent.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv-checkov"
CHECKOV_VERSION="3.2.533"
STAMP="$VENV/.drplan-checkov-$CHECKOV_VERSION"
PYTHON="${PYTHON:-python3}"

if [ -x "$VENV/bin/checkov" ] && [ -f "$STAMP" ]; then
    echo "$VENV/bin/checkov"
    exit 0
fi
echo "setup-checkov: installing checkov==$CHECKOV_VERSION into $VENV" >&2
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV" >&2
"$VENV/bin/python" -m pip install --quiet --no-cache-dir --disable-pip-version-check \
    "checkov==$CHECKOV_VERSION" >&2
touch "$STAMP"
echo "$VENV/bin/checkov"
