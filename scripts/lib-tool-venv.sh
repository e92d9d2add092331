# Sourced by the setup-<tool>.sh scripts: installs one pinned Python tool in its own
# virtualenv (its dependencies must not move another tool's), idempotently, and prints
# the path of its executable.
#   install_tool_venv VENV_DIR PACKAGE VERSION EXECUTABLE
install_tool_venv() {
    local venv="$1" package="$2" version="$3" exe="$4"
    local stamp="$venv/.drplan-$package-$version"
    local python="${PYTHON:-python3}"
    if [ -x "$venv/bin/$exe" ] && [ -f "$stamp" ]; then
        echo "$venv/bin/$exe"
        return 0
    fi
    echo "setup: installing $package==$version into $venv" >&2
    rm -rf "$venv"
    "$python" -m venv "$venv" >&2
    "$venv/bin/python" -m pip install --quiet --no-cache-dir --disable-pip-version-check \
        "$package==$version" >&2
    touch "$stamp"
    echo "$venv/bin/$exe"
}
