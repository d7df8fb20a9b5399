#!/usr/bin/env bash
# The one command that tests azurecr on a fresh machine (README, .ci/run):
# installs what is missing (Debian's docker-registry, a venv with the package and its
# dev extras, the pinned AutoRest toolchain when the regeneration check runs), then runs
# ruff and mypy on the facade and the whole pytest suite. The suite starts and stops its
# own test bed (registry + ACR-compatible service on loopback), and tests/test_docs.py
# builds the Sphinx API reference from docs/ with warnings as errors.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${AZURECR_VENV:-.venv}

if ! command -v docker-registry >/dev/null 2>&1; then
    echo "test.sh: installing Debian package docker-registry (CNCF distribution)" >&2
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get install -y -qq docker-registry >/dev/null 2>&1 \
        || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq docker-registry >/dev/null; }
fi

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
# Reinstall only when the project metadata changed since the last install.
stamp="$VENV/.azurecr-installed"
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -U pip
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e '.[dev]'
    echo "$want" > "$stamp"
fi

"$VENV/bin/ruff" check --quiet .
"$VENV/bin/mypy"
exec "$VENV/bin/python" -m pytest "$@"
