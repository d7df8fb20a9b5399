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

. scripts/_setup.sh  # the install steps, shared with scripts/demo.sh
azurecr_setup test.sh registry

"$VENV/bin/ruff" check --quiet .
"$VENV/bin/mypy"
exec "$VENV/bin/python" -m pytest "$@"
