# Sourced by scripts/test.sh and scripts/demo.sh (from the repository root): installs what
# is missing on a fresh Debian machine. Uses PYTHON (default python3) and VENV (default
# $AZURECR_VENV or .venv).
#
#   azurecr_setup NAME [registry]
#
# NAME prefixes the messages; "registry" also installs Debian's docker-registry (CNCF
# distribution), which the test bed runs.

azurecr_setup() {
    local name=$1 want_registry=${2:-}
    PYTHON=${PYTHON:-python3}
    VENV=${VENV:-${AZURECR_VENV:-.venv}}

    if [ "$want_registry" = registry ] && ! command -v docker-registry >/dev/null 2>&1; then
        echo "$name: installing Debian package docker-registry (CNCF distribution)" >&2
        local sudo=""
        [ "$(id -u)" = 0 ] || sudo="sudo"
        export DEBIAN_FRONTEND=noninteractive
        $sudo apt-get install -y -qq docker-registry >/dev/null 2>&1 \
            || { $sudo apt-get update -qq && $sudo apt-get install -y -qq docker-registry >/dev/null; }
    fi

    if [ ! -x "$VENV/bin/python" ]; then
        echo "$name: creating $VENV" >&2
        "$PYTHON" -m venv "$VENV"
    fi
    # Reinstall only when the project metadata changed since the last install.
    local stamp="$VENV/.azurecr-installed" want
    want=$(sha256sum pyproject.toml | cut -d' ' -f1)
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        echo "$name: installing the package and its dev extras into $VENV" >&2
        "$VENV/bin/python" -m pip install -q --disable-pip-version-check -U pip
        "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e '.[dev]'
        echo "$want" > "$stamp"
    fi
}
