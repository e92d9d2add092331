#!/usr/bin/env bash
# Installs checkov, the policy tool the plan-JSON test runs on drplan's Terraform-shaped
# plan (`drplan plan --terraform-json`), pinned, in its own virtualenv (.venv-checkov/).
# Idempotent; prints the executable's path.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib-tool-venv.sh
. "$ROOT/scripts/lib-tool-venv.sh"
install_tool_venv "$ROOT/.venv-checkov" checkov 3.2.533 checkov
